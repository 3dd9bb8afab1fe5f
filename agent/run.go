package agent

import (
	"context"
	"fmt"
	"go.opentelemetry.io/otel/trace"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	chorusv1 "github.com/chorus-hpc/chorus/gen/chorus/v1"
	workerv1 "github.com/chorus-hpc/chorus/gen/chorus/worker/v1"
	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/store"
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
	pr   *proc // the worker it was leased for (nil when no worker had room); set before the lease is published

	marked  chan struct{} // closed when MarkRunning returned (or will never be called)
	markErr error
	started time.Time
	// recorded is closed once this run's outcome is stored (or will never be): a task that takes its
	// worker slot waits for it before recording that it runs, so the store never shows more tasks
	// running on a worker than its capacity. after is the recorded channel of the run whose slot
	// this one took (nil if none).
	recorded     chan struct{}
	recordedOnce sync.Once
	after        <-chan struct{}

	prog progressQueue // progress reports waiting to be stored (progress.go)

	// Tracing (telemetry.go): the run span and its context, set when the task is leased.
	tctx    context.Context
	span    trace.Span
	leased  time.Time
	endOnce sync.Once

	// Guarded by pr.mu.
	msg       *workerv1.AssignTask
	ready     bool
	prepErr   error
	abandoned bool // its outcome no longer counts (timed out, lease lost, handed back, worker died)
	timer     clock.Timer

	mu         sync.Mutex // guards what follows
	dir        string     // input folder; "" when the inputs travel inline
	outDir     string     // output folder, from the worker's pool
	workerDone bool       // the worker reported the outcome: it no longer writes to outDir
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
	out, err := r.pr.takeOutDir()
	if err != nil {
		return nil, err
	}
	dir := ""
	if r.needsFetch() {
		dir = filepath.Join(r.pr.dir, "in", t.Lease.TaskID+"-"+strconv.Itoa(int(t.Lease.Attempt)))
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
		r.timer = clock.AfterFunc(r.a.cfg.Clock, d, func() { r.pr.timeout(r, d) })
	}
}

// stopTimer disarms the max-duration timer (pr.mu held).
func (r *run) stopTimer() {
	if r.timer != nil {
		r.timer.Stop()
	}
}

// markRunning records DISPATCHED → RUNNING; a lost lease stops the task.
func (r *run) markRunning() {
	if r.after != nil {
		select {
		case <-r.after:
		case <-time.After(storeTimeout): // never wait on a stuck store call longer than one
		}
	}
	ctx, cancel := context.WithTimeout(r.a.bg, storeTimeout)
	defer cancel()
	r.markErr = r.a.store.MarkRunning(ctx, r.task.Lease)
	close(r.marked)
	if r.markErr != nil {
		reason := "its lease was lost before it started"
		if !store.IsLeaseLost(r.markErr) {
			reason = "recording its start failed: " + r.markErr.Error()
		}
		r.pr.lose(r, reason)
	}
}

// fail records a failed attempt and forgets the run.
func (r *run) fail(kind chorusv1.ErrorKind, msg string, retryable bool) {
	defer r.finish()
	<-r.marked
	if r.markErr != nil {
		return
	}
	r.progressFlushed()
	if len(msg) > maxErrorMessage {
		msg = msg[:maxErrorMessage]
	}
	if msg == "" {
		msg = "the worker reported a failure without a message"
	}
	ctx, cancel := context.WithTimeout(r.a.bg, storeTimeout)
	defer cancel()
	retried, err := r.a.store.Fail(ctx, store.Failure{Lease: r.task.Lease,
		Error: &chorusv1.TaskError{Kind: kind, Message: msg, Retryable: retryable}})
	outcome := "failed"
	if retried {
		outcome = "retried"
	}
	r.traceEnd(outcome, msg)
	switch {
	case store.IsLeaseLost(err):
	case err != nil:
		r.pr.log.ErrorContext(r.logCtx(), "could not record a failed attempt; the task runs again when its lease expires", "task_id", r.task.Lease.TaskID, "error", err)
	default:
		r.pr.log.DebugContext(r.logCtx(), "task attempt failed", "task_id", r.task.Lease.TaskID, "attempt", r.task.Lease.Attempt, "kind", kind, "retried", retried, "error", msg)
	}
}

// complete stores a successful attempt: outputs, created results and subtasks, atomically.
func (r *run) complete(tc *workerv1.TaskCompleted) {
	<-r.marked
	if r.markErr != nil {
		r.finish()
		return
	}
	r.progressFlushed()
	// Storing large outputs takes as long as the data needs: no store timeout for it.
	sctx, span := r.childSpan(r.a.bg, "chorus store outputs")
	defer span.End()
	outputs, kind, err := r.outputs(sctx, tc.GetOutputs())
	if err != nil {
		r.fail(kind, err.Error(), kind == errDataError)
		return
	}
	ctx, cancel := context.WithTimeout(r.a.bg, storeTimeout)
	defer cancel()
	r.mu.Lock()
	c := store.Completion{Lease: r.task.Lease, Outputs: outputs, NewResults: r.completionResults(),
		Subtasks: r.subtasks, SubtaskIDs: r.subtaskIDs}
	r.mu.Unlock()
	err = r.a.store.Complete(trace.ContextWithSpan(ctx, span), c)
	switch {
	case err == nil:
		r.traceEnd("completed", "")
		r.mu.Lock()
		r.objects = nil // they belong to the results now
		r.mu.Unlock()
		r.finish()
	case store.IsLeaseLost(err):
		r.finish()
	case store.CodeOf(err) == store.CodeUnknown:
		r.unclearOutcome(err) // outcome.go
	default:
		r.fail(errWorker, "the store refused the task's outputs, results or subtasks: "+err.Error(), false)
	}
}

// finish forgets the run: stops renewing its lease and removes its files.
func (r *run) finish() {
	r.traceEnd("lost", "")
	r.a.dropLease(r)
	r.cleanup()
}

// cleanup removes the task's folder and the objects written for an attempt that did not complete.
func (r *run) cleanup() {
	r.recordedOnce.Do(func() {
		if r.recorded != nil {
			close(r.recorded)
		}
	})
	r.mu.Lock()
	dir, objects, out, reuse := r.dir, r.objects, r.outDir, r.workerDone
	r.cleaned, r.objects, r.dir, r.outDir = true, nil, "", ""
	r.mu.Unlock()
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
	if out != "" {
		r.pr.putOutDir(out, reuse)
	}
	if len(objects) > 0 {
		ctx, cancel := context.WithTimeout(r.a.bg, storeTimeout)
		defer cancel()
		if err := r.a.objs.Delete(ctx, objects...); err != nil {
			r.a.log.Warn("could not delete objects of an attempt that did not complete", "objects", len(objects), "error", err)
		}
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
