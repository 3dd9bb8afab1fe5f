package agent

import (
	"context"
	"sync"
	"time"

	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/store"
)

// stallWatch notices that the agent itself stopped running for a while (SIGSTOP, a paused VM, heavy
// swapping): a gap in the monotonic clock between two of its own ticks longer than the threshold.
// Its workers were not silent then, the agent was: after a stall the agent blames no worker (ping
// deadlines restart), and it checks its leases before it claims or requeues anything.
type stallWatch struct {
	threshold time.Duration

	mu      sync.Mutex
	last    time.Time     // when the agent last showed it was running
	stalled bool          // a stall was noticed and its lease check has not finished
	checked chan struct{} // closed when the current stall's lease check is done
	kick    chan struct{} // wakes the stall loop to check the leases
}

func newStallWatch(threshold time.Duration, now time.Time) *stallWatch {
	return &stallWatch{threshold: threshold, last: now, kick: make(chan struct{}, 1)}
}

// stallThreshold is the gap that counts as a stall: a third of the shorter of the ping timeout and
// the lease TTL, so a stall is noticed long before either could be wrongly blamed on the workers or
// leave leases to expire. A false alarm (a busy machine) costs one early lease renewal.
func stallThreshold(c Config) time.Duration {
	return max(min(c.PingTimeout, c.LeaseTTL)/3, 100*time.Millisecond)
}

// observe records that the agent runs at now and reports whether it is recovering from a stall
// (noticed now or earlier and not yet checked).
func (s *stallWatch) observe(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gap := now.Sub(s.last); gap > s.threshold && !s.stalled {
		s.stalled = true
		s.checked = make(chan struct{})
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	if now.After(s.last) {
		s.last = now
	}
	return s.stalled
}

// wait blocks while the agent recovers from a stall (until its leases are checked) or ctx ends.
func (s *stallWatch) wait(ctx context.Context, now time.Time) {
	if !s.observe(now) {
		return
	}
	s.mu.Lock()
	ch := s.checked
	s.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// done ends the current stall after its lease check.
func (s *stallWatch) done(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stalled {
		s.stalled = false
		close(s.checked)
	}
	if now.After(s.last) {
		s.last = now
	}
}

// stallLoop ticks to notice stalls and, after one, restarts every worker's ping deadline and
// renews (checks) every lease before claims and requeues go on.
func (a *Agent) stallLoop(ctx context.Context) {
	period := max(a.stall.threshold/4, 10*time.Millisecond)
	every(ctx, a.cfg.Clock, period, a.stall.kick, func() {
		if a.stall.observe(a.cfg.Clock.Now()) {
			a.recoverFromStall(ctx)
		}
	})
}

// recoverFromStall blames no worker for the agent's own silence, then checks the leases: the ones
// lost meanwhile stop their tasks, the others are renewed. It retries until the store answers.
func (a *Agent) recoverFromStall(ctx context.Context) {
	now := a.cfg.Clock.Now()
	a.log.Warn("the agent was not running for a while (stopped or starved); checking its leases before claiming more work", "threshold", a.stall.threshold)
	a.touchWorkers(now)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := a.checkLeases(ctx)
		if err == nil {
			break
		}
		a.log.Warn("could not check the leases after a stall; retrying", "error", err, "retry_in", backoff)
		a.sleep(ctx, backoff)
		backoff = min(2*backoff, a.cfg.RenewInterval)
	}
	now = a.cfg.Clock.Now()
	a.touchWorkers(now)
	a.stall.done(now)
}

// touchWorkers restarts the ping deadline of every worker at now.
func (a *Agent) touchWorkers(now time.Time) {
	for _, p := range a.parts {
		for _, pr := range p.procs {
			pr.lastSeen.Store(now.UnixNano())
		}
	}
}

// checkLeases renews every lease the agent holds in one round and stops the tasks whose lease was
// lost (as the renew loop does).
func (a *Agent) checkLeases(ctx context.Context) error {
	var leases []store.Lease
	a.mu.Lock()
	for _, r := range a.leases {
		leases = append(leases, r.task.Lease)
	}
	a.mu.Unlock()
	if len(leases) == 0 {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, max(a.cfg.RenewInterval, time.Second))
	defer cancel()
	lost, err := a.store.RenewLeases(rctx, a.cfg.AgentID, leases, a.cfg.LeaseTTL)
	if err != nil {
		return err
	}
	for _, l := range lost {
		a.mu.Lock()
		r := a.leases[l.Token]
		a.mu.Unlock()
		switch {
		case r == nil:
		case r.proc() == nil:
			a.dropLease(r)
		default:
			r.proc().lose(r, "lease lost while the agent was stopped: "+l.Reason)
		}
	}
	if len(lost) > 0 {
		a.log.Warn("leases lost while the agent was stopped; their tasks are stopped here", "lost", len(lost), "held", len(leases))
	}
	return nil
}

// sleep waits for d on the agent's clock, or until ctx ends; it reports whether the full wait
// happened (restart and retry backoffs: a fake clock moves them without sleeping).
func (a *Agent) sleep(ctx context.Context, d time.Duration) bool {
	t := clock.NewTimer(a.cfg.Clock, d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-ctx.Done():
		return false
	}
}
