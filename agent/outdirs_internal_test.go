package agent

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOutDirsRecycleOnlyEmpty: an output folder comes back for the next task only when the task
// left it empty; a folder with a leftover file is removed and the next task gets a new one.
func TestOutDirsRecycleOnlyEmpty(t *testing.T) {
	pr := &proc{dir: t.TempDir(), outBusy: map[string]outDir{}}
	first, err := pr.takeOutDir()
	if err != nil {
		t.Fatal(err)
	}
	pr.putOutDir(first, true)
	again, err := pr.takeOutDir()
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Fatalf("an empty folder was not recycled: got %s, want %s", again, first)
	}
	if err := os.WriteFile(filepath.Join(again, "leftover"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	pr.putOutDir(again, true)
	mustBeGone(t, again, "a folder with a leftover file")
	next, err := pr.takeOutDir()
	if err != nil {
		t.Fatal(err)
	}
	if next == again {
		t.Fatalf("the folder with a leftover file was handed out again")
	}
	if entries, err := os.ReadDir(next); err != nil || len(entries) != 0 {
		t.Fatalf("the new folder is not empty: %v %v", entries, err)
	}
	// a folder the worker may still use (reuse false) is removed, even when empty
	pr.putOutDir(next, false)
	mustBeGone(t, next, "a folder given back without reuse")
	// after the agent stopped, folders given back are removed and none is pooled
	last, err := pr.takeOutDir()
	if err != nil {
		t.Fatal(err)
	}
	pr.closeOutDirs()
	pr.putOutDir(last, true)
	mustBeGone(t, last, "a folder given back after the stop")
	if len(pr.outDirs) != 0 {
		t.Fatalf("%d folders pooled after the stop", len(pr.outDirs))
	}
}

func mustBeGone(t *testing.T, path, what string) {
	t.Helper()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("%s was kept (stat: %v)", what, err)
	}
}
