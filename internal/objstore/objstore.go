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
// (e.g. "sessions/<session>/results/<result>"; see ValidateKey for the exact rules). A key should not
// also be the folder of other keys ("a" and "a/b"): S3 allows it, the local folder store does not.
// Implementations are safe for concurrent use. Implementations: local (a folder) and s3; the suite in
// objstoretest checks them.
type Store interface {
	// Put writes the object from r, replacing any object at key; readers see the old object or the new
	// one whole, never a mix. A failed or cancelled Put leaves no object (nor a partial one) at a key
	// that had none, and leaves an existing object unchanged. It returns the number of bytes written and
	// their lowercase hex SHA-256, computed while streaming. With maxSize > 0, a stream longer than
	// maxSize fails with an error wrapping ErrTooLarge (detected while streaming, before the data is
	// all read). A key that breaks the key rules fails with an error wrapping ErrInvalidKey.
	Put(ctx context.Context, key string, r io.Reader, maxSize int64) (size int64, sha256 string, err error)
	// Get opens the object for reading; the caller closes it. Errors wrap ErrNotFound when missing.
	// Reads fail once ctx is done. Wrap the reader with NewVerifier to detect a corrupted object.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the objects; missing ones are not an error.
	Delete(ctx context.Context, keys ...string) error
	// Exists reports whether an object is at key.
	Exists(ctx context.Context, key string) (bool, error)
}

// ErrTooLarge is returned (wrapped) by Put when the data is larger than allowed.
var ErrTooLarge = errors.New("object too large")

// ErrInvalidKey is returned (wrapped) by every method for a key that breaks the key rules (see
// ValidateKey).
var ErrInvalidKey = errors.New("invalid object key")

// ErrCorrupt is returned (wrapped, as a *CorruptError) by a Verifier when the data read does not match
// the size or SHA-256 recorded when the object was written.
var ErrCorrupt = errors.New("object is corrupted")
