package valkeystore

import (
	"context"
	"encoding/json"
	"slices"

	"google.golang.org/protobuf/types/known/timestamppb"

	"time"

	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// DeclarePartitions records partitions from configuration.
func (s *Store) DeclarePartitions(ctx context.Context, partitions []string) error {
	if len(partitions) == 0 {
		return nil
	}
	return storeErr("declaring partitions", s.c.Do(ctx, s.c.B().Sadd().Key(s.k.declaredPartitions()).Member(partitions...).Build()).Error())
}

// ListPartitions returns declared partitions and those served by a live agent, sorted by name.
func (s *Store) ListPartitions(ctx context.Context) ([]*chorusv1.Partition, error) {
	res := s.c.DoMulti(ctx, s.c.B().Smembers().Key(s.k.declaredPartitions()).Build(), s.c.B().Smembers().Key(s.k.servedPartitions()).Build())
	declared, err := res[0].AsStrSlice()
	if err != nil {
		return nil, storeErr("listing partitions", err)
	}
	served, _ := res[1].AsStrSlice()
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

// GetPartition returns one partition with its queue depth, counts and live agents.
func (s *Store) GetPartition(ctx context.Context, name string) (*chorusv1.Partition, error) {
	res := s.c.DoMulti(ctx,
		s.c.B().Sismember().Key(s.k.declaredPartitions()).Member(name).Build(),
		s.c.B().Hgetall().Key(s.k.agents(name)).Build(),
		s.c.B().Smembers().Key(s.k.partSessions(name)).Build())
	declared, err := res[0].AsBool()
	if err != nil {
		return nil, storeErr("reading the partition", err)
	}
	agents, _ := res[1].AsStrMap()
	sessions, _ := res[2].AsStrSlice()
	p := &chorusv1.Partition{PartitionId: name, Declared: declared, TaskCounts: &chorusv1.TaskCounts{}}
	now := s.nowMS()
	for id, raw := range agents {
		var h heartbeatJSON
		if json.Unmarshal([]byte(raw), &h) != nil || h.Expires < now {
			_ = s.c.Do(ctx, s.c.B().Hdel().Key(s.k.agents(name)).Field(id).Build()).Error()
			continue
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
	if len(sessions) > 0 {
		cmds := make([]valkeyCmd, len(sessions))
		for i, sid := range sessions {
			cmds[i] = s.c.B().Hgetall().Key(s.k.partCounts(sid, name)).Build()
		}
		for _, r := range s.c.DoMulti(ctx, cmds...) {
			m, err := r.AsIntMap()
			if err != nil {
				return nil, storeErr("reading partition counts", err)
			}
			c := countsOf(m)
			tc := p.TaskCounts
			tc.Pending += c.Pending
			tc.Queued += c.Queued
			tc.Dispatched += c.Dispatched
			tc.Running += c.Running
			tc.Completed += c.Completed
			tc.Failed += c.Failed
			tc.Cancelled += c.Cancelled
		}
	}
	p.QueueDepth = p.TaskCounts.Queued
	if !declared && len(p.Agents) == 0 && len(sessions) == 0 {
		return nil, store.Errorf(store.CodeNotFound, "partition %s is neither declared nor served by a live agent", name)
	}
	return p, nil
}
