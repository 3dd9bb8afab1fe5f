// Package valkeytest starts real valkey-server processes on free loopback ports for tests: one
// standalone server (Start) or a 3-node Valkey Cluster (StartCluster). Each is stopped by t.Cleanup.
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

// Cluster is a running 3-node Valkey Cluster (3 masters, no replicas).
type Cluster struct {
	// Addrs are the nodes' "127.0.0.1:port" addresses.
	Addrs []string
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
	base := t.TempDir()
	c := &Cluster{}
	for i := range 3 {
		dir := filepath.Join(base, "node"+strconv.Itoa(i))
		p := startProc(t, dir, []string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", "5000",
		})
		c.Addrs = append(c.Addrs, p.Addr())
	}
	cli, err := exec.LookPath("valkey-cli")
	if err != nil {
		t.Fatalf("valkeytest: valkey-cli is not installed (it comes with valkey-server): %v", err)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("valkeytest: valkey-cli --cluster create failed: %v\n%s", err, out)
	}
	for _, addr := range c.Addrs {
		waitClusterOK(t, cli, addr)
	}
	return c
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
