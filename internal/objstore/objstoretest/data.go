package objstoretest

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"testing"
)

// data describes a deterministic pseudo-random object of a given size, generated as a stream so tests
// never hold a large object in memory.
type data struct {
	seed uint64
	size int64
}

// reader returns the object's bytes.
func (d data) reader() io.Reader {
	var seed [32]byte
	for i := range 8 {
		seed[i] = byte(d.seed >> (8 * i))
	}
	return io.LimitReader(rand.NewChaCha8(seed), d.size)
}

// sum returns the object's lowercase hex SHA-256.
func (d data) sum(tb testing.TB) string {
	h := sha256.New()
	if _, err := io.Copy(h, d.reader()); err != nil {
		tb.Fatalf("hashing test data: %v", err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// hashAll reads r to the end and returns its size and SHA-256.
func hashAll(r io.Reader) (int64, string, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	return n, hex.EncodeToString(h.Sum(nil)), err
}

// hookReader calls hook once when more than after bytes have been read, then goes on reading r (or
// returns err, when set).
type hookReader struct {
	r     io.Reader
	after int64
	hook  func()
	err   error
	n     int64
	fired bool
}

func (h *hookReader) Read(p []byte) (int, error) {
	if h.fired && h.err != nil {
		return 0, h.err
	}
	n, err := h.r.Read(p)
	h.n += int64(n)
	if !h.fired && h.n > h.after {
		h.fired = true
		if h.hook != nil {
			h.hook()
		}
	}
	return n, err
}
