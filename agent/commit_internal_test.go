package agent

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// TestMergeStarts: a start directly followed by its completion becomes one step carrying the start;
// a start followed by a progress report, or alone, is sent as it is; the start's callback hears of
// the merged step's success only.
func TestMergeStarts(t *testing.T) {
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var heard []string
	mk := func(kind store.OutcomeKind, tok, name string) *step {
		return &step{o: store.Outcome{Kind: kind, Lease: store.Lease{TaskID: tok, Token: tok}, Time: at},
			done: func(res store.OutcomeResult, _ bool) {
				if res.Err != nil {
					name += " refused"
				}
				heard = append(heard, name)
			}}
	}
	batch := []*step{
		mk(store.OutcomeStart, "a", "start a"),
		mk(store.OutcomeStart, "b", "start b"),
		mk(store.OutcomeProgress, "b", "progress b"),
		mk(store.OutcomeComplete, "a", "complete a"),
		mk(store.OutcomeComplete, "b", "complete b"),
		mk(store.OutcomeStart, "c", "start c"),
	}
	got := mergeStarts(batch)
	var kinds []string
	for _, st := range got {
		kinds = append(kinds, st.o.Lease.Token+map[store.OutcomeKind]string{store.OutcomeStart: " start", store.OutcomeProgress: " progress", store.OutcomeComplete: " complete"}[st.o.Kind])
	}
	want := []string{"b start", "b progress", "a complete", "b complete", "c start"}
	if len(kinds) != len(want) {
		t.Fatalf("steps %v; want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("steps %v; want %v", kinds, want)
		}
	}
	if !got[2].o.Started.Equal(at) || !got[3].o.Started.IsZero() {
		t.Fatalf("a's completion carries start %v (want %v), b's %v (want none)", got[2].o.Started, at, got[3].o.Started)
	}
	got[2].done(store.OutcomeResult{}, false)
	if len(heard) != 2 || heard[0] != "start a" || heard[1] != "complete a" {
		t.Fatalf("callbacks %v; want start a, complete a", heard)
	}
	heard = nil
	again := mergeStarts([]*step{mk(store.OutcomeStart, "d", "start d"), mk(store.OutcomeComplete, "d", "complete d")})
	if len(again) != 1 {
		t.Fatalf("%d steps; want the start merged into the completion", len(again))
	}
	again[0].done(store.OutcomeResult{Err: errors.New("lease lost")}, false)
	if len(heard) != 1 || heard[0] != "complete d refused" {
		t.Fatalf("callbacks %v; want only the completion's, refused", heard)
	}
}

// TestHeldStartIsNotAFlush: a flush that sends nothing (a start held for its task's outcome) does not
// count as the previous flush, so the outcome that follows is not held back to fill a batch as if the
// committer were busy.
func TestHeldStartIsNotAFlush(t *testing.T) {
	c := &committer{now: time.Now, progress: map[string]*step{}, lastN: 50}
	c.q = []*step{{o: store.Outcome{Kind: store.OutcomeStart, Lease: store.Lease{TaskID: "a", Token: "a"}}, at: time.Now()}}
	if c.flushOnce(t.Context(), false) {
		t.Fatal("a lone start, within its hold, was sent")
	}
	if !c.last.IsZero() {
		t.Fatalf("a flush that sent nothing set the previous flush's time to %v", c.last)
	}
	if c.queued() != 1 {
		t.Fatalf("%d steps queued after the flush; want the held start", c.queued())
	}
}

// failingStore fails its first RecordOutcomes calls without an answer and reports every call.
type failingStore struct {
	store.Store
	fail  int
	calls chan int
	n     int
}

func (f *failingStore) RecordOutcomes(ctx context.Context, outs []store.Outcome) ([]store.OutcomeResult, error) {
	f.n++
	f.calls <- f.n
	if f.n <= f.fail {
		return nil, errors.New("recording outcomes: Valkey call failed: i/o timeout")
	}
	return f.Store.RecordOutcomes(ctx, outs)
}

// TestCommitRetryWaitsOnAgentClock: a batch whose recording got no answer is tried again after a
// backoff on the agent's clock (a fake one here, moved by the test), and its step hears the answer
// as unclear: the first call may have been applied.
func TestCommitRetryWaitsOnAgentClock(t *testing.T) {
	t.Parallel()
	a, st, claimed := internalSetup(t)
	clk := clock.NewFake(time.Now())
	a.cfg.Clock = clk
	fs := &failingStore{Store: st, fail: 1, calls: make(chan int, 4)}
	a.store = fs
	c := newCommitter(a)
	type answer struct {
		res     store.OutcomeResult
		unclear bool
	}
	answered := make(chan answer, 1)
	start := &step{o: store.Outcome{Kind: store.OutcomeStart, Lease: claimed[0].Lease, Time: time.Now()}, giveUp: clk.Now().Add(time.Hour),
		done: func(res store.OutcomeResult, unclear bool) { answered <- answer{res, unclear} }}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a guard: nothing here waits long
	defer cancel()
	go c.record(ctx, []*step{start})
	next := func(what string) int {
		select {
		case n := <-fs.calls:
			return n
		case <-ctx.Done():
			t.Fatalf("no %s call to record the outcome", what)
			return 0
		}
	}
	if n := next("first"); n != 1 {
		t.Fatalf("call %d first", n)
	}
	for clk.Waiting() == 0 { // the committer's backoff, on the agent's clock
		select {
		case <-ctx.Done():
			t.Fatal("after a failed record the committer never waited on the agent's clock")
		case <-time.After(time.Millisecond):
		}
	}
	clk.Advance(time.Second)
	if n := next("second"); n != 2 {
		t.Fatalf("call %d after the backoff; want the second", n)
	}
	var got answer
	select {
	case got = <-answered:
	case <-ctx.Done():
		t.Fatal("the step never heard the answer")
	}
	if got.res.Err != nil || !got.unclear {
		t.Fatalf("answer %v (unclear %v); want success, unclear", got.res.Err, got.unclear)
	}
	if tk, err := st.GetTask(ctx, claimed[0].Lease.SessionID, claimed[0].Lease.TaskID); err != nil || tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_RUNNING {
		t.Fatalf("task %v (%v); want RUNNING once the retried start is recorded", tk.GetStatus(), err)
	}
}
