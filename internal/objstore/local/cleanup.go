package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// removeStaleTemps deletes the temporary files under the root that nobody has written to for
// StaleTempAge: leftovers of writers that crashed before renaming. Fresher ones may belong to a live
// writer in another process sharing the folder, so they stay.
func (s *Store) removeStaleTemps() error {
	cutoff := time.Now().Add(-s.cfg.StaleTempAge)
	removed := 0
	err := filepath.WalkDir(s.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed by someone else while we walked
			}
			return err
		}
		if d.IsDir() || !strings.HasPrefix(d.Name(), tempPrefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		removed++
		return nil
	})
	if err != nil {
		return fmt.Errorf("local object store: removing leftover temporary files under %q: %w", s.root, err)
	}
	if removed > 0 {
		s.cfg.Logger.Info("local object store: removed leftover temporary files of interrupted writes",
			"dir", s.root, "count", removed, "older_than", s.cfg.StaleTempAge)
	}
	return nil
}

// syncDir flushes a folder's entries (a rename) to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func isENOTDIR(err error) bool { return errors.Is(err, syscall.ENOTDIR) }
