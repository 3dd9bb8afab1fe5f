package agent_test

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/agent"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

func TestCancelledSessionStopsRunningTasks(t *testing.T) {
	t.Parallel()
	e, a, s := setup(t, testConfig(1, 2))
	tasks := e.submit(s, "sleep", nil, "600000", "600000")
	for _, tk := range tasks {
		e.waitStatus(s, tk.TaskID, chorusv1.TaskStatus_TASK_STATUS_RUNNING)
	}
	if _, err := e.st.SetSessionStatus(e.ctx, s, chorusv1.SessionStatus_SESSION_STATUS_CANCELLED); err != nil {
		t.Fatalf("cancel the session: %v", err)
	}
	// The worker answers the CancelTask of both tasks, which frees its slots (the sleeps would
	// otherwise last ten minutes).
	e.waitFor("the worker stopped both cancelled tasks", func() bool {
		st := a.Stats()
		return st.Workers[0].InFlight == 0 && st.Leases == 0
	})
	for _, tk := range e.waitDone(s, tasks) {
		if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_CANCELLED {
			t.Errorf("task %s: status %s, want CANCELLED", tk.GetTaskId(), tk.GetStatus())
		}
	}
	if st := a.Stats(); st.Workers[0].Restarts != 0 {
		t.Errorf("the worker was restarted %d times; cancelling must not need a restart", st.Workers[0].Restarts)
	}
}

func TestWorkerKilledMidTaskIsRetried(t *testing.T) {
	t.Parallel()
	e, a, s := setup(t, testConfig(1, 1))
	tasks := e.submit(s, "sleep", durationOpts(3, 0), "1500")
	e.waitStatus(s, tasks[0].TaskID, chorusv1.TaskStatus_TASK_STATUS_RUNNING)
	pid := a.Stats().Workers[0].PID
	if pid == 0 {
		t.Fatal("no worker process")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the worker: %v", err)
	}
	at := e.waitTaskCompleted(s, tasks[0]).GetAttempts()
	if len(at) != 2 {
		t.Fatalf("%d attempts, want 2 (one crashed, one completed)", len(at))
	}
	err0 := at[0].GetError()
	if err0.GetKind() != chorusv1.ErrorKind_ERROR_KIND_WORKER_CRASHED || !err0.GetRetryable() || !strings.Contains(err0.GetMessage(), "killed by signal killed") {
		t.Errorf("attempt 1 error %v: want a retryable WORKER_CRASHED naming the signal", err0)
	}
	if got := e.data(s, tasks[0].Output); got != "1500" {
		t.Errorf("output %q", got)
	}
	if r := a.Stats().Workers[0].Restarts; r < 1 {
		t.Errorf("the worker was not restarted (restarts %d)", r)
	}
}

func TestCapacityNeverExceeded(t *testing.T) {
	t.Parallel()
	e, a, s := setup(t, testConfig(2, 2))
	payloads := make([]string, 24)
	for i := range payloads {
		payloads[i] = "30"
	}
	for _, tk := range e.waitDone(s, e.submit(s, "sleep", nil, payloads...)) {
		if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
			t.Fatalf("task %s: status %s", tk.GetTaskId(), tk.GetStatus())
		}
	}
	for _, w := range a.Stats().Workers {
		if w.MaxInFlight > w.Capacity {
			t.Errorf("worker %s had %d tasks in flight, capacity %d", w.ID, w.MaxInFlight, w.Capacity)
		}
		if w.MaxInFlight < 1 {
			t.Errorf("worker %s ran no task", w.ID)
		}
	}
}

func TestDrainFinishesRunningAndHandsBackPrefetched(t *testing.T) {
	t.Parallel()
	e, a, s := setup(t, testConfig(1, 1))
	tasks := e.submit(s, "sleep", durationOpts(0, 0), "800", "800", "800")
	e.waitFor("one task runs and one is prefetched", func() bool {
		w := a.Stats().Workers[0]
		return w.InFlight == 1 && w.Prefetched == 1
	})
	if err := a.stop(); err != nil {
		t.Fatalf("drain: %v", err)
	}
	var done, queued int
	for _, tk := range tasks {
		tk := e.task(s, tk.TaskID)
		switch tk.GetStatus() {
		case chorusv1.TaskStatus_TASK_STATUS_COMPLETED:
			done++
		case chorusv1.TaskStatus_TASK_STATUS_QUEUED:
			queued++
		default:
			t.Errorf("after the drain task %s is %s; want COMPLETED (was running) or QUEUED (handed back)", tk.GetTaskId(), tk.GetStatus())
		}
	}
	if done != 1 || queued != 2 {
		t.Errorf("after the drain %d completed and %d queued, want 1 and 2", done, queued)
	}
	// A second agent finishes the rest; nothing runs twice (max_retries 0 and one attempt each).
	e.startAgent(testConfig(1, 2))
	for _, tk := range e.waitDone(s, tasks) {
		if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
			t.Errorf("task %s: status %s (error %v)", tk.GetTaskId(), tk.GetStatus(), tk.GetError())
		}
		if n := len(tk.GetAttempts()); n != 1 {
			t.Errorf("task %s ran %d times, want once", tk.GetTaskId(), n)
		}
	}
}

func TestKilledAgentsTaskFinishesElsewhere(t *testing.T) {
	t.Parallel()
	e, s, tasks, child := sleepOnChildAgent(t, "1000", "doomed")
	tk := e.waitStatus(s, tasks[0].TaskID, chorusv1.TaskStatus_TASK_STATUS_RUNNING)
	if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_RUNNING {
		t.Fatalf("status %s, want RUNNING on the child agent", tk.GetStatus())
	}
	_ = child.Process.Kill()
	_ = child.Wait()
	cfg := testConfig(1, 1)
	cfg.AgentID = "survivor"
	e.startAgent(cfg)
	tk = e.waitTaskCompleted(s, tasks[0])
	at := tk.GetAttempts()
	if len(at) != 2 || at[0].GetAgentId() != "doomed" || at[1].GetAgentId() != "survivor" {
		t.Fatalf("attempts %v: want one on the killed agent, then one on the survivor", at)
	}
	if k := at[0].GetError().GetKind(); k != chorusv1.ErrorKind_ERROR_KIND_LEASE_EXPIRED {
		t.Errorf("attempt 1 error kind %s, want LEASE_EXPIRED", k)
	}
}

// childAgentEnv makes the test binary run an agent (TestKilledAgentsTaskFinishesElsewhere kills it).
const childAgentEnv = "CHORUS_TEST_CHILD_AGENT"

func runChildAgent() int {
	st, closeStore, err := openStore(os.Getenv("CHORUS_TEST_VALKEY"))
	if err != nil {
		os.Stderr.WriteString("child agent: " + err.Error() + "\n")
		return 1
	}
	defer closeStore()
	workerBin = os.Getenv("CHORUS_TEST_WORKER")
	cfg := testConfig(1, 1)
	if os.Getenv(agentDefaultsEnv) != "" {
		cfg = defaultTimings(cfg)
	}
	cfg.AgentID = os.Getenv("CHORUS_TEST_AGENT_ID")
	if d, err := time.ParseDuration(os.Getenv("CHORUS_TEST_LEASE_TTL")); err == nil {
		cfg.LeaseTTL, cfg.RequeueInterval = d, d/2
	}
	if d, err := time.ParseDuration(os.Getenv("CHORUS_TEST_PING_TIMEOUT")); err == nil {
		cfg.PingInterval, cfg.PingTimeout = d/10, d
	}
	dir, _ := os.MkdirTemp("", "chorus-child-objs-")
	objs, err := openObjstore(dir)
	if err != nil {
		os.Stderr.WriteString("child agent: " + err.Error() + "\n")
		return 1
	}
	a, err := agent.New(cfg, st, objs)
	if err != nil {
		os.Stderr.WriteString("child agent: " + err.Error() + "\n")
		return 1
	}
	_ = a.Run(context.Background()) // until killed
	return 0
}

// A task prefetched for a worker busy with a long task moves to a worker whose slot would idle: no
// short task waits behind the long one while a slot is free.
func TestIdleWorkerTakesTaskWaitingBehindLongOne(t *testing.T) {
	t.Parallel()
	e, _, s := setup(t, testConfig(2, 1))
	long := e.submit(s, "sleep", durationOpts(0, 0), "4000")
	short := e.submit(s, "sleep", durationOpts(0, 0), "100", "100", "100", "100", "100")
	done := e.waitDone(s, append(long, short...))
	longEnd := done[0].GetAttempts()[0].GetEndTime().AsTime()
	for _, tk := range done[1:] {
		if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
			t.Fatalf("task %s: %s (%v)", tk.GetTaskId(), tk.GetStatus(), tk.GetError())
		}
		if end := tk.GetAttempts()[0].GetEndTime().AsTime(); !end.Before(longEnd) {
			t.Errorf("short task %s ended at %v, after the long task (%v): it waited behind it while the other worker idled",
				tk.GetTaskId(), end, longEnd)
		}
	}
}
