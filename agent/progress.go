package agent

import (
	"context"
	"sync"

	workerv1 "github.com/chorus-hpc/chorus/gen/chorus/worker/v1"
	"github.com/chorus-hpc/chorus/internal/store"
)

// progressQueue holds a run's progress reports until they are stored. Reports coalesce: only the
// latest one not yet stored is kept (a report says where the task is now, so an older one that was
// never stored has nothing left to say), and one goroutine per run at most stores them, in the
// worker's order, after the task's start is recorded. A worker reporting progress in a tight loop
// therefore costs one pending report and one goroutine, not one goroutine per message.
type progressQueue struct {
	mu      sync.Mutex
	latest  *workerv1.TaskProgress // newest report not yet taken by the flusher
	idle    chan struct{}          // closed when the flusher has stored everything and exited
	running bool
}

// queueProgress records a progress report after the task's start and after the reports before it;
// the task's outcome waits for it (progressFlushed), so the session's events keep the worker's order.
func (r *run) queueProgress(p *workerv1.TaskProgress) {
	q := &r.prog
	q.mu.Lock()
	defer q.mu.Unlock()
	q.latest = p
	if q.running {
		return
	}
	q.running = true
	q.idle = make(chan struct{})
	go r.flushProgress(q.idle)
}

// flushProgress stores the latest report until none is left.
func (r *run) flushProgress(idle chan struct{}) {
	defer close(idle)
	<-r.marked
	q := &r.prog
	for {
		q.mu.Lock()
		p := q.latest
		q.latest = nil
		if p == nil || r.markErr != nil {
			q.latest = nil
			q.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		r.progress(p)
	}
}

// progressFlushed waits until every progress report queued so far is stored.
func (r *run) progressFlushed() {
	q := &r.prog
	q.mu.Lock()
	idle, running := q.idle, q.running
	q.mu.Unlock()
	if running {
		<-idle
	}
}

// progress records a progress report.
func (r *run) progress(p *workerv1.TaskProgress) {
	ctx, cancel := context.WithTimeout(r.a.bg, storeTimeout)
	defer cancel()
	if err := r.a.store.ReportProgress(ctx, r.task.Lease, p.GetFraction(), p.GetMessage()); err != nil && !store.IsLeaseLost(err) {
		r.pr.log.WarnContext(r.logCtx(), "could not record a task's progress", "task_id", r.task.Lease.TaskID, "error", err)
	}
}
