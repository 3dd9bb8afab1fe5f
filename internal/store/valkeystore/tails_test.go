package valkeystore_test

import (
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// TestClaimTailRunsBeforeTheNextWait: a claim that empties a session returns before the session
// leaves the partition's ready index (the claim's tail), and the partition's next WaitForWork waits
// for that tail: it blocks instead of answering "work may be ready" for the emptied session. A
// wake-up then hands its reads to the claim that follows.
func TestClaimTailRunsBeforeTheNextWait(t *testing.T) {
	t.Parallel()
	s, c := startStore(t, "tl:")
	ctx := t.Context()
	sess, err := s.CreateSession(ctx, store.SessionSpec{DefaultTaskOptions: &chorusv1.TaskOptions{Partition: "cpu"}})
	if err != nil {
		t.Fatal(err)
	}
	sid := sess.SessionId
	submit := func() {
		t.Helper()
		if _, err := s.SubmitTasks(ctx, sid, store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "a"}}}); err != nil {
			t.Fatal(err)
		}
	}
	submit()
	// drain the wake-up the submit left, so that WaitForWork can only return on the ready index
	if err := c.Do(ctx, c.B().Del().Key("{tl:p:cpu}:wake").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	got, err := s.Claim(ctx, store.ClaimRequest{Partition: "cpu", AgentID: "a", Max: 8})
	if err != nil || len(got) != 1 {
		t.Fatalf("Claim = %d tasks, %v; want 1", len(got), err)
	}
	start := time.Now()
	if err := s.WaitForWork(ctx, "cpu", 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Fatalf("WaitForWork returned after %v with the only session emptied; want it to block until its timeout", waited)
	}
	// The lease is in the partition's lease index and in the agent's (written with the claim scripts).
	if exp, err := c.Do(ctx, c.B().Zscore().Key("{tl:p:cpu}:leases").Member(sid).Build()).AsFloat64(); err != nil || exp <= 0 {
		t.Fatalf("the session's lease is not indexed after the claim: %v, %v", exp, err)
	}
	if exp, err := c.Do(ctx, c.B().Zscore().Key("{tl:a:a}:leases").Member("cpu\n"+sid).Build()).AsFloat64(); err != nil || exp <= 0 {
		keys, _ := c.Do(ctx, c.B().Keys().Pattern("tl:*").Build()).AsStrSlice()
		t.Fatalf("the agent's lease index has no entry for the session after the claim: %v, %v (keys: %v)", exp, err, keys)
	}
	if n, err := c.Do(ctx, c.B().Zcard().Key("{tl:p:cpu}:ready").Build()).AsInt64(); err != nil || n != 0 {
		t.Fatalf("the ready index holds %d sessions after the claim that emptied the only one (%v); want 0", n, err)
	}

	// Work arriving while an agent waits wakes it, and the claim that follows finds the task.
	woke := make(chan error, 1)
	go func() { woke <- s.WaitForWork(ctx, "cpu", 10*time.Second) }()
	time.Sleep(50 * time.Millisecond)
	submit()
	select {
	case err := <-woke:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WaitForWork did not return within 5s of a submit to its partition")
	}
	got, err = s.Claim(ctx, store.ClaimRequest{Partition: "cpu", AgentID: "a", Max: 8})
	if err != nil || len(got) != 1 {
		t.Fatalf("Claim after the wake-up = %d tasks, %v; want 1", len(got), err)
	}
}

// TestActiveSetFollowsLaterBatches: a store notes a session in a partition's :sessions and :active
// sets before its first batch only (write-ahead, then remembered); the session leaves :active when it
// has nothing unfinished there, and a later batch (not noted again) puts it back through the counts
// it folds in (pcount.lua), so the partition's counts keep following it.
func TestActiveSetFollowsLaterBatches(t *testing.T) {
	t.Parallel()
	s, c := startStore(t, "ac:")
	ctx := t.Context()
	sid, _ := cpuSession(t, s, store.TaskSpec{Method: "a"})
	active := func() int64 {
		t.Helper()
		n, err := c.Do(ctx, c.B().Sismember().Key("{ac:p:cpu}:active").Member(sid).Build()).AsInt64()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if active() != 1 {
		t.Fatal("the session is not in the partition's active set after its first batch")
	}
	got, err := s.Claim(ctx, store.ClaimRequest{Partition: "cpu", AgentID: "a", Max: 1})
	if err != nil || len(got) != 1 {
		t.Fatalf("Claim = %d tasks, %v; want 1", len(got), err)
	}
	if err := s.Complete(ctx, store.Completion{Lease: got[0].Lease}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reconcile(ctx, "cpu", 100); err != nil { // refreshes the active sessions' counts
		t.Fatal(err)
	}
	if active() != 0 {
		t.Fatal("the session is still in the active set with nothing unfinished in the partition")
	}
	if _, err := s.SubmitTasks(ctx, sid, store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "b"}}}); err != nil {
		t.Fatal(err)
	}
	if active() != 1 {
		t.Fatal("the session is not back in the active set after a later batch")
	}
	p, err := s.GetPartition(ctx, "cpu")
	if err != nil {
		t.Fatal(err)
	}
	if q := p.GetTaskCounts().GetQueued(); q != 1 {
		t.Fatalf("the partition counts %d queued tasks after the later batch; want 1 (counts: %v)", q, p.GetTaskCounts())
	}
}
