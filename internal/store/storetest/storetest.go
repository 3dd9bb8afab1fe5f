// Package storetest is the conformance suite every store.Store implementation must pass.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// NewStore returns a fresh, isolated store reading time from clk. It is closed by the caller's cleanup.
type NewStore func(t *testing.T, clk clock.Clock) store.Store

// Run runs every conformance test against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store, clk *clock.Fake)
	}{
		{"Sessions", testSessions},
		{"DependencyChain", testDependencyChain},
		{"RetryThenFailCascades", testRetryThenFail},
		{"LeaseExpiry", testLeaseExpiry},
		{"AtomicBatchRejection", testAtomicBatch},
		{"IdempotentRequestID", testIdempotent},
		{"SubtasksHandOffOutput", testSubtasks},
		{"CancelTasks", testCancel},
		{"RenewAndRelease", testRenewRelease},
		{"ReleaseRunning", testReleaseRunning},
		{"ReleaseAgentLeases", testReleaseAgentLeases},
		{"EventsAndCursor", testEvents},
		{"Partitions", testPartitions},
		{"ConcurrentClaimers", testConcurrentClaimers},
		{"Fairness", testFairness},
		{"RandomDAGs", testRandomDAGs},
		{"OutcomesBatch", testOutcomesBatch},
		{"CompletionWithStart", testCompletionWithStart},
		{"WaitersInOneBatch", testWaitersInOneBatch},
		{"BodiesSmallAndLarge", testBodiesSmallAndLarge},
		{"RunningAfterSlotOutcome", testRunningAfterSlotOutcome},
		{"PurgeReturnsObjects", testPurgeReturnsObjects},
		{"OutcomesBatchRetryAndSubtasks", testOutcomesRetrySubtasks},
		{"EventGroupsAndFilters", testEventGroups},
		{"AttemptsTimeline", testAttemptsTimeline},
		{"Tenants", testTenants},
		{"Paging", testPaging},
		{"ExactRefusals", testExactRefusals},
		{"ReconcileRestoresIndexes", testReconcileRestoresIndexes},
		{"ClosedSessionRunsToEnd", testClosedSessionRunsToEnd},
		{"CyclesRefused", testCyclesRefused},
		{"CompletionRefusals", testCompletionRefusals},
		{"AdmissionLimits", testAdmissionLimits},
		{"BigCancel", testBigCancel},
		{"DeadAgents", testDeadAgents},
		{"InvalidOptionsRefused", testInvalidOptionsRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := clock.NewFake(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
			tc.fn(t, newStore(t, clk), clk)
		})
	}
}

const part = "cpu"

func ctx(t *testing.T) context.Context { return t.Context() }

func newSession(t *testing.T, s store.Store, weight int32) string {
	t.Helper()
	sess, err := s.CreateSession(ctx(t), store.SessionSpec{Weight: weight, DefaultTaskOptions: &chorusv1.TaskOptions{Partition: part}})
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return sess.SessionId
}

func submit(t *testing.T, s store.Store, sid string, specs ...store.TaskSpec) []*chorusv1.SubmittedTask {
	t.Helper()
	st, err := s.SubmitTasks(ctx(t), sid, store.SubmitBatch{Tasks: specs})
	if err != nil {
		t.Fatalf("SubmitTasks: %v", err)
	}
	return st
}

func claim(t *testing.T, s store.Store, n int) []*store.ClaimedTask {
	t.Helper()
	c, err := s.Claim(ctx(t), store.ClaimRequest{Partition: part, AgentID: "agent-1", Max: n, LeaseTTL: 10 * time.Second})
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return c
}

// claimedProducer starts a session with two tasks, producer, which makes output, and consumer, which
// waits on output, and claims the producer. It returns the session, the submitted tasks (producer
// first) and the producer's claim.
func claimedProducer(t *testing.T, s store.Store, producer, output, consumer string) (string, []*chorusv1.SubmittedTask, *store.ClaimedTask) {
	t.Helper()
	sid := newSession(t, s, 1)
	st := submit(t, s, sid, store.TaskSpec{Method: producer, ExpectedOutputIDs: []string{output}},
		store.TaskSpec{Method: consumer, DataDependencies: []string{output}})
	return sid, st, claim(t, s, 1)[0]
}

func complete(t *testing.T, s store.Store, c *store.ClaimedTask, data string) {
	t.Helper()
	var outs []store.OutputData
	for _, o := range c.ExpectedOutputIDs {
		outs = append(outs, store.OutputData{ResultID: o, Data: store.ResultData{Inline: []byte(data)}})
	}
	if err := s.Complete(ctx(t), store.Completion{Lease: c.Lease, Outputs: outs}); err != nil {
		t.Fatalf("Complete %s: %v", c.Lease.TaskID, err)
	}
}

// releaseLeases takes back agentID's leases and fails the test unless there were want of them.
func releaseLeases(t *testing.T, s store.Store, agentID string, want int) {
	t.Helper()
	if n, err := s.ReleaseAgentLeases(ctx(t), agentID); err != nil || n != want {
		t.Fatalf("ReleaseAgentLeases(%q) = %d, %v; want %d", agentID, n, err, want)
	}
}

func taskStatus(t *testing.T, s store.Store, sid, tid string) chorusv1.TaskStatus {
	t.Helper()
	tk, err := s.GetTask(ctx(t), sid, tid)
	if err != nil {
		t.Fatalf("GetTask %s: %v", tid, err)
	}
	return tk.Status
}

func wantCode(t *testing.T, err error, code store.Code, what string) {
	t.Helper()
	if store.CodeOf(err) != code {
		t.Fatalf("%s: got error %v (code %v), want code %v", what, err, store.CodeOf(err), code)
	}
}
