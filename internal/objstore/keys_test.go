package objstore_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/chorus-hpc/chorus/internal/objstore"
)

func TestValidateKey(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"a", "A-z_0.9:x", "sessions/s-1/results/r-1", "..a/b..", ".hidden", strings.Repeat("k", objstore.MaxKeyLen)} {
		if err := objstore.ValidateKey(key); err != nil {
			t.Errorf("ValidateKey(%q) = %v; want nil", key, err)
		}
	}
	for key, why := range map[string]string{
		"":       "empty",
		"/abs":   "empty path segment",
		"a/":     "empty path segment",
		"a//b":   "empty path segment",
		"..":     `".." path segment`,
		"a/../b": `".." path segment`,
		"./a":    `"." path segment`,
		"a b":    "character ' '",
		"a\\b":   `character '\\'`,
		"tmp~1":  "character '~'",
		"é":      "character",
		strings.Repeat("k", objstore.MaxKeyLen+1): "the limit is",
	} {
		err := objstore.ValidateKey(key)
		if !errors.Is(err, objstore.ErrInvalidKey) || !strings.Contains(err.Error(), why) {
			t.Errorf("ValidateKey(%q) = %v; want ErrInvalidKey saying %q", key, err, why)
		}
	}
}

func FuzzValidateKey(f *testing.F) {
	for _, s := range []string{"a/b", "../x", "a//b", "s/r:1.bin"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if objstore.ValidateKey(key) != nil {
			return
		}
		// A valid key stays inside the store's root and has no surprises.
		if strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") || strings.Contains(key, "//") {
			t.Fatalf("accepted %q", key)
		}
		for _, seg := range strings.Split(key, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("accepted %q", key)
			}
		}
		if strings.ContainsAny(key, "~\\ \x00") {
			t.Fatalf("accepted %q", key)
		}
	})
}
