// Package proctest runs the programs of this checkout as child processes for end-to-end tests: it
// builds them, writes agent configs, and keeps each process's stderr to wait on its lines.
package proctest

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
)

// Binaries are the programs under test, built from this checkout.
type Binaries struct {
	Chorus string // cmd/chorus
	Worker string // workers/go
}

// Build builds cmd/chorus and the Go example worker of the checkout at root into dir, without the
// race detector, so the processes tested are the ones users run.
func Build(root, dir string) (Binaries, error) {
	b := Binaries{Chorus: filepath.Join(dir, "chorus"), Worker: filepath.Join(dir, "chorus-worker-go")}
	for out, pkg := range map[string]string{b.Chorus: "./cmd/chorus", b.Worker: "./workers/go"} {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = root
		if msg, err := cmd.CombinedOutput(); err != nil {
			return Binaries{}, fmt.Errorf("go build %s failed: %w\n%s", pkg, err, msg)
		}
	}
	return b, nil
}

// WriteAgentConfig writes an agent config into a temp folder and returns its path: partition served
// by procs processes of the Go example worker, with extra added to the YAML before the partitions.
func (b Binaries) WriteAgentConfig(t *testing.T, partition string, procs int, extra string) string {
	t.Helper()
	dir := t.TempDir()
	config := filepath.Join(dir, "agent.yaml")
	yaml := fmt.Sprintf("runtime_dir: %s\n%spartitions:\n  - name: %s\n    command: %s\n    processes: %d\n",
		strconv.Quote(filepath.Join(dir, "rt")), extra, partition, strconv.Quote(b.Worker), procs)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatalf("writing the agent config: %v", err)
	}
	return config
}

// Options are the ways a Proc may differ.
type Options struct {
	// Wrap prefixes the command line (e.g. `ip netns exec ns`) when not empty.
	Wrap []string
	// SampleMemory samples the process's resident memory while it runs (see Memory).
	SampleMemory bool
	// LogTail is how many of the last stderr lines a failed test logs; 0 logs them all.
	LogTail int
	// TailSkip, when not nil, leaves the lines it matches out of what a failed test logs (e.g. one
	// access-log line per call, which would crowd out the warnings and errors).
	TailSkip func(line string) bool
}

// Proc is a child process whose stderr is kept (and logged when the test fails).
type Proc struct {
	Name string
	Cmd  *exec.Cmd

	mu     sync.Mutex
	lines  []string
	notify chan struct{} // closed and replaced on each new line
	exited bool

	sampling chan struct{} // closed to stop the sampler; nil without one
	sampled  chan int64    // the sampler's largest VmRSS, in bytes
	done     chan error    // receives Wait's error once the process has exited
}

// Start runs bin with args; t.Cleanup stops it.
func Start(t *testing.T, name string, opt Options, bin string, args ...string) *Proc {
	t.Helper()
	p := &Proc{Name: name, notify: make(chan struct{}), done: make(chan error, 1)}
	argv := append(append(append([]string{}, opt.Wrap...), bin), args...)
	p.Cmd = exec.Command(argv[0], argv[1:]...)
	p.Cmd.Env = childEnv()
	pr, pw := io.Pipe()
	p.Cmd.Stderr = pw
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("starting %s (%s): %v", name, strings.Join(argv, " "), err)
	}
	go p.readLines(pr)
	go func() {
		err := p.Cmd.Wait() // returns once stderr is copied
		_ = pw.Close()
		p.done <- err
	}()
	if opt.SampleMemory {
		p.sampling, p.sampled = make(chan struct{}), make(chan int64, 1)
		go p.sample()
	}
	t.Cleanup(func() {
		p.stop(t)
		if !t.Failed() {
			return
		}
		lines := p.Output()
		if opt.TailSkip != nil {
			kept, skipped := lines[:0:0], 0
			for _, l := range lines {
				if opt.TailSkip(l) {
					skipped++
					continue
				}
				kept = append(kept, l)
			}
			if skipped > 0 {
				t.Logf("%s: %d stderr lines of routine output left out", name, skipped)
			}
			lines = kept
		}
		if opt.LogTail > 0 && len(lines) > opt.LogTail {
			t.Logf("%s stderr (last %d lines):\n%s", name, opt.LogTail, strings.Join(lines[len(lines)-opt.LogTail:], "\n"))
		} else {
			t.Logf("%s stderr:\n%s", name, strings.Join(lines, "\n"))
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

func (p *Proc) readLines(r io.Reader) {
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

// WaitFor waits until a stderr line matches re and returns the submatches; it fails the test when
// the process ends its output first.
func (p *Proc) WaitFor(ctx context.Context, t *testing.T, re *regexp.Regexp) []string {
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
			t.Fatalf("%s ended before printing a line matching %q; its stderr:\n%s", p.Name, re, strings.Join(lines, "\n"))
		}
		select {
		case <-notify:
		case <-ctx.Done():
			t.Fatalf("%s printed no line matching %q: %v; its stderr:\n%s", p.Name, re, ctx.Err(), strings.Join(lines, "\n"))
		}
	}
}

// Output returns the stderr lines so far.
func (p *Proc) Output() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// sample records the largest VmRSS seen until sampling is closed or the process is gone.
func (p *Proc) sample() {
	var peak int64
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	defer func() { p.sampled <- peak }()
	for {
		if rss, err := procStatus(p.Cmd.Process.Pid, "VmRSS"); err == nil {
			peak = max(peak, rss)
		}
		select {
		case <-p.sampling:
			return
		case <-tick.C:
		}
	}
}

// Memory is a process's resident memory, in bytes.
type Memory struct {
	HWM        int64 // VmHWM: the kernel's record of the peak
	SampledRSS int64 // the largest VmRSS sampled while it ran
}

// Memory stops the sampler and reads VmHWM; call it while the process still runs, on a Proc
// started with SampleMemory.
func (p *Proc) Memory(t *testing.T) Memory {
	t.Helper()
	if p.sampling == nil {
		t.Fatalf("%s: started without SampleMemory", p.Name)
	}
	hwm, err := procStatus(p.Cmd.Process.Pid, "VmHWM")
	if err != nil {
		t.Fatalf("%s: reading its peak memory: %v", p.Name, err)
	}
	close(p.sampling)
	return Memory{HWM: hwm, SampledRSS: <-p.sampled}
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

// stop sends SIGTERM and waits for the process to exit, killing it if it takes more than 40s.
func (p *Proc) stop(t *testing.T) {
	if p.sampling != nil {
		select {
		case <-p.sampling:
		default:
			close(p.sampling)
			<-p.sampled
		}
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	select {
	case err := <-p.done:
		if err != nil && !t.Failed() {
			t.Logf("%s exited: %v", p.Name, err)
		}
	case <-ctx.Done():
		_ = p.Cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop within 40s of SIGTERM; killed", p.Name)
	}
}
