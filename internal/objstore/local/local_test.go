package local_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/internal/objstore"
	"github.com/chorus-hpc/chorus/internal/objstore/local"
	"github.com/chorus-hpc/chorus/internal/objstore/objstoretest"
)

func newStore(tb testing.TB) *local.Store {
	tb.Helper()
	s, err := local.New(local.Config{Dir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	objstoretest.Run(t, func(tb testing.TB) objstore.Store {
		s := newStore(tb)
		tb.Cleanup(func() { assertNoTemps(tb, s.Dir()) })
		return s
	})
}

// assertNoTemps fails when a temporary file is left under dir.
func assertNoTemps(tb testing.TB, dir string) {
	tb.Helper()
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".chorus-tmp~") {
			tb.Errorf("temporary file left behind: %s", path)
		}
		return nil
	})
}

func BenchmarkLocal(b *testing.B) {
	objstoretest.Benchmark(b, func(tb testing.TB) objstore.Store { return newStore(tb) })
}

func TestNewRemovesStaleTemps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sub := filepath.Join(dir, "sessions", "s-1")
	if err := os.MkdirAll(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(sub, ".chorus-tmp~123")
	fresh := filepath.Join(dir, ".chorus-tmp~456")
	object := filepath.Join(sub, "r-1")
	for _, p := range []string{stale, fresh, object} {
		if err := os.WriteFile(p, []byte("data"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	for _, p := range []string{stale, object} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := local.New(local.Config{Dir: dir, StaleTempAge: 30 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temporary file still there (stat err %v)", err)
	}
	for _, p := range []string{fresh, object} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
}

func TestNewCreatesDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a", "b")
	s, err := local.New(local.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Put(context.Background(), "k", strings.NewReader("hello"), 0); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "k"))
	if err != nil || string(got) != "hello" {
		t.Fatalf("object file = %q, %v; want \"hello\"", got, err)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cfg  local.Config
		want string
	}{
		{local.Config{}, "Config.Dir is empty"},
		{local.Config{Dir: t.TempDir(), StaleTempAge: -1}, "StaleTempAge is negative"},
		{local.Config{Dir: filepath.Join(file, "sub")}, "creating folder"},
	} {
		if _, err := local.New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) err = %v; want one containing %q", tc.cfg, err, tc.want)
		}
	}
}

// A key below an existing object cannot be a file as well; the error says so.
func TestKeyBelowObject(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	if _, _, err := s.Put(ctx, "a", strings.NewReader("x"), 0); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Put(ctx, "a/b", strings.NewReader("y"), 0)
	if err == nil || !strings.Contains(err.Error(), "an object") {
		t.Fatalf("Put below an object: err = %v; want an error saying a parent is an object", err)
	}
	rc, err := s.Get(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "x" {
		t.Fatalf("object a = %q after the failed Put; want \"x\"", b)
	}
}

// Not parallel: it measures the process's heap.
func TestStreaming(t *testing.T) {
	objstoretest.RunStreaming(t, newStore(t))
}

// Delete removes the folders it empties while other Puts write into them; no Put may fail for it.
func TestPutDeleteSameFolder(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				key := fmt.Sprintf("sessions/s-1/results/w%d-%d", w, i)
				if _, _, err := s.Put(ctx, key, strings.NewReader("data"), 0); err != nil {
					errs <- err
					continue
				}
				if err := s.Delete(ctx, key); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if entries, err := os.ReadDir(s.Dir()); err != nil || len(entries) != 0 {
		t.Fatalf("root after deleting everything holds %d entries (%v); want none", len(entries), err)
	}
}
