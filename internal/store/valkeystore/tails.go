package valkeystore

import (
	"context"
	"sync"
	"time"

	"github.com/valkey-io/valkey-go"
)

// tails runs the index updates that follow a committed claim (a claim's tail) after Claim returns,
// one partition after the other in the order they were started: the next Claim or WaitForWork of the
// partition waits for the last one, so this store's view of a partition's indexes is what it would be
// had the tail run inside Claim. Close waits for every tail.
type tails struct {
	mu   sync.Mutex
	last map[string]chan struct{} // partition → closed when its latest tail has run
	wg   sync.WaitGroup
}

// start runs f after the partition's previous tail, on a context that keeps ctx's values but not its
// cancellation (the claim it follows is committed; its retries are bounded by the store's IndexRetry).
func (t *tails) start(ctx context.Context, p string, f func(context.Context)) {
	done := make(chan struct{})
	t.mu.Lock()
	if t.last == nil {
		t.last = map[string]chan struct{}{}
	}
	prev := t.last[p]
	t.last[p] = done
	t.wg.Add(1)
	t.mu.Unlock()
	go func() {
		defer t.wg.Done()
		defer close(done)
		if prev != nil {
			<-prev
		}
		f(context.WithoutCancel(ctx))
		t.mu.Lock()
		if t.last[p] == done {
			delete(t.last, p)
		}
		t.mu.Unlock()
	}()
}

// wait returns once the partition's tails started so far have run.
func (t *tails) wait(p string) {
	t.mu.Lock()
	last := t.last[p]
	t.mu.Unlock()
	if last != nil {
		<-last
	}
}

// close waits for every tail.
func (t *tails) close() { t.wg.Wait() }

// recent keeps one value per partition with the time it was put, for concurrent use.
type recent[T any] struct {
	mu sync.Mutex
	m  map[string]stamped[T]
}

type stamped[T any] struct {
	v  T
	at time.Time
}

func (r *recent[T]) put(p string, v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]stamped[T]{}
	}
	r.m[p] = stamped[T]{v: v, at: time.Now()}
}

// get returns partition p's value if it was put less than ttl ago; take also forgets it.
func (r *recent[T]) get(p string, ttl time.Duration, take bool) (T, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, ok := r.m[p]
	if take {
		delete(r.m, p)
	}
	return x.v, ok && time.Since(x.at) < ttl
}

// claimHint is what a claim's first round trip reads (the partition's sessions with due retries and
// the candidates), read by WaitForWork with its check for ready work or right after its wake-up.
type claimHint struct {
	due   []string
	cands []valkey.ZScore
}

// hintTTL is how long a hint may stand for the reads it replaces: a claim follows its wake-up at once.
const hintTTL = 20 * time.Millisecond

// hints are the partitions' last hints, each taken by one claim.
type hints struct{ recent[claimHint] }

// take returns and forgets the partition's hint if it is fresh.
func (h *hints) take(p string) (claimHint, bool) { return h.get(p, hintTTL, true) }

// A submit checks a partition's depth limit (PENDING+QUEUED tasks over all sessions) with a read of
// its totals before its script. A reading at most depthTTL old stands for that read while the batch
// leaves the partition at or below half the limit: the check was never atomic with the script (other
// gateways submit in between), and so far from the limit a reading a second old changes nothing a
// user could tell, while the read costs every submit a round trip. Near the limit every submit reads.
const depthTTL = time.Second

// depths are the partitions' last depth readings (PENDING+QUEUED over all sessions): from the
// check's own reads, and from the totals pcount.lua answers when a submit folds its counts.
type depths struct{ recent[int64] }

// putFolds keeps the depths in the answers of pcount.lua (the totals, status → count) to the folds
// of partitions parts, in order.
func (d *depths) putFolds(parts []string, res []valkey.ValkeyResult) {
	for j, p := range parts {
		if totals, err := res[j].AsIntMap(); err == nil {
			d.put(p, totals["1"]+totals["2"])
		}
	}
}

// farBelow reports whether a fresh reading of partition p leaves room for add more tasks with the
// partition at or below half of limit.
func (d *depths) farBelow(p string, add, limit int64) bool {
	held, ok := d.get(p, depthTTL, false)
	return ok && 2*(held+add) <= limit
}
