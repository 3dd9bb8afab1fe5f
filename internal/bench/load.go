package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
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

// push runs the load: clients submit concurrently in batches; a sampler reads the sessions' task
// counts every 100 ms until all tasks ended (or none ended for stallTimeout).
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
	run.start = time.Now()
	gctx, gcancel := context.WithCancel(ctx)
	defer gcancel()
	var (
		wg      sync.WaitGroup
		errOnce sync.Once
		subErr  error
	)
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
					errOnce.Do(func() { subErr = err; gcancel() })
					return
				}
			}
		})
	}
	var (
		mu       sync.Mutex
		samplerr error
		stop     = make(chan struct{})
		sampled  = make(chan struct{})
	)
	if ld.Wait {
		go func() {
			defer close(sampled)
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			lastEnded, lastChange := -1, time.Now()
			for {
				select {
				case <-stop:
					return
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				ended, failed, err := r.counts(ctx, run.sessions)
				now := time.Now()
				mu.Lock()
				if err == nil && failed > 0 {
					err = fmt.Errorf("%d task(s) failed or were cancelled: the bench needs every task to complete", failed)
				}
				if err == nil && ended != lastEnded {
					lastEnded, lastChange = ended, now
				}
				if err == nil && now.Sub(lastChange) > stallTimeout {
					err = fmt.Errorf("no task ended for %s (%d of %d done): are the partition's workers running?", stallTimeout, ended, ld.Tasks)
				}
				if err != nil {
					samplerr = err
					mu.Unlock()
					return
				}
				run.completed = append(run.completed, Point{T: now.Sub(run.start).Seconds(), V: float64(ended)})
				if prog != nil {
					prog.tick(ended, ld.Tasks)
				}
				if ended >= ld.Tasks {
					run.done = now
					mu.Unlock()
					return
				}
				mu.Unlock()
			}
		}()
	} else {
		close(sampled)
	}
	wg.Wait()
	err := subErr
	run.submitted = time.Now()
	if err != nil {
		close(stop)
		<-sampled
		return run, err
	}
	<-sampled
	mu.Lock()
	defer mu.Unlock()
	if samplerr != nil {
		return run, samplerr
	}
	if err := ctx.Err(); err != nil {
		return run, err
	}
	if !ld.Wait {
		run.done = run.submitted
	}
	return run, nil
}

// counts sums the sessions' ended (completed) and failed or cancelled tasks.
func (r *Runner) counts(ctx context.Context, sessions []*client.Session) (ended, failed int, err error) {
	for _, s := range sessions {
		info, err := s.Get(ctx)
		if err != nil {
			return 0, 0, err
		}
		c := info.GetTaskCounts()
		ended += int(c.GetCompleted())
		failed += int(c.GetFailed() + c.GetCancelled())
	}
	return ended, failed, nil
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
