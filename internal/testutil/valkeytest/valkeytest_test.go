package valkeytest

import (
	"context"
	"strconv"
	"strings"
	"testing"
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
