package agent

import (
	"context"

	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/store"
)

// renewLoop renews every lease the agent holds in one batch per round, and stops the tasks whose
// lease was lost (cancelled, expired, finished elsewhere).
func (a *Agent) renewLoop(ctx context.Context) {
	var leases []store.Lease
	every(ctx, a.cfg.Clock, a.cfg.RenewInterval, nil, func() {
		leases = leases[:0]
		a.mu.Lock()
		for _, r := range a.leases {
			leases = append(leases, r.task.Lease)
		}
		a.mu.Unlock()
		if len(leases) == 0 {
			return
		}
		rctx, cancel := context.WithTimeout(ctx, a.cfg.RenewInterval)
		lost, err := a.store.RenewLeases(rctx, a.cfg.AgentID, leases, a.cfg.LeaseTTL)
		cancel()
		if err != nil {
			a.log.Warn("could not renew leases; retrying next round", "leases", len(leases), "error", err)
			return
		}
		for _, l := range lost {
			a.mu.Lock()
			r := a.leases[l.Token]
			a.mu.Unlock()
			if r == nil {
				continue
			}
			if r.proc() == nil {
				a.dropLease(r)
				continue
			}
			r.proc().lose(r, "lease lost: "+l.Reason)
		}
	})
}

// requeueLoop takes back expired leases of the agent's partitions (their agent died).
func (a *Agent) requeueLoop(ctx context.Context) {
	every(ctx, a.cfg.Clock, a.cfg.RequeueInterval, nil, func() {
		a.stall.wait(ctx, a.cfg.Clock.Now()) // after a stall, renew its own leases before taking back expired ones
		for _, p := range a.parts {
			n, err := a.store.RequeueExpired(ctx, p.cfg.Name, 1000)
			if err != nil {
				if ctx.Err() == nil {
					p.log.Warn("could not requeue expired leases", "error", err)
				}
				continue
			}
			if n > 0 {
				a.tel.expirations.Add(ctx, int64(n), a.tel.labelled(p.cfg.Name, ""))
				p.log.Info("took back tasks whose lease expired", "tasks", n)
			}
		}
	})
}

// heartbeatLoop reports the agent's presence and capacity per partition.
func (a *Agent) heartbeatLoop(ctx context.Context) {
	t := clock.NewTicker(a.cfg.Clock, a.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		for _, p := range a.parts {
			hb := store.AgentHeartbeat{AgentID: a.cfg.AgentID, Hostname: a.cfg.Hostname, Partition: p.cfg.Name}
			for _, pr := range p.procs {
				pr.mu.Lock()
				if pr.conn != nil {
					hb.Capacity += int32(pr.capacity)
					hb.InFlight += int32(len(pr.assigned))
				}
				pr.mu.Unlock()
			}
			if err := a.store.Heartbeat(ctx, hb, 3*a.cfg.HeartbeatInterval); err != nil && ctx.Err() == nil {
				p.log.Warn("could not send a heartbeat", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}
