package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	chorusv1 "github.com/chorus-hpc/chorus/gen/chorus/v1"
	"github.com/chorus-hpc/chorus/sdks/go/client"
)

// load is a set of tasks pushed by concurrent clients, each into its own session.
type load struct {
	Partition string
	Method    string
	Payload   []byte
	Tasks     int
	Clients   int
	Batch     int
	// Wait for every task to end (else return once submitted).
	Wait bool
}

// loadRun is what happened.
type loadRun struct {
	sessions  []*client.Session
	start     time.Time
	submitted time.Time // the last submission returned
	done      time.Time // every task ended (first sample that saw it)
	// completed is the cumulative count of ended tasks over time (seconds since start).
	completed []Point
}

// wall is the time from the first submission to the last completion seen.
func (l loadRun) wall() time.Duration { return l.done.Sub(l.start) }

// stallTimeout is how long the sampler waits without any task ending before it gives up.
const stallTimeout = 2 * time.Minute

// push runs the load: clients submit concurrently in batches, each into its own session, and follow
// their session's outcomes through its event stream (final task statuses only), as users do; a
// sampler records the count of ended tasks every 100 ms until all ended (or none ended for
// stallTimeout).
func (r *Runner) push(ctx context.Context, ld load, prog *progress) (loadRun, error) {
	var run loadRun
	ld.Clients = max(1, min(ld.Clients, ld.Tasks))
	for range ld.Clients {
		s, err := r.cl.CreateSession(ctx, client.SessionOptions{Partition: ld.Partition})
		if err != nil {
			return run, err
		}
		run.sessions = append(run.sessions, s)
	}
	gctx, gcancel := context.WithCancel(ctx)
	defer gcancel()
	var (
		wg      sync.WaitGroup
		errOnce sync.Once
		subErr  error
		ended   atomic.Int64
		failed  atomic.Int64
		watchWG sync.WaitGroup
	)
	fail := func(err error) { errOnce.Do(func() { subErr = err; gcancel() }) }
	if ld.Wait {
		for _, s := range run.sessions {
			w, err := s.WatchTasks(gctx, "$", chorusv1.TaskStatus_TASK_STATUS_COMPLETED,
				chorusv1.TaskStatus_TASK_STATUS_FAILED, chorusv1.TaskStatus_TASK_STATUS_CANCELLED)
			if err != nil {
				return run, err
			}
			watchWG.Go(func() {
				defer w.Close()
				for {
					ev, err := w.Next(gctx)
					if err != nil {
						if gctx.Err() == nil {
							fail(err)
						}
						return
					}
					if ev.GetTaskStatus().GetStatus() == chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
						ended.Add(1)
					} else {
						failed.Add(1)
					}
				}
			})
		}
	}
	run.start = time.Now()
	for i, s := range run.sessions {
		n := ld.Tasks / ld.Clients
		if i < ld.Tasks%ld.Clients {
			n++
		}
		wg.Go(func() {
			for sent := 0; sent < n; sent += ld.Batch {
				gr := client.NewGraph()
				for range min(ld.Batch, n-sent) {
					gr.Task(ld.Method, ld.Payload)
				}
				if _, err := s.Submit(gctx, gr); err != nil {
					fail(err)
					return
				}
			}
		})
	}
	var (
		samplerr error
		sampled  = make(chan struct{})
	)
	if ld.Wait {
		go func() {
			defer close(sampled)
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			lastEnded, lastChange := int64(-1), time.Now()
			for {
				select {
				case <-gctx.Done():
					samplerr = gctx.Err()
					return
				case <-tick.C:
				}
				now := time.Now()
				n := ended.Load()
				if f := failed.Load(); f > 0 {
					samplerr = fmt.Errorf("%d task(s) failed or were cancelled: the bench needs every task to complete", f)
					return
				}
				if n != lastEnded {
					lastEnded, lastChange = n, now
				}
				if now.Sub(lastChange) > stallTimeout {
					samplerr = fmt.Errorf("no task ended for %s (%d of %d done): are the partition's workers running?", stallTimeout, n, ld.Tasks)
					return
				}
				run.completed = append(run.completed, Point{T: now.Sub(run.start).Seconds(), V: float64(n)})
				if prog != nil {
					prog.tick(int(n), ld.Tasks)
				}
				if n >= int64(ld.Tasks) {
					run.done = now
					return
				}
			}
		}()
	} else {
		close(sampled)
	}
	wg.Wait()
	run.submitted = time.Now()
	<-sampled
	gcancel()
	watchWG.Wait()
	if subErr != nil {
		return run, subErr
	}
	if err := ctx.Err(); err != nil {
		return run, err
	}
	if samplerr != nil {
		return run, samplerr
	}
	if !ld.Wait {
		run.done = run.submitted
	}
	return run, nil
}

// lastEnd returns the latest end_time of the sessions' tasks (exact, from the task records).
func lastEnd(ctx context.Context, sessions []*client.Session) (time.Time, error) {
	var last time.Time
	for _, s := range sessions {
		ts, err := s.Tasks(ctx, chorusv1.TaskStatus_TASK_STATUS_UNSPECIFIED)
		if err != nil {
			return last, err
		}
		for _, t := range ts {
			if e := t.GetEndTime(); e != nil && e.AsTime().After(last) {
				last = e.AsTime()
			}
		}
	}
	if last.IsZero() {
		return last, errors.New("no task has an end time")
	}
	return last, nil
}

// cleanup cancels and purges the sessions so the next scenario starts on an empty store.
func cleanup(ctx context.Context, sessions []*client.Session) {
	ctx = context.WithoutCancel(ctx)
	for _, s := range sessions {
		_, _ = s.Cancel(ctx)
		_, _ = s.Purge(ctx)
	}
}
