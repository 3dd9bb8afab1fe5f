package objstore

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"
)

// CorruptError says that an object's data does not match what was recorded when it was written. It
// wraps ErrCorrupt.
type CorruptError struct {
	// Name names the object for the user, as given to NewVerifier and used verbatim at the start of the
	// message, e.g. `result "r-42" of session "s-1"` or `object "sessions/s-1/results/r-42"`.
	Name string
	// WantSize and WantSHA256 are the recorded size (-1: not checked) and SHA-256 ("": not checked).
	WantSize   int64
	WantSHA256 string
	// GotSize is how many bytes were read: all of them, or the first WantSize+1 when the object is
	// longer than recorded. GotSHA256 is their SHA-256, or "" when reading stopped early.
	GotSize   int64
	GotSHA256 string
}

func (e *CorruptError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s is corrupted or was changed after it was written: ", e.Name)
	switch {
	case e.WantSize >= 0 && e.GotSize > e.WantSize:
		fmt.Fprintf(&b, "it holds more than the %d bytes recorded", e.WantSize)
	case e.WantSize >= 0 && e.GotSize != e.WantSize:
		fmt.Fprintf(&b, "it holds %d bytes, %d were recorded", e.GotSize, e.WantSize)
	default:
		fmt.Fprintf(&b, "its SHA-256 is %s, %s was recorded", e.GotSHA256, e.WantSHA256)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// Verifier reads an object through, computing its SHA-256 and size as the data streams, and at the end
// of the data returns a *CorruptError instead of io.EOF when they do not match the recorded ones. A
// stream longer than the recorded size fails as soon as it passes it. Errors are sticky: once a Read
// fails, every later Read returns the same error.
//
// The check can only happen at the end, so a consumer that forwards the data as it reads (an HTTP
// download, a file in a worker's folder) must treat a Read error as "discard what was forwarded".
type Verifier struct {
	r          io.Reader
	name       string
	wantSize   int64
	wantSHA256 string
	h          hash.Hash
	n          int64
	err        error
}

// NewVerifier wraps r, the data of the object called name (the start of the error message: name the
// result when there is one, e.g. `result "r-42" of session "s-1"`). size < 0 skips the size check; sha256Hex == "" skips the checksum check.
// Close closes r when r is an io.Closer.
func NewVerifier(r io.Reader, name string, size int64, sha256Hex string) *Verifier {
	return &Verifier{r: r, name: name, wantSize: size, wantSHA256: strings.ToLower(sha256Hex), h: sha256.New()}
}

// Read implements io.Reader.
func (v *Verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if v.wantSize >= 0 && v.n > v.wantSize {
		v.err = v.corrupt("")
		return n, v.err
	}
	if err == io.EOF {
		got := hex.EncodeToString(v.h.Sum(nil))
		if (v.wantSize >= 0 && v.n != v.wantSize) || (v.wantSHA256 != "" && got != v.wantSHA256) {
			err = v.corrupt(got)
		}
	}
	if err != nil {
		v.err = err
	}
	return n, err
}

func (v *Verifier) corrupt(got string) *CorruptError {
	return &CorruptError{Name: v.name, WantSize: v.wantSize, WantSHA256: v.wantSHA256, GotSize: v.n, GotSHA256: got}
}

// Close closes the wrapped reader when it is an io.Closer.
func (v *Verifier) Close() error {
	if c, ok := v.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
