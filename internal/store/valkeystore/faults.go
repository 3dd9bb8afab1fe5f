package valkeystore

import "context"

// DropIndexEntries removes a session's entries from a partition's ready, retry-delayed and lease
// indexes and from the lease indexes of agents, as a process dying between a committed script and
// its index update would leave them. It exists for the conformance suite (storetest.IndexBreaker):
// the reconciler must find the work again.
func (s *Store) DropIndexEntries(ctx context.Context, p, sessionID string, agentIDs ...string) error {
	cmds := []valkeyCmd{
		s.client.B().Zrem().Key(s.keys.ready(p)).Member(sessionID).Build(),
		s.client.B().Zrem().Key(s.keys.delayed(p)).Member(sessionID).Build(),
		s.client.B().Zrem().Key(s.keys.leases(p)).Member(sessionID).Build(),
	}
	for _, a := range agentIDs {
		cmds = append(cmds, s.client.B().Zrem().Key(s.keys.agentLeases(a)).Member(p+"\n"+sessionID).Build())
	}
	for _, r := range s.client.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			return storeErr("dropping index entries", err)
		}
	}
	return nil
}
