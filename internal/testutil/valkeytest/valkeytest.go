// Package valkeytest starts real valkey-server processes on free loopback ports for tests: one
// standalone server (Start), a 3-node Valkey Cluster (StartCluster) or a cluster with replicas
// (StartClusterWith). Each is stopped by t.Cleanup.
package valkeytest

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/chorus-hpc/chorus/internal/valkeyproc"
)

// Server is a running standalone valkey-server.
type Server struct {
	// Addr is "127.0.0.1:port".
	Addr string
}

// Cluster is a running Valkey Cluster: by default 3 masters and no replicas.
type Cluster struct {
	// Addrs are the nodes' "127.0.0.1:port" addresses.
	Addrs []string
	procs map[string]*valkeyproc.Proc
}

// Start runs a standalone valkey-server in a temp dir (no persistence) and stops it when the test ends.
// The test fails (with an install hint) when valkey-server is missing.
func Start(t testing.TB) *Server {
	t.Helper()
	p := startProc(t, filepath.Join(t.TempDir(), "valkey"), nil)
	return &Server{Addr: p.Addr()}
}

// Client returns a valkey-go client for the server, closed when the test ends.
func (s *Server) Client(t testing.TB) valkey.Client {
	t.Helper()
	return newClient(t, s.Addr)
}

// StartCluster runs three valkey-server nodes with cluster mode on, joins them with
// `valkey-cli --cluster create` and waits until every node reports cluster_state:ok.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	return StartClusterWith(t, ClusterOptions{})
}

// ClusterOptions shape a cluster started by StartClusterWith.
type ClusterOptions struct {
	// Masters is the number of master nodes; default (and least) 3.
	Masters int
	// Replicas is the number of replicas of each master; default 0.
	Replicas int
	// NodeTimeout is cluster-node-timeout: how long a master may be unreachable before the
	// cluster marks it failed and a replica takes over; default 5s.
	NodeTimeout time.Duration
	// ExtraArgs are passed to every valkey-server (e.g. "--appendonly", "yes").
	ExtraArgs []string
}

// StartClusterWith runs Masters·(1+Replicas) valkey-server nodes with cluster mode on, joins them
// with `valkey-cli --cluster create --cluster-replicas`, and waits until every node reports
// cluster_state:ok and every replica is attached to its master. Nodes are stopped by t.Cleanup;
// Kill crashes one before that.
func StartClusterWith(t testing.TB, o ClusterOptions) *Cluster {
	t.Helper()
	if o.Masters < 3 {
		o.Masters = 3
	}
	if o.NodeTimeout == 0 {
		o.NodeTimeout = 5 * time.Second
	}
	base := t.TempDir()
	c := &Cluster{procs: map[string]*valkeyproc.Proc{}}
	for i := range o.Masters * (1 + o.Replicas) {
		dir := filepath.Join(base, "node"+strconv.Itoa(i))
		p := startProc(t, dir, append([]string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", strconv.FormatInt(o.NodeTimeout.Milliseconds(), 10),
		}, o.ExtraArgs...))
		c.Addrs = append(c.Addrs, p.Addr())
		c.procs[p.Addr()] = p
	}
	cli, err := exec.LookPath("valkey-cli")
	if err != nil {
		t.Fatalf("valkeytest: valkey-cli is not installed (it comes with valkey-server): %v", err)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(o.Replicas), "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("valkeytest: valkey-cli --cluster create failed: %v\n%s", err, out)
	}
	for _, addr := range c.Addrs {
		waitClusterOK(t, cli, addr)
	}
	if o.Replicas > 0 {
		waitReplicasLinked(t, cli, c.Addrs, o.Masters*o.Replicas)
	}
	return c
}

// Kill crashes the node at addr with SIGKILL, as a machine failure would.
func (c *Cluster) Kill(t testing.TB, addr string) {
	t.Helper()
	p, ok := c.procs[addr]
	if !ok {
		t.Fatalf("valkeytest: no cluster node at %s", addr)
	}
	p.Kill()
}

// Node is one line of CLUSTER NODES.
type Node struct {
	ID     string
	Addr   string // "127.0.0.1:port"
	Master bool
	Failed bool   // flagged fail or pfail
	Of     string // a replica's master id
	Slots  []string
}

// Nodes reads CLUSTER NODES from the node at addr.
func Nodes(ctx context.Context, addr string) ([]Node, error) {
	cli, err := exec.LookPath("valkey-cli")
	if err != nil {
		return nil, fmt.Errorf("valkeytest: valkey-cli is not installed: %w", err)
	}
	host, port, _ := strings.Cut(addr, ":")
	out, err := exec.CommandContext(ctx, cli, "-h", host, "-p", port, "cluster", "nodes").Output()
	if err != nil {
		return nil, fmt.Errorf("valkeytest: CLUSTER NODES on %s: %w", addr, err)
	}
	return parseNodes(string(out)), nil
}

// parseNodes parses CLUSTER NODES: "<id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot>...".
func parseNodes(out string) []Node {
	var nodes []Node
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		flags := "," + f[2] + ","
		n := Node{ID: f[0], Addr: addr, Master: strings.Contains(flags, ",master,"),
			Failed: strings.Contains(flags, ",fail,") || strings.Contains(flags, ",fail?,")}
		if f[3] != "-" {
			n.Of = f[3]
		}
		n.Slots = f[8:]
		nodes = append(nodes, n)
	}
	return nodes
}

// Owner returns the live master serving slot, or nil.
func Owner(nodes []Node, slot int) *Node {
	for i, n := range nodes {
		if !n.Master || n.Failed {
			continue
		}
		for _, r := range n.Slots {
			if strings.HasPrefix(r, "[") {
				continue // a slot being migrated
			}
			lo, hi, found := strings.Cut(r, "-")
			if !found {
				hi = lo
			}
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 == nil && err2 == nil && a <= slot && slot <= b {
				return &nodes[i]
			}
		}
	}
	return nil
}

// waitReplicasLinked waits until CLUSTER NODES on every node lists want replicas.
func waitReplicasLinked(t testing.TB, cli string, addrs []string, want int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, addr := range addrs {
		for {
			nodes, err := Nodes(ctx, addr)
			got := 0
			for _, n := range nodes {
				if !n.Master && n.Of != "" {
					got++
				}
			}
			if err == nil && got == want {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("valkeytest: node %s lists %d replicas, want %d (%v)", addr, got, want, err)
			case <-time.After(50 * time.Millisecond):
			}
		}
		// A replica answers only once its initial sync is done: wait for master_link_status:up.
		host, port, _ := strings.Cut(addr, ":")
		for {
			out, err := exec.CommandContext(ctx, cli, "-h", host, "-p", port, "info", "replication").Output()
			s := string(out)
			if err == nil && (strings.Contains(s, "role:master") || strings.Contains(s, "master_link_status:up")) {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("valkeytest: replica %s did not finish its sync with its master: %s", addr, s)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// Client returns a cluster-aware valkey-go client, closed when the test ends.
func (c *Cluster) Client(t testing.TB) valkey.Client {
	t.Helper()
	return newClient(t, c.Addrs...)
}

func startProc(t testing.TB, dir string, extra []string) *valkeyproc.Proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := valkeyproc.Start(ctx, valkeyproc.Config{Dir: dir, ExtraArgs: extra})
	if err != nil {
		t.Fatalf("valkeytest: starting valkey-server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = p.Stop(ctx)
	})
	return p
}

func newClient(t testing.TB, addrs ...string) valkey.Client {
	t.Helper()
	c, err := valkey.NewClient(valkey.ClientOption{InitAddress: addrs, DisableCache: true})
	if err != nil {
		t.Fatalf("valkeytest: connecting to %v: %v", addrs, err)
	}
	t.Cleanup(c.Close)
	return c
}

func waitClusterOK(t testing.TB, cli, addr string) {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	deadline := time.Now().Add(60 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		out, err := exec.Command(cli, "-h", host, "-p", port, "cluster", "info").CombinedOutput()
		last = string(out)
		if err == nil && strings.Contains(last, "cluster_state:ok") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("valkeytest: cluster node %s did not reach cluster_state:ok within 60s: %s", addr, fmt.Sprint(last))
}
