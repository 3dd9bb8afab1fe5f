package agent_test

import (
	"strings"
	"syscall"
	"testing"
	"time"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// A worker that stops answering (here: frozen with SIGSTOP) is killed and restarted, and its task
// runs again.
func TestFrozenWorkerIsReplaced(t *testing.T) {
	t.Parallel()
	cfg := testConfig(1, 1)
	cfg.PingInterval, cfg.PingTimeout = 50*time.Millisecond, 300*time.Millisecond
	e, a, s := setup(t, cfg)
	tasks := e.submit(s, "sleep", durationOpts(3, 0), "1000")
	e.waitStatus(s, tasks[0].TaskID, chorusv1.TaskStatus_TASK_STATUS_RUNNING)
	pid := a.Stats().Workers[0].PID
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatalf("freeze the worker: %v", err)
	}
	at := e.waitTaskCompleted(s, tasks[0]).GetAttempts()
	if len(at) != 2 {
		t.Fatalf("%d attempts, want 2", len(at))
	}
	if e0 := at[0].GetError(); e0.GetKind() != chorusv1.ErrorKind_ERROR_KIND_WORKER_CRASHED || !strings.Contains(e0.GetMessage(), "did not answer") {
		t.Errorf("attempt 1 error %v: want WORKER_CRASHED saying the worker did not answer", e0)
	}
}

// A task still running when the drain deadline passes goes back to the queue at once with its
// attempt counted (retryable), and the worker is stopped; once its retries are spent it fails, so a
// task longer than the drain deadline cannot run forever across restarts.
func TestDrainDeadlineHandsBackRunningTasks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(1, 1)
	cfg.DrainDeadline = 200 * time.Millisecond
	s := e.session(nil)
	tasks := e.submit(s, "sleep", durationOpts(1, 0), "600000")
	for round := 1; round <= 2; round++ {
		a := e.startAgent(cfg)
		e.waitStatus(s, tasks[0].TaskID, chorusv1.TaskStatus_TASK_STATUS_RUNNING)
		if err := a.stop(); err != nil {
			t.Fatalf("drain: %v", err)
		}
		if w := a.Stats().Workers[0]; w.PID != 0 {
			t.Errorf("worker process %d still runs after the agent stopped", w.PID)
		}
		tk := e.task(s, tasks[0].TaskID)
		want := chorusv1.TaskStatus_TASK_STATUS_QUEUED
		if round == 2 {
			want = chorusv1.TaskStatus_TASK_STATUS_FAILED
		}
		if tk.GetStatus() != want {
			t.Fatalf("after drain deadline %d the task is %s, want %s", round, tk.GetStatus(), want)
		}
		at := tk.GetAttempts()
		if len(at) != round {
			t.Fatalf("after drain deadline %d the task shows %d attempts, want %d (a running task handed back counts one)", round, len(at), round)
		}
		if e0 := at[round-1].GetError(); e0.GetKind() != chorusv1.ErrorKind_ERROR_KIND_LEASE_EXPIRED || e0.GetRetryable() != (round == 1) || !strings.Contains(e0.GetMessage(), "drain deadline") {
			t.Errorf("attempt %d error %v: want a LEASE_EXPIRED naming the drain deadline, retryable while retries remain", round, e0)
		}
	}
}
