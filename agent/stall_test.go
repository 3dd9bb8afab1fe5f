package agent_test

import (
	"syscall"
	"testing"
	"time"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// An agent frozen (SIGSTOP) for longer than its ping timeout blames none of its healthy workers
// when it resumes: the task it was running finishes in its first attempt, and the agent goes on
// taking work. The time from SIGCONT to the next task done is logged.
func TestFrozenAgentKeepsItsWorkers(t *testing.T) {
	t.Parallel()
	e, s, tasks, child := sleepOnChildAgent(t, "3000", "sleeper", "CHORUS_TEST_LEASE_TTL=20s", "CHORUS_TEST_PING_TIMEOUT=1s")
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	e.waitStatus(s, tasks[0].TaskID, chorusv1.TaskStatus_TASK_STATUS_RUNNING)
	if err := child.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("freeze the agent: %v", err)
	}
	time.Sleep(2500 * time.Millisecond) // frozen for 2.5 ping timeouts
	if err := child.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("resume the agent: %v", err)
	}
	resumed := time.Now()
	more := e.submit(s, "echo", nil, "after the freeze")
	e.waitDone(s, more)
	t.Logf("a new task was done %s after the agent resumed", time.Since(resumed).Round(time.Millisecond))
	tk := e.waitTaskCompleted(s, tasks[0])
	if at := tk.GetAttempts(); len(at) != 1 {
		t.Fatalf("attempts %v: want the one attempt that ran through the freeze (no worker blamed)", at)
	}
}
