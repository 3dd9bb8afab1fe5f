package auth

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// reloadCheckEvery is how often a file-backed value looks at its files again (one stat per file).
const reloadCheckEvery = time.Second

// fileValue is a value parsed from one or more files and parsed again when any of them changes
// (size, modification time or inode, checked with stat at most once per reloadCheckEvery). A reload
// that fails (a half-written file, a certificate that does not match the new key yet) keeps the last
// good value and is logged; the next change is tried again. Safe for concurrent use.
type fileValue[T any] struct {
	what  string
	paths []string
	parse func(contents [][]byte) (T, error)
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	val     T
	sig     string
	checked time.Time
	failed  string // signature whose parse failed (logged once)
}

// newFileValue reads and parses the files once; an error here is the caller's configuration error.
func newFileValue[T any](what string, paths []string, log *slog.Logger, parse func([][]byte) (T, error)) (*fileValue[T], error) {
	if log == nil {
		log = slog.Default()
	}
	f := &fileValue[T]{what: what, paths: paths, parse: parse, log: log, now: time.Now}
	sig, err := f.signature()
	if err != nil {
		return nil, err
	}
	v, err := f.load()
	if err != nil {
		return nil, err
	}
	f.val, f.sig, f.checked = v, sig, f.now()
	return f, nil
}

func (f *fileValue[T]) signature() (string, error) {
	var b strings.Builder
	for _, p := range f.paths {
		st, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("%s: %w", f.what, err)
		}
		fmt.Fprintf(&b, "%s|%d|%d|%v;", p, st.Size(), st.ModTime().UnixNano(), inode(st))
	}
	return b.String(), nil
}

func (f *fileValue[T]) load() (T, error) {
	var zero T
	contents := make([][]byte, len(f.paths))
	for i, p := range f.paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return zero, fmt.Errorf("%s: %w", f.what, err)
		}
		contents[i] = b
	}
	v, err := f.parse(contents)
	if err != nil {
		return zero, fmt.Errorf("%s (%s): %w", f.what, strings.Join(f.paths, ", "), err)
	}
	return v, nil
}

// get returns the current value, reloading it first when a file changed.
func (f *fileValue[T]) get() T {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if now.Sub(f.checked) < reloadCheckEvery {
		return f.val
	}
	f.checked = now
	sig, err := f.signature()
	if err != nil || sig == f.sig {
		if err != nil && f.failed != "stat:"+err.Error() {
			f.failed = "stat:" + err.Error()
			f.log.Warn("cannot check a security file for changes; keeping the loaded one", "what", f.what, "error", err)
		}
		return f.val
	}
	v, err := f.load()
	if err != nil {
		if f.failed != sig {
			f.failed = sig
			f.log.Warn("a security file changed but cannot be loaded; keeping the previous one until it is fixed", "what", f.what, "error", err)
		}
		return f.val
	}
	f.val, f.sig, f.failed = v, sig, ""
	f.log.Info("reloaded a changed security file", "what", f.what, "files", strings.Join(f.paths, ", "))
	return f.val
}
