// Package objstoretest is the conformance suite every objstore.Store implementation must pass. Each
// implementation's tests call Run with a function that returns a fresh, empty store.
package objstoretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/chorus-hpc/chorus/internal/objstore"
)

// LargeSize is the size of the "large" objects of the suite: more than two parts of the smallest S3
// part size (5 MiB), and not a multiple of it, so S3 stores configured with that part size exercise
// a multipart upload with a short last part.
const LargeSize = 11<<20 + 12345

// NewStore returns an empty store for one test; it is called once per (parallel) test.
type NewStore func(tb testing.TB) objstore.Store

// Run runs the conformance suite on the stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, objstore.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"NestedKeys", testNestedKeys},
		{"Overwrite", testOverwrite},
		{"MaxSize", testMaxSize},
		{"CancelledPut", testCancelledPut},
		{"FailingReader", testFailingReader},
		{"GetMissing", testGetMissing},
		{"GetCancelled", testGetCancelled},
		{"Delete", testDelete},
		{"InvalidKeys", testInvalidKeys},
		{"ConcurrentPuts", testConcurrentPuts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

// put writes d at key and checks the returned size and checksum.
func put(t *testing.T, s objstore.Store, key string, d data) {
	t.Helper()
	size, sum, err := s.Put(context.Background(), key, d.reader(), 0)
	if err != nil {
		t.Fatalf("Put(%q, %d bytes): %v", key, d.size, err)
	}
	if want := d.sum(t); size != d.size || sum != want {
		t.Fatalf("Put(%q) = %d bytes, SHA-256 %s; want %d bytes, %s", key, size, sum, d.size, want)
	}
}

// check reads key back and compares it with d, through a Verifier.
func check(t *testing.T, s objstore.Store, key string, d data) {
	t.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	v := objstore.NewVerifier(rc, fmt.Sprintf("object %q", key), d.size, d.sum(t))
	if n, _, err := hashAll(v); err != nil {
		t.Fatalf("reading %q back (%d bytes read): %v", key, n, err)
	}
	if ok, err := s.Exists(context.Background(), key); err != nil || !ok {
		t.Fatalf("Exists(%q) = %v, %v; want true", key, ok, err)
	}
}

// absent checks that there is no object at key, by every means.
func absent(t *testing.T, s objstore.Store, key string) {
	t.Helper()
	ctx := context.Background()
	if ok, err := s.Exists(ctx, key); err != nil || ok {
		t.Fatalf("Exists(%q) = %v, %v; want false", key, ok, err)
	}
	rc, err := s.Get(ctx, key)
	if err == nil {
		n, _, _ := hashAll(rc)
		rc.Close()
		t.Fatalf("Get(%q) found an object of %d bytes; want none", key, n)
	}
	if !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Get(%q) error = %v; want one wrapping ErrNotFound", key, err)
	}
}

func testRoundTrip(t *testing.T, s objstore.Store) {
	for i, size := range []int64{0, 1, 1000, 64 << 10, LargeSize} {
		key := fmt.Sprintf("round-trip/obj-%d.bin", size)
		d := data{seed: uint64(i + 1), size: size}
		put(t, s, key, d)
		check(t, s, key, d)
	}
}

func testNestedKeys(t *testing.T, s objstore.Store) {
	keys := []string{"a", "sessions/s-1/results/r-1", "sessions/s-1/results/r-2", "sessions/s-2/x:y_z-1.0"}
	for i, k := range keys {
		put(t, s, k, data{seed: uint64(i), size: int64(100 * i)})
	}
	if err := s.Delete(context.Background(), "sessions/s-1/results/r-1"); err != nil {
		t.Fatal(err)
	}
	absent(t, s, "sessions/s-1/results/r-1")
	absent(t, s, "sessions/s-1")
	absent(t, s, "sessions")
	for i, k := range keys {
		if i != 1 {
			check(t, s, k, data{seed: uint64(i), size: int64(100 * i)})
		}
	}
	// A key emptied by Delete can be written again.
	put(t, s, "sessions/s-1/results/r-1", data{seed: 9, size: 10})
	check(t, s, "sessions/s-1/results/r-1", data{seed: 9, size: 10})
}

func testOverwrite(t *testing.T, s objstore.Store) {
	const key = "overwrite"
	for i, size := range []int64{LargeSize, 10, 0, 2000} {
		d := data{seed: uint64(100 + i), size: size}
		put(t, s, key, d)
		check(t, s, key, d)
	}
	// A failed overwrite leaves the object as it was.
	if _, _, err := s.Put(context.Background(), key, data{seed: 7, size: 5000}.reader(), 4000); !errors.Is(err, objstore.ErrTooLarge) {
		t.Fatalf("Put over the limit: err = %v; want ErrTooLarge", err)
	}
	check(t, s, key, data{seed: 103, size: 2000})
}

func testMaxSize(t *testing.T, s objstore.Store) {
	ctx := context.Background()
	for _, tc := range []struct {
		size, max int64
	}{{1, 1}, {1000, 1000}, {1001, 1000}, {LargeSize, LargeSize}, {LargeSize, 7 << 20}, {LargeSize, LargeSize - 1}} {
		key := fmt.Sprintf("max/%d-%d", tc.size, tc.max)
		d := data{seed: uint64(tc.size), size: tc.size}
		size, sum, err := s.Put(ctx, key, d.reader(), tc.max)
		if tc.size <= tc.max {
			if err != nil || size != tc.size || sum != d.sum(t) {
				t.Fatalf("Put(%d bytes, max %d) = %d, %s, %v; want success", tc.size, tc.max, size, sum, err)
			}
			check(t, s, key, d)
			continue
		}
		if !errors.Is(err, objstore.ErrTooLarge) {
			t.Fatalf("Put(%d bytes, max %d) err = %v; want ErrTooLarge", tc.size, tc.max, err)
		}
		if !strings.Contains(err.Error(), key) {
			t.Errorf("Put over the limit: error %q does not name the key %q", err, key)
		}
		absent(t, s, key)
	}
}

func testCancelledPut(t *testing.T, s objstore.Store) {
	for _, after := range []int64{0, 1000, 6 << 20} {
		key := fmt.Sprintf("cancelled/after-%d", after)
		ctx, cancel := context.WithCancel(context.Background())
		r := &hookReader{r: data{seed: 1, size: LargeSize}.reader(), after: after, hook: cancel}
		_, _, err := s.Put(ctx, key, r, 0)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put cancelled after %d bytes: err = %v; want one wrapping context.Canceled", after, err)
		}
		absent(t, s, key)
	}
}

func testFailingReader(t *testing.T, s objstore.Store) {
	boom := errors.New("client went away")
	for _, after := range []int64{0, 1000, 6 << 20} {
		key := fmt.Sprintf("failing/after-%d", after)
		r := &hookReader{r: data{seed: 1, size: LargeSize}.reader(), after: after, err: boom}
		if _, _, err := s.Put(context.Background(), key, r, 0); !errors.Is(err, boom) {
			t.Fatalf("Put with a reader failing after %d bytes: err = %v; want one wrapping the reader's error", after, err)
		}
		absent(t, s, key)
	}
}

func testGetMissing(t *testing.T, s objstore.Store) {
	absent(t, s, "missing")
	absent(t, s, "missing/deeper/key")
	put(t, s, "file", data{seed: 1, size: 10})
	absent(t, s, "file/below-a-file")
}

func testGetCancelled(t *testing.T, s objstore.Store) {
	const key = "get-cancelled"
	put(t, s, key, data{seed: 3, size: LargeSize})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rc, err := s.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadFull(rc, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	cancel()
	n, _, err := hashAll(rc)
	if err == nil {
		t.Fatalf("reading after the context was cancelled: read the remaining %d bytes without error", n)
	}
}

func testDelete(t *testing.T, s objstore.Store) {
	ctx := context.Background()
	if err := s.Delete(ctx); err != nil {
		t.Fatalf("Delete of no keys: %v", err)
	}
	if err := s.Delete(ctx, "never-written", "nor/this"); err != nil {
		t.Fatalf("Delete of missing keys: %v", err)
	}
	put(t, s, "del/a", data{seed: 1, size: 10})
	put(t, s, "del/b", data{seed: 2, size: LargeSize})
	put(t, s, "del/c", data{seed: 3, size: 0})
	put(t, s, "keep", data{seed: 4, size: 10})
	for range 2 { // idempotent
		if err := s.Delete(ctx, "del/a", "del/missing", "del/b", "del/c"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		for _, k := range []string{"del/a", "del/b", "del/c"} {
			absent(t, s, k)
		}
	}
	check(t, s, "keep", data{seed: 4, size: 10})
	// Many keys at once (more than one S3 DeleteObjects batch).
	keys := make([]string, 1500)
	for i := range keys {
		keys[i] = fmt.Sprintf("many/%d", i)
	}
	for _, k := range keys[:3] {
		put(t, s, k, data{seed: 5, size: 5})
	}
	put(t, s, keys[1400], data{seed: 5, size: 5})
	if err := s.Delete(ctx, keys...); err != nil {
		t.Fatalf("Delete of %d keys: %v", len(keys), err)
	}
	for _, k := range []string{keys[0], keys[1], keys[2], keys[1400]} {
		absent(t, s, k)
	}
}

func testInvalidKeys(t *testing.T, s objstore.Store) {
	ctx := context.Background()
	put(t, s, "ok", data{seed: 1, size: 10})
	for _, key := range []string{"", "/abs", "../escape", "a/../../b", "a/./b", "a//b", "a/", "white space", "a\\b", "~tmp", "ok\x00", strings.Repeat("k", objstore.MaxKeyLen+1)} {
		if _, _, err := s.Put(ctx, key, bytes.NewReader([]byte("x")), 0); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("Put(%q) err = %v; want ErrInvalidKey", key, err)
		}
		if _, err := s.Get(ctx, key); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("Get(%q) err = %v; want ErrInvalidKey", key, err)
		}
		if _, err := s.Exists(ctx, key); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("Exists(%q) err = %v; want ErrInvalidKey", key, err)
		}
		if err := s.Delete(ctx, "ok", key); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("Delete(%q) err = %v; want ErrInvalidKey", key, err)
		}
	}
	// A Delete with an invalid key deletes nothing.
	check(t, s, "ok", data{seed: 1, size: 10})
}

func testConcurrentPuts(t *testing.T, s objstore.Store) {
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			d := data{seed: uint64(1000 + i), size: int64(i) * (LargeSize / n)}
			size, sum, err := s.Put(context.Background(), fmt.Sprintf("concurrent/%d", i), d.reader(), 0)
			if err == nil && (size != d.size || sum != d.sum(t)) {
				err = fmt.Errorf("got %d bytes %s, want %d bytes %s", size, sum, d.size, d.sum(t))
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Put %d: %v", i, err)
		}
		check(t, s, fmt.Sprintf("concurrent/%d", i), data{seed: uint64(1000 + i), size: int64(i) * (LargeSize / n)})
	}
}
