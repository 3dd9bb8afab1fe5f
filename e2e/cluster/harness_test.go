package cluster

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/chorus-hpc/chorus/internal/testutil/proctest"
)

var runCluster = flag.Bool("cluster", false, "run the Valkey Cluster and network-namespace end-to-end tests (make test-cluster)")

// needCluster skips the test unless -cluster was given: these tests start a dozen processes and
// run for a minute or more, so they have their own make target.
func needCluster(t *testing.T) {
	t.Helper()
	if !*runCluster {
		t.Skip("end-to-end cluster test: run it with `make test-cluster` (go test ./e2e/cluster -args -cluster)")
	}
}

// built holds the binaries, built once for the package's tests into buildDir.
var (
	buildOnce sync.Once
	buildDir  string
	built     proctest.Binaries
	buildErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// buildBinaries builds the programs under test from this checkout, without the race detector.
func buildBinaries(t *testing.T) proctest.Binaries {
	t.Helper()
	buildOnce.Do(func() {
		root, err := filepath.Abs("../..")
		if err != nil {
			buildErr = fmt.Errorf("finding the repository root: %w", err)
			return
		}
		if buildDir, buildErr = os.MkdirTemp("", "chorus-e2e-cluster-"); buildErr != nil {
			return
		}
		built, buildErr = proctest.Build(root, buildDir)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}

var (
	gatewayLine = regexp.MustCompile(`gRPC on (\S+), REST/JSON on (http://\S+)`)
	agentLine   = regexp.MustCompile(`chorus agent .* serving`)
)

// gateway is a running `chorus gateway`.
type gateway struct {
	*proctest.Proc
	grpcAddr string
	httpURL  string
}

// startGateway runs `chorus gateway` listening on host (port chosen by the kernel) with store flags.
func startGateway(ctx context.Context, t *testing.T, name string, bins proctest.Binaries, host string, store []string) *gateway {
	t.Helper()
	args := append([]string{"gateway", "--grpc-addr", host + ":0", "--http-addr", host + ":0", "--partitions", "go"}, store...)
	p := startProc(t, name, nil, bins.Chorus, args...)
	m := p.WaitFor(ctx, t, gatewayLine)
	return &gateway{Proc: p, grpcAddr: m[1], httpURL: strings.TrimSuffix(m[2], "/")}
}

// writeAgentConfig writes an agent config serving the "go" partition with procs Go example workers.
func writeAgentConfig(t *testing.T, bins proctest.Binaries, procs int, extra string) string {
	t.Helper()
	return bins.WriteAgentConfig(t, "go", procs, extra)
}

// startAgent runs `chorus agent` with config, through wrap (e.g. `ip netns exec ns`) when not nil.
func startAgent(ctx context.Context, t *testing.T, name string, wrap []string, bins proctest.Binaries, config string, store []string) *proctest.Proc {
	t.Helper()
	args := append([]string{"agent", "--config", config, "--metrics-addr="}, store...)
	p := startProc(t, name, wrap, bins.Chorus, args...)
	p.WaitFor(ctx, t, agentLine)
	return p
}

// startProc runs bin with args, prefixed by wrap when it is not empty, and logs the last 40 lines of
// its stderr when the test fails (without the gateways' access log of calls that succeeded, ended
// by their deadline or were cancelled); t.Cleanup stops it.
func startProc(t *testing.T, name string, wrap []string, bin string, args ...string) *proctest.Proc {
	t.Helper()
	return proctest.Start(t, name, proctest.Options{Wrap: wrap, LogTail: 40, TailSkip: routineLine}, bin, args...)
}

// routineLine reports whether a log line is a call's access-log entry or the gateway's note that a
// call's deadline passed: thousands of them hide the lines that say what went wrong.
func routineLine(l string) bool {
	return strings.Contains(l, "level=INFO msg=rpc ") || strings.Contains(l, `msg="call deadline passed"`)
}
