package valkeystore

import (
	"context"
	"strconv"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

type sessionDefaults struct {
	opts   *chorusv1.TaskOptions
	weight int32
}

// CreateSession creates a RUNNING session.
func (s *Store) CreateSession(ctx context.Context, spec store.SessionSpec) (*chorusv1.Session, error) {
	w := spec.Weight
	if w == 0 {
		w = 1
	}
	if w < 1 || w > 100 {
		return nil, store.Errorf(store.CodeInvalidArgument, "session weight %d is outside 1-100", w)
	}
	now := s.now()
	sess := &chorusv1.Session{SessionId: store.NewSessionID(), DefaultTaskOptions: spec.DefaultTaskOptions, Weight: w,
		Labels: spec.Labels, CreateTime: timestamppb.New(now), Tenant: spec.Tenant}
	pb, err := proto.Marshal(sess)
	if err != nil {
		return nil, storeErr("encoding the session", err)
	}
	if spec.Tenant != "" { // see tenants.go
		if err := s.reserveTenantSession(ctx, spec.Tenant, sess.SessionId, now.UnixMilli(), spec.MaxSessions); err != nil {
			return nil, err
		}
	}
	if err := s.run(ctx, s.scripts.sessionCreate, sess.SessionId, []string{strconv.Itoa(int(w)), string(pb), itoa(now.UnixMilli()), spec.Tenant}).Error(); err != nil {
		if spec.Tenant != "" {
			s.unreserveTenantSession(ctx, spec.Tenant, sess.SessionId)
		}
		return nil, storeErr("creating the session", err)
	}
	if err := s.client.Do(ctx, s.client.B().Zadd().Key(s.keys.sessionIndex()).ScoreMember().ScoreMember(float64(now.UnixMilli()), sess.SessionId).Build()).Error(); err != nil {
		return nil, storeErr("indexing the session", err)
	}
	sess.Status = chorusv1.SessionStatus_SESSION_STATUS_RUNNING
	sess.UpdateTime = sess.CreateTime
	sess.TaskCounts = &chorusv1.TaskCounts{}
	return sess, nil
}

func (s *Store) readSession(ctx context.Context, id string, withCounts bool) (*chorusv1.Session, error) {
	cmds := []valkeyCmd{s.client.B().Hmget().Key(s.keys.meta(id)).Field("st", "pb", "ut").Build()}
	if withCounts {
		cmds = append(cmds, s.client.B().Hgetall().Key(s.keys.counts(id)).Build())
	}
	res := s.client.DoMulti(ctx, cmds...)
	vals, err := res[0].ToArray()
	if err != nil {
		return nil, storeErr("reading the session", err)
	}
	pb, err := vals[1].ToString()
	if err != nil {
		return nil, store.Errorf(store.CodeNotFound, "session %s does not exist", id)
	}
	sess := &chorusv1.Session{}
	if err := proto.Unmarshal([]byte(pb), sess); err != nil {
		return nil, storeErr("decoding the session", err)
	}
	st, _ := vals[0].AsInt64()
	ut, _ := vals[2].AsInt64()
	sess.Status = chorusv1.SessionStatus(st)
	sess.UpdateTime = ts(ut)
	if withCounts {
		m, err := res[1].AsIntMap()
		if err != nil {
			return nil, storeErr("reading task counts", err)
		}
		sess.TaskCounts = countsOf(m)
	}
	return sess, nil
}

func countsOf(m map[string]int64) *chorusv1.TaskCounts {
	return &chorusv1.TaskCounts{Pending: m["1"], Queued: m["2"], Dispatched: m["3"], Running: m["4"],
		Completed: m["5"], Failed: m["6"], Cancelled: m["7"]}
}

// notFound answers NotFound for something of a session that is not there, naming the session
// instead when the session itself does not exist (checked only on this path, one extra round trip).
func (s *Store) notFound(ctx context.Context, sessionID, format string, args ...any) error {
	n, err := s.client.Do(ctx, s.client.B().Exists().Key(s.keys.meta(sessionID)).Build()).AsInt64()
	if err != nil {
		return storeErr("checking that the session exists", err)
	}
	if n == 0 {
		return store.Errorf(store.CodeNotFound, "session %s does not exist", sessionID)
	}
	return store.Errorf(store.CodeNotFound, format, args...)
}

// GetSession returns a session with its task counts.
func (s *Store) GetSession(ctx context.Context, id string) (*chorusv1.Session, error) {
	return s.readSession(ctx, id, true)
}

// defaultsOf returns a session's default task options and weight (immutable; cached).
func (s *Store) defaultsOf(ctx context.Context, id string) (sessionDefaults, error) {
	s.mu.Lock()
	d, ok := s.defaults[id]
	s.mu.Unlock()
	if ok {
		return d, nil
	}
	sess, err := s.readSession(ctx, id, false)
	if err != nil {
		return d, err
	}
	d = sessionDefaults{opts: sess.DefaultTaskOptions, weight: sess.Weight}
	s.mu.Lock()
	if len(s.defaults) > 10000 {
		clear(s.defaults)
	}
	s.defaults[id] = d
	s.mu.Unlock()
	return d, nil
}

// ListSessions returns a page of sessions, newest first. The page token holds the creation time and
// id of the last session returned; the next page starts after it, so sessions created meanwhile (newer)
// do not shift the pages.
func (s *Store) ListSessions(ctx context.Context, q store.ListQuery[chorusv1.SessionStatus]) ([]*chorusv1.Session, string, error) {
	size := q.PageSize
	if size <= 0 {
		size = 100
	}
	index := s.keys.sessionIndex()
	if q.Tenant != "" {
		index = s.keys.tenantSessions(q.Tenant)
	}
	var after *store.PageCursor
	if q.PageToken != "" {
		c, err := store.DecodePageToken(q.PageToken, store.PageSessions)
		if err != nil {
			return nil, "", err
		}
		after = &c
	}
	max, off := "+inf", int64(0)
	if after != nil {
		max = strconv.FormatInt(after.Score, 10)
	}
	var out []*chorusv1.Session
	for {
		// Newest first: by score (creation ms) descending, then by id descending within a millisecond.
		batch, err := s.client.Do(ctx, s.client.B().Zrange().Key(index).Min(max).Max("-inf").Byscore().Rev().
			Limit(off, int64(size)).Withscores().Build()).AsZScores()
		if err != nil {
			return nil, "", storeErr("listing sessions", err)
		}
		for i, z := range batch {
			off++
			ms := int64(z.Score)
			if after != nil && ms == after.Score && z.Member >= after.Key {
				continue // at or before the last session of the previous page
			}
			sess, err := s.readSession(ctx, z.Member, false)
			if store.IsNotFound(err) {
				// a purged session whose record expired: drop the index entry left over (the
				// entries after it move up one place)
				if err := s.client.Do(ctx, s.client.B().Zrem().Key(index).Member(z.Member).Build()).Error(); err == nil {
					off--
				} else {
					_ = s.afterCommit("session index", storeErr("unlisting a session", err))
				}
				continue
			} else if err != nil {
				return nil, "", err
			}
			if sess.Status == chorusv1.SessionStatus_SESSION_STATUS_PURGED && q.Status != sess.Status {
				continue
			}
			if q.Status != 0 && sess.Status != q.Status {
				continue
			}
			out = append(out, sess)
			if len(out) == size {
				if i == len(batch)-1 && len(batch) < size {
					return out, "", nil // nothing after it
				}
				return out, store.EncodePageToken(store.PageCursor{Kind: store.PageSessions, Score: ms, Key: z.Member}), nil
			}
		}
		if len(batch) < size {
			return out, "", nil
		}
	}
}

// SetSessionStatus moves a session to another status.
func (s *Store) SetSessionStatus(ctx context.Context, id string, to chorusv1.SessionStatus) (*chorusv1.Session, error) {
	switch to {
	case chorusv1.SessionStatus_SESSION_STATUS_RUNNING, chorusv1.SessionStatus_SESSION_STATUS_PAUSED,
		chorusv1.SessionStatus_SESSION_STATUS_CLOSED, chorusv1.SessionStatus_SESSION_STATUS_CANCELLED:
	default:
		return nil, store.Errorf(store.CodeInvalidArgument, "a session cannot be moved to %s (use PurgeSession to purge)", to)
	}
	if to == chorusv1.SessionStatus_SESSION_STATUS_CANCELLED {
		// write-ahead: whoever runs Reconcile finishes the cancellation if this process stops
		if err := s.client.Do(ctx, s.client.B().Zadd().Key(s.keys.background()).Nx().ScoreMember().ScoreMember(float64(s.nowMS()), id).Build()).Error(); err != nil {
			return nil, storeErr("recording the cancellation", err)
		}
	}
	vals, err := s.run(ctx, s.scripts.sessionStatus, id, []string{strconv.Itoa(int(to)), itoa(s.nowMS())}).AsIntSlice()
	if err != nil {
		if to == chorusv1.SessionStatus_SESSION_STATUS_CANCELLED {
			_ = s.client.Do(ctx, s.client.B().Zrem().Key(s.keys.background()).Member(id).Build()).Error()
		}
		return nil, storeErr("changing the session status", err)
	}
	switch {
	case to == chorusv1.SessionStatus_SESSION_STATUS_CANCELLED:
		// the first chunk now, the rest in the background (Reconcile)
		if _, _, err := s.finishCancel(ctx, id, 1); err != nil {
			_ = s.afterCommit("first chunk of a cancellation", err)
		}
	case vals[0] != int64(to) && claimable(int64(to)):
		// resumed, or closed (from RUNNING or PAUSED): its queued work is claimable (again)
		parts, err := s.client.Do(ctx, s.client.B().Smembers().Key(s.keys.sessionTag(id)+":parts").Build()).AsStrSlice()
		if err != nil {
			_ = s.afterCommit("reading the session's partitions", storeErr("reading the session's partitions", err))
		} else {
			_ = s.afterCommit("ready index after a status change", s.markReady(ctx, id, parts...))
		}
	}
	return s.GetSession(ctx, id)
}

// PurgeSession deletes a closed or cancelled session's data and returns its object keys. A pending
// cancellation is helped along first (up to 16 chunks); the results are read for their object keys in bounded steps,
// then one script UNLINKs the session's keys (freed off Valkey's main thread).
func (s *Store) PurgeSession(ctx context.Context, id string) (*chorusv1.Session, []string, error) {
	// help a pending cancellation along (a bounded amount; a big one is refused until the
	// background has finished it)
	if _, _, err := s.finishCancel(ctx, id, 16); err != nil {
		return nil, nil, err
	}
	var objs []string
	// bounded steps over the session's objects, waiter lists and kept SubmitTasks answers
	// (purge_scan.lua answers -1 at the end)
	for next := int64(0); next >= 0; {
		vals, err := s.run(ctx, s.scripts.purgeScan, id, []string{strconv.Itoa(s.cfg.ChunkSize)}).ToArray()
		if err != nil {
			return nil, nil, storeErr("purging the session", err)
		}
		keys, err := vals[0].AsStrSlice()
		if err != nil {
			return nil, nil, storeErr("purging the session", err)
		}
		objs = append(objs, keys...)
		if next, err = vals[1].AsInt64(); err != nil {
			return nil, nil, storeErr("purging the session", err)
		}
	}
	parts, err := s.run(ctx, s.scripts.purge, id, []string{itoa(s.nowMS()), itoa(int64(s.cfg.PurgedRetention.Seconds()))}).AsStrSlice()
	if err != nil {
		return nil, nil, storeErr("purging the session", err)
	}
	// a purged session is no longer listed; the reconciler repairs what these leave behind
	_ = s.afterCommit("session index after a purge", storeErr("unlisting the session",
		s.client.Do(ctx, s.client.B().Zrem().Key(s.keys.sessionIndex()).Member(id).Build()).Error()))
	for _, p := range parts {
		_ = s.afterCommit("partition indexes after a purge", s.forgetSession(ctx, p, id))
	}
	s.mu.Lock()
	delete(s.defaults, id)
	s.mu.Unlock()
	sess, err := s.GetSession(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if err := s.untrackPurged(ctx, sess); err != nil {
		return nil, nil, err
	}
	return sess, objs, nil
}
