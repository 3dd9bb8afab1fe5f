package agent

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestOutDirsRecycleOnlyEmpty: an output folder comes back for the next task only when the task
// left it empty; a folder with a leftover file is removed and the next task gets a new one. With
// the agent's watch of output folders (inotify on Linux) and without it (each folder read).
func TestOutDirsRecycleOnlyEmpty(t *testing.T) {
	for _, watched := range []bool{false, true} {
		t.Run(map[bool]string{false: "read", true: "watched"}[watched], func(t *testing.T) {
			pr := &proc{dir: t.TempDir(), outBusy: map[string]outDir{}}
			if watched {
				w := newOutWatch()
				t.Cleanup(w.close)
				pr.p = &partition{a: &Agent{outWatch: w}}
			}
			testOutDirsRecycleOnlyEmpty(t, pr)
		})
	}
}

func testOutDirsRecycleOnlyEmpty(t *testing.T, pr *proc) {
	w := pr.outWatch()
	first, err := pr.takeOutDir()
	if err != nil {
		t.Fatal(err)
	}
	pr.putOutDir(first, true, w.stamp())
	again, err := pr.takeOutDir()
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Fatalf("an empty folder was not recycled: got %s, want %s", again, first)
	}
	// a file made and removed again by the task leaves the folder empty: recycled
	tmp := filepath.Join(again, "tmp")
	if err := os.WriteFile(tmp, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(tmp); err != nil {
		t.Fatal(err)
	}
	pr.putOutDir(again, true, w.stamp())
	if again, err = pr.takeOutDir(); err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Fatalf("a folder emptied again by its task was not recycled: got %s, want %s", again, first)
	}
	if err := os.WriteFile(filepath.Join(again, "leftover"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	pr.putOutDir(again, true, w.stamp())
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
	pr.putOutDir(next, false, w.stamp())
	mustBeGone(t, next, "a folder given back without reuse")
	// after the agent stopped, folders given back are removed and none is pooled
	last, err := pr.takeOutDir()
	if err != nil {
		t.Fatal(err)
	}
	pr.closeOutDirs()
	pr.putOutDir(last, true, w.stamp())
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

// TestOutDirsFilledAhead: the empty output folders a worker may need at once (its capacity plus its
// prefetch) are made in the background before tasks ask for them, a task takes one of them, and a
// folder given back stays pooled up to that many; closeOutDirs waits for the filler.
func TestOutDirsFilledAhead(t *testing.T) {
	pr := &proc{dir: t.TempDir(), outBusy: map[string]outDir{}, p: &partition{cfg: PartitionConfig{Capacity: 100}}}
	pr.fillOutDirs()
	want := 100 + 1 // capacity + prefetch (the announced capacity, 0 here, gives max(1, 0))
	deadline := time.Now().Add(30 * time.Second)
	for {
		pr.mu.Lock()
		n, filling := len(pr.outDirs), pr.filling
		pr.mu.Unlock()
		if n == want && !filling {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d output folders made ahead after 30s (still filling: %v); want %d", n, filling, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	entries, err := os.ReadDir(filepath.Join(pr.dir, "out"))
	if err != nil || len(entries) != want {
		t.Fatalf("the out folder holds %d entries (%v); want the %d folders made ahead", len(entries), err, want)
	}
	got, err := pr.takeOutDir()
	if err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(filepath.Join(pr.dir, "out")); len(entries) != want {
		t.Fatalf("taking a folder made a new one: %d folders, want %d", len(entries), want)
	}
	pr.putOutDir(got, true, 0)
	pr.mu.Lock()
	pooled := len(pr.outDirs)
	pr.mu.Unlock()
	if pooled != want {
		t.Fatalf("%d folders pooled after the task gave its folder back; want %d (a pool as large as the worker's slots)", pooled, want)
	}
	pr.closeOutDirs()
	pr.fillOutDirs() // after the stop: does nothing
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if pr.filling || len(pr.outDirs) != 0 {
		t.Fatalf("after closeOutDirs: filling %v, %d folders pooled; want none", pr.filling, len(pr.outDirs))
	}
}

// TestOutDirsOfAPreviousLifeRemoved: a configured runtime folder outlives the agent, and a killed
// agent leaves its tasks' output files: the next agent starts without those output folders, so the
// first folder it makes is empty (the watch takes a new folder as empty and never reads it).
func TestOutDirsOfAPreviousLifeRemoved(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "w", "go-0", "out", "1")
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, "partial-output"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := newOutWatch()
	t.Cleanup(w.close)
	a := &Agent{cfg: Config{RuntimeDir: dir}, outWatch: w}
	p := &partition{a: a}
	pr := &proc{p: p, id: "go-0", outBusy: map[string]outDir{}}
	p.procs = []*proc{pr}
	a.parts = []*partition{p}
	if err := a.prepareRuntime(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.lock.Close() })
	got, err := pr.takeOutDir()
	if err != nil {
		t.Fatal(err)
	}
	if got != stale {
		t.Fatalf("the first output folder is %s, want %s (made anew)", got, stale)
	}
	if entries, err := os.ReadDir(got); err != nil || len(entries) != 0 {
		t.Fatalf("the first output folder holds %v (%v); want it empty", entries, err)
	}
}
