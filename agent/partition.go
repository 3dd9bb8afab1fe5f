package agent

import (
	"context"
	"log/slog"
	"time"

	"github.com/chorus-hpc/chorus/internal/store"
)

// partition leases tasks of one partition and spreads them over its worker processes.
type partition struct {
	a     *Agent
	cfg   PartitionConfig
	procs []*proc
	log   *slog.Logger
	// wake is signalled when a worker slot frees up or a worker connects.
	wake chan struct{}
}

// claimLoop leases tasks while workers have room (in flight below capacity plus their prefetch),
// and blocks on the store while the queue is empty. It leases in batches: only once half the
// partition's prefetch is used up, or at once when a worker would otherwise idle.
func (p *partition) claimLoop(ctx context.Context) {
	a := p.a
	for ctx.Err() == nil {
		free, hungry, prefetch := 0, false, 0
		for _, pr := range p.procs {
			n, h := pr.need()
			free += n
			hungry = hungry || h
			pr.mu.Lock()
			if pr.conn != nil {
				prefetch += pr.prefetchLocked()
			}
			pr.mu.Unlock()
		}
		if free <= 0 || (!hungry && free < max(1, prefetch/2)) {
			select {
			case <-p.wake:
			case <-ctx.Done():
			}
			continue
		}
		// After a stall of the agent, its leases are checked before it takes more.
		a.stall.wait(ctx, a.cfg.Clock.Now())
		// The claim itself is not cancelled with ctx: leases it takes are handed back by the drain,
		// whereas a claim cut short could leave leases that only expire.
		tasks, err := a.store.Claim(a.bg, store.ClaimRequest{Partition: p.cfg.Name, AgentID: a.cfg.AgentID,
			Max: min(free, p.claimBatch()), LeaseTTL: a.cfg.LeaseTTL})
		if err != nil {
			if ctx.Err() == nil {
				p.log.Error("could not lease tasks; retrying in 1s", "error", err)
				a.sleep(ctx, time.Second)
			}
			continue
		}
		if len(tasks) == 0 {
			if err := a.store.WaitForWork(ctx, p.cfg.Name, a.cfg.WaitTimeout); err != nil && ctx.Err() == nil {
				p.log.Error("could not wait for work; retrying in 1s", "error", err)
				a.sleep(ctx, time.Second)
			}
			continue
		}
		release := p.hold()
		var orphans []*run
		for _, t := range tasks {
			// The run's worker is set before the lease is published to the renew loop.
			pr := p.pick()
			r := &run{a: a, task: t}
			r.owner.Store(pr)
			r.traceStart()
			a.addLease(r)
			if pr == nil || !pr.reserve(r) {
				orphans = append(orphans, r)
			}
		}
		release()
		a.release(orphans, "no worker has room")
	}
}

// claimBatch is the most tasks one claim leases: Config.ClaimBatch, or half the partition's slots
// (at least minClaimBatch).
func (p *partition) claimBatch() int {
	if n := p.a.cfg.ClaimBatch; n > 0 {
		return n
	}
	return max(minClaimBatch, p.cfg.Processes*p.cfg.Capacity/2)
}

const minClaimBatch = 64

// hold holds the connections of the partition's workers (see transport.hold) while a claimed batch
// is spread over them, so each worker that accepts batches gets its share as one batch.
func (p *partition) hold() (release func()) {
	var rels []func()
	for _, pr := range p.procs {
		pr.mu.Lock()
		if pr.conn != nil {
			rels = append(rels, pr.conn.hold())
		}
		pr.mu.Unlock()
	}
	return func() {
		for _, r := range rels {
			r()
		}
	}
}

// pick returns the connected worker with the most room, or nil.
func (p *partition) pick() *proc {
	var best *proc
	bestRoom := 0
	for _, pr := range p.procs {
		if n := pr.room(); n > bestRoom {
			best, bestRoom = pr, n
		}
	}
	return best
}
