package objstoretest

import (
	"context"
	"io"
	"testing"

	"github.com/chorus-hpc/chorus/internal/objstore"
)

// BenchSize is the object size of Benchmark.
const BenchSize = 64 << 20

// Benchmark measures Put and Get throughput (reported as MB/s by `go test -bench`) with BenchSize
// objects on a store made by newStore. The data comes from a generator, not memory.
func Benchmark(b *testing.B, newStore NewStore) {
	s := newStore(b)
	ctx := context.Background()
	d := data{seed: 42, size: BenchSize}
	b.Run("Put", func(b *testing.B) {
		b.SetBytes(BenchSize)
		for b.Loop() {
			if _, _, err := s.Put(ctx, "bench/put", d.reader(), 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	if _, _, err := s.Put(ctx, "bench/get", d.reader(), 0); err != nil {
		b.Fatal(err)
	}
	b.Run("Get", func(b *testing.B) {
		b.SetBytes(BenchSize)
		for b.Loop() {
			if err := drain(ctx, s, "bench/get"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetVerified", func(b *testing.B) {
		sum := d.sum(b)
		b.SetBytes(BenchSize)
		for b.Loop() {
			rc, err := s.Get(ctx, "bench/get")
			if err != nil {
				b.Fatal(err)
			}
			_, err = io.Copy(io.Discard, objstore.NewVerifier(rc, "bench object", BenchSize, sum))
			rc.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

func drain(ctx context.Context, s objstore.Store, key string) error {
	rc, err := s.Get(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}
