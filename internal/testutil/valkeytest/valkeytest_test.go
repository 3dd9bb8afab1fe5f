package valkeytest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valkey-io/valkey-go"
)

func TestStandalone(t *testing.T) {
	t.Parallel()
	s := Start(t)
	c := s.Client(t)
	ctx := context.Background()
	if err := c.Do(ctx, c.B().Set().Key("k").Value("v").Build()).Error(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	got, err := c.Do(ctx, c.B().Get().Key("k").Build()).ToString()
	if err != nil || got != "v" {
		t.Fatalf("GET = %q, %v; want v", got, err)
	}
}

func TestCluster(t *testing.T) {
	t.Parallel()
	cl := StartCluster(t)
	if len(cl.Addrs) != 3 {
		t.Fatalf("got %d nodes, want 3", len(cl.Addrs))
	}
	c := cl.Client(t)
	ctx := context.Background()
	// Keys in different slots land on different nodes; the client routes each.
	for i := range 50 {
		k := "key" + strconv.Itoa(i)
		if err := c.Do(ctx, c.B().Set().Key(k).Value(k).Build()).Error(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
	for i := range 50 {
		k := "key" + strconv.Itoa(i)
		got, err := c.Do(ctx, c.B().Get().Key(k).Build()).ToString()
		if err != nil || got != k {
			t.Fatalf("GET %s = %q, %v", k, got, err)
		}
	}
	info, err := c.Do(ctx, c.B().ClusterInfo().Build()).ToString()
	if err != nil {
		t.Fatalf("CLUSTER INFO: %v", err)
	}
	if !strings.Contains(info, "cluster_known_nodes:3") {
		t.Fatalf("cluster info does not list 3 nodes: %s", info)
	}
}

// A cluster with one replica per master survives the crash of a master: its replica takes over
// its slots and serves what was written before.
func TestClusterReplicaTakesOver(t *testing.T) {
	t.Parallel()
	cl := StartClusterWith(t, ClusterOptions{Replicas: 1, NodeTimeout: time.Second})
	if len(cl.Addrs) != 6 {
		t.Fatalf("got %d nodes, want 6", len(cl.Addrs))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := cl.Client(t)
	slot, err := c.Do(ctx, c.B().ClusterKeyslot().Key("k").Build()).AsInt64()
	if err != nil {
		t.Fatalf("CLUSTER KEYSLOT: %v", err)
	}
	nodes, err := Nodes(ctx, cl.Addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	owner := Owner(nodes, int(slot))
	if owner == nil {
		t.Fatalf("no master owns slot %d: %+v", slot, nodes)
	}
	// Write on the master's own connection and WAIT for its replica, so the write is not lost.
	m, err := valkey.NewClient(valkey.ClientOption{InitAddress: []string{owner.Addr}, ForceSingleClient: true, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Do(ctx, m.B().Set().Key("k").Value("v").Build()).Error(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if n, err := m.Do(ctx, m.B().Wait().Numreplicas(1).Timeout(5000).Build()).AsInt64(); err != nil || n != 1 {
		t.Fatalf("WAIT = %d, %v; want 1 replica", n, err)
	}
	m.Close()
	cl.Kill(t, owner.Addr)
	for {
		got, err := c.Do(ctx, c.B().Get().Key("k").Build()).ToString()
		if err == nil {
			if got != "v" {
				t.Fatalf("GET after failover = %q; want v", got)
			}
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the replica of %s did not take over: last error %v", owner.Addr, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
