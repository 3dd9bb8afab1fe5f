package agent

import (
	"context"

	"github.com/chorus-hpc/chorus/internal/clock"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// unclearOutcome handles a completion that failed without a clear answer (a timeout, a reset
// connection): the script may have committed, or may still run, and then results point at the
// objects this attempt wrote. It reads the task back before anything is deleted: completed by this
// attempt, the work is done; finished otherwise or retried, no result can point at the objects
// and they go; undecided (or unreadable), they are left in place — an orphan at worst, never a
// result whose data was deleted.
func (r *run) unclearOutcome(err error) {
	ctx, cancel := context.WithTimeout(r.a.bg, storeTimeout)
	defer cancel()
	l := r.task.Lease
	tk, gerr := r.a.store.GetTask(ctx, l.SessionID, l.TaskID)
	ours := false
	decided := false
	if gerr == nil {
		at := tk.GetAttempts()
		last := int32(0)
		if len(at) > 0 {
			last = at[len(at)-1].GetNumber()
		}
		switch {
		case tk.GetStatus() == chorusv1.TaskStatus_TASK_STATUS_COMPLETED && last == l.Attempt:
			ours, decided = true, true
		case last > l.Attempt || isFinal(tk.GetStatus()) || tk.GetStatus() == chorusv1.TaskStatus_TASK_STATUS_QUEUED:
			decided = true // another attempt, an end that is not this completion, or no lease left
		}
	}
	switch {
	case ours:
		r.proc().log.InfoContext(r.logCtx(), "a completion that failed without a clear answer had been stored", "task_id", l.TaskID, "error", err)
		r.traceEnd("completed", "")
		r.keepObjects()
	case decided:
		r.proc().log.ErrorContext(r.logCtx(), "could not store a completed task; it was finished or retried meanwhile", "task_id", l.TaskID, "error", err)
		r.deleteObjectsNow()
	default:
		r.mu.Lock()
		kept := r.objects
		r.mu.Unlock()
		r.proc().log.ErrorContext(r.logCtx(), "could not store a completed task, and cannot tell whether it was stored: its objects are left in place until that is known; it runs again when its lease expires unless it was stored",
			"task_id", l.TaskID, "error", err, "read_back_error", gerr, "objects", kept)
		r.keepObjects()
		go r.a.settleObjects(l.SessionID, l.TaskID, l.Attempt, kept)
	}
	r.finish(false)
}

// settleRounds and the lease TTL between them bound how long an undecided attempt's objects wait.
const settleRounds = 5

// settleObjects reads an undecided attempt's task back once per lease TTL (by then its lease has
// expired and been taken back, or its completion has run): completed by the attempt, the objects
// belong to its results; ended or retried otherwise, they are deleted. Still undecided after
// settleRounds, they are left (logged).
func (a *Agent) settleObjects(sessionID, taskID string, attempt int32, objects []string) {
	for range settleRounds {
		t := clock.NewTimer(a.cfg.Clock, a.cfg.LeaseTTL)
		<-t.C()
		ctx, cancel := context.WithTimeout(a.bg, storeTimeout)
		tk, err := a.store.GetTask(ctx, sessionID, taskID)
		if err != nil {
			cancel()
			continue
		}
		at := tk.GetAttempts()
		last := int32(0)
		if len(at) > 0 {
			last = at[len(at)-1].GetNumber()
		}
		switch {
		case tk.GetStatus() == chorusv1.TaskStatus_TASK_STATUS_COMPLETED && last == attempt:
			cancel()
			return
		case last > attempt || isFinal(tk.GetStatus()) || tk.GetStatus() == chorusv1.TaskStatus_TASK_STATUS_QUEUED:
			if err := a.objs.Delete(ctx, objects...); err != nil {
				a.log.Warn("could not delete the objects of an attempt that did not complete", "task_id", taskID, "objects", objects, "error", err)
			}
			cancel()
			return
		}
		cancel()
	}
	a.log.Warn("the objects of an attempt whose completion stayed undecided are left in place", "task_id", taskID, "objects", objects)
}

// keepObjects stops cleanup from deleting the objects written for this attempt.
func (r *run) keepObjects() {
	r.mu.Lock()
	r.objects = nil
	r.mu.Unlock()
}

func isFinal(s chorusv1.TaskStatus) bool {
	return s == chorusv1.TaskStatus_TASK_STATUS_COMPLETED || s == chorusv1.TaskStatus_TASK_STATUS_FAILED ||
		s == chorusv1.TaskStatus_TASK_STATUS_CANCELLED
}
