package valkeystore

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// DeclarePartitions records partitions from configuration.
func (s *Store) DeclarePartitions(ctx context.Context, partitions []string) error {
	if len(partitions) == 0 {
		return nil
	}
	return storeErr("declaring partitions", s.client.Do(ctx, s.client.B().Sadd().Key(s.keys.declaredPartitions()).Member(partitions...).Build()).Error())
}

// ListPartitions returns declared partitions and those served by a live agent, sorted by name.
func (s *Store) ListPartitions(ctx context.Context) ([]*chorusv1.Partition, error) {
	res := s.client.DoMulti(ctx, s.client.B().Smembers().Key(s.keys.declaredPartitions()).Build(), s.client.B().Smembers().Key(s.keys.servedPartitions()).Build())
	var err error
	declared := decode(&err, res[0].AsStrSlice, "listing partitions")
	served := decode(&err, res[1].AsStrSlice, "listing partitions")
	if err != nil {
		return nil, err
	}
	names := append(declared, served...)
	slices.Sort(names)
	names = slices.Compact(names)
	var out []*chorusv1.Partition
	for _, n := range names {
		p, err := s.GetPartition(ctx, n)
		if store.IsNotFound(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// refreshOnRead is the most sessions with unfinished work whose counts GetPartition re-reads itself
// (small installations then see exact counts at once; larger ones rely on the reconciler's refresh).
const refreshOnRead = 64

// GetPartition returns one partition with its queue depth, counts and live agents. The counts are
// the partition's totals (kept by SubmitTasks and the reconciler, see reconcile.go), so a read costs
// a few commands whatever the number of sessions.
func (s *Store) GetPartition(ctx context.Context, name string) (*chorusv1.Partition, error) {
	res := s.client.DoMulti(ctx,
		s.client.B().Sismember().Key(s.keys.declaredPartitions()).Member(name).Build(),
		s.client.B().Hgetall().Key(s.keys.agents(name)).Build(),
		s.client.B().Scard().Key(s.keys.partSessions(name)).Build(),
		s.client.B().Scard().Key(s.keys.active(name)).Build())
	var err error
	declared := decode(&err, res[0].AsBool, "reading the partition")
	agents := decode(&err, res[1].AsStrMap, "reading the partition's agents")
	sessions := decode(&err, res[2].AsInt64, "reading the partition's sessions")
	nactive := decode(&err, res[3].AsInt64, "reading the partition's sessions")
	if err != nil {
		return nil, err
	}
	p := &chorusv1.Partition{PartitionId: name, Declared: declared, TaskCounts: &chorusv1.TaskCounts{}}
	now := s.nowMS()
	for id, raw := range agents {
		var h heartbeatJSON
		if json.Unmarshal([]byte(raw), &h) != nil || h.Expires < now {
			continue // lapsed: RequeueDeadAgents takes its leases back and removes it
		}
		p.Agents = append(p.Agents, &chorusv1.AgentInfo{AgentId: id, Hostname: h.Hostname, Capacity: h.Capacity, InFlight: h.InFlight,
			LastSeenTime: timestamppb.New(time.UnixMilli(h.Seen))})
		p.TotalCapacity += h.Capacity
	}
	slices.SortFunc(p.Agents, func(a, b *chorusv1.AgentInfo) int {
		if a.AgentId < b.AgentId {
			return -1
		}
		return 1
	})
	var act []string
	if nactive > 0 && nactive <= refreshOnRead {
		if act, err = s.client.Do(ctx, s.client.B().Smembers().Key(s.keys.active(name)).Build()).AsStrSlice(); err != nil {
			return nil, storeErr("reading the partition's sessions", err)
		}
	}
	tot, err := s.refreshCounts(ctx, name, act)
	if err != nil {
		return nil, err
	}
	p.TaskCounts = countsOf(tot)
	p.QueueDepth = p.TaskCounts.Queued
	if !declared && len(p.Agents) == 0 && sessions == 0 {
		return nil, store.Errorf(store.CodeNotFound, "partition %s is neither declared nor served by a live agent", name)
	}
	return p, nil
}
