package objstore_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/chorus-hpc/chorus/internal/objstore"
)

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestVerifier(t *testing.T) {
	t.Parallel()
	const data = "the quick brown fox"
	const name = `result "r-1" of session "s-1"`
	for _, tc := range []struct {
		name    string
		data    string
		size    int64
		sha     string
		wantErr string // "" for success
	}{
		{"match", data, int64(len(data)), sum(data), ""},
		{"match, upper-case hex", data, int64(len(data)), strings.ToUpper(sum(data)), ""},
		{"size unchecked", data, -1, sum(data), ""},
		{"checksum unchecked", data, int64(len(data)), "", ""},
		{"empty", "", 0, sum(""), ""},
		{"flipped byte", "the quick brown fix", int64(len(data)), sum(data), "its SHA-256 is " + sum("the quick brown fix") + ", " + sum(data) + " was recorded"},
		{"truncated", data[:10], int64(len(data)), sum(data), "it holds 10 bytes, 19 were recorded"},
		{"truncated, size unchecked", data[:10], -1, sum(data), "its SHA-256 is"},
		{"longer", data + "!", int64(len(data)), sum(data), "it holds more than the 19 bytes recorded"},
		{"empty instead of data", "", int64(len(data)), sum(data), "it holds 0 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// OneByteReader and DataErrReader cover both ways a reader may report the end.
			for _, r := range []io.Reader{strings.NewReader(tc.data), iotest.OneByteReader(strings.NewReader(tc.data)), iotest.DataErrReader(strings.NewReader(tc.data))} {
				v := objstore.NewVerifier(r, name, tc.size, tc.sha)
				got, err := io.ReadAll(v)
				if tc.wantErr == "" {
					if err != nil || string(got) != tc.data {
						t.Fatalf("ReadAll = %q, %v; want the data and no error", got, err)
					}
					continue
				}
				var ce *objstore.CorruptError
				if !errors.Is(err, objstore.ErrCorrupt) || !errors.As(err, &ce) {
					t.Fatalf("ReadAll error = %v; want a *CorruptError", err)
				}
				if msg := err.Error(); !strings.HasPrefix(msg, name+" is corrupted") || !strings.Contains(msg, tc.wantErr) {
					t.Fatalf("error %q; want it to start with the name and contain %q", msg, tc.wantErr)
				}
				if _, again := v.Read(make([]byte, 8)); again != err {
					t.Fatalf("Read after the error = %v; want the same error again", again)
				}
			}
		})
	}
}

// The Verifier stops a stream longer than recorded as soon as it passes the size, without reading on.
func TestVerifierStopsEarly(t *testing.T) {
	t.Parallel()
	endless := iotest.OneByteReader(strings.NewReader(strings.Repeat("x", 1<<20)))
	v := objstore.NewVerifier(endless, "object k", 10, "")
	n, err := io.Copy(io.Discard, v)
	if !errors.Is(err, objstore.ErrCorrupt) || n != 11 {
		t.Fatalf("Copy = %d bytes, %v; want 11 bytes and ErrCorrupt", n, err)
	}
}

func TestVerifierPassesReadErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	v := objstore.NewVerifier(io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(boom)), "object k", 10, "")
	if _, err := io.ReadAll(v); !errors.Is(err, boom) || errors.Is(err, objstore.ErrCorrupt) {
		t.Fatalf("ReadAll error = %v; want the reader's own error", err)
	}
}

type closer struct {
	io.Reader
	closed bool
}

func (c *closer) Close() error { c.closed = true; return nil }

func TestVerifierClose(t *testing.T) {
	t.Parallel()
	c := &closer{Reader: strings.NewReader("x")}
	if err := objstore.NewVerifier(c, "k", 1, "").Close(); err != nil || !c.closed {
		t.Fatalf("Close = %v, closed %v; want the wrapped reader closed", err, c.closed)
	}
	if err := objstore.NewVerifier(strings.NewReader("x"), "k", 1, "").Close(); err != nil {
		t.Fatalf("Close of a non-closer = %v", err)
	}
}

func ExampleVerifier() {
	stored := strings.NewReader("hello, world") // e.g. from Store.Get
	recordedSHA := sum("hello world")           // from Valkey, recorded by Put
	v := objstore.NewVerifier(stored, `result "greeting"`, 12, recordedSHA)
	_, err := io.Copy(io.Discard, v)
	fmt.Println(errors.Is(err, objstore.ErrCorrupt))
	fmt.Println(err)
	// Output:
	// true
	// result "greeting" is corrupted or was changed after it was written: its SHA-256 is 09ca7e4eaa6e8ae9c7d261167129184883644d07dfba7cbfbc4c8a2e08360d5b, b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9 was recorded
}
