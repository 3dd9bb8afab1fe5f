package objstoretest

import (
	"context"
	"io"
	"runtime"
	"testing"

	"github.com/chorus-hpc/chorus/internal/objstore"
)

// StreamSize is the object size of RunStreaming: far more than the memory a store may use for it.
const StreamSize = 96 << 20

// maxHeapGrowth is how much more live heap than before a Put or Get of StreamSize bytes may use.
const maxHeapGrowth = 40 << 20

// RunStreaming checks that Put and Get stream: moving a StreamSize object through the store never
// grows the live heap by more than 40 MiB. It measures the whole process, so it does not call
// t.Parallel; call it from a test that does not either (Go runs those alone).
func RunStreaming(t *testing.T, s objstore.Store) {
	ctx := context.Background()
	d := data{seed: 77, size: StreamSize}
	m := &heapMeter{}
	m.sample()
	base := m.max
	size, sum, err := s.Put(ctx, "streaming", &meteredReader{r: d.reader(), m: m}, 0)
	if err != nil {
		t.Fatalf("Put of %d MiB: %v", StreamSize>>20, err)
	}
	if size != StreamSize || sum != d.sum(t) {
		t.Fatalf("Put = %d bytes, %s; want %d bytes, %s", size, sum, StreamSize, d.sum(t))
	}
	t.Logf("Put of %d MiB: live heap grew by at most %.1f MiB", StreamSize>>20, float64(m.max-base)/(1<<20))
	if grew := m.max - base; grew > maxHeapGrowth {
		t.Errorf("the live heap grew by %d MiB during a Put of %d MiB; a store must stream (limit %d MiB)", grew>>20, StreamSize>>20, maxHeapGrowth>>20)
	}
	rc, err := s.Get(ctx, "streaming")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	m = &heapMeter{}
	m.sample()
	base = m.max
	v := objstore.NewVerifier(&meteredReader{r: rc, m: m}, "object streaming", StreamSize, sum)
	if _, err := io.Copy(io.Discard, v); err != nil {
		t.Fatalf("reading %d MiB back: %v", StreamSize>>20, err)
	}
	t.Logf("Get of %d MiB: live heap grew by at most %.1f MiB", StreamSize>>20, float64(m.max-base)/(1<<20))
	if grew := m.max - base; grew > maxHeapGrowth {
		t.Errorf("the live heap grew by %d MiB during a Get of %d MiB; a store must stream (limit %d MiB)", grew>>20, StreamSize>>20, maxHeapGrowth>>20)
	}
}

// heapMeter records the largest live heap seen.
type heapMeter struct{ max int64 }

func (m *heapMeter) sample() {
	runtime.GC() // count live memory only, not garbage waiting for collection
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.max = max(m.max, int64(ms.HeapAlloc))
}

// meteredReader samples the heap every 8 MiB read.
type meteredReader struct {
	r    io.Reader
	m    *heapMeter
	n    int64
	next int64
}

func (r *meteredReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += int64(n)
	if r.n >= r.next {
		r.m.sample()
		r.next = r.n + 8<<20
	}
	return n, err
}
