package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/chorus-hpc/chorus/internal/objstore"
	"github.com/chorus-hpc/chorus/internal/objstore/internal/stream"
)

// tempPrefix starts the name of every temporary file. It holds '~', which keys cannot contain, so a
// temporary file never has an object's name.
const tempPrefix = ".chorus-tmp~"

// Store is an objstore.Store on a local folder. It is safe for concurrent use, also by several
// processes sharing the folder.
type Store struct {
	root string
	cfg  Config
}

var _ objstore.Store = (*Store)(nil)

// New opens (creating it when missing) the folder cfg.Dir and removes the temporary files that
// crashed writers left there.
func New(cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	root, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("local object store: resolving folder %q: %w", cfg.Dir, err)
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("local object store: creating folder %q: %w", root, err)
	}
	s := &Store{root: root, cfg: cfg}
	if err := s.removeStaleTemps(); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir is the absolute path of the folder that holds the objects.
func (s *Store) Dir() string { return s.root }

// path returns the file of key after checking the key.
func (s *Store) path(key string) (string, error) {
	if err := objstore.ValidateKey(key); err != nil {
		return "", err
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

// Put implements objstore.Store.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, maxSize int64) (int64, string, error) {
	path, err := s.path(key)
	if err != nil {
		return 0, "", err
	}
	dir := filepath.Dir(path)
	_, statErr := os.Stat(dir)
	newDir := statErr != nil // folders made for this object must reach the disk too
	f, err := s.createTemp(dir, key)
	if err != nil {
		return 0, "", err
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	sr := stream.NewReader(ctx, r, key, maxSize)
	if _, err := io.Copy(f, sr); err != nil {
		if err == sr.Err() {
			return 0, "", err // the data's own error (cancelled, too large, reader failed) says it all
		}
		return 0, "", fmt.Errorf("writing object %q to %s (is the disk full?): %w", key, tmp, err)
	}
	if err := f.Sync(); err != nil {
		return 0, "", fmt.Errorf("flushing object %q to disk: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return 0, "", fmt.Errorf("closing the temporary file of object %q: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return 0, "", fmt.Errorf("writing object %q was cancelled: %w", key, context.Cause(ctx))
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, "", fmt.Errorf("moving the temporary file of object %q into place (is there a folder at %s?): %w", key, path, err)
	}
	done = true
	for d := dir; ; d = filepath.Dir(d) {
		if err := syncDir(d); err != nil {
			return 0, "", fmt.Errorf("flushing the folder %s of object %q to disk: %w", d, key, err)
		}
		if !newDir || d == s.root || !strings.HasPrefix(d, s.root) {
			break
		}
	}
	return sr.Size(), sr.SHA256(), nil
}

// createTemp makes a temporary file in dir, creating dir as needed. A concurrent Delete may remove dir
// when it empties it, so a vanished folder is created again, a few times.
func (s *Store) createTemp(dir, key string) (*os.File, error) {
	var err error
	for range 50 {
		if err = os.MkdirAll(dir, 0o700); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // a parent vanished between MkdirAll's steps: create the path again
			}
			return nil, fmt.Errorf("creating the folder of object %q (is %q or a parent an object?): %w", key, dir, err)
		}
		var f *os.File
		f, err = os.CreateTemp(dir, tempPrefix+"*")
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	return nil, fmt.Errorf("creating a temporary file for object %q in %s: %w", key, dir, err)
}

// livePath is path, failing (with what the call was doing: reading, checking) when ctx has ended.
func (s *Store) livePath(ctx context.Context, key, doing string) (string, error) {
	path, err := s.path(key)
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("%s object %q: %w", doing, key, context.Cause(ctx))
	}
	return path, nil
}

// Get implements objstore.Store.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	path, err := s.livePath(ctx, key, "reading")
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) || isNotDir(err) {
			return nil, fmt.Errorf("reading object %q: %w", key, objstore.ErrNotFound)
		}
		return nil, fmt.Errorf("reading object %q: %w", key, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("reading object %q: %w", key, err)
	}
	if !st.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("reading object %q: %w (%s is a folder of other objects)", key, objstore.ErrNotFound, path)
	}
	return stream.ContextReader{Ctx: ctx, R: f}, nil
}

// Exists implements objstore.Store.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	path, err := s.livePath(ctx, key, "checking")
	if err != nil {
		return false, err
	}
	st, err := os.Stat(path)
	switch {
	case err == nil:
		return st.Mode().IsRegular(), nil
	case errors.Is(err, fs.ErrNotExist) || isNotDir(err):
		return false, nil
	default:
		return false, fmt.Errorf("checking object %q: %w", key, err)
	}
}

// Delete implements objstore.Store. It also removes the folders it empties, up to the root.
func (s *Store) Delete(ctx context.Context, keys ...string) error {
	paths := make([]string, len(keys))
	for i, key := range keys {
		p, err := s.path(key)
		if err != nil {
			return err
		}
		paths[i] = p
	}
	for i, path := range paths {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("deleting objects: %w", context.Cause(ctx))
		}
		st, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) || isNotDir(err) || (err == nil && st.IsDir()) {
			continue
		}
		if err == nil {
			err = os.Remove(path)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("deleting object %q: %w", keys[i], err)
		}
		s.pruneEmptyDirs(filepath.Dir(path))
	}
	return nil
}

// pruneEmptyDirs removes dir and its parents while they are empty, stopping at the root. os.Remove
// refuses non-empty folders, so a concurrent Put's folder (which holds its temporary file) stays.
func (s *Store) pruneEmptyDirs(dir string) {
	for dir != s.root && strings.HasPrefix(dir, s.root+string(filepath.Separator)) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

func isNotDir(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && isENOTDIR(pe.Err)
}
