package agent

import (
	"context"
	"time"

	"github.com/chorus-hpc/chorus/internal/clock"
)

const (
	// reconcileBudget is how many sessions of a partition one reconciler pass looks at.
	reconcileBudget = 100
	// backgroundTasks is the most tasks of cancelled sessions one maintenance round cancels.
	backgroundTasks = 10000
)

// deadAgentLoop takes back, every half heartbeat interval, the leases of the partitions' agents whose
// heartbeat lapsed, as any process may: a dead agent's tasks run again within seconds, not a lease
// TTL (its heartbeat is kept 3 intervals, so about 2-3.5 intervals after its death).
//
// An agent judges others dead only after it has itself reached the store for a whole heartbeat TTL:
// after a store outage every agent's heartbeat looks old until each has beaten again, and their
// tasks must not be taken back for it.
func (a *Agent) deadAgentLoop(ctx context.Context) {
	var reachableSince time.Time
	every(ctx, clock.Real{}, a.cfg.HeartbeatInterval/2, nil, func() {
		if err := a.store.Ping(ctx); err != nil {
			reachableSince = time.Time{}
			return
		}
		if reachableSince.IsZero() {
			reachableSince = time.Now()
		}
		if time.Since(reachableSince) < 3*a.cfg.HeartbeatInterval {
			return
		}
		for _, p := range a.parts {
			n, err := a.store.RequeueDeadAgents(ctx, p.cfg.Name)
			if err != nil && ctx.Err() == nil {
				p.log.Warn("could not take back the leases of dead agents", "error", err)
			} else if n > 0 {
				p.log.Info("took back the tasks of agents whose heartbeat lapsed", "tasks", n)
			}
		}
	})
}

// maintenanceLoop keeps the store healthy for everyone, as any process may: every heartbeat interval
// it works through pending cancellations of big sessions, and every ReconcileInterval it runs one
// bounded reconciler pass per partition (index entries lost in a crash between two writes, counts).
func (a *Agent) maintenanceLoop(ctx context.Context) {
	var last time.Time
	every(ctx, clock.Real{}, a.cfg.HeartbeatInterval, nil, func() {
		if _, err := a.store.WorkBackground(ctx, backgroundTasks); err != nil && ctx.Err() == nil {
			a.log.Warn("could not work through pending cancellations; retrying next round", "error", err)
		}
		if time.Since(last) < a.cfg.ReconcileInterval {
			return
		}
		last = time.Now()
		for _, p := range a.parts {
			rep, err := a.store.Reconcile(ctx, p.cfg.Name, reconcileBudget)
			if err != nil && ctx.Err() == nil {
				p.log.Warn("reconciler pass failed; retrying next round", "error", err)
			} else if rep.Repaired > 0 {
				// Info, not Warn: besides entries a crash lost between two writes, a pass also adds
				// entries whose own write was still on its way (a submit's wake-up pipelined after
				// its script), which is harmless.
				p.log.Info("the reconciler added partition index entries that were missing (lost in a crash between two writes, or still being written)", "entries", rep.Repaired)
			}
		}
	})
}
