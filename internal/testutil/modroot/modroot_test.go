package modroot_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chorus-hpc/chorus/internal/testutil/modroot"
)

// From this package's folder, Find answers the repository's root: three folders up (internal/testutil/modroot), with a go.mod.
func TestFindFromAPackage(t *testing.T) {
	t.Parallel()
	root, err := modroot.Find()
	if err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Dir(filepath.Dir(filepath.Dir(wd))); root != want {
		t.Fatalf("Find() = %s; want %s", root, want)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod in %s: %v", root, err)
	}
}
