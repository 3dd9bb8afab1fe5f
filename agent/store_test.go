package agent_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/chorus-hpc/chorus/internal/objstore"
	"github.com/chorus-hpc/chorus/internal/objstore/local"
	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
)

// newEnv starts a private valkey-server and opens the real store and a local object store on it.
func newEnv(t testing.TB) *env {
	t.Helper()
	srv := valkeytest.Start(t)
	st, closeStore, err := openStore(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeStore)
	objs, err := openObjstore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// A bound for waits, so a hang fails the test with a message instead of the global timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return &env{t: t, st: st, objs: objs, addr: srv.Addr, ctx: ctx}
}

func openStore(addr string) (store.Store, func(), error) {
	c, err := valkey.NewClient(valkey.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	if err != nil {
		return nil, nil, fmt.Errorf("connect to valkey at %s: %w", addr, err)
	}
	st, err := valkeystore.New(valkeystore.Config{Client: c, RetryBackoffBase: 20 * time.Millisecond, RetryBackoffMax: 100 * time.Millisecond})
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return st, st.Close, nil
}

func openObjstore(dir string) (objstore.Store, error) {
	return local.New(local.Config{Dir: dir})
}
