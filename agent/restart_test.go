package agent_test

import (
	"strings"
	"testing"
	"time"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// An agent killed with its machine and started again under the same id hands back its previous
// run's leases at once: its task runs again without waiting for the (here one-minute) lease TTL.
func TestRestartedAgentHandsBackItsLeasesAtOnce(t *testing.T) {
	t.Parallel()
	e, s, tasks, child := sleepOnChildAgent(t, "500", "phoenix", "CHORUS_TEST_LEASE_TTL=1m")
	e.waitStatus(s, tasks[0].TaskID, chorusv1.TaskStatus_TASK_STATUS_RUNNING)
	_ = child.Process.Kill()
	_ = child.Wait()
	cfg := testConfig(1, 1)
	cfg.AgentID = "phoenix"
	cfg.LeaseTTL, cfg.RequeueInterval = time.Minute, 30*time.Second
	start := time.Now()
	e.startAgent(cfg)
	tk := e.waitDone(s, tasks)[0]
	t.Logf("the task finished %s after the agent restarted", time.Since(start).Round(time.Millisecond))
	if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
		t.Fatalf("status %s (error %v), want COMPLETED", tk.GetStatus(), tk.GetError())
	}
	at := tk.GetAttempts()
	if len(at) != 2 {
		t.Fatalf("attempts %v: want one on the killed agent, then one after its restart", at)
	}
	if e0 := at[0].GetError(); !e0.GetRetryable() || !strings.Contains(e0.GetMessage(), "restarted") {
		t.Errorf("attempt 1 error %v: want a retryable error saying the agent restarted (not a lease expiry)", e0)
	}
}
