package valkeystore

import (
	"context"
	"encoding/json"
	"strings"
)

// ReleaseAgentLeases takes back every lease an agent id holds, in every partition, at once.
func (s *Store) ReleaseAgentLeases(ctx context.Context, agentID string) (int, error) {
	members, err := s.client.Do(ctx, s.client.B().Zrange().Key(s.keys.agentLeases(agentID)).Min("0").Max("-1").Build()).AsStrSlice()
	if err != nil {
		return 0, storeErr("reading the agent's lease index", err)
	}
	return s.takeBack(ctx, agentID, members, "", "agent "+agentID+" restarted; its previous run held the lease")
}

// RequeueDeadAgents takes back the leases of the agents of a partition whose heartbeat lapsed.
func (s *Store) RequeueDeadAgents(ctx context.Context, p string) (int, error) {
	hb, err := s.client.Do(ctx, s.client.B().Hgetall().Key(s.keys.agents(p)).Build()).AsStrMap()
	if err != nil {
		return 0, storeErr("reading the partition's agents", err)
	}
	now := s.nowMS()
	total := 0
	for id, raw := range hb {
		var h heartbeatJSON
		if json.Unmarshal([]byte(raw), &h) == nil && h.Expires >= now {
			continue
		}
		members, err := s.client.Do(ctx, s.client.B().Zrange().Key(s.keys.agentLeases(id)).Min("0").Max("-1").Build()).AsStrSlice()
		if err != nil {
			return total, storeErr("reading the agent's lease index", err)
		}
		n, err := s.takeBack(ctx, id, members, p, "agent "+id+" stopped sending heartbeats (presumed dead); its lease was taken back")
		total += n
		if err != nil {
			return total, err
		}
		// Forget the dead agent (an agent that was only frozen adds itself back with its next heartbeat).
		if err := s.client.Do(ctx, s.client.B().Hdel().Key(s.keys.agents(p)).Field(id).Build()).Error(); err != nil {
			return total, storeErr("removing a dead agent", err)
		}
		if n > 0 {
			s.cfg.Logger.Info("took back the leases of an agent whose heartbeat lapsed", "agent", id, "partition", p, "tasks", n)
		}
	}
	return total, nil
}

// takeBack runs release_agent.lua (shared with the restart hand-back: a DISPATCHED task goes back
// without an attempt counted, a RUNNING one's attempt ends as LEASE_EXPIRED with why) for the
// "<partition>\n<session>" members of an agent's lease index (only those of partition only, when set)
// and removes the members it handled.
func (s *Store) takeBack(ctx context.Context, agentID string, members []string, only, why string) (int, error) {
	total := 0
	for _, m := range members {
		p, sid, ok := strings.Cut(m, "\n")
		if !ok || (only != "" && p != only) {
			continue
		}
		vals, err := s.run(ctx, s.scripts.releaseAgent, sid, []string{p, agentID, itoa(s.nowMS()), why}).ToArray()
		if err != nil {
			return total, storeErr("taking back the leases of agent "+agentID, err)
		}
		n, err := vals[0].AsInt64()
		if err != nil {
			return total, storeErr("taking back the leases of agent "+agentID, err)
		}
		total += int(n)
		var ready []string
		for _, v := range vals[1:] {
			if rp, err := v.ToString(); err == nil {
				ready = append(ready, rp)
			}
		}
		_ = s.afterCommit("ready index after taking back leases", s.markReady(ctx, sid, ready...))
		if err := s.client.Do(ctx, s.client.B().Zrem().Key(s.keys.agentLeases(agentID)).Member(m).Build()).Error(); err != nil {
			return total, storeErr("updating the agent's lease index", err)
		}
	}
	return total, nil
}
