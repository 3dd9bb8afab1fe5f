package valkeystore

import (
	"context"
	"slices"
)

// ReleaseAgentLeases takes back every lease held under agentID (see store.AgentStore). It visits
// the sessions of each partition's lease index, one script per session and partition.
func (s *Store) ReleaseAgentLeases(ctx context.Context, agentID string) (int, error) {
	res := s.c.DoMulti(ctx, s.c.B().Smembers().Key(s.k.declaredPartitions()).Build(), s.c.B().Smembers().Key(s.k.servedPartitions()).Build())
	declared, err := res[0].AsStrSlice()
	if err != nil {
		return 0, storeErr("listing partitions", err)
	}
	served, err := res[1].AsStrSlice()
	if err != nil {
		return 0, storeErr("listing partitions", err)
	}
	parts := append(declared, served...)
	slices.Sort(parts)
	parts = slices.Compact(parts)
	reason := "agent " + agentID + " restarted; its previous run held the lease"
	total := 0
	for _, p := range parts {
		sids, err := s.c.Do(ctx, s.c.B().Zrange().Key(s.k.leases(p)).Min("0").Max("-1").Build()).AsStrSlice()
		if err != nil {
			return total, storeErr("reading the partition's lease index", err)
		}
		for _, sid := range sids {
			vals, err := s.run(ctx, s.s.releaseAgent, sid, []string{p, agentID, itoa(s.nowMS()), reason}).ToArray()
			if err != nil {
				return total, storeErr("taking back the agent's leases", err)
			}
			n, _ := vals[0].AsInt64()
			total += int(n)
			var ready []string
			for _, v := range vals[1:] {
				if p, err := v.ToString(); err == nil {
					ready = append(ready, p)
				}
			}
			if err := s.markReady(ctx, sid, ready...); err != nil {
				return total, err
			}
		}
	}
	return total, nil
}
