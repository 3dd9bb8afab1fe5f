package bench

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chorus-hpc/chorus/internal/bench/results"
	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
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
	var err error
	if run.sessions, err = r.openSessions(ctx, ld); err != nil {
		return run, err
	}
	wctx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	var seen outcomes
	if ld.Wait {
		if err := seen.follow(wctx, run.sessions); err != nil {
			return run, err
		}
	}
	run.start = time.Now()
	stop := make(chan struct{})
	sampled := make(chan error, 1) // the sampler's outcome; run.completed and run.done are its own until then
	if ld.Wait {
		go func() { sampled <- sample(ctx, stop, &run, &seen, ld.Tasks, prog) }()
	} else {
		sampled <- nil
	}
	err = submit(ctx, run.sessions, ld)
	run.submitted = time.Now()
	if err != nil {
		close(stop)
		<-sampled
		return run, err
	}
	err = <-sampled
	stopWatching()
	seen.wg.Wait()
	if err != nil {
		return run, err
	}
	if err := ctx.Err(); err != nil {
		return run, err
	}
	if !ld.Wait {
		run.done = run.submitted
	}
	return run, nil
}

// outcomes counts the final task statuses the sessions' watchers received.
type outcomes struct {
	ended, failed atomic.Int64
	// lastAt is when the latest outcome arrived (unix nanoseconds).
	lastAt atomic.Int64
	errMu  sync.Mutex
	err    error // the first watch that broke
	wg     sync.WaitGroup
}

// follow watches each session from now on for COMPLETED, FAILED and CANCELLED tasks, until ctx ends.
func (o *outcomes) follow(ctx context.Context, sessions []*client.Session) error {
	for _, s := range sessions {
		w, err := s.WatchTasks(ctx, "$", chorusv1.TaskStatus_TASK_STATUS_COMPLETED,
			chorusv1.TaskStatus_TASK_STATUS_FAILED, chorusv1.TaskStatus_TASK_STATUS_CANCELLED)
		if err != nil {
			return err
		}
		o.wg.Go(func() {
			defer w.Close()
			for {
				ev, err := w.Next(ctx)
				if err != nil {
					if ctx.Err() == nil {
						o.errMu.Lock()
						o.err = cmp.Or(o.err, err)
						o.errMu.Unlock()
					}
					return
				}
				o.lastAt.Store(time.Now().UnixNano())
				if ev.GetTaskStatus().GetStatus() == chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
					o.ended.Add(1)
				} else {
					o.failed.Add(1)
				}
			}
		})
	}
	return nil
}

func (o *outcomes) watchErr() error {
	o.errMu.Lock()
	defer o.errMu.Unlock()
	return o.err
}

// openSessions creates one session per client in the load's partition.
func (r *Runner) openSessions(ctx context.Context, ld load) ([]*client.Session, error) {
	var sessions []*client.Session
	for range ld.Clients {
		s, err := r.cl.CreateSession(ctx, client.SessionOptions{Partition: ld.Partition})
		if err != nil {
			return sessions, err
		}
		sessions = append(sessions, s)
	}
	return sessions, nil
}

// submit sends the load's tasks, shared out over the sessions, each session's client in batches of
// ld.Batch, all at once; the first error stops the others and is returned.
func submit(ctx context.Context, sessions []*client.Session, ld load) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for i, n := range results.Share(ld.Tasks, len(sessions)) {
		s := sessions[i]
		wg.Go(func() {
			for sent := 0; sent < n; sent += ld.Batch {
				gr := client.NewGraph()
				for range min(ld.Batch, n-sent) {
					gr.Task(ld.Method, ld.Payload)
				}
				if _, err := s.Submit(ctx, gr); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// sample appends the count of ended tasks seen by the watchers to run.completed every 100 ms until
// all tasks ended (it then sets run.done to when the last one arrived), stop is closed or ctx ends.
// It fails when a task fails or is cancelled, when a watch breaks, or when none ended for
// stallTimeout.
func sample(ctx context.Context, stop <-chan struct{}, run *loadRun, seen *outcomes, tasks int, prog *progress) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	lastEnded, lastChange := -1, time.Now()
	for {
		select {
		case <-stop:
			return nil
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if err := seen.watchErr(); err != nil {
			return err
		}
		ended, failed := int(seen.ended.Load()), seen.failed.Load()
		now := time.Now()
		if failed > 0 {
			return fmt.Errorf("%d task(s) failed or were cancelled: the bench needs every task to complete", failed)
		}
		if ended != lastEnded {
			lastEnded, lastChange = ended, now
		}
		if now.Sub(lastChange) > stallTimeout {
			return fmt.Errorf("no task ended for %s (%d of %d done): are the partition's workers running?", stallTimeout, ended, tasks)
		}
		run.completed = append(run.completed, Point{T: now.Sub(run.start).Seconds(), V: float64(ended)})
		if prog != nil {
			prog.tick(ended, tasks)
		}
		if ended >= tasks {
			// the last outcome's arrival, not this sample's (up to 100 ms later)
			run.done = time.Unix(0, seen.lastAt.Load())
			return nil
		}
	}
}

// cleanup cancels and purges the sessions so the next scenario starts on an empty store.
func cleanup(ctx context.Context, sessions []*client.Session) {
	ctx = context.WithoutCancel(ctx)
	for _, s := range sessions {
		_, _ = s.Cancel(ctx)
		_, _ = s.Purge(ctx)
	}
}
