package valkeystore

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/valkey-io/valkey-go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/validate"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// encodeTasks validates specs and appends their script arguments (n, then 8 values per task).
//
// A batch in the short form (short; see submit.lua) carries each task's header as submit.lua stores
// it, QUEUED since nowMS: only a batch whose tasks the store numbers and that have no dependencies
// (payload_id is one) may take it.
func (s *Store) encodeTasks(ctx context.Context, sessionID string, specs []store.TaskSpec, ids []string, parent, traceParent, traceState string, args []string, short bool, nowMS int64) ([]string, error) {
	d, err := s.defaultsOf(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	if err := batchCycle(specs, ids); err != nil {
		return nil, err
	}
	if short {
		args = append(args, "F"+strconv.Itoa(len(specs)))
	} else {
		args = append(args, strconv.Itoa(len(specs)))
	}
	now := timestamppb.New(s.now())
	for i, sp := range specs {
		id := ids[i]
		if sp.Method == "" {
			return nil, store.Errorf(store.CodeInvalidArgument, "task %d of the batch has no method", i)
		}
		if err := validate.Method(sp.Method); err != nil {
			return nil, store.Errorf(store.CodeInvalidArgument, "task %d: %v", i, err)
		}
		if len(sp.Payload) > s.cfg.MaxInlineSize {
			return nil, store.Errorf(store.CodeResourceExhausted, "payload of task %d is %d bytes, over the inline limit of %d: upload it as a result and set payload_id", i, len(sp.Payload), s.cfg.MaxInlineSize)
		}
		if len(sp.Payload) > 0 && sp.PayloadID != "" {
			return nil, store.Errorf(store.CodeInvalidArgument, "task %d sets both payload and payload_id: set one", i)
		}
		o := mergeOptions(sp.Options, d.opts)
		if o.GetPartition() == "" {
			return nil, store.Errorf(store.CodeFailedPrecondition, "task %d has no partition and its session has no default partition: set options.partition", i)
		}
		prio, maxr := o.GetPriority(), s.cfg.DefaultMaxRetries
		if o.MaxRetries != nil {
			maxr = o.GetMaxRetries()
		}
		if err := errors.Join(validate.Partition(o.GetPartition()), validate.Priority(prio), validate.Retries(maxr)); err != nil {
			return nil, store.Errorf(store.CodeInvalidArgument, "task %d: %v", i, err)
		}
		deps := sp.DataDependencies
		if sp.PayloadID != "" && !slices.Contains(deps, sp.PayloadID) {
			deps = append(slices.Clip(deps), sp.PayloadID)
		}
		for _, x := range append(slices.Clip(deps), sp.ExpectedOutputIDs...) {
			if err := validate.ID("result id", x); err != nil {
				return nil, store.Errorf(store.CodeInvalidArgument, "task %d: %v", i, err)
			}
		}
		body := &chorusv1.Task{Method: sp.Method, DataDependencies: sp.DataDependencies, PayloadSize: int64(len(sp.Payload)),
			ParentTaskId: parent, CreateTime: now, PayloadId: sp.PayloadID}
		if o.MaxDuration != nil || len(o.Options) > 0 {
			body.Options = &chorusv1.TaskOptions{MaxDuration: o.MaxDuration, Options: o.Options}
		}
		if traceParent != "" {
			// the trace context rides in the body's free-form options
			if body.Options == nil {
				body.Options = &chorusv1.TaskOptions{}
			}
			body.Options.Options = cloneMap(body.Options.Options)
			body.Options.Options[traceParentKey] = traceParent
			if traceState != "" {
				body.Options.Options[traceStateKey] = traceState
			}
		}
		b, err := proto.Marshal(body)
		if err != nil {
			return nil, storeErr("encoding a task", err)
		}
		outs := strings.Join(sp.ExpectedOutputIDs, ",")
		if short {
			args = append(args, o.GetPartition(), strconv.Itoa(int(prio)), strconv.Itoa(int(maxr)), outs, string(b), string(sp.Payload),
				queuedHeader(o.GetPartition(), prio, maxr, nowMS, outs, string(b)))
			continue
		}
		args = append(args, id, o.GetPartition(), strconv.Itoa(int(prio)), strconv.Itoa(int(maxr)),
			strings.Join(deps, ","), outs, string(b), string(sp.Payload))
	}
	return args, nil
}

const (
	traceParentKey = "chorus.traceparent"
	traceStateKey  = "chorus.tracestate"
)

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+2)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// mergeOptions fills unset fields of o from the session's defaults.
func mergeOptions(o, def *chorusv1.TaskOptions) *chorusv1.TaskOptions {
	out := &chorusv1.TaskOptions{}
	if def != nil {
		out = proto.Clone(def).(*chorusv1.TaskOptions)
	}
	if o == nil {
		return out
	}
	if o.Partition != "" {
		out.Partition = o.Partition
	}
	if o.Priority != nil {
		out.Priority = o.Priority
	}
	if o.MaxRetries != nil {
		out.MaxRetries = o.MaxRetries
	}
	if o.MaxDuration != nil {
		out.MaxDuration = o.MaxDuration
	}
	if len(o.Options) > 0 {
		m := cloneMap(out.Options)
		for k, v := range o.Options {
			m[k] = v
		}
		out.Options = m
	}
	return out
}

// SubmitTasks stores a batch of tasks atomically.
func (s *Store) SubmitTasks(ctx context.Context, sessionID string, b store.SubmitBatch) ([]*chorusv1.SubmittedTask, error) {
	if len(b.Tasks) > s.cfg.MaxBatchSize {
		return nil, store.Errorf(store.CodeResourceExhausted, "the batch has %d tasks, over the limit of %d: split it", len(b.Tasks), s.cfg.MaxBatchSize)
	}
	if err := s.checkTenantQueued(ctx, b); err != nil {
		return nil, err
	}
	ids := make([]string, len(b.Tasks)) // "": submit.lua numbers them (ids.go)
	now := s.nowMS()
	args := []string{itoa(now), b.RequestID, strconv.FormatInt(max(b.MaxSessionQueued, 0), 10)}
	args, err := s.encodeTasks(ctx, sessionID, b.Tasks, ids, b.ParentTaskID, b.TraceParent, b.TraceState, args, shortForm(b), now)
	if err != nil {
		return nil, err
	}
	perPart, queued := s.partsOf(args, 3)
	if err := s.beforeSubmit(ctx, sessionID, perPart, b.MaxQueueDepth); err != nil {
		return nil, err
	}
	reqKey := s.keys.meta(sessionID)
	if b.RequestID != "" {
		reqKey = s.keys.request(sessionID, b.RequestID)
	}
	// On one server, agents are woken in the submit's own round trip, right after its script, for
	// the partitions where tasks of the batch queue at once (no dependencies), and the session's
	// counts in the batch's partitions are folded into the partitions' (pcount.lua reads them as
	// the script left them). On a Cluster those keys are in other slots and the wake-up could run
	// before the script: both follow it (afterSubmit).
	var wake pipeline
	var woken, folded []string
	if s.client.Mode() != valkey.ClientModeCluster {
		woken = queued
		for _, part := range woken {
			s.scripts.call(&wake, s.client, s.scripts.readyAdd, s.readyKeys(part), []string{sessionID})
		}
		for part := range perPart {
			folded = append(folded, part)
			s.scripts.call(&wake, s.client, s.scripts.pcount, []string{s.keys.snap(part), s.keys.tot(part), s.keys.active(part), s.keys.partCounts(sessionID, part)},
				[]string{sessionID, "@"})
		}
	}
	res := s.runThen(ctx, s.scripts.submit, sessionID, args, []string{reqKey}, &wake)
	vals, err := res[0].ToArray()
	if err != nil {
		return nil, storeErr("submitting tasks", err)
	}
	answer, _ := vals[0].ToArray()
	ready, _ := vals[1].AsStrSlice()
	counts, _ := vals[2].AsStrSlice()
	// afterSubmit marks the partitions whose wake-up was not sent, or failed, ready, and folds the
	// counts that were not folded.
	ready = slices.DeleteFunc(ready, func(p string) bool {
		i := slices.Index(woken, p)
		return i >= 0 && res[1+i].Error() == nil
	})
	s.depths.putFolds(folded, res[1+len(woken):])
	// committed: index trouble from here on is logged and left to the reconciler
	_ = s.afterCommit("indexes after a submit", s.afterSubmit(ctx, sessionID, ready, unfolded(counts, folded, res[1+len(woken):])))
	// the answer is the flat list id, status (from the script, or its cached JSON)
	flat := make([]string, 0, len(answer))
	for _, v := range answer {
		if str, err := v.ToString(); err == nil {
			flat = append(flat, str)
		} else if n, err := v.AsInt64(); err == nil {
			flat = append(flat, strconv.FormatInt(n, 10))
		} else if f, err := v.AsFloat64(); err == nil {
			flat = append(flat, strconv.Itoa(int(f)))
		}
	}
	out := make([]*chorusv1.SubmittedTask, 0, len(flat)/2)
	// a repeated request's answer comes with no counts (a fresh one has a count per partition)
	cached := len(flat) >= 2 && len(counts) == 0
	for i := 0; i+1 < len(flat); i += 2 {
		st, _ := strconv.Atoi(flat[i+1])
		t := &chorusv1.SubmittedTask{TaskId: extID(sessionID, flat[i]), Status: chorusv1.TaskStatus(st)}
		if !cached && i/2 < len(b.Tasks) {
			t.ExpectedOutputIds = b.Tasks[i/2].ExpectedOutputIDs
		}
		out = append(out, t)
	}
	if cached {
		// repeated request: read the outputs from the stored tasks
		for _, t := range out {
			if tk, err := s.GetTask(ctx, sessionID, t.TaskId); err == nil {
				t.ExpectedOutputIds = tk.ExpectedOutputIds
			}
		}
	}
	return out, nil
}

// unfolded is the pairs partition, counts of counts (submit.lua's answer) whose partition is not
// one of folded, or whose fold (res, in the order of folded) failed.
func unfolded(counts, folded []string, res []valkey.ValkeyResult) []string {
	out := counts[:0:0]
	for i := 0; i+1 < len(counts); i += 2 {
		if j := slices.Index(folded, counts[i]); j >= 0 && j < len(res) && res[j].Error() == nil {
			continue
		}
		out = append(out, counts[i], counts[i+1])
	}
	return out
}

// readyHint names partitions where a session has new ready work.
type readyHint struct {
	sid   string
	parts []string
}

// markReadyMany is markReady for several sessions, in one round trip.
func (s *Store) markReadyMany(ctx context.Context, hints []readyHint) error {
	var p pipeline
	s.addReady(&p, hints)
	return s.readyErr(s.scripts.do(ctx, s.client, &p))
}

// addReady appends to p what marks hints ready: the sessions join their partitions' ready indexes
// (waking the agents) and their partitions' session sets.
func (s *Store) addReady(p *pipeline, hints []readyHint) {
	for _, h := range hints {
		for _, part := range h.parts {
			s.scripts.call(p, s.client, s.scripts.readyAdd, s.readyKeys(part), []string{h.sid})
			p.add(s.client.B().Sadd().Key(s.keys.partSessions(part)).Member(h.sid).Build())
		}
	}
}

// readyErr is the first error among the results of index updates (addReady, pcount.lua).
func (s *Store) readyErr(res []valkey.ValkeyResult) error {
	for _, r := range res {
		if err := r.Error(); err != nil {
			return storeErr("updating the partition indexes", err)
		}
	}
	return nil
}

// partsOf reads the encoded batch in args (from index i: n, then 8 values per task, the partition
// second and the dependencies fifth; or the short form, "F" and n, then shortValues values per task,
// the partition first): how many tasks it puts in each partition, and the partitions where it
// queues tasks at once (tasks without dependencies), in order of first appearance.
func (s *Store) partsOf(args []string, i int) (perPart map[string]int64, queued []string) {
	count, short := strings.CutPrefix(args[i], "F")
	n, _ := strconv.Atoi(count)
	perPart = map[string]int64{}
	for j := 0; j < n; j++ {
		part, deps := args[i+1+shortValues*j], ""
		if !short {
			task := args[i+1+8*j:]
			part, deps = task[1], task[4]
		}
		perPart[part]++
		if deps == "" && !slices.Contains(queued, part) {
			queued = append(queued, part)
		}
	}
	return perPart, queued
}

// shortValues is how many values a task has in a batch's short form (submit.lua).
const shortValues = 7

// shortForm tells whether batch b may be sent in the short form: the store numbers its tasks, none
// has dependencies, and they are not subtasks (which may take over outputs of their parent).
func shortForm(b store.SubmitBatch) bool {
	if b.ParentTaskID != "" {
		return false
	}
	for _, t := range b.Tasks {
		if len(t.DataDependencies) > 0 || t.PayloadID != "" {
			return false
		}
	}
	return true
}

// readyKeys are ready_add.lua's keys for partition p.
func (s *Store) readyKeys(p string) []string {
	return []string{s.keys.ready(p), s.keys.vtime(p), s.keys.wake(p)}
}

// beforeSubmit notes, write-ahead, that the session may have work in the batch's partitions (see
// reconcile.go) and refuses a batch that would take a partition past limit PENDING+QUEUED tasks (over
// all sessions, from the partitions' counts), in one round trip.
func (s *Store) beforeSubmit(ctx context.Context, sid string, perPart map[string]int64, limit int64) error {
	var p pipeline
	parts := make([]string, 0, len(perPart))
	reads := map[string]int{}
	for part, add := range perPart {
		parts = append(parts, part)
		if limit > 0 && !s.depths.farBelow(part, add, limit) {
			reads[part] = p.add(s.client.B().Hmget().Key(s.keys.tot(part)).Field("1", "2").Build())
		}
	}
	added := s.addSessionParts(&p, sid, parts)
	res := s.scripts.do(ctx, s.client, &p) // no round trip when there is nothing to read or note
	for _, r := range res[len(reads):] {
		if err := r.Error(); err != nil {
			return storeErr("indexing the session's partitions", err)
		}
	}
	s.noted.mark(sid, added)
	for part, i := range reads {
		vals, err := res[i].ToArray()
		if err != nil {
			return storeErr("reading the partition's queue depth", err)
		}
		var held int64
		for _, v := range vals {
			if n, err := v.AsInt64(); err == nil {
				held += n
			}
		}
		s.depths.put(part, held)
		if add := perPart[part]; held+add > limit {
			return store.Errorf(store.CodeResourceExhausted, "partition %s holds %d pending or queued tasks; %d more would pass its limit of %d: wait for its queue to drain, or submit fewer at once",
				part, held, add, limit)
		}
	}
	return nil
}

// afterSubmit indexes a committed submit in one round trip: the partitions with ready tasks join the
// ready indexes (waking agents) and the session's counts after the submit (counts: partition,
// "c1,...,c7", from the script) are folded into each partition's totals.
func (s *Store) afterSubmit(ctx context.Context, sid string, ready, counts []string) error {
	return s.retryIndex(ctx, func() error {
		var p pipeline
		for _, part := range ready {
			s.scripts.call(&p, s.client, s.scripts.readyAdd, s.readyKeys(part), []string{sid})
		}
		var folds []string
		for i := 0; i+1 < len(counts); i += 2 {
			part := counts[i]
			folds = append(folds, part)
			s.scripts.call(&p, s.client, s.scripts.pcount, []string{s.keys.snap(part), s.keys.tot(part), s.keys.active(part)}, []string{sid, counts[i+1]})
		}
		res := s.scripts.do(ctx, s.client, &p)
		s.depths.putFolds(folds, res[len(res)-len(folds):])
		return s.readyErr(res)
	})
}

// noteSubtaskParts records, before a completion that stores subtasks, that the session may have work
// in the subtasks' partitions (write-ahead, see reconcile.go).
func (s *Store) noteSubtaskParts(ctx context.Context, sessionID string, specs []store.TaskSpec) error {
	if len(specs) == 0 {
		return nil
	}
	d, err := s.defaultsOf(ctx, sessionID)
	if err != nil {
		return err
	}
	var parts []string
	for _, sp := range specs {
		if p := mergeOptions(sp.Options, d.opts).GetPartition(); p != "" && !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	return s.noteSessionParts(ctx, sessionID, parts)
}

// markReady records that a session has ready work in partitions and wakes their agents.
func (s *Store) markReady(ctx context.Context, sessionID string, parts ...string) error {
	return s.retryIndex(ctx, func() error { return s.markReadyOnce(ctx, sessionID, parts...) })
}

func (s *Store) markReadyOnce(ctx context.Context, sessionID string, parts ...string) error {
	return s.markReadyMany(ctx, []readyHint{{sid: sessionID, parts: parts}})
}

type attemptJSON struct {
	N int32       `json:"n"`
	G string      `json:"g"`
	D int64       `json:"d"`
	S json.Number `json:"s"`
	E json.Number `json:"e"`
	K json.Number `json:"k"`
	M string      `json:"m"`
	R bool        `json:"r"`
}

// GetTask returns a task with its attempts.
func (s *Store) GetTask(ctx context.Context, sessionID, taskID string) (*chorusv1.Task, error) {
	tid := intID(sessionID, taskID)
	res := s.client.DoMulti(ctx,
		s.client.B().Hget().Key(s.keys.tasks(sessionID)).Field(tid).Build(),
		s.client.B().Hget().Key(s.keys.attempts(sessionID)).Field(tid).Build(),
		s.client.B().Hget().Key(s.keys.taskEnds(sessionID)).Field(tid).Build(),
		s.client.B().Hget().Key(s.keys.bodies(sessionID)).Field(tid).Build())
	v, err := res[0].ToString()
	if err != nil {
		if valkeyNil(err) {
			return nil, s.notFound(ctx, sessionID, "task %s does not exist in session %s", taskID, sessionID)
		}
		return nil, storeErr("reading the task", err)
	}
	body, err := res[3].ToString()
	if err != nil && !valkeyNil(err) {
		return nil, storeErr("reading the task", err)
	}
	rec, err := decodeTask(v, body)
	if err != nil {
		return nil, storeErr("decoding task "+taskID, err)
	}
	t := rec.task(sessionID, taskID) // found: taskID is the id users see
	if raw, err := res[1].ToString(); err == nil {
		var as []attemptJSON
		if err := json.Unmarshal([]byte(raw), &as); err == nil {
			for _, a := range as {
				ta := &chorusv1.TaskAttempt{Number: a.N, AgentId: a.G, DispatchTime: ts(a.D), StartTime: ts(num(a.S)), EndTime: ts(num(a.E))}
				if k := num(a.K); k != 0 {
					ta.Error = &chorusv1.TaskError{Kind: chorusv1.ErrorKind(k), Message: a.M, Retryable: a.R}
				}
				t.Attempts = append(t.Attempts, ta)
			}
		}
	}
	cur := rec.currentAttempt()
	if cur != nil {
		if n := len(t.Attempts); n > 0 && t.Attempts[n-1].Number >= cur.Number {
			cur = nil
		} else {
			t.Attempts = append(t.Attempts, cur)
		}
	}
	raw, err := res[2].ToString()
	if err != nil && !valkeyNil(err) {
		return nil, storeErr("reading the task's end", err)
	}
	if err == nil {
		applyEnd(t, raw)
	} else if err := s.endsFromOutputs(ctx, sessionID, []*chorusv1.Task{t}, []*taskRecord{rec}); err != nil {
		return nil, err
	}
	if a := cur; a != nil && t.EndTime != nil {
		// the task ended during its current attempt: that attempt ended with it
		a.EndTime = t.EndTime
		if t.Error != nil {
			a.Error = &chorusv1.TaskError{Kind: t.Error.Kind, Message: t.Error.Message}
		}
	}
	return t, nil
}

// endsFromOutputs sets the end time of the COMPLETED tasks among ts (recs their records) that have
// no :te entry: a completion that writes its task's first expected output keeps the task's end only
// there, as the output's end time (outcomes.lua), one hash field a task fewer.
func (s *Store) endsFromOutputs(ctx context.Context, sessionID string, ts []*chorusv1.Task, recs []*taskRecord) error {
	var rids []string
	var which []*chorusv1.Task
	for i, t := range ts {
		if t.EndTime == nil && recs[i].status == chorusv1.TaskStatus_TASK_STATUS_COMPLETED && len(recs[i].outputs) > 0 {
			rids = append(rids, recs[i].outputs[0])
			which = append(which, t)
		}
	}
	if len(rids) == 0 {
		return nil
	}
	vals, err := s.client.Do(ctx, s.client.B().Hmget().Key(s.keys.results(sessionID)).Field(rids...).Build()).ToArray()
	if err != nil {
		return storeErr("reading the tasks' ends from their outputs", err)
	}
	for i, v := range vals {
		if raw, err := v.ToString(); err == nil && i < len(which) {
			which[i].EndTime = decodeResult(sessionID, rids[i], raw).GetEndTime()
		}
	}
	return nil
}

// applyEnd sets a task's end time and error from its :te entry ("<ms>|<kind>|<message>").
func applyEnd(t *chorusv1.Task, raw string) {
	f := strings.SplitN(raw, "|", 3)
	ms, _ := strconv.ParseInt(f[0], 10, 64)
	t.EndTime = ts(ms)
	if len(f) == 3 && f[1] != "" {
		k, _ := strconv.Atoi(f[1])
		t.Error = &chorusv1.TaskError{Kind: chorusv1.ErrorKind(k), Message: f[2]}
	}
}

func num(n json.Number) int64 {
	if n == "" {
		return 0
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	f, _ := n.Float64()
	return int64(f)
}

// ListTasks returns a page of a session's tasks, oldest first.
func (s *Store) ListTasks(ctx context.Context, sessionID string, q store.ListQuery[chorusv1.TaskStatus]) ([]*chorusv1.Task, string, error) {
	if _, err := s.defaultsOf(ctx, sessionID); err != nil {
		return nil, "", err
	}
	var out []*chorusv1.Task
	next, err := s.page(ctx, s.keys.taskList(sessionID), store.PageTasks, q.PageSize, q.PageToken, func(id string) string { return extID(sessionID, id) }, func(ids []string) (int, error) {
		res := s.hmgets(ctx, ids, s.keys.tasks(sessionID), s.keys.taskEnds(sessionID), s.keys.bodies(sessionID))
		var err error
		vals := decode(&err, res[0].ToArray, "reading tasks")
		ends := decode(&err, res[1].ToArray, "reading task ends")
		bodies := decode(&err, res[2].ToArray, "reading task bodies")
		if err != nil {
			return 0, err
		}
		var bad error
		var listed []*chorusv1.Task
		var recs []*taskRecord
		n := s.take(len(out), q.PageSize, len(ids), func(i int) bool {
			if bad != nil {
				return false
			}
			v, err := vals[i].ToString()
			if valkeyNil(err) {
				return false // listed but gone: a purge in progress
			} else if err != nil {
				bad = storeErr("reading task "+extID(sessionID, ids[i]), err)
				return false
			}
			body, _ := bodies[i].ToString()
			rec, err := decodeTask(v, body)
			if err != nil {
				id := extID(sessionID, ids[i])
				s.cfg.Logger.Error("a stored task record cannot be decoded", "session", sessionID, "task", id, "error", err)
				bad = store.Errorf(store.CodeUnknown, "task %s of session %s has a stored record that cannot be decoded (%v): report it; GetTask names the same task", id, sessionID, err)
				return false
			}
			if q.Status != 0 && rec.status != q.Status {
				return false
			}
			t := rec.task(sessionID, extID(sessionID, ids[i]))
			if raw, err := ends[i].ToString(); err == nil {
				applyEnd(t, raw)
			}
			out = append(out, t)
			listed, recs = append(listed, t), append(recs, rec)
			return true
		})
		if bad == nil {
			bad = s.endsFromOutputs(ctx, sessionID, listed, recs)
		}
		return n, bad
	})
	return out, next, err
}

// CancelTasks cancels unfinished tasks and what depends on them.
func (s *Store) CancelTasks(ctx context.Context, sessionID string, taskIDs []string) (int, error) {
	n, err := s.run(ctx, s.scripts.cancelTasks, sessionID, append([]string{itoa(s.nowMS())}, intIDs(sessionID, taskIDs)...)).AsInt64()
	if err != nil {
		return 0, storeErr("cancelling tasks", err)
	}
	return int(n), nil
}
