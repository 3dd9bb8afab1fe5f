package local_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/chorus-hpc/chorus/internal/objstore"
	"github.com/chorus-hpc/chorus/internal/objstore/local"
)

func Example() {
	dir, err := os.MkdirTemp("", "objects")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	store, err := local.New(local.Config{Dir: dir})
	if err != nil {
		panic(err)
	}
	// Write: the size and SHA-256 come back; keep them next to the key (in Valkey).
	size, sum, err := store.Put(ctx, "sessions/s-1/results/r-1", strings.NewReader("hello"), 1<<20)
	if err != nil {
		panic(err)
	}
	fmt.Println(size, sum)

	// Read, checking the data against what Put returned.
	rc, err := store.Get(ctx, "sessions/s-1/results/r-1")
	if err != nil {
		panic(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(objstore.NewVerifier(rc, `result "r-1"`, size, sum))
	fmt.Printf("%s %v\n", data, err)

	// Too large: nothing is left behind.
	_, _, err = store.Put(ctx, "big", strings.NewReader("0123456789"), 5)
	ok, _ := store.Exists(ctx, "big")
	fmt.Println(err, ok)
	// Output:
	// 5 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
	// hello <nil>
	// object too large: object "big" is larger than the limit of 5 bytes false
}
