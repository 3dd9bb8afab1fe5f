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

// claimHint is what a claim's first round trip reads (the partition's sessions with due retries and
// the candidates), read by WaitForWork right after its wake-up.
type claimHint struct {
	due   []string
	cands []valkey.ZScore
	at    time.Time
}

// hintTTL is how long a hint may stand for the reads it replaces: a claim follows its wake-up at once.
const hintTTL = 20 * time.Millisecond

// hints are the partitions' last hints, each taken by one claim.
type hints struct {
	mu sync.Mutex
	m  map[string]claimHint
}

func (h *hints) put(p string, x claimHint) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[string]claimHint{}
	}
	h.m[p] = x
}

// take returns and forgets the partition's hint if it is fresh.
func (h *hints) take(p string) (claimHint, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	x, ok := h.m[p]
	delete(h.m, p)
	return x, ok && time.Since(x.at) < hintTTL
}
