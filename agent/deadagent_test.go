package agent_test

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/agent"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
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
// (the goal: under 5s at the defaults). That the task then runs elsewhere is
// TestKilledAgentsTaskFinishesElsewhere's business.
func TestSIGKILLedAgentsTasksQueuedBeforeLeaseTTL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A live agent of the partition, with the default timings, is there first (it notices the death);
	// two long sleeps fill its one slot and its prefetch, so the killed agent gets the task under test
	// (both sessions are cancelled at the end).
	cfg := defaultTimings(testConfig(1, 1))
	cfg.AgentID = "survivor"
	e.startAgent(cfg)
	busy := e.session(nil)
	fill := e.submit(busy, "sleep", nil, "600000", "600000")
	e.waitUntil(busy, "the survivor holds both sleeps", func() bool {
		for _, f := range fill {
			if st := e.task(busy, f.TaskID).GetStatus(); st != chorusv1.TaskStatus_TASK_STATUS_DISPATCHED && st != chorusv1.TaskStatus_TASK_STATUS_RUNNING {
				return false
			}
		}
		return true
	})
	s := e.session(nil)
	tasks := e.submit(s, "sleep", durationOpts(3, 0), "3000")
	child := e.startChildAgent("killed", agentDefaultsEnv+"=1")
	tk := e.waitStatus(s, tasks[0].TaskID, chorusv1.TaskStatus_TASK_STATUS_RUNNING)
	if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_RUNNING {
		t.Fatalf("status %s, want RUNNING on the child agent", tk.GetStatus())
	}
	if at := tk.GetAttempts(); len(at) != 1 || at[0].GetAgentId() != "killed" {
		t.Fatalf("attempts %v: want the task running on the child agent", at)
	}
	if p, err := e.st.GetPartition(e.ctx, "go"); err == nil {
		for _, ag := range p.GetAgents() {
			if ag.GetAgentId() == "killed" {
				t.Logf("the killed agent's last heartbeat: %v before the kill", time.Since(ag.GetLastSeenTime().AsTime()).Round(time.Millisecond))
			}
		}
	}
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
	if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_QUEUED {
		t.Fatalf("status %s after the take-back; want QUEUED (the survivor has no room)", tk.GetStatus())
	}
	for _, sid := range []string{s, busy} {
		if _, err := e.st.SetSessionStatus(e.ctx, sid, chorusv1.SessionStatus_SESSION_STATUS_CANCELLED); err != nil {
			t.Fatalf("cancel session %s: %v", sid, err)
		}
	}
	e.waitDone(busy, fill)
}
