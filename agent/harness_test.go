package agent_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/chorus-hpc/chorus/agent"
	"github.com/chorus-hpc/chorus/internal/objstore"
	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// workerBin is the Go example worker and stdioWorkerBin the stdio test worker, built once by TestMain.
var workerBin, stdioWorkerBin string

func TestMain(m *testing.M) {
	if os.Getenv(childAgentEnv) != "" {
		os.Exit(runChildAgent())
	}
	if os.Getenv(rawWorkerEnv) != "" {
		os.Exit(runRawWorker())
	}
	dir, err := os.MkdirTemp("", "chorus-agent-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "create a temp folder:", err)
		os.Exit(1)
	}
	workerBin = filepath.Join(dir, "go-worker")
	out, err := exec.Command("go", "build", "-o", workerBin, "github.com/chorus-hpc/chorus/workers/go").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build the Go example worker: %v\n%s", err, out)
		os.Exit(1)
	}
	stdioWorkerBin = filepath.Join(dir, "stdio-worker")
	out, err = exec.Command("go", "build", "-o", stdioWorkerBin, "github.com/chorus-hpc/chorus/agent/internal/stdioworker").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build the stdio test worker: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// env is one test's store, object store and helpers.
type env struct {
	t    testing.TB
	st   store.Store
	objs objstore.Store
	addr string // valkey address
	ctx  context.Context
}

// testConfig returns an agent config with short leases for tests.
func testConfig(processes, capacity int) agent.Config {
	return agent.Config{
		Partitions: []agent.PartitionConfig{{Name: "go", Command: workerBin, Processes: processes, Capacity: capacity}},
		LeaseTTL:   2 * time.Second, RenewInterval: 200 * time.Millisecond, RequeueInterval: 200 * time.Millisecond,
		WaitTimeout: time.Second, HeartbeatInterval: time.Second, PingInterval: time.Second, PingTimeout: 10 * time.Second,
		RestartBackoff: 50 * time.Millisecond,
		Logger:         slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
}

// stdioConfig makes cfg's partition run the stdio test worker with the environment env.
func stdioConfig(cfg *agent.Config, env map[string]string) {
	p := &cfg.Partitions[0]
	p.Command, p.Transport, p.Env = stdioWorkerBin, "stdio", env
}

// runningAgent is an agent running in this process.
type runningAgent struct {
	*agent.Agent
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned
	err    error         // what Run returned
}

// stop drains the agent and waits for Run to return.
func (ra *runningAgent) stop() error {
	ra.cancel()
	<-ra.done
	return ra.err
}

// setup returns a test's env with an agent running cfg (stopped at the end of the test) and a
// session with default options for partition "go".
func setup(t testing.TB, cfg agent.Config) (*env, *runningAgent, string) {
	t.Helper()
	e := newEnv(t)
	a := e.startAgent(cfg)
	return e, a, e.session(nil)
}

// startAgent starts an agent and stops it at the end of the test.
func (e *env) startAgent(cfg agent.Config) *runningAgent {
	e.t.Helper()
	a, err := agent.New(cfg, e.st, e.objs)
	if err != nil {
		e.t.Fatalf("agent.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ra := &runningAgent{Agent: a, cancel: cancel, done: make(chan struct{})}
	go func() {
		ra.err = a.Run(ctx)
		close(ra.done)
	}()
	e.t.Cleanup(func() {
		if err := ra.stop(); err != nil {
			e.t.Errorf("agent.Run: %v", err)
		}
	})
	return ra
}

// session creates a session with default options for partition "go".
func (e *env) session(opts *chorusv1.TaskOptions) string {
	e.t.Helper()
	if opts == nil {
		opts = &chorusv1.TaskOptions{}
	}
	if opts.Partition == "" {
		opts.Partition = "go"
	}
	s, err := e.st.CreateSession(e.ctx, store.SessionSpec{DefaultTaskOptions: opts})
	if err != nil {
		e.t.Fatalf("CreateSession: %v", err)
	}
	return s.GetSessionId()
}

// submitted is a task submitted by a test, with its one output.
type submitted struct {
	TaskID, Output string
}

// submit submits tasks of one method, one output each.
func (e *env) submit(session, method string, opts *chorusv1.TaskOptions, payloads ...string) []submitted {
	e.t.Helper()
	specs := make([]store.TaskSpec, len(payloads))
	for i, p := range payloads {
		specs[i] = store.TaskSpec{Method: method, Payload: []byte(p), ExpectedOutputIDs: []string{store.NewResultID()}, Options: opts}
	}
	res, err := e.st.SubmitTasks(e.ctx, session, store.SubmitBatch{Tasks: specs})
	if err != nil {
		e.t.Fatalf("SubmitTasks: %v", err)
	}
	out := make([]submitted, len(res))
	for i, r := range res {
		out[i] = submitted{TaskID: r.GetTaskId(), Output: specs[i].ExpectedOutputIDs[0]}
	}
	return out
}

// waitUntil blocks until cond holds, re-checking whenever the session has new events (and at least
// every 50ms for conditions outside the store). The test's deadline bounds it.
func (e *env) waitUntil(session string, what string, cond func() bool) {
	e.t.Helper()
	cursor := ""
	for !cond() {
		if e.ctx.Err() != nil {
			e.t.Fatalf("gave up waiting until %s: %v", what, e.ctx.Err())
		}
		evs, _, err := e.st.ReadEvents(e.ctx, store.EventQuery{SessionID: session, Cursor: cursor, Max: 1000, Block: 50 * time.Millisecond})
		if err != nil && e.ctx.Err() == nil {
			e.t.Fatalf("ReadEvents: %v", err)
		}
		if len(evs) > 0 {
			cursor = evs[len(evs)-1].GetCursor()
		}
	}
}

func (e *env) task(session, taskID string) *chorusv1.Task {
	e.t.Helper()
	tk, err := e.st.GetTask(e.ctx, session, taskID)
	if err != nil {
		e.t.Fatalf("GetTask %s: %v", taskID, err)
	}
	return tk
}

func finished(s chorusv1.TaskStatus) bool {
	return s == chorusv1.TaskStatus_TASK_STATUS_COMPLETED || s == chorusv1.TaskStatus_TASK_STATUS_FAILED ||
		s == chorusv1.TaskStatus_TASK_STATUS_CANCELLED
}

// waitStatus waits until a task reaches status (or any final status) and returns it.
func (e *env) waitStatus(session, taskID string, status chorusv1.TaskStatus) *chorusv1.Task {
	e.t.Helper()
	var tk *chorusv1.Task
	e.waitUntil(session, "task "+taskID+" is "+status.String(), func() bool {
		tk = e.task(session, taskID)
		return tk.GetStatus() == status || finished(tk.GetStatus())
	})
	return tk
}

// waitDone waits until every task is finished.
func (e *env) waitDone(session string, tasks []submitted) []*chorusv1.Task {
	e.t.Helper()
	out := make([]*chorusv1.Task, len(tasks))
	for i, s := range tasks {
		e.waitUntil(session, "task "+s.TaskID+" finished", func() bool {
			out[i] = e.task(session, s.TaskID)
			return finished(out[i].GetStatus())
		})
	}
	return out
}

// waitTaskCompleted waits until the task is finished and fails the test unless it completed.
func (e *env) waitTaskCompleted(session string, task submitted) *chorusv1.Task {
	e.t.Helper()
	tk := e.waitDone(session, []submitted{task})[0]
	if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
		e.t.Fatalf("status %s (error %v), want COMPLETED", tk.GetStatus(), tk.GetError())
	}
	return tk
}

// startChildAgent runs an agent with id in a child process of the test binary (see runChildAgent),
// with the CHORUS_TEST_* settings in extraEnv; the test kills it.
func (e *env) startChildAgent(id string, extraEnv ...string) *exec.Cmd {
	e.t.Helper()
	child := exec.CommandContext(e.ctx, os.Args[0], "-test.run=^$")
	child.Env = append(append(os.Environ(), childAgentEnv+"=1", "CHORUS_TEST_VALKEY="+e.addr,
		"CHORUS_TEST_WORKER="+workerBin, "CHORUS_TEST_AGENT_ID="+id), extraEnv...)
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		e.t.Fatalf("start the child agent: %v", err)
	}
	return child
}

// sleepOnChildAgent returns a test's env and session with one sleep task of ms milliseconds (3
// retries) and the child agent with id (see startChildAgent) that is to run it.
func sleepOnChildAgent(t testing.TB, ms, id string, extraEnv ...string) (*env, string, []submitted, *exec.Cmd) {
	t.Helper()
	e := newEnv(t)
	s := e.session(nil)
	tasks := e.submit(s, "sleep", durationOpts(3, 0), ms)
	return e, s, tasks, e.startChildAgent(id, extraEnv...)
}

// data returns a completed result's bytes.
func (e *env) data(session, resultID string) string {
	e.t.Helper()
	ds, err := e.st.GetResultData(e.ctx, session, []string{resultID})
	if err != nil {
		e.t.Fatalf("GetResultData %s: %v", resultID, err)
	}
	d := ds[0]
	if d.ObjectKey == "" {
		return string(d.Inline)
	}
	rc, err := e.objs.Get(e.ctx, d.ObjectKey)
	if err != nil {
		e.t.Fatalf("objstore Get %s: %v", d.ObjectKey, err)
	}
	defer rc.Close()
	b := make([]byte, d.Size)
	if _, err := io.ReadFull(rc, b); err != nil {
		e.t.Fatalf("read object %s: %v", d.ObjectKey, err)
	}
	return string(b)
}

// waitFor polls a condition outside the store (agent stats) until it holds.
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	for !cond() {
		if e.ctx.Err() != nil {
			e.t.Fatalf("gave up waiting until %s: %v", what, e.ctx.Err())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func durationOpts(maxRetries int32, maxDuration time.Duration) *chorusv1.TaskOptions {
	o := &chorusv1.TaskOptions{MaxRetries: &maxRetries}
	if maxDuration > 0 {
		o.MaxDuration = durationpb.New(maxDuration)
	}
	return o
}
