package e2e

import (
	"bufio"
	"bytes"
	"context"
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

	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
)

// binaries are the programs under test, built from this checkout.
type binaries struct {
	chorus string // cmd/chorus
	worker string // workers/go
}

// buildBinaries builds cmd/chorus and the Go example worker into a temp folder, without the race
// detector, so the processes measured are the ones users run.
func buildBinaries(t *testing.T) binaries {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatalf("finding the repository root: %v", err)
	}
	dir := t.TempDir()
	b := binaries{chorus: filepath.Join(dir, "chorus"), worker: filepath.Join(dir, "chorus-worker-go")}
	for out, pkg := range map[string]string{b.chorus: "./cmd/chorus", b.worker: "./workers/go"} {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = root
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s failed: %v\n%s", pkg, err, msg)
		}
	}
	return b
}

// cluster is a running Chorus installation: valkey-server, one gateway and one agent with a "go"
// partition, sharing the object-store folder objDir.
type cluster struct {
	bins     binaries
	store    []string // the flags of the Valkey address and the object store
	objDir   string
	grpcAddr string
	httpURL  string // "http://host:port"
	gateway  *proc
	agent    *proc
}

var gatewayAddrs = regexp.MustCompile(`gRPC on (\S+), REST/JSON on (http://\S+)`)

// startCluster starts valkey-server, `chorus gateway` and `chorus agent`; t.Cleanup stops them.
func startCluster(ctx context.Context, t *testing.T, bins binaries) *cluster {
	t.Helper()
	vk := valkeytest.Start(t)
	dir := t.TempDir()
	c := &cluster{bins: bins, objDir: filepath.Join(dir, "objects")}
	c.store = []string{"--valkey-addr", vk.Addr, "--objstore", "local", "--objstore-dir", c.objDir}

	c.gateway = startProc(t, "gateway", bins.chorus, append([]string{"gateway",
		"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--partitions", "go,small"}, c.store...)...)
	m := c.gateway.waitFor(ctx, t, gatewayAddrs)
	c.grpcAddr, c.httpURL = m[1], strings.TrimSuffix(m[2], "/")
	c.agent = c.startAgent(ctx, t, "agent", "go", "")
	return c
}

// startAgent starts `chorus agent` serving partition with one Go example worker; extra is added to
// its YAML config. t.Cleanup stops it.
func (c *cluster) startAgent(ctx context.Context, t *testing.T, name, partition, extra string) *proc {
	t.Helper()
	dir := t.TempDir()
	config := filepath.Join(dir, "agent.yaml")
	yaml := fmt.Sprintf("runtime_dir: %s\n%spartitions:\n  - name: %s\n    command: %s\n    processes: 1\n",
		strconv.Quote(filepath.Join(dir, "rt")), extra, partition, strconv.Quote(c.bins.worker))
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatalf("writing the agent config: %v", err)
	}
	p := startProc(t, name, c.bins.chorus, append([]string{"agent", "--config", config, "--metrics-addr="}, c.store...)...)
	p.waitFor(ctx, t, regexp.MustCompile(`chorus agent .* serving`))
	return p
}

// proc is a child process whose stderr is kept (and shown when the test fails) and whose resident
// memory is sampled while it runs.
type proc struct {
	name string
	cmd  *exec.Cmd

	mu     sync.Mutex
	lines  []string
	notify chan struct{} // closed and replaced on each new line
	exited bool

	sampling chan struct{} // closed to stop the sampler
	sampled  chan int64    // the sampler's largest VmRSS, in bytes
	done     chan error    // receives Wait's error once the process has exited
}

func startProc(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, notify: make(chan struct{}), sampling: make(chan struct{}), sampled: make(chan int64, 1),
		done: make(chan error, 1)}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = childEnv()
	pr, pw := io.Pipe()
	p.cmd.Stderr = pw
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s (%s %s): %v", name, bin, strings.Join(args, " "), err)
	}
	go p.readLines(pr)
	go func() {
		err := p.cmd.Wait() // returns once stderr is copied
		_ = pw.Close()
		p.done <- err
	}()
	go p.sample()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("%s stderr:\n%s", name, strings.Join(p.output(), "\n"))
		}
	})
	return p
}

// childEnv is the test's environment without CHORUS_* variables, which the commands would read as
// flags.
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
	_, _ = io.Copy(io.Discard, r) // after an over-long line: keep the process from blocking on stderr
	p.mu.Lock()
	p.exited = true
	close(p.notify)
	p.notify = make(chan struct{})
	p.mu.Unlock()
}

// waitFor waits until a stderr line matches re and returns the submatches; it fails the test when
// the process ends its output first.
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

// output returns the stderr lines so far.
func (p *proc) output() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// sample records the largest VmRSS seen until sampling is closed or the process is gone.
func (p *proc) sample() {
	var peak int64
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	defer func() { p.sampled <- peak }()
	for {
		if rss, err := procStatus(p.cmd.Process.Pid, "VmRSS"); err == nil {
			peak = max(peak, rss)
		}
		select {
		case <-p.sampling:
			return
		case <-tick.C:
		}
	}
}

// memory is a process's resident memory, in bytes.
type memory struct {
	hwm        int64 // VmHWM: the kernel's record of the peak
	sampledRSS int64 // the largest VmRSS sampled while it ran
}

// memory stops the sampler and reads VmHWM; call it while the process still runs.
func (p *proc) memory(t *testing.T) memory {
	t.Helper()
	hwm, err := procStatus(p.cmd.Process.Pid, "VmHWM")
	if err != nil {
		t.Fatalf("%s: reading its peak memory: %v", p.name, err)
	}
	close(p.sampling)
	return memory{hwm: hwm, sampledRSS: <-p.sampled}
}

// procStatus reads a "kB" field of /proc/<pid>/status, in bytes.
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte(field+":"))
		if !ok {
			continue
		}
		f := strings.Fields(string(rest))
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("/proc/%d/status: unexpected %s line %q", pid, field, line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		return kb << 10, err
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s line", pid, field)
}

// stop sends SIGTERM and waits for the process to exit, killing it if it takes too long.
func (p *proc) stop(t *testing.T) {
	select {
	case <-p.sampling:
	default:
		close(p.sampling)
		<-p.sampled
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	select {
	case err := <-p.done:
		if err != nil && !t.Failed() {
			t.Logf("%s exited: %v", p.name, err)
		}
	case <-ctx.Done():
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop within 40s of SIGTERM; killed", p.name)
	}
}
