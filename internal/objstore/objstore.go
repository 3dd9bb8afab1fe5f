// Package objstore keeps large result data outside Valkey: in a local folder on one machine, or in S3
// (or any S3-compatible server) for clusters. Data moves as streams, never whole in memory.
package objstore

import (
	"context"
	"errors"
	"io"
)

// ErrNotFound is returned (wrapped) by Get when the object does not exist.
var ErrNotFound = errors.New("object not found")

// Store is an object store. Keys are slash-separated paths of letters, digits, '.', '_', ':' and '-'
// (e.g. "sessions/<session>/results/<result>"). Implementations are safe for concurrent use.
type Store interface {
	// Put writes the object from r, replacing any object at key. A failed or cancelled Put leaves no
	// object (nor a partial one) at key. It returns the number of bytes written and their lowercase hex
	// SHA-256. With maxSize > 0, a stream longer than maxSize fails with an error wrapping ErrTooLarge.
	Put(ctx context.Context, key string, r io.Reader, maxSize int64) (size int64, sha256 string, err error)
	// Get opens the object for reading; the caller closes it. Errors wrap ErrNotFound when missing.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the objects; missing ones are not an error.
	Delete(ctx context.Context, keys ...string) error
	// Exists reports whether an object is at key.
	Exists(ctx context.Context, key string) (bool, error)
}

// ErrTooLarge is returned (wrapped) by Put when the data is larger than allowed.
var ErrTooLarge = errors.New("object too large")
