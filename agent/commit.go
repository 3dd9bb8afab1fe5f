package agent

import (
	"context"
	"sync"
	"time"

	"github.com/chorus-hpc/chorus/internal/store"
)

// committer records the steps of the agent's tasks (starts, progress reports, completions and
// failures) in batches: one goroutine takes every step queued since its last round trip and records
// them with one RecordOutcomes call (group commit). Under load many steps share a round trip; alone,
// a step goes at once. Steps are recorded in the order they were queued, so a task's start comes
// before its progress and its outcome, and a task that takes a worker slot is recorded running only
// after the outcome of the task that freed the slot.
//
// A call that fails without an answer (Valkey restarting, a network cut) is retried with backoff
// while the steps' leases can still be valid: every step is idempotent under its lease token, so
// finished work is not thrown away by a transient error.
type committer struct {
	a    *Agent
	mu   sync.Mutex
	q    []*step
	wake chan struct{}
	// now is the agent's clock (tests use a fake one).
	now func() time.Time
	// last is when the previous flush started (monotonic wall time, for lingering) and lastN how
	// many steps it carried.
	last  time.Time
	lastN int
	// progress is the queued (not yet taken) progress step of each lease token: a newer report of the
	// same task replaces it (latest wins), so a worker flooding reports cannot grow the queue.
	progress map[string]*step
}

// When the previous flush carried several steps and was less than busyGap ago, a flush waits for
// more steps while they keep coming: it looks again every lingerStep and stops once a look finds no
// new step, or after lingerMax. Under load the wait fills the batch (fewer, larger store calls); a
// burst that has ended is recorded at once, and an idle agent (or one task at a time: its start,
// then its outcome) records a step without waiting. A longer lingerMax (2 ms) saved few store calls
// more and added its wait to every task's latency in bursts of 100. The wait also ends once
// lingerEnough steps are queued: a script run's own cost is then spread thin already, and waiting
// longer only delays the steps.
const (
	lingerStep   = 250 * time.Microsecond
	lingerMax    = 1 * time.Millisecond
	busyGap      = 3 * time.Millisecond
	lingerEnough = 64
)

// step is one queued store.Outcome and what to do with its result.
type step struct {
	o store.Outcome
	// done receives the result on the committer's goroutine: it must not block.
	done func(res store.OutcomeResult, unclear bool)
	// giveUp is when retrying stops: past it the lease has expired and another agent may hold the task.
	giveUp time.Time
	// unclear is set once a call carrying the step failed without an answer: the step may have been
	// applied even if a later answer says the lease is lost.
	unclear bool
	// at is when the step was queued (monotonic wall time).
	at time.Time
}

// maxCommitBatch bounds the steps of one RecordOutcomes call.
const maxCommitBatch = 1024

func newCommitter(a *Agent) *committer {
	return &committer{a: a, wake: make(chan struct{}, 1), now: a.cfg.Clock.Now, progress: map[string]*step{}}
}

// add queues a step. A progress report replaces the same task's report still in the queue.
func (c *committer) add(o store.Outcome, done func(store.OutcomeResult, bool)) {
	s := &step{o: o, done: done, giveUp: c.now().Add(c.a.cfg.LeaseTTL), at: time.Now()}
	c.mu.Lock()
	if o.Kind == store.OutcomeProgress {
		if old := c.progress[o.Lease.Token]; old != nil {
			old.o = o
			c.mu.Unlock()
			return
		}
		c.progress[o.Lease.Token] = s
	} else {
		delete(c.progress, o.Lease.Token) // later reports go after this step
	}
	c.q = append(c.q, s)
	c.mu.Unlock()
	signal(c.wake)
}

// startHold is how long a task's start waits for the task's next step before it is recorded on its
// own: a task that ends within it (a short task) has its start recorded with its outcome, one store
// step instead of two. Users see RUNNING at most this much later; the start time is the worker's.
const startHold = 5 * time.Millisecond

// run records queued steps until ctx ends, then records what is left and returns.
func (c *committer) run(ctx context.Context) {
	hold := time.NewTimer(time.Hour)
	hold.Stop()
	for {
		select {
		case <-c.wake:
		case <-hold.C:
		case <-ctx.Done():
			for c.flushOnce(context.WithoutCancel(ctx), true) {
			}
			return
		}
		for c.flushOnce(ctx, false) {
		}
		if due, ok := c.heldUntil(); ok {
			hold.Reset(time.Until(due))
		}
	}
}

// heldUntil is when the oldest start still held is due.
func (c *committer) heldUntil() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.q {
		if st.o.Kind == store.OutcomeStart {
			return st.at.Add(startHold), true
		}
	}
	return time.Time{}, false
}

// queued is how many steps wait for the next flush.
func (c *committer) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.q)
}

// flushOnce records up to maxCommitBatch queued steps; it reports whether there were any. A start
// with no later step of its task queued is held back for up to startHold (all are sent when final).
func (c *committer) flushOnce(ctx context.Context, final bool) bool {
	if since := time.Since(c.last); since < busyGap && c.lastN > 1 && ctx.Err() == nil {
		n := c.queued()
		for waited := time.Duration(0); n > 0 && n < lingerEnough && waited < lingerMax; waited += lingerStep {
			time.Sleep(lingerStep)
			m := c.queued()
			if m == n {
				break
			}
			n = m
		}
	}
	started := time.Now()
	c.mu.Lock()
	q := mergeStarts(c.q)
	followed := map[string]bool{} // tokens with a step after their start
	for _, st := range q {
		if st.o.Kind != store.OutcomeStart {
			followed[st.o.Lease.Token] = true
		}
	}
	now := time.Now()
	var batch, rest []*step
	for _, st := range q {
		send := final || st.o.Kind != store.OutcomeStart || followed[st.o.Lease.Token] || now.Sub(st.at) >= startHold
		if send && len(batch) < maxCommitBatch {
			batch = append(batch, st)
		} else {
			rest = append(rest, st)
		}
	}
	c.q = append(q[:0], rest...)
	for _, st := range batch {
		if st.o.Kind == store.OutcomeProgress && c.progress[st.o.Lease.Token] == st {
			delete(c.progress, st.o.Lease.Token)
		}
	}
	c.mu.Unlock()
	if len(batch) == 0 {
		return false
	}
	c.last, c.lastN = started, len(batch)
	c.record(ctx, batch)
	return true
}

// record records a batch, retrying while its leases may hold.
func (c *committer) record(ctx context.Context, batch []*step) {
	outs := make([]store.Outcome, len(batch))
	for i, s := range batch {
		outs[i] = s.o
	}
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		rctx, cancel := context.WithTimeout(c.a.bg, storeTimeout)
		res, err := c.a.store.RecordOutcomes(rctx, outs)
		cancel()
		if err == nil {
			for i, s := range batch {
				s.done(res[i], s.unclear)
			}
			c.a.tel.commitBatch(len(batch))
			return
		}
		// No answer: keep the steps whose leases may still be valid, give up on the others.
		now := c.now()
		keep := batch[:0]
		for _, s := range batch {
			s.unclear = true
			if now.Before(s.giveUp) {
				keep = append(keep, s)
				continue
			}
			s.done(store.OutcomeResult{Err: err}, true)
		}
		batch = keep
		if len(batch) == 0 {
			return
		}
		outs = outs[:0]
		for _, s := range batch {
			outs = append(outs, s.o)
		}
		c.a.log.Warn("could not record task outcomes; retrying while their leases hold", "steps", len(batch), "attempt", attempt, "error", err)
		c.a.sleep(ctx, backoff) // cut short when the agent stops: one last try, without waiting any more
		backoff = min(2*backoff, 2*time.Second)
	}
}

// mergeStarts folds a task's start into its completion when the completion directly follows the
// start among the task's steps in the batch: one store step records both (Outcome.Started), and the
// start's callback hears of its success.
func mergeStarts(batch []*step) []*step {
	starts := map[string]int{} // lease token -> index in batch of a start not yet followed by another step
	drop := map[int]bool{}
	for i, st := range batch {
		tok := st.o.Lease.Token
		j, ok := starts[tok]
		if st.o.Kind == store.OutcomeStart {
			starts[tok] = i
			continue
		}
		if !ok {
			continue
		}
		delete(starts, tok)
		if st.o.Kind != store.OutcomeComplete {
			continue
		}
		start := batch[j]
		st.o.Started, st.o.After = start.o.Time, start.o.After
		if st.o.Started.IsZero() {
			st.o.Started = time.Now()
		}
		done, startDone := st.done, start.done
		st.done = func(res store.OutcomeResult, unclear bool) {
			if res.Err == nil { // a refused step is the completion's to handle (the task is over either way)
				startDone(res, unclear)
			}
			done(res, unclear)
		}
		st.giveUp = minTime(st.giveUp, start.giveUp)
		drop[j] = true
	}
	if len(drop) == 0 {
		return batch
	}
	out := batch[:0]
	for i, st := range batch {
		if !drop[i] {
			out = append(out, st)
		}
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
