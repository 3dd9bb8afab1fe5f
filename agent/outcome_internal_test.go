package agent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/objstore/local"
	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// After a completion failed without a clear answer, the attempt's objects are deleted only once the
// task is known to have ended otherwise: stored by this attempt or still undecided, they stay (a
// result may point at them).
func TestUnclearCompletionKeepsObjects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		before   func(t *testing.T, st store.Store, c *store.ClaimedTask, key string, d store.ResultData)
		wantKept bool
	}{
		{"stored", func(t *testing.T, st store.Store, c *store.ClaimedTask, _ string, d store.ResultData) {
			if err := st.Complete(t.Context(), store.Completion{Lease: c.Lease, Outputs: []store.OutputData{{ResultID: "out", Data: d}}}); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"undecided", func(*testing.T, store.Store, *store.ClaimedTask, string, store.ResultData) {}, true},
		{"failed", func(t *testing.T, st store.Store, c *store.ClaimedTask, _ string, _ store.ResultData) {
			if _, err := st.Fail(t.Context(), store.Failure{Lease: c.Lease, Error: &chorusv1.TaskError{Kind: chorusv1.ErrorKind_ERROR_KIND_WORKER_ERROR, Message: "cancelled elsewhere"}}); err != nil {
				t.Fatal(err)
			}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, st, claimed := internalSetup(t)
			c := claimed[0]
			ctx := t.Context()
			if err := st.MarkRunning(ctx, c.Lease); err != nil {
				t.Fatal(err)
			}
			key := "sessions/" + c.Lease.SessionID + "/results/out.a" + store.NewID()
			size, sum, err := a.objs.Put(ctx, key, strings.NewReader("output data"), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			tc.before(t, st, c, key, store.ResultData{ObjectKey: key, Size: size, SHA256: sum})
			r := &run{a: a, task: c, objects: []string{key}}
			r.owner.Store(a.parts[0].procs[0])
			r.tctx = context.Background()
			a.addLease(r)
			r.unclearOutcome(errors.New("completing the task: Valkey call failed: i/o timeout"))
			rc, err := a.objs.Get(ctx, key)
			kept := err == nil
			if kept {
				_ = rc.Close()
			}
			if kept != tc.wantKept {
				t.Fatalf("object kept = %v, want %v", kept, tc.wantKept)
			}
		})
	}
}

// Objects left in place by an undecided completion are deleted once a later read-back shows the
// task ended otherwise (here: failed), checked once per lease TTL on the agent's clock.
func TestUndecidedObjectsSettleLater(t *testing.T) {
	t.Parallel()
	a, st, claimed := internalSetup(t)
	clk := clock.NewFake(time.Now())
	a.cfg.Clock = clk
	c := claimed[0]
	ctx := t.Context()
	if err := st.MarkRunning(ctx, c.Lease); err != nil {
		t.Fatal(err)
	}
	key := "sessions/" + c.Lease.SessionID + "/results/out.a" + store.NewID()
	if _, _, err := a.objs.Put(ctx, key, strings.NewReader("output data"), 1<<20); err != nil {
		t.Fatal(err)
	}
	r := &run{a: a, task: c, objects: []string{key}}
	r.owner.Store(a.parts[0].procs[0])
	r.tctx = context.Background()
	a.addLease(r)
	r.unclearOutcome(errors.New("completing the task: Valkey call failed: i/o timeout"))
	exists := func() bool {
		rc, err := a.objs.Get(ctx, key)
		if err == nil {
			_ = rc.Close()
		}
		return err == nil
	}
	if !exists() {
		t.Fatal("the undecided attempt's object was deleted at once")
	}
	if _, err := st.Fail(ctx, store.Failure{Lease: c.Lease, Error: &chorusv1.TaskError{Kind: chorusv1.ErrorKind_ERROR_KIND_WORKER_ERROR, Message: "ended elsewhere"}}); err != nil {
		t.Fatal(err)
	}
	for exists() {
		if ctx.Err() != nil {
			t.Fatal("the object of an attempt that ended otherwise was never deleted")
		}
		clk.Advance(a.cfg.LeaseTTL)
		time.Sleep(10 * time.Millisecond)
	}
}

// internalSetup starts a private Valkey, opens the real stores and an agent on them (not run), and
// claims one submitted task.
func internalSetup(t *testing.T) (*Agent, store.Store, []*store.ClaimedTask) {
	t.Helper()
	srv := valkeytest.Start(t)
	c, err := valkey.NewClient(valkey.ClientOption{InitAddress: []string{srv.Addr}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err := valkeystore.New(valkeystore.Config{Client: c})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	objs, err := local.New(local.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := New(Config{Partitions: []PartitionConfig{{Name: "go", Command: "true"}}, Logger: quiet}, st, objs)
	if err != nil {
		t.Fatal(err)
	}
	a.bg = context.Background()
	ctx := t.Context()
	sess, err := st.CreateSession(ctx, store.SessionSpec{DefaultTaskOptions: &chorusv1.TaskOptions{Partition: "go"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SubmitTasks(ctx, sess.GetSessionId(), store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "m", ExpectedOutputIDs: []string{"out"}}}}); err != nil {
		t.Fatal(err)
	}
	claimed, err := st.Claim(ctx, store.ClaimRequest{Partition: "go", AgentID: "a", Max: 1, LeaseTTL: time.Minute})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("Claim = %d tasks, %v", len(claimed), err)
	}
	return a, st, claimed
}

// A worker flooding progress reports does not grow the agent's queue of steps: a report replaces
// the same task's report still waiting for the store (latest wins), and a later outcome goes after
// it (issue 21, item 8).
func TestProgressReportsCoalesce(t *testing.T) {
	t.Parallel()
	a, _, claimed := internalSetup(t)
	c := newCommitter(a)
	l := claimed[0].Lease
	noop := func(store.OutcomeResult, bool) {}
	c.add(store.Outcome{Kind: store.OutcomeStart, Lease: l}, noop)
	for i := range 10000 {
		c.add(store.Outcome{Kind: store.OutcomeProgress, Lease: l, Fraction: float64(i) / 10000, Message: "step"}, noop)
	}
	if n := c.queued(); n != 2 {
		t.Fatalf("%d steps queued after a start and 10,000 progress reports; want 2 (the start and the latest report)", n)
	}
	c.add(store.Outcome{Kind: store.OutcomeComplete, Lease: l, Completion: &store.Completion{Lease: l}}, noop)
	c.add(store.Outcome{Kind: store.OutcomeProgress, Lease: l, Fraction: 1}, noop)
	if n := c.queued(); n != 4 {
		t.Fatalf("%d steps queued; want 4: a report after the outcome does not jump ahead of it", n)
	}
	c.mu.Lock()
	got := c.q[1].o.Fraction
	c.mu.Unlock()
	if got != 0.9999 {
		t.Fatalf("the queued report says %v; want the latest, 0.9999", got)
	}
	for c.flushOnce(t.Context(), false) {
	}
	if n := c.queued(); n != 0 {
		t.Fatalf("%d steps left after flushing", n)
	}
}

// A start with nothing after it is held (up to startHold), then recorded on its own; a start whose
// completion follows within the hold goes with the completion: RUNNING then COMPLETED, one step.
func TestStartHeldForItsOutcome(t *testing.T) {
	t.Parallel()
	a, st, claimed := internalSetup(t)
	c := newCommitter(a)
	l := claimed[0].Lease
	var started, completed []error
	c.add(store.Outcome{Kind: store.OutcomeStart, Lease: l, Time: time.Now()}, func(r store.OutcomeResult, _ bool) { started = append(started, r.Err) })
	if c.flushOnce(t.Context(), false) {
		t.Fatal("a fresh start alone was recorded; want it held for its outcome")
	}
	if n := c.queued(); n != 1 {
		t.Fatalf("%d steps queued; want the held start", n)
	}
	if _, ok := c.heldUntil(); !ok {
		t.Fatal("heldUntil says nothing is held")
	}
	c.add(store.Outcome{Kind: store.OutcomeComplete, Lease: l, Completion: &store.Completion{Lease: l,
		Outputs: []store.OutputData{{ResultID: "out", Data: store.ResultData{Inline: []byte("v")}}}}},
		func(r store.OutcomeResult, _ bool) { completed = append(completed, r.Err) })
	if !c.flushOnce(t.Context(), false) {
		t.Fatal("the completion was not recorded")
	}
	if c.queued() != 0 || len(started) != 1 || started[0] != nil || len(completed) != 1 || completed[0] != nil {
		t.Fatalf("queued %d, start results %v, completion results %v; want both recorded once, nothing left", c.queued(), started, completed)
	}
	tk, err := st.GetTask(t.Context(), l.SessionID, l.TaskID)
	if err != nil || tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_COMPLETED || tk.GetAttempts()[0].GetStartTime() == nil {
		t.Fatalf("task = %v, %v; want COMPLETED with a start time", tk, err)
	}
	// the final flush (the agent stops) sends a held start at once
	c.add(store.Outcome{Kind: store.OutcomeStart, Lease: l, Time: time.Now()}, func(store.OutcomeResult, bool) {})
	if !c.flushOnce(t.Context(), true) || c.queued() != 0 {
		t.Fatalf("the final flush left %d steps", c.queued())
	}
}
