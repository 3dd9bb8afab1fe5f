package valkeystore

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// The partition indexes (keys.go: :ready, :delayed, :leases, :sessions, :active, the totals, and the
// agents' lease index) live in other hash slots than the sessions they point to, so they cannot be
// written in the same script as the session. They are hints:
//
//   - Before a script that may give a session work in a partition (SubmitTasks, a completion with
//     subtasks), the session is added to the partition's :sessions and :active sets (write-ahead): if
//     that fails nothing is committed; if the script commits and the follow-up fails, the reconciler
//     still finds the session there. Only a purge removes a session from :sessions, and pcount.lua
//     (after every submit) and the reconciler keep :active, so a store that noted a session in a
//     partition less than notedTTL ago does not note it again (notedParts): a session's later
//     batches skip that round trip.
//   - The follow-up after a committed script (ready index, retry index, lease index, counts) is
//     best effort: its failure is logged, never reported as the operation's failure (afterCommit).
//   - Reconcile walks :sessions in bounded passes and restores what a lost follow-up left out.

// notedTTL is how long a store trusts that it noted a session in a partition. Beyond a purge, only a
// failover that loses acknowledged writes could drop the entry; noting it again after a while bounds
// what such a loss exposes.
const notedTTL = 30 * time.Second

// notedParts remembers when this store last noted each (session, partition) pair (write-ahead above).
type notedParts struct {
	mu    sync.Mutex
	m     map[string]time.Time
	swept time.Time // when mark last dropped stale entries
}

func notedKey(sid, part string) string { return part + "\n" + sid }

// fresh reports whether the session was noted in the partition less than notedTTL ago.
func (n *notedParts) fresh(sid, part string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	at, ok := n.m[notedKey(sid, part)]
	return ok && time.Since(at) < notedTTL
}

// mark records that the session was just noted in parts; entries past notedTTL are dropped once the
// map is large (at most every notedTTL/2).
func (n *notedParts) mark(sid string, parts []string) {
	if len(parts) == 0 {
		return
	}
	now := time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.m == nil {
		n.m = map[string]time.Time{}
	}
	if len(n.m) >= notedSweepAt && now.Sub(n.swept) >= notedTTL/2 {
		n.swept = now
		for k, at := range n.m {
			if now.Sub(at) >= notedTTL {
				delete(n.m, k)
			}
		}
	}
	for _, part := range parts {
		n.m[notedKey(sid, part)] = now
	}
}

// notedSweepAt is the size at which mark drops stale entries.
const notedSweepAt = 4096

// afterCommit logs the failure of an index update made after a committed script and returns nil:
// the operation succeeded, and the reconciler repairs the index.
func (s *Store) afterCommit(what string, err error) error {
	if err != nil {
		s.cfg.Logger.Warn("an index update after a committed change failed; the reconciler will repair it",
			"update", what, "error", err)
	}
	return nil
}

// claimable reports whether agents may claim a session's queued tasks in status st: a RUNNING
// session, and a CLOSED one (what it holds runs to the end).
func claimable(st int64) bool {
	return st == int64(chorusv1.SessionStatus_SESSION_STATUS_RUNNING) || st == int64(chorusv1.SessionStatus_SESSION_STATUS_CLOSED)
}

// noteSessionParts records, before a script that may give the session tasks in partitions parts,
// that the session has (or may have) work there (write-ahead, see above).
func (s *Store) noteSessionParts(ctx context.Context, sid string, parts []string) error {
	var p pipeline
	added := s.addSessionParts(&p, sid, parts)
	res := s.scripts.do(ctx, s.client, &p)
	for _, r := range res {
		if err := r.Error(); err != nil {
			return storeErr("indexing the session's partitions", err)
		}
	}
	s.noted.mark(sid, added)
	return nil
}

// addSessionParts appends noteSessionParts's commands to p for the partitions of parts this store
// has not noted the session in lately (noted), and returns those partitions: the caller marks them
// noted once the commands succeeded.
func (s *Store) addSessionParts(p *pipeline, sid string, parts []string) []string {
	var added []string
	for _, part := range parts {
		if s.noted.fresh(sid, part) {
			continue
		}
		p.add(s.client.B().Sadd().Key(s.keys.partSessions(part)).Member(sid).Build())
		p.add(s.client.B().Sadd().Key(s.keys.active(part)).Member(sid).Build())
		added = append(added, part)
	}
	return added
}

// agentLeaseCmd records that agent holds leases in session sid of partition p (the agent's lease
// index, used by ReleaseAgentLeases and RequeueDeadAgents). Claim pipelines it with its other index
// updates.
func (s *Store) agentLeaseCmd(agent, p, sid string) valkeyCmd {
	return s.client.B().Zadd().Key(s.keys.agentLeases(agent)).ScoreMember().ScoreMember(float64(s.nowMS()), p+"\n"+sid).Build()
}

// foldCounts folds sessions' task counts in partition p into the partition's totals (pcount.lua);
// pairs is session id, "c1,...,c7" (or "-" for a session that is gone). It returns the totals.
func (s *Store) foldCounts(ctx context.Context, p string, pairs []string) (map[string]int64, error) {
	m, err := s.scripts.pcount.Exec(ctx, s.client, []string{s.keys.snap(p), s.keys.tot(p), s.keys.active(p)}, pairs).AsIntMap()
	if err != nil {
		return nil, storeErr("counting the partition's tasks", err)
	}
	return m, nil
}

// refreshCounts re-reads the task counts of sessions in partition p and folds them into its totals.
func (s *Store) refreshCounts(ctx context.Context, p string, sids []string) (map[string]int64, error) {
	if len(sids) == 0 {
		return s.client.Do(ctx, s.client.B().Hgetall().Key(s.keys.tot(p)).Build()).AsIntMap()
	}
	cmds := make([]valkeyCmd, len(sids))
	for i, sid := range sids {
		cmds[i] = s.countsCmd(sid, p)
	}
	pairs := make([]string, 0, 2*len(sids))
	for i, r := range s.client.DoMulti(ctx, cmds...) {
		pair, err := countsPair(sids[i], r)
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, pair...)
	}
	return s.foldCounts(ctx, p, pairs)
}

// countsCmd reads a session's task counts in partition p (countsPair decodes the answer).
func (s *Store) countsCmd(sid, p string) valkeyCmd {
	return s.client.B().Hmget().Key(s.keys.partCounts(sid, p)).Field("1", "2", "3", "4", "5", "6", "7").Build()
}

// countsPair is the session id and its counts "c1,...,c7" as foldCounts takes them.
func countsPair(sid string, r valkey.ValkeyResult) ([]string, error) {
	vals, err := r.ToArray()
	if err != nil {
		return nil, storeErr("reading a session's counts in the partition", err)
	}
	cs := make([]string, 7)
	for j := range cs {
		cs[j] = "0"
		if j < len(vals) {
			if v, err := vals[j].ToString(); err == nil {
				cs[j] = v
			}
		}
	}
	return []string{sid, strings.Join(cs, ",")}, nil
}

// sscanStep reads one SSCAN step of key from the cursor stored in curKey and stores the next one.
func (s *Store) sscanStep(ctx context.Context, key, curKey string, count int) ([]string, bool, error) {
	cur, err := s.client.Do(ctx, s.client.B().Get().Key(curKey).Build()).AsUint64()
	if err != nil && !valkeyNil(err) {
		return nil, false, storeErr("reading the reconciler's cursor", err)
	}
	e, err := s.client.Do(ctx, s.client.B().Sscan().Key(key).Cursor(cur).Count(int64(count)).Build()).AsScanEntry()
	if err != nil {
		return nil, false, storeErr("scanning the partition's sessions", err)
	}
	if err := s.client.Do(ctx, s.client.B().Set().Key(curKey).Value(strconv.FormatUint(e.Cursor, 10)).Build()).Error(); err != nil {
		return nil, false, storeErr("saving the reconciler's cursor", err)
	}
	return e.Elements, e.Cursor == 0, nil
}

// Reconcile does one bounded pass of repairs for a partition (see store.AgentStore).
func (s *Store) Reconcile(ctx context.Context, p string, budget int) (store.ReconcileReport, error) {
	var rep store.ReconcileReport
	if budget <= 0 {
		budget = 100
	}
	sids, wrapped, err := s.sscanStep(ctx, s.keys.partSessions(p), s.keys.rcur(p), budget)
	if err != nil {
		return rep, err
	}
	rep.Wrapped = wrapped
	rep.Sessions = len(sids)
	if len(sids) > 0 {
		n, err := s.reconcileSessions(ctx, p, sids)
		rep.Repaired = n
		if err != nil {
			return rep, err
		}
	}
	if err := s.pruneAgentIndexes(ctx, p); err != nil {
		return rep, err
	}
	// counts of the sessions with unfinished work, a bounded step at a time
	act, _, err := s.sscanStep(ctx, s.keys.active(p), s.keys.acur(p), budget)
	if err != nil {
		return rep, err
	}
	_, err = s.refreshCounts(ctx, p, act)
	return rep, err
}

// reconcileSessions restores the partition index entries of sessions sids and returns how many
// entries it restored.
func (s *Store) reconcileSessions(ctx context.Context, p string, sids []string) (int, error) {
	repaired := 0
	var gone, counts []string
	var cmds []valkeyCmd
	var readyAdd []string
	for _, sid := range sids {
		vals, err := s.run(ctx, s.scripts.reconcile, sid, []string{p, "256"}).ToArray()
		if err != nil {
			return repaired, storeErr("reading session "+sid+" for the reconciler", err)
		}
		st, err := vals[0].AsInt64()
		if err != nil {
			return repaired, storeErr("reading session "+sid+" for the reconciler", err)
		}
		if st == 0 || st == int64(chorusv1.SessionStatus_SESSION_STATUS_PURGED) {
			gone = append(gone, sid)
			continue
		}
		qlen, _ := vals[1].AsInt64()
		due, _ := vals[2].AsInt64()
		lease, _ := vals[3].AsInt64()
		cs, _ := vals[4].ToString()
		agents, _ := vals[5].AsStrSlice()
		counts = append(counts, sid, cs)
		if qlen > 0 && claimable(st) {
			readyAdd = append(readyAdd, sid)
		}
		if due >= 0 {
			cmds = append(cmds, s.client.B().Zadd().Key(s.keys.delayed(p)).Lt().Ch().ScoreMember().ScoreMember(float64(due), sid).Build())
		}
		if lease >= 0 {
			cmds = append(cmds, s.client.B().Zadd().Key(s.keys.leases(p)).Lt().Ch().ScoreMember().ScoreMember(float64(lease), sid).Build())
		}
		for _, a := range agents {
			cmds = append(cmds, s.agentLeaseCmd(a, p, sid))
		}
		if unfinished(cs) {
			cmds = append(cmds, s.client.B().Sadd().Key(s.keys.active(p)).Member(sid).Build())
		}
	}
	if len(readyAdd) > 0 {
		n, err := s.scripts.readyAdd.Exec(ctx, s.client, s.readyKeys(p), readyAdd).AsInt64()
		if err != nil {
			return repaired, storeErr("restoring the ready index", err)
		}
		repaired += int(n)
	}
	for _, r := range s.client.DoMulti(ctx, cmds...) {
		n, err := r.AsInt64()
		if err != nil {
			return repaired, storeErr("restoring a partition index", err)
		}
		if r.Error() == nil && n > 0 {
			repaired += int(n)
		}
	}
	for _, sid := range gone {
		if err := s.forgetSession(ctx, p, sid); err != nil {
			return repaired, err
		}
	}
	if len(counts) > 0 {
		if _, err := s.foldCounts(ctx, p, counts); err != nil {
			return repaired, err
		}
	}
	return repaired, nil
}

// unfinished reports whether counts "c1,...,c7" hold a task that has not ended.
func unfinished(cs string) bool {
	f := strings.Split(cs, ",")
	for i := 0; i < 4 && i < len(f); i++ {
		if f[i] != "0" && f[i] != "" {
			return true
		}
	}
	return false
}

// forgetSession removes a purged (or vanished) session from a partition's indexes and counts.
func (s *Store) forgetSession(ctx context.Context, p, sid string) error {
	cmds := []valkeyCmd{
		s.client.B().Zrem().Key(s.keys.ready(p)).Member(sid).Build(),
		s.client.B().Zrem().Key(s.keys.delayed(p)).Member(sid).Build(),
		s.client.B().Zrem().Key(s.keys.leases(p)).Member(sid).Build(),
		s.client.B().Srem().Key(s.keys.partSessions(p)).Member(sid).Build(),
		s.client.B().Srem().Key(s.keys.active(p)).Member(sid).Build(),
	}
	for _, r := range s.client.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			return storeErr("removing a purged session from the partition indexes", err)
		}
	}
	_, err := s.foldCounts(ctx, p, []string{sid, "-"})
	return err
}

// readFailed reports whether one of results failed for another reason than a missing key (a read
// that failed must not be taken for an empty queue).
func readFailed(res ...valkey.ValkeyResult) bool {
	for _, r := range res {
		if err := r.Error(); err != nil && !valkeyNil(err) {
			return true
		}
	}
	return false
}

// agentIndexKeep is how long an entry of an agent's lease index is kept without a claim or a
// reconciler pass confirming it: older entries (sessions the agent long finished with) are pruned,
// and an entry for a lease still held is added back by the next pass over its session.
const agentIndexKeep = time.Hour

// pruneAgentIndexes drops old entries from the lease indexes of the partition's agents, so an index
// holds about the sessions an agent worked for in the last hour, not in its whole life.
func (s *Store) pruneAgentIndexes(ctx context.Context, p string) error {
	ids, err := s.client.Do(ctx, s.client.B().Hkeys().Key(s.keys.agents(p)).Build()).AsStrSlice()
	if err != nil {
		return storeErr("reading the partition's agents", err)
	}
	if len(ids) == 0 {
		return nil
	}
	upTo := strconv.FormatInt(s.nowMS()-agentIndexKeep.Milliseconds(), 10)
	cmds := make([]valkeyCmd, len(ids))
	for i, id := range ids {
		cmds[i] = s.client.B().Zremrangebyscore().Key(s.keys.agentLeases(id)).Min("-inf").Max("(" + upTo).Build()
	}
	for _, r := range s.client.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			return storeErr("pruning an agent's lease index", err)
		}
	}
	return nil
}
