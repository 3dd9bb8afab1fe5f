package valkeystore

import (
	"context"
	"strconv"
)

// Cancelling a session ends its tasks in chunks of Config.ChunkSize (cancel_chunk.lua), so a session
// with a million tasks never holds Valkey in one script. SetSessionStatus records the session in the
// global background set before the status change (write-ahead), runs the first chunk and answers;
// WorkBackground (called every second by every agent) works through the rest and removes the session
// from the set when its cancellation is done.

// cancelChunk runs one chunk of at most size tasks of a cancelled session's cancellation; done is
// true when nothing is left.
func (s *Store) cancelChunk(ctx context.Context, sid string, size int) (n int, done bool, err error) {
	vals, err := s.run(ctx, s.scripts.cancelChunk, sid, []string{itoa(s.nowMS()), strconv.Itoa(size)}).AsIntSlice()
	if err != nil {
		return 0, false, storeErr("cancelling a chunk of the session's tasks", err)
	}
	return int(vals[0]), vals[1] == 1, nil
}

// cancelDone removes a session whose cancellation is done from the background set.
func (s *Store) cancelDone(ctx context.Context, sid string) error {
	return storeErr("updating the background set", s.client.Do(ctx, s.client.B().Zrem().Key(s.keys.background()).Member(sid).Build()).Error())
}

// finishCancel runs chunks of a session's cancellation until it is done or chunks have run, and
// removes the session from the background set when done.
func (s *Store) finishCancel(ctx context.Context, sid string, chunks int) (int, bool, error) {
	total := 0
	for range chunks {
		n, done, err := s.cancelChunk(ctx, sid, s.cfg.ChunkSize)
		total += n
		if err != nil {
			return total, false, err
		}
		if done {
			return total, true, s.afterCommit("background set after a cancellation", s.cancelDone(ctx, sid))
		}
	}
	return total, false, nil
}

// WorkBackground cancels up to about maxTasks tasks of pending cancellations (the oldest session
// first), in chunks of at most Config.ChunkSize task ids.
func (s *Store) WorkBackground(ctx context.Context, maxTasks int) (int, error) {
	if maxTasks <= 0 {
		maxTasks = s.cfg.ChunkSize
	}
	total, looked := 0, 0
	for looked < maxTasks {
		sids, err := s.client.Do(ctx, s.client.B().Zrange().Key(s.keys.background()).Min("0").Max("0").Build()).AsStrSlice()
		if err != nil {
			return total, storeErr("reading the sessions being cancelled", err)
		}
		if len(sids) == 0 {
			break
		}
		size := min(s.cfg.ChunkSize, maxTasks-looked)
		n, done, err := s.cancelChunk(ctx, sids[0], size)
		if err != nil {
			return total, err
		}
		total += n
		looked += size
		if done {
			if err := s.cancelDone(ctx, sids[0]); err != nil {
				return total, err
			}
		}
	}
	return total, nil
}
