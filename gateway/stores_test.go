package gateway_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/chorus-hpc/chorus/internal/objstore"
	"github.com/chorus-hpc/chorus/internal/objstore/local"
	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
)

// newStores returns the real stores for one test: a valkey-server of its own and a local object store
// in a temporary folder.
func newStores(t testing.TB) (store.Store, objstore.Store) {
	t.Helper()
	srv := valkeytest.Start(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := valkeystore.New(valkeystore.Config{Client: srv.Client(t), KeyPrefix: "chorus:", Logger: quiet})
	if err != nil {
		t.Fatalf("valkeystore.New: %v", err)
	}
	objs, err := local.New(local.Config{Dir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatalf("local.New: %v", err)
	}
	return st, objs
}
