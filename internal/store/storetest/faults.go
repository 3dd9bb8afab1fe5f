package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// IndexBreaker is implemented by stores whose partition indexes live apart from the sessions' data
// (hints updated after the session's own write): DropIndexEntries removes a session's entries from a
// partition's indexes, and from the named agents' lease indexes, as a process dying between the two
// writes would. The reconciler tests use it; a store without such indexes skips them.
type IndexBreaker interface {
	DropIndexEntries(ctx context.Context, partition, sessionID string, agentIDs ...string) error
}

func breaker(t *testing.T, s store.Store) IndexBreaker {
	b, ok := s.(IndexBreaker)
	if !ok {
		t.Skip("the store keeps no partition index apart from its sessions")
	}
	return b
}

func reconcileAll(t *testing.T, s store.Store) store.ReconcileReport {
	t.Helper()
	var sum store.ReconcileReport
	for range 100 {
		rep, err := s.Reconcile(ctx(t), part, 100)
		if err != nil {
			t.Fatalf("Reconcile: %v", err)
		}
		sum.Sessions += rep.Sessions
		sum.Repaired += rep.Repaired
		if rep.Wrapped {
			return sum
		}
	}
	t.Fatal("Reconcile did not get through the partition's sessions in 100 passes")
	return sum
}

// testReconcileRestoresIndexes: work whose index entries were lost after a committed submit, claim
// or retry is found by the reconciler and runs (or is requeued) again.
func testReconcileRestoresIndexes(t *testing.T, s store.Store, clk *clock.Fake) {
	b := breaker(t, s)
	sid := newSession(t, s, 1)
	retry1 := &chorusv1.TaskOptions{MaxRetries: proto.Int32(3)}
	st := submit(t, s, sid, store.TaskSpec{Method: "a", Options: retry1}, store.TaskSpec{Method: "b", Options: retry1},
		store.TaskSpec{Method: "c", Options: retry1})
	// a submit whose ready-index update was lost
	if err := b.DropIndexEntries(ctx(t), part, sid); err != nil {
		t.Fatal(err)
	}
	if got := claim(t, s, 1); len(got) != 0 {
		t.Fatalf("claimed %d tasks with the ready entry gone; the test cannot see the repair", len(got))
	}
	if rep := reconcileAll(t, s); rep.Repaired < 1 || rep.Sessions < 1 {
		t.Fatalf("Reconcile after a lost ready entry = %+v; want a repair", rep)
	}
	c, err := s.Claim(ctx(t), store.ClaimRequest{Partition: part, AgentID: "lost-agent", Max: 1, LeaseTTL: time.Second})
	if err != nil || len(c) != 1 {
		t.Fatalf("Claim after the repair = %v, %v; want 1 task", c, err)
	}
	// a claim whose lease-index updates were lost: the expired lease is still taken back
	if err := b.DropIndexEntries(ctx(t), part, sid, "lost-agent"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Second)
	if n, err := s.RequeueExpired(ctx(t), part, 100); err != nil || n != 0 {
		t.Fatalf("RequeueExpired with the lease entry gone = %d, %v; want 0 (nothing to see)", n, err)
	}
	if rep := reconcileAll(t, s); rep.Repaired < 1 {
		t.Fatalf("Reconcile after a lost lease entry = %+v; want a repair", rep)
	}
	if n, err := s.RequeueExpired(ctx(t), part, 100); err != nil || n != 1 {
		t.Fatalf("RequeueExpired after the repair = %d, %v; want 1", n, err)
	}
	// the agent lease index is repaired too: a restarting agent gets its leases back at once
	c2, err := s.Claim(ctx(t), store.ClaimRequest{Partition: part, AgentID: "agent-x", Max: 1, LeaseTTL: time.Hour})
	if err != nil || len(c2) != 1 {
		t.Fatalf("Claim = %v, %v", c2, err)
	}
	if err := b.DropIndexEntries(ctx(t), part, sid, "agent-x"); err != nil {
		t.Fatal(err)
	}
	reconcileAll(t, s)
	releaseLeases(t, s, "agent-x", 1)
	// a failure whose retry-index update was lost
	c3 := claim(t, s, 1)
	if len(c3) != 1 {
		t.Fatalf("claim = %v; want 1", c3)
	}
	if retried, err := s.Fail(ctx(t), store.Failure{Lease: c3[0].Lease, Error: &chorusv1.TaskError{Message: "again", Retryable: true}}); err != nil || !retried {
		t.Fatalf("Fail = %v, %v; want retried", retried, err)
	}
	if err := b.DropIndexEntries(ctx(t), part, sid); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	reconcileAll(t, s)
	// every task runs to the end
	done := 0
	for range 20 {
		for _, c := range claim(t, s, 10) {
			complete(t, s, c, "ok")
			done++
		}
		clk.Advance(time.Hour)
		if _, err := s.RequeueExpired(ctx(t), part, 100); err != nil {
			t.Fatal(err)
		}
	}
	for _, x := range st {
		if got := taskStatus(t, s, sid, x.TaskId); got != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
			t.Fatalf("task %s = %v after repairs; want COMPLETED (completed %d)", x.TaskId, got, done)
		}
	}
}

// testClosedSessionRunsToEnd: a closed session accepts no client tasks but runs what it holds:
// dependents, retries, subtasks, and the queue of a session closed while paused.
func testClosedSessionRunsToEnd(t *testing.T, s store.Store, clk *clock.Fake) {
	sid := newSession(t, s, 1)
	st := submit(t, s, sid,
		store.TaskSpec{Method: "first", ExpectedOutputIDs: []string{"o1"}, Options: &chorusv1.TaskOptions{MaxRetries: proto.Int32(2)}},
		store.TaskSpec{Method: "dependent", DataDependencies: []string{"o1"}, ExpectedOutputIDs: []string{"o2"}})
	c := claim(t, s, 10)
	if len(c) != 1 {
		t.Fatalf("claimed %d; want 1", len(c))
	}
	if _, err := s.SetSessionStatus(ctx(t), sid, chorusv1.SessionStatus_SESSION_STATUS_CLOSED); err != nil {
		t.Fatalf("close: %v", err)
	}
	_, err := s.SubmitTasks(ctx(t), sid, store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "late"}}})
	wantCode(t, err, store.CodeFailedPrecondition, "client submit to a closed session")
	_, _, err = s.PurgeSession(ctx(t), sid)
	wantCode(t, err, store.CodeFailedPrecondition, "purge of a closed session with unfinished tasks")
	if !strings.Contains(err.Error(), "unfinished") {
		t.Fatalf("purge refusal %q does not say the tasks are unfinished", err)
	}
	// a retry after the close
	if retried, err := s.Fail(ctx(t), store.Failure{Lease: c[0].Lease, Error: &chorusv1.TaskError{Message: "flaky", Retryable: true}}); err != nil || !retried {
		t.Fatalf("Fail = %v, %v; want retried", retried, err)
	}
	clk.Advance(time.Hour)
	c = claim(t, s, 10)
	if len(c) != 1 || c[0].Lease.Attempt != 2 {
		t.Fatalf("retry claim in a closed session = %+v; want attempt 2", c)
	}
	// a subtask stored by a completion after the close
	sub := store.NewTaskID()
	if err := s.Complete(ctx(t), store.Completion{Lease: c[0].Lease,
		Outputs:  []store.OutputData{{ResultID: "o1", Data: store.ResultData{Inline: []byte("x")}}},
		Subtasks: []store.TaskSpec{{Method: "child"}}, SubtaskIDs: []string{sub}}); err != nil {
		t.Fatalf("Complete with a subtask in a closed session: %v", err)
	}
	// the dependent and the subtask both run
	ran := map[string]bool{}
	for range 3 {
		for _, c := range claim(t, s, 10) {
			ran[c.Method] = true
			complete(t, s, c, "v")
		}
	}
	if !ran["dependent"] || !ran["child"] {
		t.Fatalf("in the closed session ran %v; want the dependent and the subtask", ran)
	}
	for _, id := range []string{st[0].TaskId, st[1].TaskId, sub} {
		if got := taskStatus(t, s, sid, id); got != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
			t.Fatalf("task %s = %v; want COMPLETED", id, got)
		}
	}
	// paused, then closed: its queue runs
	sid2 := newSession(t, s, 1)
	st2 := submit(t, s, sid2, store.TaskSpec{Method: "held"})
	if _, err := s.SetSessionStatus(ctx(t), sid2, chorusv1.SessionStatus_SESSION_STATUS_PAUSED); err != nil {
		t.Fatal(err)
	}
	if got := claim(t, s, 10); len(got) != 0 {
		t.Fatalf("claimed %d tasks of a paused session", len(got))
	}
	if _, err := s.SetSessionStatus(ctx(t), sid2, chorusv1.SessionStatus_SESSION_STATUS_CLOSED); err != nil {
		t.Fatal(err)
	}
	got := claim(t, s, 10)
	if len(got) != 1 || got[0].Lease.TaskID != st2[0].TaskId {
		t.Fatalf("claim after closing a paused session = %+v; want its queued task", got)
	}
	complete(t, s, got[0], "v")
	// finished: purge is accepted; the purged session is no longer listed
	p, _, err := s.PurgeSession(ctx(t), sid)
	if err != nil || p.Status != chorusv1.SessionStatus_SESSION_STATUS_PURGED {
		t.Fatalf("purge of a finished closed session = %v, %v", p, err)
	}
	list, _, err := s.ListSessions(ctx(t), store.ListQuery[chorusv1.SessionStatus]{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range list {
		if x.SessionId == sid {
			t.Fatalf("purged session %s is still listed", sid)
		}
	}
}

// testCyclesRefused: a dependency cycle is refused at submit (and in subtasks) with
// FailedPrecondition naming it; nothing is stored.
func testCyclesRefused(t *testing.T, s store.Store, _ *clock.Fake) {
	sid := newSession(t, s, 1)
	refused := func(what string, err error) {
		t.Helper()
		wantCode(t, err, store.CodeFailedPrecondition, what)
		if !strings.Contains(err.Error(), "cycle") {
			t.Fatalf("%s: refusal %q does not name the cycle", what, err)
		}
	}
	_, err := s.SubmitTasks(ctx(t), sid, store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "self", DataDependencies: []string{"me"}, ExpectedOutputIDs: []string{"me"}}}})
	refused("a task waiting on its own output", err)
	_, err = s.SubmitTasks(ctx(t), sid, store.SubmitBatch{Tasks: []store.TaskSpec{
		{Method: "a", DataDependencies: []string{"rb"}, ExpectedOutputIDs: []string{"ra"}},
		{Method: "b", DataDependencies: []string{"ra"}, ExpectedOutputIDs: []string{"rb"}}}})
	refused("two tasks of a batch waiting on each other", err)
	if !strings.Contains(err.Error(), "ra") || !strings.Contains(err.Error(), "rb") {
		t.Fatalf("refusal %q does not name the results of the cycle", err)
	}
	// across batches, through a client-created result
	if _, err := s.CreateResults(ctx(t), sid, []store.ResultSpec{{ResultID: "upload"}}); err != nil {
		t.Fatal(err)
	}
	submit(t, s, sid, store.TaskSpec{Method: "reader", DataDependencies: []string{"upload"}, ExpectedOutputIDs: []string{"mid"}})
	_, err = s.SubmitTasks(ctx(t), sid, store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "writer", DataDependencies: []string{"mid"}, ExpectedOutputIDs: []string{"upload"}}}})
	refused("a cycle across batches through a client-created result", err)
	if !strings.Contains(err.Error(), "upload") || !strings.Contains(err.Error(), "mid") {
		t.Fatalf("refusal %q does not name the results of the cycle", err)
	}
	// a subtask taking over its parent's output while waiting on a task that waits on that output
	st := submit(t, s, sid, store.TaskSpec{Method: "parent", ExpectedOutputIDs: []string{"out"}},
		store.TaskSpec{Method: "waiter", DataDependencies: []string{"out"}, ExpectedOutputIDs: []string{"w"}})
	var c []*store.ClaimedTask
	for _, x := range claim(t, s, 10) {
		if x.Lease.TaskID == st[0].TaskId {
			c = append(c, x)
		}
	}
	if len(c) != 1 {
		t.Fatalf("did not claim the parent")
	}
	err = s.Complete(ctx(t), store.Completion{Lease: c[0].Lease,
		Subtasks: []store.TaskSpec{{Method: "child", DataDependencies: []string{"w"}, ExpectedOutputIDs: []string{"out"}}}, SubtaskIDs: []string{store.NewTaskID()}})
	refused("a subtask closing a cycle", err)
	// a valid graph still goes through
	submit(t, s, sid, store.TaskSpec{Method: "x", ExpectedOutputIDs: []string{"x1"}}, store.TaskSpec{Method: "y", DataDependencies: []string{"x1"}})
	tasks, _, err := s.ListTasks(ctx(t), sid, store.ListQuery[chorusv1.TaskStatus]{})
	if err != nil || len(tasks) != 5 {
		t.Fatalf("%d tasks stored (%v); want the 5 of the accepted batches", len(tasks), err)
	}
}

// testAdmissionLimits: the queue-depth limit counts a partition over all sessions; the per-session
// limit names the session.
func testAdmissionLimits(t *testing.T, s store.Store, _ *clock.Fake) {
	a, b := newSession(t, s, 1), newSession(t, s, 1)
	two := []store.TaskSpec{{Method: "t"}, {Method: "t"}}
	if _, err := s.SubmitTasks(ctx(t), a, store.SubmitBatch{Tasks: two, MaxQueueDepth: 3}); err != nil {
		t.Fatalf("first batch: %v", err)
	}
	_, err := s.SubmitTasks(ctx(t), b, store.SubmitBatch{Tasks: two, MaxQueueDepth: 3})
	wantCode(t, err, store.CodeResourceExhausted, "a second session's batch past the partition's depth")
	if !strings.Contains(err.Error(), part) {
		t.Fatalf("refusal %q does not name the partition", err)
	}
	// the partition's count goes down as tasks run
	for _, c := range claim(t, s, 10) {
		complete(t, s, c, "v")
	}
	reconcileAll(t, s)
	if _, err := s.SubmitTasks(ctx(t), b, store.SubmitBatch{Tasks: two, MaxQueueDepth: 3}); err != nil {
		t.Fatalf("batch after the queue drained: %v", err)
	}
	p, err := s.GetPartition(ctx(t), part)
	if err != nil || p.QueueDepth != 2 || p.TaskCounts.Completed != 2 {
		t.Fatalf("GetPartition = %v, %v; want queue depth 2 and 2 completed over both sessions", p, err)
	}
	_, err = s.SubmitTasks(ctx(t), b, store.SubmitBatch{Tasks: two, MaxSessionQueued: 3})
	wantCode(t, err, store.CodeResourceExhausted, "a batch past the session's limit")
	if !strings.Contains(err.Error(), b) {
		t.Fatalf("refusal %q does not name the session", err)
	}
	if _, err := s.SubmitTasks(ctx(t), b, store.SubmitBatch{Tasks: two[:1], MaxSessionQueued: 3}); err != nil {
		t.Fatalf("batch within the session's limit: %v", err)
	}
}

// testBigCancel: cancelling a session of 20,000 tasks answers after a bounded chunk, the rest is
// done by bounded WorkBackground calls, every task ends, and the session can then be purged.
func testBigCancel(t *testing.T, s store.Store, _ *clock.Fake) {
	const n, batch, budget = 20000, 5000, 1000
	sid := newSession(t, s, 1)
	for i := 0; i < n; i += batch {
		specs := make([]store.TaskSpec, batch)
		for j := range specs {
			specs[j] = store.TaskSpec{Method: "m", ExpectedOutputIDs: []string{fmt.Sprintf("o%d", i+j)}}
		}
		submit(t, s, sid, specs...)
	}
	if _, err := s.SetSessionStatus(ctx(t), sid, chorusv1.SessionStatus_SESSION_STATUS_CANCELLED); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	sess, _ := s.GetSession(ctx(t), sid)
	if sess.TaskCounts.Cancelled >= n {
		t.Fatalf("cancel ended all %d tasks in the call; want a bounded first chunk", n)
	}
	passes := 0
	for sess.TaskCounts.Cancelled < n {
		got, err := s.WorkBackground(ctx(t), budget)
		if err != nil {
			t.Fatalf("WorkBackground: %v", err)
		}
		if got > budget {
			t.Fatalf("one WorkBackground call cancelled %d tasks; want at most its budget %d", got, budget)
		}
		if passes++; passes > 2*n/budget {
			t.Fatalf("%d of %d tasks cancelled after %d passes", sess.TaskCounts.Cancelled, n, passes)
		}
		sess, _ = s.GetSession(ctx(t), sid)
	}
	if c := sess.TaskCounts; c.Pending+c.Queued+c.Dispatched+c.Running != 0 {
		t.Fatalf("counts after the cancellation = %v", c)
	}
	// the background also aborts the outputs; then the purge goes through
	for range 2 * n / budget {
		if _, err := s.WorkBackground(ctx(t), budget); err != nil {
			t.Fatal(err)
		}
	}
	r, err := s.GetResult(ctx(t), sid, fmt.Sprintf("o%d", n-1))
	if err != nil || r.Status != chorusv1.ResultStatus_RESULT_STATUS_ABORTED {
		t.Fatalf("last output = %v, %v; want ABORTED", r, err)
	}
	p, _, err := s.PurgeSession(ctx(t), sid)
	if err != nil || p.Status != chorusv1.SessionStatus_SESSION_STATUS_PURGED {
		t.Fatalf("purge = %v, %v", p, err)
	}
	if got := claim(t, s, 10); len(got) != 0 {
		t.Fatalf("claimed %d tasks of a purged session", len(got))
	}
}

// testDeadAgents: the leases of an agent whose heartbeat lapsed are taken back at once, while a live
// agent keeps its long leases; an agent restarting under its id hands its leases back.
func testDeadAgents(t *testing.T, s store.Store, clk *clock.Fake) {
	sid := newSession(t, s, 1)
	submit(t, s, sid, store.TaskSpec{Method: "t"}, store.TaskSpec{Method: "t"}, store.TaskSpec{Method: "t"})
	hb := func(id string, ttl time.Duration) {
		t.Helper()
		if err := s.Heartbeat(ctx(t), store.AgentHeartbeat{AgentID: id, Partition: part, Capacity: 2}, ttl); err != nil {
			t.Fatal(err)
		}
	}
	hb("dies", 3*time.Second)
	hb("lives", time.Hour)
	dead, err := s.Claim(ctx(t), store.ClaimRequest{Partition: part, AgentID: "dies", Max: 2, LeaseTTL: time.Hour})
	if err != nil || len(dead) != 2 {
		t.Fatalf("Claim = %v, %v", dead, err)
	}
	live, err := s.Claim(ctx(t), store.ClaimRequest{Partition: part, AgentID: "lives", Max: 1, LeaseTTL: time.Hour})
	if err != nil || len(live) != 1 {
		t.Fatalf("Claim = %v, %v", live, err)
	}
	if err := s.MarkRunning(ctx(t), dead[0].Lease); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RequeueDeadAgents(ctx(t), part); err != nil || n != 0 {
		t.Fatalf("RequeueDeadAgents while both beat = %d, %v; want 0", n, err)
	}
	clk.Advance(4 * time.Second)
	if n, err := s.RequeueDeadAgents(ctx(t), part); err != nil || n != 2 {
		t.Fatalf("RequeueDeadAgents after a lapse = %d, %v; want the dead agent's 2", n, err)
	}
	// the running one's attempt is counted (LEASE_EXPIRED); the one never started goes back as it was
	tk, _ := s.GetTask(ctx(t), sid, dead[0].Lease.TaskID)
	if tk.Status != chorusv1.TaskStatus_TASK_STATUS_QUEUED || len(tk.Attempts) != 1 || tk.Attempts[0].Error.GetKind() != chorusv1.ErrorKind_ERROR_KIND_LEASE_EXPIRED ||
		!strings.Contains(tk.Attempts[0].Error.GetMessage(), "dies") {
		t.Fatalf("dead agent's running task = %v; want QUEUED with its attempt failed as LEASE_EXPIRED naming the agent", tk)
	}
	tk, _ = s.GetTask(ctx(t), sid, dead[1].Lease.TaskID)
	if tk.Status != chorusv1.TaskStatus_TASK_STATUS_QUEUED || len(tk.Attempts) != 0 {
		t.Fatalf("dead agent's unstarted task = %v; want QUEUED without an attempt", tk)
	}
	if got := taskStatus(t, s, sid, live[0].Lease.TaskID); got != chorusv1.TaskStatus_TASK_STATUS_DISPATCHED {
		t.Fatalf("live agent's task = %v; want still DISPATCHED", got)
	}
	if n, _ := s.RequeueDeadAgents(ctx(t), part); n != 0 {
		t.Fatalf("second RequeueDeadAgents = %d; want 0", n)
	}
	p, err := s.GetPartition(ctx(t), part)
	if err != nil || len(p.Agents) != 1 || p.Agents[0].AgentId != "lives" {
		t.Fatalf("GetPartition agents = %v, %v; want only the live one", p.GetAgents(), err)
	}
	again, err := s.Claim(ctx(t), store.ClaimRequest{Partition: part, AgentID: "lives", Max: 10, LeaseTTL: time.Hour})
	if err != nil || len(again) != 2 || again[0].Lease.Attempt+again[1].Lease.Attempt != 3 {
		t.Fatalf("claim of the taken-back tasks = %v, %v; want 2, at attempts 2 and 1", again, err)
	}
	// the live agent restarts under its id: its 3 leases come back at once
	releaseLeases(t, s, "lives", 3)
	if got := claim(t, s, 10); len(got) != 3 {
		t.Fatalf("claimed %d after the release; want 3", len(got))
	}
}

// testInvalidOptionsRefused: partitions, priorities, retries and ids that could break a stored record
// are refused with InvalidArgument, from a client and from a worker's subtasks alike.
func testInvalidOptionsRefused(t *testing.T, s store.Store, _ *clock.Fake) {
	sid := newSession(t, s, 1)
	for _, tc := range []struct {
		name string
		spec store.TaskSpec
	}{
		{"partition with a separator", store.TaskSpec{Method: "m", Options: &chorusv1.TaskOptions{Partition: "x|y"}}},
		{"priority 10", store.TaskSpec{Method: "m", Options: &chorusv1.TaskOptions{Priority: proto.Int32(10)}}},
		{"negative retries", store.TaskSpec{Method: "m", Options: &chorusv1.TaskOptions{MaxRetries: proto.Int32(-1)}}},
		{"output id with a separator", store.TaskSpec{Method: "m", ExpectedOutputIDs: []string{"a|b"}}},
		{"method with a newline", store.TaskSpec{Method: "m\nx"}},
	} {
		_, err := s.SubmitTasks(ctx(t), sid, store.SubmitBatch{Tasks: []store.TaskSpec{tc.spec}})
		wantCode(t, err, store.CodeInvalidArgument, tc.name)
	}
	_, err := s.CreateResults(ctx(t), sid, []store.ResultSpec{{ResultID: "r,1"}})
	wantCode(t, err, store.CodeInvalidArgument, "result id with a separator")
	submit(t, s, sid, store.TaskSpec{Method: "parent"})
	c := claim(t, s, 1)
	err = s.Complete(ctx(t), store.Completion{Lease: c[0].Lease, Subtasks: []store.TaskSpec{{Method: "child", Options: &chorusv1.TaskOptions{Partition: "x|y"}}},
		SubtaskIDs: []string{store.NewTaskID()}})
	wantCode(t, err, store.CodeInvalidArgument, "subtask with a partition holding a separator")
	complete(t, s, c[0], "v") // the lease is still held: nothing was written
	tasks, _, err := s.ListTasks(ctx(t), sid, store.ListQuery[chorusv1.TaskStatus]{})
	if err != nil || len(tasks) != 1 {
		t.Fatalf("ListTasks = %d tasks, %v; want the one valid task, readable", len(tasks), err)
	}
}
