package cluster

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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

// binaries are the programs under test, built from this checkout without the race detector.
type binaries struct {
	chorus string // cmd/chorus
	worker string // workers/go
}

// built holds the binaries, built once for the package's tests into buildDir.
var (
	buildOnce sync.Once
	buildDir  string
	built     binaries
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

func buildBinaries(t *testing.T) binaries {
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
		built = binaries{chorus: filepath.Join(buildDir, "chorus"), worker: filepath.Join(buildDir, "chorus-worker-go")}
		for out, pkg := range map[string]string{built.chorus: "./cmd/chorus", built.worker: "./workers/go"} {
			cmd := exec.Command("go", "build", "-o", out, pkg)
			cmd.Dir = root
			if msg, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s failed: %w\n%s", pkg, err, msg)
				return
			}
		}
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
	*proc
	grpcAddr string
	httpURL  string
}

// startGateway runs `chorus gateway` listening on host (port chosen by the kernel) with store flags.
func startGateway(ctx context.Context, t *testing.T, name string, bins binaries, host string, store []string) *gateway {
	t.Helper()
	args := append([]string{"gateway", "--grpc-addr", host + ":0", "--http-addr", host + ":0", "--partitions", "go"}, store...)
	p := startProc(t, name, nil, bins.chorus, args...)
	m := p.waitFor(ctx, t, gatewayLine)
	return &gateway{proc: p, grpcAddr: m[1], httpURL: strings.TrimSuffix(m[2], "/")}
}

// writeAgentConfig writes an agent config serving the "go" partition with procs Go example workers.
func writeAgentConfig(t *testing.T, bins binaries, procs int, extra string) string {
	t.Helper()
	dir := t.TempDir()
	config := filepath.Join(dir, "agent.yaml")
	yaml := fmt.Sprintf("runtime_dir: %s\n%spartitions:\n  - name: go\n    command: %s\n    processes: %d\n",
		strconv.Quote(filepath.Join(dir, "rt")), extra, strconv.Quote(bins.worker), procs)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatalf("writing the agent config: %v", err)
	}
	return config
}

// startAgent runs `chorus agent` with config, through wrap (e.g. `ip netns exec ns`) when not nil.
func startAgent(ctx context.Context, t *testing.T, name string, wrap []string, bins binaries, config string, store []string) *proc {
	t.Helper()
	args := append([]string{"agent", "--config", config, "--metrics-addr="}, store...)
	p := startProc(t, name, wrap, bins.chorus, args...)
	p.waitFor(ctx, t, agentLine)
	return p
}

// proc is a child process whose stderr is kept (and shown when the test fails).
type proc struct {
	name string
	cmd  *exec.Cmd

	mu     sync.Mutex
	lines  []string
	notify chan struct{} // closed and replaced on each new line
	exited bool
	done   chan error
}

// startProc runs bin with args, prefixed by wrap when it is not empty; t.Cleanup stops it.
func startProc(t *testing.T, name string, wrap []string, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, notify: make(chan struct{}), done: make(chan error, 1)}
	argv := append(append(append([]string{}, wrap...), bin), args...)
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = childEnv()
	pr, pw := io.Pipe()
	p.cmd.Stderr = pw
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s (%s): %v", name, strings.Join(argv, " "), err)
	}
	go p.readLines(pr)
	go func() {
		err := p.cmd.Wait()
		_ = pw.Close()
		p.done <- err
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("%s stderr (last 40 lines):\n%s", name, strings.Join(tail(p.output(), 40), "\n"))
		}
	})
	return p
}

func tail(lines []string, n int) []string {
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}

// childEnv is the test's environment without CHORUS_* variables, which the commands read as flags.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CHORUS_") {
			env = append(env, kv)
		}
	}
	return env
}

func (p *proc) readLines(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		p.mu.Lock()
		p.lines = append(p.lines, sc.Text())
		close(p.notify)
		p.notify = make(chan struct{})
		p.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
	p.mu.Lock()
	p.exited = true
	close(p.notify)
	p.notify = make(chan struct{})
	p.mu.Unlock()
}

// waitFor waits until a stderr line matches re and returns the submatches.
func (p *proc) waitFor(ctx context.Context, t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	for seen := 0; ; {
		p.mu.Lock()
		lines, exited, notify := p.lines, p.exited, p.notify
		p.mu.Unlock()
		for ; seen < len(lines); seen++ {
			if m := re.FindStringSubmatch(lines[seen]); m != nil {
				return m
			}
		}
		if exited {
			t.Fatalf("%s ended before printing a line matching %q; its stderr:\n%s", p.name, re, strings.Join(lines, "\n"))
		}
		select {
		case <-notify:
		case <-ctx.Done():
			t.Fatalf("%s printed no line matching %q: %v; its stderr:\n%s", p.name, re, ctx.Err(), strings.Join(lines, "\n"))
		}
	}
}

func (p *proc) output() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// stop sends SIGTERM and waits for the process to exit, killing it after 40s.
func (p *proc) stop(t *testing.T) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil && !t.Failed() {
			t.Logf("%s exited: %v", p.name, err)
		}
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop within 40s of SIGTERM; killed", p.name)
	}
}
