package valkeystore_test

import (
	"sync/atomic"
	"testing"

	"github.com/valkey-io/valkey-go"

	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/store/storetest"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
)

func factory(c valkey.Client) storetest.NewStore {
	var n atomic.Int64
	return func(t *testing.T, clk clock.Clock) store.Store {
		// Prefixes end in "s:" like the default "chorus:", so that messages are checked to name a
		// session as the caller gave it, not a piece of its key.
		s, err := valkeystore.New(valkeystore.Config{Client: c, KeyPrefix: "t" + itoa(n.Add(1)) + "-jobs:", Clock: clk})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return s
	}
}

func itoa(i int64) string {
	b := []byte{}
	for i >= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
	}
	return string(append([]byte{byte('0' + i)}, b...))
}

func TestConformanceStandalone(t *testing.T) {
	t.Parallel()
	srv := valkeytest.Start(t)
	storetest.Run(t, factory(srv.Client(t)))
}

func TestConformanceCluster(t *testing.T) {
	t.Parallel()
	cl := valkeytest.StartCluster(t)
	storetest.Run(t, factory(cl.Client(t)))
}

func TestConfigRequiresClient(t *testing.T) {
	t.Parallel()
	if _, err := valkeystore.New(valkeystore.Config{}); err == nil {
		t.Fatal("New without a client succeeded")
	}
}
