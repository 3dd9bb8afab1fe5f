package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/chorus-hpc/chorus/internal/bench/results"
	"github.com/chorus-hpc/chorus/sdks/go/client"
)

// ScenarioBigSession runs one huge session: not part of AllScenarios (it takes an hour at the default
// size); run it with --scenario bigsession.
const ScenarioBigSession = "bigsession"

// BigSessionResult is the big-session scenario's output (bigsession.json).
type BigSessionResult struct {
	Scenario string  `json:"scenario"`
	Tasks    int     `json:"tasks"`
	Clients  int     `json:"clients"`
	WallS    float64 `json:"wall_s"`
	// TasksPerS is tasks / WallS.
	TasksPerS float64 `json:"tasks_per_s"`
	// FollowedOutcomes is how many final statuses the client saw on the session's event stream.
	FollowedOutcomes int64 `json:"followed_outcomes"`
	// ValkeyPeakBytes is INFO memory used_memory_peak during the run; BeforeBytes before it and
	// AfterPurgeBytes once the session is purged.
	BeforeBytes     int64 `json:"before_bytes"`
	ValkeyPeakBytes int64 `json:"valkey_peak_bytes"`
	AfterPurgeBytes int64 `json:"after_purge_bytes"`
	// FreeingS is how long Valkey's background thread took to free the purged keys (measured
	// until nothing was pending and used memory stopped falling).
	FreeingS float64 `json:"freeing_s"`
	// Backoffs counts submissions refused for a full queue and retried.
	Backoffs int64 `json:"backoffs"`
}

// bigSessionTasks is the size of the big session: CHORUS_BENCH_BIG_TASKS, default 10,000,000.
func bigSessionTasks() int {
	if n, err := strconv.Atoi(os.Getenv("CHORUS_BENCH_BIG_TASKS")); err == nil && n > 0 {
		return n
	}
	return 10_000_000
}

// bigSession pushes zero-work tasks from 16 clients into one session, follows its final statuses on
// the event stream, waits until every task completed, purges it and reports memory.
func (r *Runner) bigSession(ctx context.Context) error {
	part, err := r.useAgent(ctx, r.goWorkers(2, 16))
	if err != nil {
		return err
	}
	res := BigSessionResult{Scenario: ScenarioBigSession, Tasks: bigSessionTasks(), Clients: 16}
	if res.BeforeBytes, err = r.usedMemory(ctx); err != nil {
		return err
	}
	s, err := r.cl.CreateSession(ctx, client.SessionOptions{Partition: part})
	if err != nil {
		return err
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	var followed outcomes
	if err := followed.follow(wctx, []*client.Session{s}); err != nil {
		return err
	}
	start := time.Now()
	var backoffs atomic.Int64
	subErr := make(chan error, 1)
	go func() { subErr <- bigSubmit(wctx, s, res.Tasks, res.Clients, &backoffs) }()
	prog := &progress{log: r.log, what: "big session"}
	for done := false; !done; {
		select {
		case err := <-subErr:
			if err != nil {
				return err
			}
			subErr = nil
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
		info, err := s.Get(ctx)
		if err != nil {
			return err
		}
		c := info.GetTaskCounts()
		if n := c.GetFailed() + c.GetCancelled(); n > 0 {
			return fmt.Errorf("%d task(s) of the big session failed or were cancelled", n)
		}
		prog.tick(int(c.GetCompleted()), res.Tasks)
		done = c.GetCompleted() >= int64(res.Tasks)
	}
	res.WallS = time.Since(start).Seconds()
	res.TasksPerS = float64(res.Tasks) / res.WallS
	time.Sleep(time.Second) // the last events on their way to the watcher
	res.FollowedOutcomes, res.Backoffs = followed.ended.Load()+followed.failed.Load(), backoffs.Load()
	stop()
	followed.wg.Wait()
	peak, err := r.stack.ValkeyInfo(ctx, "memory", "used_memory_peak")
	if err != nil {
		return err
	}
	res.ValkeyPeakBytes, _ = strconv.ParseInt(peak, 10, 64)
	if _, err := s.Close(ctx); err != nil {
		return err
	}
	if _, err := s.Purge(ctx); err != nil {
		return err
	}
	// A purge UNLINKs the big keys: a background thread frees them, which takes minutes for ten
	// million tasks. Wait until nothing is pending and used memory stops falling (at most 10 min).
	freeing := time.Now()
	var last int64 = -1
	for time.Since(freeing) < 10*time.Minute {
		used, err := r.usedMemory(ctx)
		if err != nil {
			return err
		}
		v, err := r.stack.ValkeyInfo(ctx, "memory", "lazyfree_pending_objects")
		if err == nil && v == "0" && used == last {
			break
		}
		last = used
		time.Sleep(time.Second)
	}
	res.FreeingS = time.Since(freeing).Seconds()
	if res.AfterPurgeBytes, err = r.usedMemory(ctx); err != nil {
		return err
	}
	r.log.Info("bench: big session", "tasks", res.Tasks, "wall_s", int(res.WallS), "tasks_per_s", int(res.TasksPerS),
		"peak_mib", res.ValkeyPeakBytes>>20, "after_purge_mib", res.AfterPurgeBytes>>20)
	return writeJSON(r.path("bigsession.json"), res)
}

// bigSubmit sends tasks zero-work tasks into s from clients goroutines in batches of 1000, waiting and
// retrying a batch refused for a full queue.
func bigSubmit(ctx context.Context, s *client.Session, tasks, clients int, backoffs *atomic.Int64) error {
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for _, n := range results.Share(tasks, clients) {
		wg.Go(func() {
			for sent := 0; sent < n; {
				k := min(1000, n-sent)
				gr := client.NewGraph()
				for range k {
					gr.Task("echo", nil)
				}
				_, err := s.Submit(ctx, gr)
				if status.Code(err) == codes.ResourceExhausted {
					backoffs.Add(1)
					time.Sleep(200 * time.Millisecond)
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				sent += k
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}
