package valkeystore

import (
	"context"
	"math/rand/v2"
	"strconv"

	"github.com/valkey-io/valkey-go"

	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// RecordOutcomes records steps of leased tasks: one outcomes.lua run per session, all pipelined in one
// round trip; then the partition indexes of the tasks they queued or delayed.
func (s *Store) RecordOutcomes(ctx context.Context, steps []store.Outcome) ([]store.OutcomeResult, error) {
	results := make([]store.OutcomeResult, len(steps))
	type group struct {
		sid   string
		args  []string
		steps []int // indexes into steps
	}
	var groups []*group
	bySession := make(map[string]*group)
	now := s.nowMS()
	head := []string{itoa(now), itoa(s.cfg.RetryBackoffBase.Milliseconds()), itoa(s.cfg.RetryBackoffMax.Milliseconds())}
	for i, st := range steps {
		sid := st.Lease.SessionID
		g := bySession[sid]
		if g == nil {
			g = &group{sid: sid, args: append(make([]string, 0, 16*len(steps)), head...)}
			bySession[sid] = g
			groups = append(groups, g)
		}
		args, err := s.stepArgs(ctx, g.args, st, now)
		if err != nil {
			results[i].Err = err
			continue
		}
		g.args = args
		g.steps = append(g.steps, i)
	}
	execs := make([]valkey.LuaExec, 0, len(groups))
	live := groups[:0]
	for _, g := range groups {
		if len(g.steps) > 0 {
			execs = append(execs, valkey.LuaExec{Keys: []string{s.keys.meta(g.sid)}, Args: g.args})
			live = append(live, g)
		}
	}
	if len(execs) == 0 {
		return results, nil
	}
	var ready []readyHint
	var delayed []delayedHint
	for gi, r := range s.runMulti(ctx, s.scripts.outcomes, execs) {
		g := live[gi]
		vals, err := scriptReply(r, 3, "recording task outcomes", "outcomes.lua")
		if err != nil {
			return nil, err
		}
		replies, err := vals[0].AsStrSlice()
		if err != nil || len(replies) != len(g.steps) {
			return nil, storeErr("recording task outcomes", errBadReply("outcomes.lua replies", len(replies)))
		}
		for j, reply := range replies {
			res := &results[g.steps[j]]
			switch reply {
			case "OK":
			case "RETRIED":
				res.Retried = true
			default:
				res.Err = scriptError(reply)
			}
		}
		parts, _ := vals[1].AsStrSlice()
		if len(parts) > 0 {
			ready = append(ready, readyHint{sid: g.sid, parts: parts})
		}
		dl, _ := vals[2].ToArray()
		for k := 0; k+1 < len(dl); k += 2 {
			p, _ := dl[k].ToString()
			due, _ := dl[k+1].AsInt64()
			delayed = append(delayed, delayedHint{sid: g.sid, part: p, due: due})
		}
	}
	// The outcomes are committed: the indexes are retried for a while (a Cluster master failing over),
	// then trouble with them (hints the reconciler repairs) is logged, not reported as the outcomes'
	// failure.
	if err := s.retryIndex(ctx, func() error { return s.markReadyMany(ctx, ready) }); err != nil {
		s.cfg.Logger.Warn("could not index ready work after recording outcomes", "error", err)
	}
	if err := s.retryIndex(ctx, func() error {
		// built anew at each try: valkey-go recycles a command once it has been sent
		cmds := make([]valkeyCmd, len(delayed))
		for i, d := range delayed {
			cmds[i] = s.client.B().Zadd().Key(s.keys.delayed(d.part)).Lt().ScoreMember().ScoreMember(float64(d.due), d.sid).Build()
		}
		for _, r := range s.client.DoMulti(ctx, cmds...) {
			if err := r.Error(); err != nil {
				return storeErr("indexing retries", err)
			}
		}
		return nil
	}); err != nil {
		s.cfg.Logger.Warn("could not index retries after recording outcomes", "error", err)
	}
	return results, nil
}

// delayedHint is a session's earliest retry due in a partition, for the partition's delayed index.
type delayedHint struct {
	sid, part string
	due       int64
}

// stepArgs appends one step's arguments for outcomes.lua.
func (s *Store) stepArgs(ctx context.Context, args []string, st store.Outcome, now int64) ([]string, error) {
	l := st.Lease
	tid, after := intID(l.SessionID, l.TaskID), intID(l.SessionID, st.After)
	ms := now
	if !st.Time.IsZero() {
		ms = st.Time.UnixMilli()
	}
	switch st.Kind {
	case store.OutcomeStart:
		return append(args, "S", tid, l.Token, itoa(ms), after), nil
	case store.OutcomeProgress:
		return append(args, "P", tid, l.Token, itoa(ms), strconv.FormatFloat(st.Fraction, 'f', -1, 64), st.Message), nil
	case store.OutcomeFail:
		e := st.Error
		if e == nil {
			e = &chorusv1.TaskError{Kind: chorusv1.ErrorKind_ERROR_KIND_WORKER_ERROR, Message: "the worker reported an error without details"}
		}
		endStatus := strconv.Itoa(int(chorusv1.TaskStatus_TASK_STATUS_FAILED))
		if e.Kind == chorusv1.ErrorKind_ERROR_KIND_CANCELLED {
			endStatus = strconv.Itoa(int(chorusv1.TaskStatus_TASK_STATUS_CANCELLED))
		}
		retryable := "0"
		if e.Retryable {
			retryable = "1"
		}
		return append(args, "F", tid, l.Token, itoa(ms), strconv.Itoa(int(e.Kind)), e.Message, retryable, endStatus,
			strconv.FormatFloat(rand.Float64(), 'f', 6, 64)), nil
	case store.OutcomeComplete:
		c := st.Completion
		if c == nil {
			c = &store.Completion{}
		}
		started := "0"
		if !st.Started.IsZero() {
			started = itoa(st.Started.UnixMilli())
		}
		return s.completionArgs(ctx, append(args, "C", tid, l.Token, itoa(ms), started, after), l, c)
	}
	return nil, store.Errorf(store.CodeInvalidArgument, "unknown outcome kind %d for task %s", st.Kind, l.TaskID)
}

// completionArgs appends a completion's outputs, new results and subtasks.
func (s *Store) completionArgs(ctx context.Context, args []string, l store.Lease, c *store.Completion) ([]string, error) {
	if len(c.SubtaskIDs) != len(c.Subtasks) {
		return nil, store.Errorf(store.CodeInvalidArgument, "%d subtasks but %d subtask ids: give one id per subtask", len(c.Subtasks), len(c.SubtaskIDs))
	}
	args = append(args, strconv.Itoa(len(c.Outputs)))
	for _, o := range c.Outputs {
		if err := checkData(o.Data, s.cfg.MaxInlineSize, o.ResultID); err != nil {
			return nil, err
		}
		args = append(append(args, o.ResultID), dataArgs(o.Data)...)
	}
	args = append(args, strconv.Itoa(len(c.NewResults)))
	for _, r := range c.NewResults {
		id := r.ResultID
		if id == "" {
			return nil, store.Errorf(store.CodeInvalidArgument, "a result created by task %s has no id", l.TaskID)
		}
		if r.Data == nil {
			args = append(args, id, "0", "0", "", "0", "")
			continue
		}
		if err := checkData(*r.Data, s.cfg.MaxInlineSize, id); err != nil {
			return nil, err
		}
		args = append(append(args, id, "1"), dataArgs(*r.Data)...)
	}
	if len(c.Subtasks) == 0 {
		return appendTraceParents(append(args, "0"), c), nil
	}
	if err := s.noteSubtaskParts(ctx, l.SessionID, c.Subtasks); err != nil {
		return nil, err
	}
	// subtasks continue the parent's trace
	var traceParent, traceState string
	tid := intID(l.SessionID, l.TaskID)
	res := s.client.DoMulti(ctx, s.client.B().Hget().Key(s.keys.tasks(l.SessionID)).Field(tid).Build(),
		s.client.B().Hget().Key(s.keys.bodies(l.SessionID)).Field(tid).Build())
	if head, err := res[0].ToString(); err == nil {
		body, _ := res[1].ToString() // nil when the header holds the body
		if rec, err := decodeTask(head, body); err == nil {
			traceParent, traceState = rec.traceParent, rec.traceState
		}
	}
	args, err := s.encodeTasks(ctx, l.SessionID, c.Subtasks, c.SubtaskIDs, l.TaskID, traceParent, traceState, args, false, 0)
	if err != nil {
		return nil, err
	}
	return appendTraceParents(args, c), nil
}

// appendTraceParents ends a completion with each output's producer traceparent (outcomes.lua stores
// them in the session's :rtp hash; GetResultData returns them for span links).
func appendTraceParents(args []string, c *store.Completion) []string {
	for _, o := range c.Outputs {
		args = append(args, o.Data.TraceParent)
	}
	return args
}

// scriptError turns a step's refusal "CODE message" into a *store.Error.
func scriptError(reply string) error {
	if se := codedError(reply); se != nil {
		return se
	}
	return &store.Error{Code: store.CodeUnknown, Message: "unexpected reply from outcomes.lua: " + reply}
}

// One-step forms of RecordOutcomes.

// MarkRunning records that a worker started a leased task.
func (s *Store) MarkRunning(ctx context.Context, l store.Lease) error {
	_, err := s.recordOne(ctx, store.Outcome{Kind: store.OutcomeStart, Lease: l}, "marking the task running")
	return err
}

// ReportProgress appends a progress event for a leased task.
func (s *Store) ReportProgress(ctx context.Context, l store.Lease, fraction float64, message string) error {
	_, err := s.recordOne(ctx, store.Outcome{Kind: store.OutcomeProgress, Lease: l, Fraction: fraction, Message: message}, "reporting progress")
	return err
}

// Complete finishes a leased task atomically.
func (s *Store) Complete(ctx context.Context, c store.Completion) error {
	_, err := s.recordOne(ctx, store.Outcome{Kind: store.OutcomeComplete, Lease: c.Lease, Completion: &c}, "completing the task")
	return err
}

// Fail records a failed attempt, retrying it after a backoff when allowed.
func (s *Store) Fail(ctx context.Context, f store.Failure) (bool, error) {
	return s.recordOne(ctx, store.Outcome{Kind: store.OutcomeFail, Lease: f.Lease, Error: f.Error}, "recording the failure")
}

func (s *Store) recordOne(ctx context.Context, o store.Outcome, what string) (bool, error) {
	res, err := s.RecordOutcomes(ctx, []store.Outcome{o})
	if err != nil {
		return false, err
	}
	return res[0].Retried, res[0].Err
}
