package valkeystore

import (
	"cmp"
	"context"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/chorus-hpc/chorus/internal/store"
)

// candidates is how many sessions with ready work one Claim looks at (lowest fair-share pass first).
const candidates = 8

// tailSlack bounds a claim's tail beyond the retries of its index writes (IndexRetry): the last
// try's own round trips.
const tailSlack = 10 * time.Second

// minQuantum is the fewest tasks one claim script asks a session for (when the claim wants that many).
// An agent's claim refills the slots its workers freed, typically 16 to 64 tasks. At 16, a claim of
// 32 ran two claim scripts, one per session; the tasks of both sessions then finished in the same
// commits, one outcomes script per session again. Each script run costs Valkey about as much as
// a dozen tasks inside it. At 32, such a claim serves one session, and the outcomes script calls
// per task fall by 40% (throughput bench, 16 sessions). Fairness between sessions is unchanged
// over time (their passes advance by what they get); it is only coarser over one claim.
const minQuantum = 32

// Claim leases up to req.Max tasks of a partition, sharing them between sessions by weight
// (stride scheduling: each claim advances a session's pass by claimed/weight; the lowest pass goes next).
//
// A claim costs two round trips before it returns: one reads the candidates, the other runs the
// claim scripts with the lease indexes written ahead of them. What is left (the sessions' passes,
// emptied sessions leaving the ready index and their recheck) is the claim's tail: it runs after
// Claim returns, so the tasks reach their workers without waiting for it, and the next Claim or
// WaitForWork of the partition waits for it (tails).
func (s *Store) Claim(ctx context.Context, req store.ClaimRequest) ([]*store.ClaimedTask, error) {
	if req.Max <= 0 {
		return nil, nil
	}
	ttl := req.LeaseTTL
	if ttl <= 0 {
		ttl = s.cfg.LeaseTTL
	}
	p := req.Partition
	s.tails.wait(p)
	// One round trip reads the sessions with due retries and those with ready work, unless the
	// wake-up or the previous claim's tail brought them a moment ago (a hint). A hint may be stale:
	// one that yields no task is followed by the reads, so a claim never misses work it would have
	// found without it.
	if h, ok := s.hints.take(p); ok {
		if out, err := s.claimFrom(ctx, req, ttl, h.due, h.cands); len(out) > 0 || err != nil {
			return out, err
		}
	}
	res := s.client.DoMulti(ctx, s.dueCmd(p), s.readyCmd(p))
	var err error
	due := decode(&err, res[0].AsStrSlice, "reading the partition's delayed sessions")
	cands := decode(&err, res[1].AsZScores, "reading the partition's ready sessions")
	if err != nil {
		return nil, err
	}
	return s.claimFrom(ctx, req, ttl, due, cands)
}

// claimFrom is Claim given its first reads: the partition's sessions with due retries and its
// candidates.
func (s *Store) claimFrom(ctx context.Context, req store.ClaimRequest, ttl time.Duration, due []string, cands []valkey.ZScore) ([]*store.ClaimedTask, error) {
	p := req.Partition
	if len(due) > 0 {
		if err := s.promoteSessions(ctx, p, due); err != nil {
			return nil, err
		}
		var err error
		if cands, err = s.client.Do(ctx, s.readyCmd(p)).AsZScores(); err != nil {
			return nil, storeErr("reading the partition's ready sessions", err)
		}
	}
	var out []*store.ClaimedTask
	for round := 0; round < 2*candidates && len(out) < req.Max && len(cands) > 0; round++ {
		// The sessions with the lowest passes are served together, one claim script each in one
		// round trip, each its share of what is left but not less than minQuantum: a claim script
		// per task would cost more than the claims themselves. Fairness holds over time: a
		// session's pass advances by what it got.
		left := req.Max - len(out)
		m := min(len(cands), max(1, left/minQuantum))
		now := s.nowMS()
		exp := now + ttl.Milliseconds()
		served, firstErr := s.claimRound(ctx, req.AgentID, p, cands[:m], left, now, exp)
		for _, c := range served {
			out = append(out, c.tasks...)
		}
		if len(served) == 0 {
			if len(out) > 0 {
				return out, nil // an earlier round's claims are committed and indexed: they are the caller's
			}
			return nil, firstErr
		}
		// Another round only when it may find more: a served session has more, or candidates
		// were left unserved. Otherwise what is left of the indexes is the claim's tail.
		more := m < len(cands)
		for _, c := range served {
			more = more || !c.drop
		}
		if len(out) >= req.Max || !more || firstErr != nil {
			s.tails.start(ctx, p, func(ctx context.Context) {
				ctx, cancel := context.WithTimeout(ctx, s.cfg.IndexRetry+tailSlack)
				defer cancel()
				_ = s.afterCommit("indexes after a claim", s.claimTail(ctx, p, served, false, nil))
			})
			break
		}
		var next []valkey.ZScore
		if err := s.claimTail(ctx, p, served, true, &next); err != nil {
			return nil, err
		}
		cands = next
	}
	return out, nil
}

// claimRound runs the claim script of each session of cands in one round trip, asking for left tasks
// in all. The sessions' entries in the partition's lease index and in the agent's are written in the
// same round trip, ahead of the scripts: an entry of a session that got no lease costs the expiry scan
// a look, whereas a lease missing from the indexes would only be found by the reconciler. It returns
// the sessions whose claim succeeded (their tasks are committed) and the first error of the others.
func (s *Store) claimRound(ctx context.Context, agent, p string, cands []valkey.ZScore, left int, now, exp int64) ([]claimRound, error) {
	m := len(cands)
	tokp := store.NewID()[12:]
	indexCmds := func() []valkeyCmd {
		cmds := make([]valkeyCmd, 0, 2*m)
		for _, c := range cands {
			cmds = append(cmds, s.client.B().Zadd().Key(s.keys.leases(p)).Lt().ScoreMember().ScoreMember(float64(exp), c.Member).Build(),
				s.agentLeaseCmd(agent, p, c.Member))
		}
		return cmds
	}
	var pl pipeline
	for _, cmd := range indexCmds() {
		pl.add(cmd)
	}
	first := len(pl.cmds)
	for i, c := range cands {
		quantum := left / m
		if i < left%m {
			quantum++
		}
		s.scripts.call(&pl, s.client, s.scripts.claim, []string{s.keys.meta(c.Member)},
			[]string{p, strconv.Itoa(quantum), itoa(now), itoa(exp - now), agent, tokp + strconv.Itoa(i) + ":"})
	}
	res := s.scripts.do(ctx, s.client, &pl)
	served := make([]claimRound, 0, m)
	var firstErr error
	for i, r := range res[first:] {
		c, err := s.claimReply(cands[i].Member, p, r)
		if err != nil {
			// A session whose claim failed is left for the next claim; what the others
			// claimed is committed and must be indexed and returned.
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		c.pass = cands[i].Score
		served = append(served, c)
	}
	if s.readyErr(res[:first]) != nil && len(served) > 0 {
		// The scripts committed leases whose index entries were refused (a failover): write them
		// again. Built anew at each try: valkey-go recycles a command once it has been sent.
		if err := s.retryIndex(ctx, func() error {
			return s.readyErr(s.client.DoMulti(ctx, indexCmds()...))
		}); err != nil {
			return nil, err
		}
	}
	return served, firstErr
}

// claimTail updates the partition's indexes after a claim round: the served sessions' passes and
// retry times, the emptied sessions leave the ready index (and are checked again, see
// recheckDropped), and with readNext the candidates of the next round are read into next (the
// partition's keys share a slot, so the read sees the updates). Without readNext (the claim's last
// tail), the reads the next claim starts with ride along and are kept as its hint: under load an
// agent claims again within milliseconds, and skips their round trip.
func (s *Store) claimTail(ctx context.Context, p string, served []claimRound, readNext bool, next *[]valkey.ZScore) error {
	var res []valkey.ValkeyResult
	at, hint := -1, -1
	if err := s.retryIndex(ctx, func() error {
		// Built anew at each try: valkey-go recycles a command once it has been sent.
		var pl pipeline
		vtime := -1.0
		for _, c := range served {
			if n := len(c.tasks); n > 0 {
				pl.add(s.client.B().Zadd().Key(s.keys.ready(p)).Xx().Incr().ScoreMember().ScoreMember(float64(n)/float64(c.weight), c.sid).Build())
				vtime = max(vtime, c.pass)
			}
			if c.nextDue >= 0 {
				pl.add(s.client.B().Zadd().Key(s.keys.delayed(p)).Lt().ScoreMember().ScoreMember(float64(c.nextDue), c.sid).Build())
			}
			if c.drop {
				pl.add(s.client.B().Zrem().Key(s.keys.ready(p)).Member(c.sid).Build())
			}
		}
		if vtime >= 0 {
			pl.add(s.client.B().Set().Key(s.keys.vtime(p)).Value(strconv.FormatFloat(vtime, 'f', -1, 64)).Build())
		}
		if readNext {
			at = pl.add(s.readyCmd(p))
		} else {
			hint = pl.add(s.dueCmd(p))
			pl.add(s.readyCmd(p))
		}
		res = s.scripts.do(ctx, s.client, &pl)
		for _, r := range res {
			if err := r.Error(); err != nil && !valkeyNil(err) { // ZADD XX INCR of a removed entry is nil
				return storeErr("updating the partition indexes", err)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	var dropped []string
	for _, c := range served {
		if c.drop {
			dropped = append(dropped, c.sid)
		}
	}
	if err := s.recheckDropped(ctx, p, dropped); err != nil {
		return err
	}
	if at >= 0 {
		*next, _ = res[at].AsZScores()
	}
	if hint >= 0 && len(dropped) == 0 { // a recheck may have put a dropped session back
		s.putHint(p, res[hint], res[hint+1])
	}
	return nil
}

// claimRound is what claim.lua answered for one session.
type claimRound struct {
	sid     string
	pass    float64 // the session's pass in the ready index when it was served
	tasks   []*store.ClaimedTask
	weight  int64
	nextDue int64 // the session's earliest retry due (ms), or -1
	drop    bool  // nothing left to claim: the session leaves the ready index
}

// claimReply decodes claim.lua's answer for session sid.
func (s *Store) claimReply(sid, p string, r valkey.ValkeyResult) (claimRound, error) {
	c := claimRound{sid: sid}
	vals, err := scriptReply(r, 5, "claiming tasks", "claim.lua")
	if err != nil {
		return c, err
	}
	claimed, _ := vals[0].ToArray()
	qlen, _ := vals[1].AsInt64()
	c.weight, _ = vals[2].AsInt64()
	c.nextDue, _ = vals[3].AsInt64()
	st, _ := vals[4].AsInt64()
	if c.weight <= 0 {
		c.weight = 1
	}
	c.drop = qlen == 0 || !claimable(st)
	n := len(claimed) / claimedFields
	c.tasks = make([]*store.ClaimedTask, 0, n)
	for i := 0; i < n; i++ {
		ct, err := s.claimedTask(sid, p, claimed[i*claimedFields:(i+1)*claimedFields])
		if err != nil {
			return c, err
		}
		c.tasks = append(c.tasks, ct)
	}
	return c, nil
}

// readyCmd reads the candidates of a claim: the sessions with ready work, lowest pass first.
func (s *Store) readyCmd(p string) valkeyCmd {
	return s.client.B().Zrange().Key(s.keys.ready(p)).Min("0").Max(strconv.Itoa(candidates - 1)).Withscores().Build()
}

// dueCmd reads the sessions whose earliest retry is due.
func (s *Store) dueCmd(p string) valkeyCmd {
	return s.client.B().Zrangebyscore().Key(s.keys.delayed(p)).Min("-inf").Max(itoa(s.nowMS())).Limit(0, 16).Build()
}

// recheckDropped re-adds sessions just removed from a partition's ready index if work arrived in
// the meantime (a submit that raced with the removal adds its own entry after its script, so this
// order never loses a session with ready work). One round trip reads them all.
func (s *Store) recheckDropped(ctx context.Context, p string, sids []string) error {
	if len(sids) == 0 {
		return nil
	}
	cmds := make([]valkeyCmd, 0, 2*len(sids))
	for _, sid := range sids {
		cmds = append(cmds, s.client.B().Exists().Key(s.keys.queues(sid, p)...).Build(), s.client.B().Hget().Key(s.keys.meta(sid)).Field("st").Build())
	}
	res := s.client.DoMulti(ctx, cmds...)
	var again []readyHint
	for i, sid := range sids {
		qlen, _ := res[2*i].AsInt64() // queues holding entries
		st, _ := res[2*i+1].AsInt64()
		if (qlen > 0 && claimable(st)) || readFailed(res[2*i:2*i+2]...) {
			again = append(again, readyHint{sid: sid, parts: []string{p}})
		}
	}
	if len(again) == 0 {
		return nil
	}
	return s.retryIndex(ctx, func() error { return s.markReadyMany(ctx, again) })
}

// fixIndex sets a session's entry in a partition index (score = earliest time) to hint (or removes
// it when hint < 0), then re-reads the session's true earliest entry and lowers the index to it, so a
// concurrent writer (which lowers the index after its own script) is never overwritten.
func (s *Store) fixIndex(ctx context.Context, idx, sid, sessionKey string, hint int64) error {
	var err error
	if hint < 0 {
		err = s.client.Do(ctx, s.client.B().Zrem().Key(idx).Member(sid).Build()).Error()
	} else {
		err = s.client.Do(ctx, s.client.B().Zadd().Key(idx).ScoreMember().ScoreMember(float64(hint), sid).Build()).Error()
	}
	if err != nil {
		return storeErr("updating a partition index", err)
	}
	first, err := s.client.Do(ctx, s.client.B().Zrange().Key(sessionKey).Min("0").Max("0").Withscores().Build()).AsZScores()
	if err != nil {
		return storeErr("reading a session's schedule", err)
	}
	if len(first) > 0 {
		err = s.client.Do(ctx, s.client.B().Zadd().Key(idx).Lt().ScoreMember().ScoreMember(first[0].Score, sid).Build()).Error()
		if err != nil {
			return storeErr("updating a partition index", err)
		}
	}
	return nil
}

// promoteDue queues the retry-delayed tasks of a partition that are due.
func (s *Store) promoteDue(ctx context.Context, p string) error {
	due, err := s.client.Do(ctx, s.dueCmd(p)).AsStrSlice()
	if err != nil {
		return storeErr("reading the partition's delayed sessions", err)
	}
	return s.promoteSessions(ctx, p, due)
}

// promoteSessions queues retry-delayed tasks that are due, in the sessions the delayed index names.
func (s *Store) promoteSessions(ctx context.Context, p string, due []string) error {
	now := s.nowMS()
	for _, sid := range due {
		vals, err := s.run(ctx, s.scripts.claim, sid, []string{p, "0", itoa(now), "0", "", ""}).ToArray()
		if err != nil {
			return storeErr("queuing due retries", err)
		}
		qlen, err := vals[1].AsInt64()
		if err != nil {
			return storeErr("queuing due retries", err)
		}
		nextDue, _ := vals[3].AsInt64()
		if qlen > 0 {
			if err := s.markReady(ctx, sid, p); err != nil {
				return err
			}
		}
		if err := s.fixIndex(ctx, s.keys.delayed(p), sid, s.keys.sessionTag(sid)+":d:"+p, nextDue); err != nil {
			return err
		}
	}
	return nil
}

// claimedFields is how many values claim.lua returns per task, in this order: id, attempt, lease
// token, body, payload, priority, max retries, queue time (Unix ms), expected output ids (commas).
const claimedFields = 9

func (s *Store) claimedTask(sid, p string, v values) (*store.ClaimedTask, error) {
	id, err := v[0].ToString()
	if err != nil {
		return nil, storeErr("reading a claimed task", err)
	}
	rec := &taskRecord{partition: p, priority: int32(v.num(5)), maxRetries: int32(v.num(6))}
	if outs := v.str(8); outs != "" {
		rec.outputs = strings.Split(outs, ",")
	}
	id = extID(sid, id)
	if err := decodeBody(v.str(3), rec); err != nil {
		return nil, storeErr("decoding task "+id, err)
	}
	t := rec.body
	ct := &store.ClaimedTask{
		Lease:     store.Lease{SessionID: sid, TaskID: id, Attempt: int32(v.num(1)), Token: v.str(2)},
		Partition: p, Method: t.Method, PayloadID: t.PayloadId, DataDependencies: t.DataDependencies,
		ExpectedOutputIDs: rec.outputs, Options: rec.options(), QueueTime: time.UnixMilli(v.num(7)),
		TraceParent: rec.traceParent, TraceState: rec.traceState,
	}
	if payload := v.str(4); payload != "" {
		ct.Payload = []byte(payload)
	}
	return ct, nil
}

// WaitForWork blocks on the partition's wake-up list until work may be ready.
func (s *Store) WaitForWork(ctx context.Context, p string, timeout time.Duration) error {
	s.tails.wait(p) // an emptied session leaves the ready index in the claim's tail
	// The claim's first reads ride along: when work is ready, the claim that follows skips their
	// round trip (takeHint).
	res := s.client.DoMulti(ctx,
		s.client.B().Zcard().Key(s.keys.ready(p)).Build(),
		s.client.B().Zrange().Key(s.keys.delayed(p)).Min("0").Max("0").Withscores().Build(),
		s.dueCmd(p), s.readyCmd(p))
	n, err := res[0].AsInt64()
	if err != nil {
		return storeErr("reading the partition's ready sessions", err)
	}
	if n > 0 {
		s.putHint(p, res[2], res[3])
		return nil
	}
	if d, err := res[1].AsZScores(); err == nil && len(d) > 0 {
		wait := time.Duration(int64(d[0].Score)-s.nowMS()) * time.Millisecond
		if wait <= 0 {
			return nil
		}
		timeout = min(timeout, wait)
	}
	if timeout <= 0 {
		return nil
	}
	// The reads a claim starts with are pipelined behind the blocking pop: the server runs them once
	// the pop returns, so a claim right after a wake-up skips their round trip (takeHint).
	res = s.client.DoMulti(ctx, s.client.B().Blpop().Key(s.keys.wake(p)).Timeout(max(timeout.Seconds(), 0.01)).Build(),
		s.dueCmd(p), s.readyCmd(p))
	if ctx.Err() != nil {
		return ctx.Err()
	}
	err = res[0].Error()
	if err != nil && !valkeyNil(err) {
		return storeErr("waiting for work", err)
	}
	if err == nil { // woken, not timed out: the reads are as fresh as the wake-up
		s.putHint(p, res[1], res[2])
	}
	return nil
}

// putHint keeps a claim's first reads (dueCmd, readyCmd) of partition p for the claim that follows.
// A reading with neither a due session nor a candidate is not kept: a claim that took it would
// find nothing and read again anyway.
func (s *Store) putHint(p string, due, ready valkey.ValkeyResult) {
	var err error
	d := decode(&err, due.AsStrSlice, "")
	cands := decode(&err, ready.AsZScores, "")
	if err == nil && (len(d) > 0 || len(cands) > 0) {
		s.hints.put(p, claimHint{due: d, cands: cands})
	}
}

// RenewLeases extends leases in one round trip (one script per session, pipelined).
func (s *Store) RenewLeases(ctx context.Context, agentID string, leases []store.Lease, ttl time.Duration) ([]store.LostLease, error) {
	if ttl <= 0 {
		ttl = s.cfg.LeaseTTL
	}
	bySession := map[string][]store.Lease{}
	var order []string
	for _, l := range leases {
		if _, ok := bySession[l.SessionID]; !ok {
			order = append(order, l.SessionID)
		}
		bySession[l.SessionID] = append(bySession[l.SessionID], l)
	}
	now := itoa(s.nowMS())
	execs := make([]valkey.LuaExec, len(order))
	for i, sid := range order {
		args := []string{now, itoa(ttl.Milliseconds())}
		for _, l := range bySession[sid] {
			args = append(args, intID(sid, l.TaskID), l.Token)
		}
		execs[i] = valkey.LuaExec{Keys: []string{s.keys.meta(sid)}, Args: args}
	}
	var lost []store.LostLease
	for i, r := range s.scripts.execMulti(ctx, s.client, s.scripts.renew, execs) {
		vals, err := r.ToArray()
		if err != nil {
			return nil, storeErr("renewing leases", err)
		}
		ls := bySession[order[i]]
		for j := 0; j+1 < len(vals); j += 2 {
			idx, _ := vals[j].AsInt64()
			reason, _ := vals[j+1].ToString()
			lost = append(lost, store.LostLease{Lease: ls[idx-1], Reason: reason})
		}
	}
	return lost, nil
}

// Release hands leased tasks back to their queues without counting an attempt.
func (s *Store) Release(ctx context.Context, leases []store.Lease) error {
	bySession := map[string][]string{}
	for _, l := range leases {
		if bySession[l.SessionID] == nil {
			bySession[l.SessionID] = []string{itoa(s.nowMS())}
		}
		bySession[l.SessionID] = append(bySession[l.SessionID], intID(l.SessionID, l.TaskID), l.Token)
	}
	for sid, args := range bySession {
		parts, err := s.run(ctx, s.scripts.release, sid, args).AsStrSlice()
		if err != nil {
			return storeErr("releasing leases", err)
		}
		if err := s.afterCommit("ready index after a release", s.markReady(ctx, sid, parts...)); err != nil {
			return err
		}
	}
	return nil
}

// RequeueExpired takes back expired leases of a partition; it also queues due retries.
func (s *Store) RequeueExpired(ctx context.Context, p string, maxN int) (int, error) {
	if maxN <= 0 {
		maxN = 1000
	}
	now := s.nowMS()
	sids, err := s.client.Do(ctx, s.client.B().Zrangebyscore().Key(s.keys.leases(p)).Min("-inf").Max(itoa(now)).Limit(0, 16).Build()).AsStrSlice()
	if err != nil {
		return 0, storeErr("reading the partition's lease index", err)
	}
	total := 0
	for _, sid := range sids {
		if total >= maxN {
			break
		}
		n := maxN - total
		args := []string{p, itoa(now), strconv.Itoa(n), itoa(s.cfg.RetryBackoffBase.Milliseconds()), itoa(s.cfg.RetryBackoffMax.Milliseconds())}
		for range n {
			args = append(args, strconv.FormatFloat(rand.Float64(), 'f', 6, 64))
		}
		vals, err := s.run(ctx, s.scripts.expire, sid, args).AsIntSlice()
		if err != nil {
			return total, storeErr("taking back expired leases", err)
		}
		total += int(vals[0])
		if err := s.fixIndex(ctx, s.keys.leases(p), sid, s.keys.sessionTag(sid)+":l:"+p, vals[1]); err != nil {
			return total, err
		}
		if vals[2] >= 0 {
			if err := s.client.Do(ctx, s.client.B().Zadd().Key(s.keys.delayed(p)).Lt().ScoreMember().ScoreMember(float64(vals[2]), sid).Build()).Error(); err != nil {
				return total, storeErr("indexing retries", err)
			}
		}
	}
	if err := s.promoteDue(ctx, p); err != nil {
		return total, err
	}
	return total, nil
}

type heartbeatJSON struct {
	Hostname string `json:"h"`
	Capacity int32  `json:"c"`
	InFlight int32  `json:"f"`
	Seen     int64  `json:"s"`
	Expires  int64  `json:"x"`
}

// Heartbeat records an agent's presence and capacity for a partition.
func (s *Store) Heartbeat(ctx context.Context, info store.AgentHeartbeat, ttl time.Duration) error {
	now := s.nowMS()
	b, _ := json.Marshal(heartbeatJSON{Hostname: info.Hostname, Capacity: info.Capacity, InFlight: info.InFlight, Seen: now, Expires: now + ttl.Milliseconds()})
	res := s.client.DoMulti(ctx,
		s.client.B().Hset().Key(s.keys.agents(info.Partition)).FieldValue().FieldValue(info.AgentID, string(b)).Build(),
		s.client.B().Sadd().Key(s.keys.servedPartitions()).Member(info.Partition).Build())
	for _, r := range res {
		if err := r.Error(); err != nil {
			return storeErr("recording the heartbeat", err)
		}
	}
	return nil
}
