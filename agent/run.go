package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
	workerv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/worker/v1"
)

// Error kinds the agent reports.
const (
	errWorker        = chorusv1.ErrorKind_ERROR_KIND_WORKER_ERROR
	errTimeout       = chorusv1.ErrorKind_ERROR_KIND_TIMEOUT
	errWorkerCrashed = chorusv1.ErrorKind_ERROR_KIND_WORKER_CRASHED
	errUnknownMethod = chorusv1.ErrorKind_ERROR_KIND_UNKNOWN_METHOD
	errDataError     = chorusv1.ErrorKind_ERROR_KIND_DATA_ERROR
)

// maxErrorMessage is the longest error message kept (the rest is cut).
const maxErrorMessage = 4096

// storeTimeout bounds one store call made on behalf of a task.
const storeTimeout = 30 * time.Second

// run is one leased attempt of a task on this agent, from lease to outcome.
type run struct {
	a    *Agent
	task *store.ClaimedTask
	// owner is the worker the run is leased for (nil when no worker had room), set before the lease
	// is published; a prepared run waiting for a slot may move to a worker with an idle slot
	// (partition.steal), changed only under the old owner's mu.
	owner atomic.Pointer[proc]

	started time.Time

	// The run's steps (start, progress, outcome) go to the agent's committer in order. Its start is
	// queued only once the run whose worker slot it took has queued its outcome (or ended without
	// one), so the store never shows more tasks running on a worker than its capacity; steps that
	// come earlier wait in held. seqMu guards what follows.
	seqMu         sync.Mutex
	startQueued   bool       // the start is queued (or the run needs none): steps go straight on
	held          []heldStep // steps waiting for the start
	outcomeQueued bool       // the outcome is queued, or the run ended without one
	next          *run       // the run waiting for this one's outcome before its start

	// Tracing (telemetry.go): the run span and its context, set when the task is leased.
	tctx    context.Context
	span    trace.Span
	leased  time.Time
	endOnce sync.Once

	// Guarded by pr.mu.
	prev      *run // the run whose worker slot this one took (nil if none)
	msg       *workerv1.AssignTask
	ready     bool
	prepErr   error
	abandoned bool // its outcome no longer counts (timed out, lease lost, handed back, worker died)
	timer     clock.Timer

	mu         sync.Mutex // guards what follows
	dir        string     // input folder; "" when the inputs travel inline
	outDir     string     // output folder, from the worker's pool
	workerDone bool       // the worker reported the outcome: it no longer writes to outDir
	outStamp   uint64     // the output folders watch's stamp of that report (outwatch_linux.go)
	cleaned    bool
	newResults []store.ResultSpec
	created    []string // ids of newResults
	subtasks   []store.TaskSpec
	subtaskIDs []string
	handed     []string // expected outputs handed to subtasks
	objects    []string // object keys written for this attempt (deleted if it does not complete)
}

// needsFetch reports whether preparing the task needs round trips or file writes.
func (r *run) needsFetch() bool {
	t := r.task
	return t.PayloadID != "" || len(t.DataDependencies) > 0 || int64(len(t.Payload)) > r.a.cfg.InlineLimit
}

// prepare builds the AssignTask message, fetching the payload and dependencies.
func (r *run) prepare() (*workerv1.AssignTask, error) {
	t := r.task
	// The output folder comes from the worker's pool of empty folders (a mkdir per task is the
	// most expensive step of a small task); the input folder exists only for inputs passed as files.
	out, err := r.proc().takeOutDir()
	if err != nil {
		return nil, err
	}
	dir := ""
	if r.needsFetch() {
		dir = filepath.Join(r.proc().dir, "in", t.Lease.TaskID+"-"+strconv.Itoa(int(t.Lease.Attempt)))
	}
	r.mu.Lock()
	r.outDir = out
	if r.cleaned {
		r.mu.Unlock()
		r.cleanup()
		return nil, fmt.Errorf("task %s was handed back before it started", t.Lease.TaskID)
	}
	r.dir = dir
	r.mu.Unlock()
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create the task's input folder: %w", err)
		}
	}
	msg := &workerv1.AssignTask{SessionId: t.Lease.SessionID, TaskId: t.Lease.TaskID, Method: t.Method,
		ExpectedOutputIds: t.ExpectedOutputIDs, Options: t.Options.GetOptions(), MaxDuration: t.Options.GetMaxDuration(),
		Attempt: t.Lease.Attempt, OutputDir: out, Partition: t.Partition}
	msg.Traceparent, msg.Tracestate = r.traceParent()
	if !r.needsFetch() {
		msg.Payload = &workerv1.Data{Source: &workerv1.Data_Inline{Inline: t.Payload}}
		return msg, nil
	}
	ctx, cancel := context.WithTimeout(r.a.bg, storeTimeout)
	defer cancel()
	ctx, span := r.childSpan(ctx, "chorus fetch inputs")
	defer span.End()
	ids := t.DataDependencies
	if t.PayloadID != "" {
		ids = append([]string{t.PayloadID}, t.DataDependencies...)
	}
	var data []store.ResultData
	if len(ids) > 0 {
		var err error
		if data, err = r.a.store.GetResultData(ctx, t.Lease.SessionID, ids); err != nil {
			return nil, fmt.Errorf("fetch the task's data: %w", err)
		}
	}
	// Object data is copied under r.a.bg, not ctx: a large object takes as long as it needs.
	if t.PayloadID != "" {
		d, err := r.a.toWorkerData(r.a.bg, resultName(t.Lease.SessionID, t.PayloadID), data[0], filepath.Join(dir, "payload"))
		if err != nil {
			return nil, fmt.Errorf("fetch the task's payload %s: %w", t.PayloadID, err)
		}
		msg.Payload = d
		data = data[1:]
	} else if int64(len(t.Payload)) > r.a.cfg.InlineLimit {
		d, err := r.a.toWorkerData(ctx, "the task's payload", store.ResultData{Inline: t.Payload, Size: int64(len(t.Payload))}, filepath.Join(dir, "payload"))
		if err != nil {
			return nil, fmt.Errorf("write the task's payload: %w", err)
		}
		msg.Payload = d
	} else {
		msg.Payload = &workerv1.Data{Source: &workerv1.Data_Inline{Inline: t.Payload}}
	}
	r.linkInputs(t.DataDependencies, data)
	msg.Inputs = make([]*workerv1.Input, len(t.DataDependencies))
	for i, id := range t.DataDependencies {
		d, err := r.a.toWorkerData(r.a.bg, resultName(t.Lease.SessionID, id), data[i], filepath.Join(dir, "in-"+strconv.Itoa(i)))
		if err != nil {
			return nil, fmt.Errorf("fetch the task's input %s: %w", id, err)
		}
		msg.Inputs[i] = &workerv1.Input{ResultId: id, Data: d}
	}
	return msg, nil
}

// startTimerLocked arms the max-duration timer (pr.mu held).
func (r *run) startTimerLocked() {
	if d := r.task.Options.GetMaxDuration().AsDuration(); r.task.Options.GetMaxDuration() != nil && d > 0 {
		r.timer = clock.AfterFunc(r.a.cfg.Clock, d, func() { r.proc().timeout(r, d) })
	}
}

// stopTimer disarms the max-duration timer (pr.mu held).
func (r *run) stopTimer() {
	if r.timer != nil {
		r.timer.Stop()
	}
}

// heldStep is a step queued before the run's start.
type heldStep struct {
	o     store.Outcome
	done  func(store.OutcomeResult, bool)
	final bool
}

// markRunning queues the record of DISPATCHED → RUNNING, after the outcome of the run whose slot this
// one took; a lost lease stops the task.
func (r *run) markRunning() {
	if p := r.prev; p != nil {
		p.seqMu.Lock()
		if !p.outcomeQueued {
			p.next = r
			p.seqMu.Unlock()
			return // p's outcome queues the start
		}
		p.seqMu.Unlock()
	}
	r.queueStart(true)
}

// noStart is for a run that ends before it reaches its worker: its outcome needs no start.
func (r *run) noStart() { r.queueStart(false) }

// queueStart queues the start (when withStart) and the steps held for it.
func (r *run) queueStart(withStart bool) {
	r.seqMu.Lock()
	if r.startQueued {
		r.seqMu.Unlock()
		return
	}
	r.startQueued = true
	if withStart {
		o := store.Outcome{Kind: store.OutcomeStart, Lease: r.task.Lease, Time: r.started}
		if p := r.prev; p != nil && p.task.Lease.SessionID == r.task.Lease.SessionID {
			o.After = p.task.Lease.TaskID // its RUNNING event follows p's outcome
		}
		r.a.commit.add(o, r.startRecorded)
	}
	held := r.held
	r.held = nil
	final := false
	for _, h := range held {
		r.a.commit.add(h.o, h.done)
		final = final || h.final
	}
	r.seqMu.Unlock()
	if final {
		r.outcomeDone()
	}
}

// startRecorded stops a task whose start could not be recorded (lease lost).
func (r *run) startRecorded(res store.OutcomeResult, _ bool) {
	if res.Err == nil {
		return
	}
	reason := "its lease was lost before it started"
	if !store.IsLeaseLost(res.Err) {
		reason = "recording its start failed: " + res.Err.Error()
	}
	go r.proc().lose(r, reason)
}

// addStep queues a step after the run's start; final marks its outcome. A progress report held for
// the start replaces the one held before it (latest wins).
func (r *run) addStep(o store.Outcome, final bool, done func(store.OutcomeResult, bool)) {
	r.seqMu.Lock()
	if !r.startQueued {
		if n := len(r.held); o.Kind == store.OutcomeProgress && n > 0 && r.held[n-1].o.Kind == store.OutcomeProgress {
			r.held[n-1].o = o
			r.seqMu.Unlock()
			return
		}
		r.held = append(r.held, heldStep{o: o, done: done, final: final})
		r.seqMu.Unlock()
		return
	}
	r.a.commit.add(o, done)
	r.seqMu.Unlock()
	if final {
		r.outcomeDone()
	}
}

// outcomeDone lets the run that took this one's slot record its start.
func (r *run) outcomeDone() {
	r.seqMu.Lock()
	if r.outcomeQueued {
		r.seqMu.Unlock()
		return
	}
	r.outcomeQueued = true
	next := r.next
	r.next = nil
	r.seqMu.Unlock()
	if next != nil {
		next.queueStart(true)
	}
}

// queueProgress records a progress report after the task's start and the reports before it, and
// before its outcome.
func (r *run) queueProgress(p *workerv1.TaskProgress) {
	r.addStep(store.Outcome{Kind: store.OutcomeProgress, Lease: r.task.Lease, Time: r.a.cfg.Clock.Now(),
		Fraction: p.GetFraction(), Message: p.GetMessage()}, false, func(res store.OutcomeResult, _ bool) {
		if res.Err != nil && !store.IsLeaseLost(res.Err) {
			r.proc().log.WarnContext(r.logCtx(), "could not record a task's progress", "task_id", r.task.Lease.TaskID, "error", res.Err)
		}
	})
}

// fail records a failed attempt and forgets the run.
func (r *run) fail(kind chorusv1.ErrorKind, msg string, retryable bool) {
	if len(msg) > maxErrorMessage {
		msg = msg[:maxErrorMessage]
	}
	if msg == "" {
		msg = "the worker reported a failure without a message"
	}
	o := store.Outcome{Kind: store.OutcomeFail, Lease: r.task.Lease, Time: r.a.cfg.Clock.Now(),
		Error: &chorusv1.TaskError{Kind: kind, Message: msg, Retryable: retryable}}
	r.addStep(o, true, func(res store.OutcomeResult, unclear bool) {
		outcome := "failed"
		if res.Retried {
			outcome = "retried"
		}
		r.traceEnd(outcome, msg)
		switch err := res.Err; {
		case store.IsLeaseLost(err):
		case err != nil:
			r.proc().log.ErrorContext(r.logCtx(), "could not record a failed attempt; the task runs again when its lease expires", "task_id", r.task.Lease.TaskID, "error", err)
		default:
			r.proc().log.DebugContext(r.logCtx(), "task attempt failed", "task_id", r.task.Lease.TaskID, "attempt", r.task.Lease.Attempt, "kind", kind, "retried", res.Retried, "error", msg)
		}
		r.finish(unclear)
	})
}

// outputsNeedIO reports whether storing a worker's outputs reads files (so it may take long).
func outputsNeedIO(tc *workerv1.TaskCompleted) bool {
	for _, o := range tc.GetOutputs() {
		if _, ok := o.GetData().GetSource().(*workerv1.Data_Path); ok {
			return true
		}
	}
	return false
}

// complete stores a successful attempt: outputs, created results and subtasks, atomically.
func (r *run) complete(tc *workerv1.TaskCompleted) {
	// Storing large outputs takes as long as the data needs: no store timeout for it.
	var outputs []store.OutputData
	var kind chorusv1.ErrorKind
	var err error
	if outputsNeedIO(tc) {
		sctx, span := r.childSpan(r.a.bg, "chorus store outputs")
		outputs, kind, err = r.outputs(sctx, tc.GetOutputs())
		span.End()
	} else {
		outputs, kind, err = r.outputs(r.a.bg, tc.GetOutputs())
	}
	if err != nil {
		r.fail(kind, err.Error(), kind == errDataError)
		return
	}
	r.mu.Lock()
	c := &store.Completion{Lease: r.task.Lease, Outputs: outputs, NewResults: r.completionResults(),
		Subtasks: r.subtasks, SubtaskIDs: r.subtaskIDs}
	r.mu.Unlock()
	o := store.Outcome{Kind: store.OutcomeComplete, Lease: r.task.Lease, Time: r.a.cfg.Clock.Now(), Completion: c}
	r.addStep(o, true, func(res store.OutcomeResult, unclear bool) {
		switch err := res.Err; {
		case err == nil:
			r.traceEnd("completed", "")
			r.mu.Lock()
			r.objects = nil // they belong to the results now
			r.mu.Unlock()
			r.finish(false)
		case store.IsLeaseLost(err) && !unclear:
			r.finish(false)
		case store.IsLeaseLost(err), store.IsUnclear(err):
			// a call went unanswered: the completion may have been stored (outcome.go)
			go r.unclearOutcome(err)
		default:
			go r.fail(errWorker, "the store refused the task's outputs, results or subtasks: "+err.Error(), false)
		}
	})
}

// finish forgets the run: stops renewing its lease and removes its files. unclear says that whether
// the outcome was stored is not known (a store call went unanswered): the objects written for the
// attempt are then kept, since a result may point at them (objects no result references are left to
// the object store's lifecycle rules).
func (r *run) finish(unclear bool) {
	r.traceEnd("lost", "")
	r.a.dropLease(r)
	if unclear {
		r.mu.Lock()
		if len(r.objects) > 0 {
			r.a.log.Warn("keeping the objects of an attempt whose outcome is unclear", "task_id", r.task.Lease.TaskID, "objects", len(r.objects))
		}
		r.objects = nil
		r.mu.Unlock()
	}
	r.cleanup()
}

// cleanup removes the task's folder and the objects written for an attempt that did not complete.
func (r *run) cleanup() {
	r.outcomeDone()
	r.mu.Lock()
	dir, objects, out, reuse, stamp := r.dir, r.objects, r.outDir, r.workerDone, r.outStamp
	r.cleaned, r.objects, r.dir, r.outDir = true, nil, "", ""
	r.mu.Unlock()
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
	if out != "" {
		r.proc().putOutDir(out, reuse, stamp)
	}
	if len(objects) > 0 {
		go r.a.deleteObjects(objects) // off the committer's goroutine
	}
}

// completionResults returns the created results to store with the completion (r.mu held). A result
// created without data that a subtask expects as an output is left to the subtask's submission,
// which creates it owned by that subtask.
func (r *run) completionResults() []store.ResultSpec {
	if len(r.subtasks) == 0 {
		return r.newResults
	}
	owned := make(map[string]bool)
	for _, t := range r.subtasks {
		for _, id := range t.ExpectedOutputIDs {
			owned[id] = true
		}
	}
	out := make([]store.ResultSpec, 0, len(r.newResults))
	for _, spec := range r.newResults {
		if spec.Data == nil && owned[spec.ResultID] {
			continue
		}
		out = append(out, spec)
	}
	return out
}

// deleteObjectsNow deletes the objects written for the attempt (it did not complete) before
// returning.
func (r *run) deleteObjectsNow() {
	r.mu.Lock()
	objects := r.objects
	r.objects = nil
	r.mu.Unlock()
	if len(objects) > 0 {
		r.a.deleteObjects(objects)
	}
}

// deleteObjects deletes objects of an attempt that did not complete.
func (a *Agent) deleteObjects(objects []string) {
	ctx, cancel := context.WithTimeout(a.bg, storeTimeout)
	defer cancel()
	if err := a.objs.Delete(ctx, objects...); err != nil {
		a.log.Warn("could not delete objects of an attempt that did not complete", "objects", len(objects), "error", err)
	}
}

// proc is the worker the run is leased for (see owner).
func (r *run) proc() *proc { return r.owner.Load() }
