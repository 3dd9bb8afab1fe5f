package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
	"github.com/chorus-hpc/chorus/stack/stacktest"
)

// The CLI tests run the real binary: `chorus dev` in a temporary folder, and each client command as
// its own process against it.

var chorusBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "chorus-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// dev finds the Go example worker next to the binary, in <root>/bin, with <root>/go.mod.
	root := filepath.Join(dir, "root")
	os.MkdirAll(filepath.Join(root, "bin"), 0o755)
	os.WriteFile(filepath.Join(root, "go.mod"), []byte("module test\n"), 0o644)
	chorusBin = filepath.Join(root, "bin", "chorus")
	for pkg, out := range map[string]string{".": chorusBin, "../../workers/go": filepath.Join(root, "bin", "chorus-worker-go")} {
		if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, b)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// devProc is a running `chorus dev`.
type devProc struct {
	cmd   *exec.Cmd
	addr  string // gRPC
	http  string
	token string // with --auth: the token it prints
	log   *bytes.Buffer
	done  chan struct{}
}

var (
	addrLine  = regexp.MustCompile(`^\s+gRPC\s+(\S+)`)
	httpLine  = regexp.MustCompile(`^\s+REST/JSON\s+http://([^/]+)/`)
	tokenLine = regexp.MustCompile(`^\s+export CHORUS_TOKEN=(\S+)`)
)

// startDev runs `chorus dev` on free ports with its data in dataDir.
func startDev(t *testing.T, dataDir string) *devProc {
	t.Helper()
	return startDevUntil(t, "Press Ctrl-C", "chorus dev", dataDir)
}

// startDevUntil runs `chorus dev` (named what in failures) on free ports with its data in dataDir
// and the extra flags, and waits for a stderr line starting with ready.
func startDevUntil(t *testing.T, ready, what, dataDir string, extra ...string) *devProc {
	t.Helper()
	args := append([]string{"dev"}, extra...)
	cmd := exec.Command(chorusBin, append(args, "--data-dir", dataDir, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-level", "warn")...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &devProc{cmd: cmd, log: &bytes.Buffer{}, done: make(chan struct{})}
	readyc := make(chan struct{})
	var mu sync.Mutex
	go func() {
		defer close(d.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			d.log.WriteString(line + "\n")
			for re, field := range map[*regexp.Regexp]*string{addrLine: &d.addr, httpLine: &d.http, tokenLine: &d.token} {
				if m := re.FindStringSubmatch(line); m != nil {
					*field = m[1]
				}
			}
			if strings.HasPrefix(line, ready) {
				close(readyc)
			}
			mu.Unlock()
		}
		cmd.Wait()
	}()
	t.Cleanup(func() { d.stop(t) })
	select {
	case <-readyc:
	case <-d.done:
		t.Fatalf("%s exited at start:\n%s", what, d.log)
	case <-time.After(60 * time.Second):
		t.Fatalf("%s printed no line starting with %q in 60s:\n%s", what, ready, d.log)
	}
	return d
}

// stop sends SIGTERM and waits for a clean exit.
func (d *devProc) stop(t *testing.T) {
	if d.cmd.ProcessState != nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(60 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
		t.Errorf("chorus dev did not stop within 60s of SIGTERM:\n%s", d.log)
	}
}

// chorus runs one CLI command and returns stdout, stderr and the exit code.
func chorus(t *testing.T, d *devProc, args ...string) (string, string, int) {
	t.Helper()
	if d != nil {
		args = append(args, "--addr", d.addr)
	}
	cmd := exec.Command(chorusBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func mustChorus(t *testing.T, d *devProc, args ...string) string {
	t.Helper()
	out, errs, code := chorus(t, d, args...)
	if code != 0 {
		t.Fatalf("chorus %v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errs)
	}
	return out
}

func wantFail(t *testing.T, d *devProc, code int, msg string, args ...string) {
	t.Helper()
	out, errs, got := chorus(t, d, args...)
	if got != code || !strings.Contains(errs, msg) {
		t.Fatalf("chorus %v: exit %d (want %d), stderr %q (want it to contain %q), stdout %q", args, got, code, errs, msg, out)
	}
}

func jsonField(t *testing.T, s, field string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	v, _ := m[field].(string)
	return v
}

func TestCLICommands(t *testing.T) {
	d := startDev(t, t.TempDir())

	sid := jsonField(t, mustChorus(t, d, "session", "create", "--partition", "go", "--label", "team=risk", "--output", "json"), "sessionId")
	if sid == "" {
		t.Fatal("session create printed no session id")
	}
	if out := mustChorus(t, d, "session", "get", sid); !strings.Contains(out, sid) || !strings.Contains(out, "running") {
		t.Fatalf("session get: %s", out)
	}
	if out := mustChorus(t, d, "session", "list", "--status", "running"); !strings.Contains(out, sid) {
		t.Fatalf("session list: %s", out)
	}

	// submit --wait prints the output itself for one task.
	if out := mustChorus(t, d, "submit", "--session", sid, "--method", "sha256", "--payload", "hello", "--wait"); out != "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" {
		t.Fatalf("sha256 of hello = %q", out)
	}
	payload := filepath.Join(t.TempDir(), "payload")
	os.WriteFile(payload, []byte("from a file"), 0o644)
	if out := mustChorus(t, d, "submit", "--session", sid, "--method", "echo", "--payload", "@"+payload, "--count", "5", "--wait", "--output", "json"); strings.Count(out, `"output":"from a file"`) != 5 {
		t.Fatalf("echo ×5: %s", out)
	}
	// A failing task: non-zero exit, and the worker's message.
	wantFail(t, d, 1, "disk on fire", "submit", "--session", sid, "--method", "fail", "--payload", "disk on fire", "--max-retries", "0", "--wait")

	// Results: put a file, use it as a dependency, get the output.
	in := mustChorus(t, d, "result", "put", "--session", sid, "--id", "greeting", "hi there")
	if strings.TrimSpace(in) != "greeting" {
		t.Fatalf("result put printed %q", in)
	}
	if out := mustChorus(t, d, "submit", "--session", sid, "--method", "concat", "--depends", "greeting", "--wait"); out != "hi there" {
		t.Fatalf("concat of greeting = %q", out)
	}
	got := filepath.Join(t.TempDir(), "got")
	mustChorus(t, d, "result", "get", "--session", sid, "greeting", "--out", got)
	if b, _ := os.ReadFile(got); string(b) != "hi there" {
		t.Fatalf("result get wrote %q", b)
	}
	if out := mustChorus(t, d, "result", "list", "--session", sid, "--status", "completed"); !strings.Contains(out, "greeting") {
		t.Fatalf("result list: %s", out)
	}

	// Tasks: list, get one, cancel one that sleeps.
	tasks := mustChorus(t, d, "task", "list", "--session", sid, "--status", "completed", "--output", "json")
	var list struct {
		Tasks []struct {
			TaskID string `json:"taskId"`
		} `json:"tasks"`
	}
	if err := json.Unmarshal([]byte(tasks), &list); err != nil || len(list.Tasks) < 7 {
		t.Fatalf("task list: %v %s", err, tasks)
	}
	if out := mustChorus(t, d, "task", "get", list.Tasks[0].TaskID, "--session", sid); !strings.Contains(out, "attempt 1") {
		t.Fatalf("task get: %s", out)
	}
	sub := mustChorus(t, d, "submit", "--session", sid, "--method", "sleep", "--payload", "60000", "--output", "json")
	sleepID := ""
	var sr struct {
		Tasks []struct {
			TaskID string `json:"taskId"`
		} `json:"tasks"`
	}
	if json.Unmarshal([]byte(sub), &sr); len(sr.Tasks) == 1 {
		sleepID = sr.Tasks[0].TaskID
	}
	if out := mustChorus(t, d, "task", "cancel", "--session", sid, sleepID); !strings.Contains(out, "1 task(s) cancelled") {
		t.Fatalf("task cancel: %s", out)
	}

	// watch --cursor "" replays the session's events; a timeout ends it cleanly.
	if out := mustChorus(t, d, "watch", "--session", sid, "--timeout", "2s"); !strings.Contains(out, "completed") || !strings.Contains(out, "cancelled") {
		t.Fatalf("watch: %s", out)
	}

	// Session life: pause, resume, close (no more tasks), purge.
	mustChorus(t, d, "session", "pause", sid)
	if out := mustChorus(t, d, "session", "resume", sid); !strings.Contains(out, "running") {
		t.Fatalf("resume: %s", out)
	}
	mustChorus(t, d, "session", "close", sid)
	wantFail(t, d, 1, "closed", "submit", "--session", sid, "--method", "echo")
	if out := mustChorus(t, d, "session", "purge", sid); !strings.Contains(out, "purged") {
		t.Fatalf("purge: %s", out)
	}

	// Bad input: clear message, non-zero exit.
	wantFail(t, d, 1, "does not exist", "session", "get", "nosuchsession")
	wantFail(t, d, 2, "unknown flag --bogus", "session", "create", "--bogus")
	wantFail(t, d, 2, "--session is required", "submit", "--method", "echo")
	wantFail(t, d, 2, "unknown value", "session", "list", "--status", "sleepy")
	wantFail(t, nil, 2, "unknown command", "frobnicate")
	wantFail(t, nil, 1, "cannot reach the gateway at 127.0.0.1:1", "session", "list", "--addr", "127.0.0.1:1")
	// Several gateways: a dead one is passed over.
	if out, errOut, code := chorus(t, nil, "session", "list", "--addr", "127.0.0.1:1,"+d.addr); code != 0 || !strings.Contains(out, "SESSION") {
		t.Fatalf("session list with a dead gateway listed first: exit %d, %s %s", code, out, errOut)
	}
	if out, _, code := chorus(t, nil, "--help"); code != 0 || !strings.Contains(out, "submit") {
		t.Fatalf("--help: exit %d, %s", code, out)
	}
	// Environment variables set flags.
	cmd := exec.Command(chorusBin, "session", "list")
	cmd.Env = append(os.Environ(), "CHORUS_ADDR="+d.addr)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "SESSION") {
		t.Fatalf("CHORUS_ADDR: %v %s", err, out)
	}
}

// TestDevResumesAfterSIGTERM stops `chorus dev` with SIGTERM in the middle of a 10,000-task session,
// starts it again on the same data folder, and checks that every task completes exactly once.
func TestDevResumesAfterSIGTERM(t *testing.T) {
	data := t.TempDir()
	d := startDev(t, data)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cl, err := client.Dial(ctx, d.addr)
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000
	sess, outs := stacktest.SubmitN(ctx, t, cl, n, "sleep", []byte("1"))
	// Let part of the session run, then stop everything.
	w, err := sess.Watch(ctx, "", chorusv1.EventKind_EVENT_KIND_TASK_STATUS)
	if err != nil {
		t.Fatal(err)
	}
	for done := 0; done < 500; {
		ev, err := w.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetTaskStatus().GetStatus() == chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
			done++
		}
	}
	w.Close()
	mid, err := sess.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cl.Close()
	d.stop(t)
	if d.cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("chorus dev exited %d after SIGTERM:\n%s", d.cmd.ProcessState.ExitCode(), d.log)
	}

	d2 := startDev(t, data)
	cl2, err := client.Dial(ctx, d2.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer cl2.Close()
	s2 := cl2.Session(sess.ID)
	outcomes, err := s2.Wait(ctx, outs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outcomes {
		if o.Status != chorusv1.ResultStatus_RESULT_STATUS_COMPLETED {
			t.Fatalf("result %s ended %s: %s", o.ResultID, o.Status, o.Reason)
		}
	}
	// Every task completed exactly once: one COMPLETED event per task, counts add up.
	w2, err := s2.Watch(ctx, "", chorusv1.EventKind_EVENT_KIND_TASK_STATUS)
	if err != nil {
		t.Fatal(err)
	}
	completions := map[string]int{}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	for len(completions) < n {
		ev, err := w2.Next(wctx)
		if err != nil {
			t.Fatalf("reading events: %v after %d completions", err, len(completions))
		}
		if e := ev.GetTaskStatus(); e.GetStatus() == chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
			completions[e.GetTaskId()]++
			if completions[e.GetTaskId()] > 1 {
				t.Fatalf("task %s completed twice", e.GetTaskId())
			}
		}
	}
	info, err := s2.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c := info.GetTaskCounts(); c.GetCompleted() != n || c.GetFailed()+c.GetCancelled()+c.GetQueued()+c.GetRunning()+c.GetDispatched()+c.GetPending() != 0 {
		t.Fatalf("counts after restart = %v, want %d completed", c, n)
	}
	t.Logf("%d of %d tasks were done just before SIGTERM; the rest finished after the restart", mid.GetTaskCounts().GetCompleted(), n)
}
