//go:build linux

package agent

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOutWatchTells: the watch says a folder is empty with no read of it while nothing entered it,
// and not empty once a file, a folder, a link or a file moved in appeared, as of the outcome
// stamped after that; a folder it does not watch is left to a read.
func TestOutWatchTells(t *testing.T) {
	w := newOutWatch()
	defer w.close()
	if w.fd < 0 {
		t.Skip("inotify is not available here")
	}
	root := t.TempDir()
	outside := filepath.Join(root, "outside")
	if err := os.WriteFile(outside, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, enter := range map[string]func(dir string) error{
		"file":      func(dir string) error { return os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o600) },
		"folder":    func(dir string) error { return os.Mkdir(filepath.Join(dir, "d"), 0o700) },
		"symlink":   func(dir string) error { return os.Symlink(outside, filepath.Join(dir, "l")) },
		"hard link": func(dir string) error { return os.Link(outside, filepath.Join(dir, "h")) },
		"moved in": func(dir string) error {
			src := filepath.Join(root, "src-"+filepath.Base(dir))
			if err := os.WriteFile(src, []byte("x"), 0o600); err != nil {
				return err
			}
			return os.Rename(src, filepath.Join(dir, "m"))
		},
	} {
		dir := filepath.Join(root, "out-"+filepath.Base(name))
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		w.add(dir)
		if !w.empty(dir, w.stamp()) {
			t.Fatalf("%s: a watched folder nothing entered is not judged empty", name)
		}
		if err := enter(dir); err != nil {
			t.Fatal(err)
		}
		if w.empty(dir, w.stamp()) {
			t.Fatalf("%s: the watch missed an entry", name)
		}
		w.reset(dir) // as after a read that found it empty (here it is not: the watch believes the reset)
		if !w.empty(dir, w.stamp()) {
			t.Fatalf("%s: a reset folder is not judged empty", name)
		}
		w.forget(dir)
		if w.empty(dir, w.stamp()) {
			t.Fatalf("%s: a folder no longer watched is judged without a read", name)
		}
	}
	if w.empty(filepath.Join(root, "never-watched"), w.stamp()) {
		t.Fatal("a folder never watched is judged without a read")
	}
}
