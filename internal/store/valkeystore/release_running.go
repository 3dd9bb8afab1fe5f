package valkeystore

import (
	"context"

	"github.com/chorus-hpc/chorus/internal/store"
)

// ReleaseRunning hands leased tasks back at an agent's drain deadline, counting the attempt of the
// RUNNING ones (see store.AgentStore).
func (s *Store) ReleaseRunning(ctx context.Context, leases []store.Lease, reason string) error {
	if reason == "" {
		reason = "the agent handed the task back at its drain deadline"
	}
	bySession := map[string][]string{}
	for _, l := range leases {
		if bySession[l.SessionID] == nil {
			bySession[l.SessionID] = []string{itoa(s.nowMS()), reason}
		}
		bySession[l.SessionID] = append(bySession[l.SessionID], intID(l.SessionID, l.TaskID), l.Token)
	}
	for sid, args := range bySession {
		parts, err := s.run(ctx, s.scripts.releaseRunning, sid, args).AsStrSlice()
		if err != nil {
			return storeErr("handing leases back at the drain deadline", err)
		}
		if err := s.markReady(ctx, sid, parts...); err != nil {
			return err
		}
	}
	return nil
}
