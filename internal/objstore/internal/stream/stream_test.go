package stream

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/chorus-hpc/chorus/internal/objstore"
)

func TestReader(t *testing.T) {
	t.Parallel()
	data := strings.Repeat("0123456789", 1000)
	want := sha256.Sum256([]byte(data))
	for _, max := range []int64{0, 10000, 20000} {
		r := NewReader(context.Background(), iotest.HalfReader(strings.NewReader(data)), "k", max)
		n, err := io.Copy(io.Discard, r)
		if err != nil || n != 10000 || r.Size() != 10000 || r.SHA256() != hex.EncodeToString(want[:]) {
			t.Fatalf("max %d: copied %d, %v; size %d sha %s", max, n, err, r.Size(), r.SHA256())
		}
	}
}

func TestReaderLimit(t *testing.T) {
	t.Parallel()
	// An endless stream stops right after the limit: at most one byte past it is read.
	src := &countingReader{}
	r := NewReader(context.Background(), src, "sessions/s/results/r", 1000)
	_, err := io.Copy(io.Discard, r)
	if !errors.Is(err, objstore.ErrTooLarge) || !strings.Contains(err.Error(), `"sessions/s/results/r" is larger than the limit of 1000 bytes`) {
		t.Fatalf("err = %v", err)
	}
	if src.n != 1001 {
		t.Fatalf("read %d bytes from the source; want 1001", src.n)
	}
	if _, again := r.Read(make([]byte, 1)); again != err {
		t.Fatalf("error not sticky: %v", again)
	}
}

func TestReaderContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	r := NewReader(ctx, &countingReader{}, "k", 0)
	if _, err := r.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := r.Read(make([]byte, 10)); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), `"k"`) {
		t.Fatalf("err after cancel = %v", err)
	}
}

type countingReader struct{ n int64 }

func (c *countingReader) Read(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
