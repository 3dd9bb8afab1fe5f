package agent

import (
	"context"
	"time"
)

// reconcileBudget is how many sessions of a partition one reconciler pass looks at.
const reconcileBudget = 100

// backgroundTasks is the most tasks of cancelled sessions one maintenance round cancels.
const backgroundTasks = 10000

// maintenanceLoop keeps the store healthy for everyone, as any process may: every heartbeat interval
// it takes back the leases of the partitions' agents whose heartbeat lapsed (a dead agent's tasks run
// again within seconds, not a lease TTL) and works through pending cancellations of big sessions, and
// every ReconcileInterval it runs one bounded reconciler pass per partition (index entries lost in a
// crash between two writes, counts).
//
// An agent judges others dead only after it has itself reached the store for a whole heartbeat TTL
// (3 intervals): after a store outage every agent's heartbeat looks old until each has beaten again,
// and their tasks must not be taken back for it.
func (a *Agent) maintenanceLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.HeartbeatInterval)
	defer t.Stop()
	var last, reachableSince time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := a.store.Ping(ctx); err != nil {
			reachableSince = time.Time{}
			continue
		}
		if reachableSince.IsZero() {
			reachableSince = time.Now()
		}
		for _, p := range a.parts {
			if time.Since(reachableSince) < 3*a.cfg.HeartbeatInterval {
				break
			}
			n, err := a.store.RequeueDeadAgents(ctx, p.cfg.Name)
			if err != nil && ctx.Err() == nil {
				p.log.Warn("could not take back the leases of dead agents", "error", err)
			} else if n > 0 {
				p.log.Info("took back the tasks of agents whose heartbeat lapsed", "tasks", n)
			}
		}
		if _, err := a.store.WorkBackground(ctx, backgroundTasks); err != nil && ctx.Err() == nil {
			a.log.Warn("could not work through pending cancellations; retrying next round", "error", err)
		}
		if time.Since(last) < a.cfg.ReconcileInterval {
			continue
		}
		last = time.Now()
		for _, p := range a.parts {
			rep, err := a.store.Reconcile(ctx, p.cfg.Name, reconcileBudget)
			if err != nil && ctx.Err() == nil {
				p.log.Warn("reconciler pass failed; retrying next round", "error", err)
			} else if rep.Repaired > 0 {
				p.log.Warn("the reconciler restored index entries that pointed to stranded work", "entries", rep.Repaired)
			}
		}
	}
}
