// Package stream holds the reader both object stores put data through: it hashes, counts, enforces
// the size limit and stops when the context is done, all while the data streams.
package stream

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

	"github.com/chorus-hpc/chorus/internal/objstore"
)

// Reader wraps the data given to Put. Its errors are sticky.
type Reader struct {
	ctx     context.Context
	r       io.Reader
	key     string
	maxSize int64
	h       hash.Hash
	n       int64
	err     error
}

// NewReader wraps r, the data for key; maxSize <= 0 means no limit.
func NewReader(ctx context.Context, r io.Reader, key string, maxSize int64) *Reader {
	return &Reader{ctx: ctx, r: r, key: key, maxSize: maxSize, h: sha256.New()}
}

// Read implements io.Reader. It fails with ctx's error once ctx is done, and with an error wrapping
// objstore.ErrTooLarge as soon as more than maxSize bytes have come.
func (s *Reader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if err := s.ctx.Err(); err != nil {
		s.err = fmt.Errorf("writing object %q was cancelled: %w", s.key, context.Cause(s.ctx))
		return 0, s.err
	}
	if s.maxSize > 0 && int64(len(p)) > s.maxSize-s.n+1 {
		p = p[:s.maxSize-s.n+1] // read at most one byte past the limit
	}
	n, err := s.r.Read(p)
	s.n += int64(n)
	if s.maxSize > 0 && s.n > s.maxSize {
		s.err = fmt.Errorf("%w: object %q is larger than the limit of %d bytes", objstore.ErrTooLarge, s.key, s.maxSize)
		return 0, s.err
	}
	s.h.Write(p[:n])
	if err != nil && err != io.EOF {
		err = fmt.Errorf("reading the data for object %q: %w", s.key, err)
	}
	if err != nil {
		s.err = err
	}
	return n, err
}

// Err is the error that stopped reading (io.EOF at the end), or nil.
func (s *Reader) Err() error { return s.err }

// Size is the number of bytes read so far.
func (s *Reader) Size() int64 { return s.n }

// SHA256 is the lowercase hex SHA-256 of the bytes read so far.
func (s *Reader) SHA256() string { return hex.EncodeToString(s.h.Sum(nil)) }

// ContextReader makes reads of r fail once ctx is done; Close closes r.
type ContextReader struct {
	Ctx context.Context
	R   io.ReadCloser
}

// Read implements io.Reader.
func (c ContextReader) Read(p []byte) (int, error) {
	if err := c.Ctx.Err(); err != nil {
		return 0, context.Cause(c.Ctx)
	}
	return c.R.Read(p)
}

// Close implements io.Closer.
func (c ContextReader) Close() error { return c.R.Close() }
