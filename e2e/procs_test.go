package e2e

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chorus-hpc/chorus/internal/testutil/proctest"
	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
	"github.com/chorus-hpc/chorus/sdks/go/client"
)

// buildBinaries builds cmd/chorus and the Go example worker into a temp folder, without the race
// detector, so the processes measured are the ones users run.
func buildBinaries(t *testing.T) proctest.Binaries {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatalf("finding the repository root: %v", err)
	}
	b, err := proctest.Build(root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cluster is a running Chorus installation: valkey-server, one gateway and one agent with a "go"
// partition, sharing the object-store folder objDir.
type cluster struct {
	bins     proctest.Binaries
	store    []string // the flags of the Valkey address and the object store
	objDir   string
	grpcAddr string
	httpURL  string // "http://host:port"
	gateway  *proctest.Proc
	agent    *proctest.Proc
}

var gatewayAddrs = regexp.MustCompile(`gRPC on (\S+), REST/JSON on (http://\S+)`)

// startCluster starts valkey-server, `chorus gateway` and `chorus agent`; t.Cleanup stops them.
func startCluster(ctx context.Context, t *testing.T, bins proctest.Binaries) *cluster {
	t.Helper()
	vk := valkeytest.Start(t)
	dir := t.TempDir()
	c := &cluster{bins: bins, objDir: filepath.Join(dir, "objects")}
	c.store = []string{"--valkey-addr", vk.Addr, "--objstore", "local", "--objstore-dir", c.objDir}

	c.gateway = startProc(t, "gateway", bins.Chorus, append([]string{"gateway",
		"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--partitions", "go,small"}, c.store...)...)
	m := c.gateway.WaitFor(ctx, t, gatewayAddrs)
	c.grpcAddr, c.httpURL = m[1], strings.TrimSuffix(m[2], "/")
	c.agent = c.startAgent(ctx, t, "agent", "go", "")
	return c
}

// startAgent starts `chorus agent` serving partition with one Go example worker; extra is added to
// its YAML config. t.Cleanup stops it.
func (c *cluster) startAgent(ctx context.Context, t *testing.T, name, partition, extra string) *proctest.Proc {
	t.Helper()
	config := c.bins.WriteAgentConfig(t, partition, 1, extra)
	p := startProc(t, name, c.bins.Chorus, append([]string{"agent", "--config", config, "--metrics-addr="}, c.store...)...)
	p.WaitFor(ctx, t, regexp.MustCompile(`chorus agent .* serving`))
	return p
}

// sessionWithResult creates a session whose tasks default to partition and, in it, a result (its id
// starting with prefix) to upload into.
func sessionWithResult(ctx context.Context, t *testing.T, c *client.Client, partition, prefix string) (*client.Session, string) {
	t.Helper()
	sess, err := c.CreateSession(ctx, client.SessionOptions{Partition: partition})
	if err != nil {
		t.Fatal(err)
	}
	id := client.NewID(prefix)
	if _, err := sess.CreateResults(ctx, id); err != nil {
		t.Fatal(err)
	}
	return sess, id
}

// startProc runs bin with args, sampling its resident memory; t.Cleanup stops it.
func startProc(t *testing.T, name, bin string, args ...string) *proctest.Proc {
	t.Helper()
	return proctest.Start(t, name, proctest.Options{SampleMemory: true}, bin, args...)
}
