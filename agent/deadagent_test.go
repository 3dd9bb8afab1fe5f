package agent_test

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/agent"
	chorusv1 "github.com/chorus-hpc/chorus/gen/chorus/v1"
)

// agentDefaultsEnv makes a child agent (runChildAgent) keep the default lease and heartbeat timings.
const agentDefaultsEnv = "CHORUS_TEST_AGENT_DEFAULTS"

// defaultTimings clears the test config's short timings so the agent runs with its defaults
// (lease TTL 30s, heartbeat 1s, requeue every 15s).
func defaultTimings(cfg agent.Config) agent.Config {
	cfg.LeaseTTL, cfg.RenewInterval, cfg.RequeueInterval, cfg.HeartbeatInterval = 0, 0, 0, 0
	return cfg
}

// TestSIGKILLedAgentsTasksQueuedBeforeLeaseTTL kills an agent process running a task, with the
// default 30s lease, and checks its task is taken back by dead-agent detection (its heartbeat
// lapsed), not by the lease expiry. It logs the time from the kill to the task being QUEUED again
// (the goal: under 5s at the defaults).
func TestSIGKILLedAgentsTasksQueuedBeforeLeaseTTL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.session(nil)
	tasks := e.submit(s, "sleep", durationOpts(3, 0), "3000")
	child := exec.CommandContext(e.ctx, os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childAgentEnv+"=1", agentDefaultsEnv+"=1", "CHORUS_TEST_VALKEY="+e.addr,
		"CHORUS_TEST_WORKER="+workerBin, "CHORUS_TEST_AGENT_ID=killed")
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatalf("start the child agent: %v", err)
	}
	tk := e.waitStatus(s, tasks[0].TaskID, chorusv1.TaskStatus_TASK_STATUS_RUNNING)
	if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_RUNNING {
		t.Fatalf("status %s, want RUNNING on the child agent", tk.GetStatus())
	}
	// a live agent of the partition, with the default timings, notices the death
	cfg := defaultTimings(testConfig(1, 1))
	cfg.AgentID = "survivor"
	e.startAgent(cfg)
	killed := time.Now()
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL the child agent: %v", err)
	}
	_ = child.Wait()
	var requeued time.Time
	e.waitUntil(s, "the killed agent's task is taken back", func() bool {
		tk = e.task(s, tasks[0].TaskID)
		if at := tk.GetAttempts(); len(at) > 0 && at[0].GetEndTime() != nil {
			requeued = at[0].GetEndTime().AsTime()
			return true
		}
		return finished(tk.GetStatus())
	})
	at := tk.GetAttempts()
	if len(at) == 0 || at[0].GetAgentId() != "killed" || at[0].GetError().GetKind() != chorusv1.ErrorKind_ERROR_KIND_LEASE_EXPIRED ||
		!strings.Contains(at[0].GetError().GetMessage(), "heartbeat") {
		t.Fatalf("first attempt %v: want the killed agent's, ended as LEASE_EXPIRED because its heartbeat lapsed", at)
	}
	t.Logf("SIGKILL to task QUEUED again: %v (lease TTL 30s, heartbeat every 1s)", requeued.Sub(killed).Round(10*time.Millisecond))
	tk = e.waitDone(s, tasks)[0]
	if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_COMPLETED || tk.GetAttempts()[len(tk.GetAttempts())-1].GetAgentId() != "survivor" {
		t.Fatalf("status %s, attempts %v: want COMPLETED on the survivor", tk.GetStatus(), tk.GetAttempts())
	}
}
