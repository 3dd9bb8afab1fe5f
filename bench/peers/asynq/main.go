// Command asynq runs the benchmark's zero-work workloads on asynq (github.com/hibiken/asynq) against
// a private valkey-server, and writes the peer result that `chorus bench` merges into its report:
// throughput from 16 concurrent clients, latency one task at a time and in batches of 10 and 100, and
// utilization of sleep tasks on as many slots as chorus bench uses.
//
//	go run ./bench/peers/asynq --out bench/results/peers/asynq.json [--full]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hibiken/asynq"

	"github.com/chorus-hpc/chorus/internal/bench/results"
	"github.com/chorus-hpc/chorus/internal/valkeyproc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out := flag.String("out", "bench/results/peers/asynq.json", "result file")
	full := flag.Bool("full", false, "long run (100,000 tasks)")
	concurrency := flag.Int("concurrency", 32, "asynq server concurrency (handler goroutines)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	res := results.Peer{System: "asynq", Version: moduleVersion("github.com/hibiken/asynq")}
	err := run(ctx, log, &res, *full, *concurrency)
	if err != nil {
		res.Error = err.Error()
		log.Error("asynq peer failed", "error", err)
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err == nil {
		if werr := results.WriteJSON(*out, res); werr != nil {
			log.Error("writing the result", "error", werr)
			os.Exit(1)
		}
	}
	if err != nil {
		os.Exit(1)
	}
}

func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "unknown"
}

// done tracks handled tasks: a count, and the completion time of tasks whose payload names them.
type done struct {
	n     atomic.Int64
	mu    sync.Mutex
	waits map[string]chan time.Time
}

func (d *done) handle(_ context.Context, t *asynq.Task) error {
	now := time.Now()
	if id := string(t.Payload()); id != "" {
		d.mu.Lock()
		ch := d.waits[id]
		delete(d.waits, id)
		d.mu.Unlock()
		if ch != nil {
			ch <- now
		}
	}
	d.n.Add(1)
	return nil
}

func (d *done) expect(id string) chan time.Time {
	ch := make(chan time.Time, 1)
	d.mu.Lock()
	d.waits[id] = ch
	d.mu.Unlock()
	return ch
}

// peer is one run of the workloads against one asynq server and its broker.
type peer struct {
	log   *slog.Logger
	redis asynq.RedisClientOpt
	done  *done
	full  bool
	seq   int // the last latency task's id
}

// pick returns the quick or the long run's size.
func (p *peer) pick(quick, long int) int {
	if p.full {
		return long
	}
	return quick
}

// run starts a private valkey-server and an asynq server, then measures latency (on an idle system,
// as chorus bench does), throughput and utilization into res.
func run(ctx context.Context, log *slog.Logger, res *results.Peer, full bool, concurrency int) error {
	dir, err := os.MkdirTemp("", "asynq-bench-")
	if err != nil {
		return fmt.Errorf("creating a data folder: %w", err)
	}
	defer os.RemoveAll(dir)
	vk, err := valkeyproc.Start(ctx, valkeyproc.Config{Dir: dir, AppendOnly: true})
	if err != nil {
		return err
	}
	defer func() { _ = vk.Stop(context.Background()) }()
	p := &peer{log: log, redis: asynq.RedisClientOpt{Addr: vk.Addr()}, done: &done{waits: map[string]chan time.Time{}}, full: full}
	res.Setup = fmt.Sprintf("valkey-server (AOF everysec) as broker, one server process with concurrency %d, TaskCheckInterval 1 ms (default 1 s), no result retention", concurrency)

	srv := asynq.NewServer(p.redis, asynq.Config{Concurrency: concurrency, TaskCheckInterval: time.Millisecond,
		Logger: quietLogger{}, LogLevel: asynq.ErrorLevel})
	mux := asynq.NewServeMux()
	mux.HandleFunc("noop", p.done.handle)
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("starting the asynq server: %w", err)
	}
	var shutdown sync.Once
	stopServer := func() { shutdown.Do(srv.Shutdown) }
	defer stopServer()

	if res.Latency, err = p.latency(ctx); err != nil {
		return err
	}
	if res.Throughput, err = p.throughput(ctx); err != nil {
		return err
	}
	stopServer()
	res.Utilization, err = p.utilization(ctx)
	return err
}

// latency submits zero-work tasks one at a time and in batches of 10 and 100, after a warm-up.
func (p *peer) latency(ctx context.Context) ([]results.PeerLatency, error) {
	cl := asynq.NewClient(p.redis)
	defer cl.Close()
	var out []results.PeerLatency
	for _, m := range []struct {
		name         string
		batch, tasks int
	}{{"warmup", 1, 20}, {"one at a time", 1, p.pick(200, 1000)}, {"batches of 10", 10, p.pick(500, 3000)}, {"batches of 100", 100, p.pick(1000, 10000)}} {
		l, err := p.latencyMode(ctx, cl, m.batch, m.tasks)
		if err != nil {
			return nil, err
		}
		if m.name == "warmup" {
			continue
		}
		l.Name = m.name
		p.log.Info("asynq latency", "mode", m.name, "submit_p50_ms", l.Submit.P50, "e2e_p50_ms", l.EndToEnd.P50)
		out = append(out, l)
	}
	return out, nil
}

// latencyMode enqueues tasks in batches of batch, each batch once the previous one ran, and measures
// each batch's enqueueing and each task's end-to-end time.
func (p *peer) latencyMode(ctx context.Context, cl *asynq.Client, batch, tasks int) (results.PeerLatency, error) {
	var submits, e2e []time.Duration
	for sent := 0; sent < tasks; sent += batch {
		chans := make([]chan time.Time, 0, batch)
		ids := make([]string, 0, batch)
		for range batch {
			p.seq++
			id := strconv.Itoa(p.seq)
			ids = append(ids, id)
			chans = append(chans, p.done.expect(id))
		}
		t0 := time.Now()
		for _, id := range ids {
			if _, err := cl.EnqueueContext(ctx, asynq.NewTask("noop", []byte(id)), asynq.MaxRetry(0)); err != nil {
				return results.PeerLatency{}, fmt.Errorf("enqueue: %w", err)
			}
		}
		took := time.Since(t0)
		for _, ch := range chans {
			select {
			case at := <-ch:
				submits = append(submits, took)
				e2e = append(e2e, at.Sub(t0))
			case <-time.After(30 * time.Second):
				return results.PeerLatency{}, errors.New("a latency task did not run within 30s")
			case <-ctx.Done():
				return results.PeerLatency{}, ctx.Err()
			}
		}
	}
	return results.PeerLatency{Batch: batch, Tasks: len(e2e), Submit: results.Summarize(submits), EndToEnd: results.Summarize(e2e)}, nil
}

// throughput has 16 clients enqueue zero-work tasks (asynq has no batch enqueue) and waits until
// every one ran.
func (p *peer) throughput(ctx context.Context) (*results.PeerThroughput, error) {
	const clients = 16
	tasks := p.pick(20000, 100000)
	base := p.done.n.Load()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for _, n := range results.Share(tasks, clients) {
		wg.Go(func() {
			c := asynq.NewClient(p.redis)
			defer c.Close()
			for range n {
				if _, err := c.EnqueueContext(ctx, asynq.NewTask("noop", nil), asynq.MaxRetry(0)); err != nil {
					errs <- fmt.Errorf("enqueue: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	for p.done.n.Load()-base < int64(tasks) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Millisecond):
		}
		if time.Since(start) > 10*time.Minute {
			return nil, fmt.Errorf("only %d of %d tasks ran within 10 minutes", p.done.n.Load()-base, tasks)
		}
	}
	wall := time.Since(start)
	t := &results.PeerThroughput{Tasks: tasks, Clients: clients, WallS: wall.Seconds(), TasksPerS: float64(tasks) / wall.Seconds()}
	p.log.Info("asynq throughput", "tasks", tasks, "wall", wall.Round(time.Millisecond), "tasks_per_s", int(t.TasksPerS))
	return t, nil
}

// utilization runs sleep tasks on as many slots (handler goroutines) as chorus bench's scenario.
func (p *peer) utilization(ctx context.Context) ([]results.PeerUtilization, error) {
	slots := 50
	plan := []struct{ ms, perSlot int }{{100, 20}, {1000, 5}}
	if p.full {
		slots, plan = 200, []struct{ ms, perSlot int }{{100, 50}, {1000, 20}}
	}
	var out []results.PeerUtilization
	for _, run := range plan {
		u, err := utilization(ctx, p.redis, slots, run.ms, slots*run.perSlot)
		if err != nil {
			return nil, err
		}
		p.log.Info("asynq utilization", "task_ms", run.ms, "slots", slots, "utilization", fmt.Sprintf("%.2f%%", 100*u.Utilization))
		out = append(out, u)
	}
	return out, nil
}

// utilization runs tasks sleeps of ms on a server of slots handler goroutines; busy time and span
// are measured inside the handler.
func utilization(ctx context.Context, redis asynq.RedisClientOpt, slots, ms, tasks int) (results.PeerUtilization, error) {
	u := results.PeerUtilization{TaskMs: ms, Tasks: tasks, Slots: slots}
	var (
		mu          sync.Mutex
		first, last time.Time
		busy        time.Duration
		n           int
		all         = make(chan struct{})
	)
	srv := asynq.NewServer(redis, asynq.Config{Concurrency: slots, TaskCheckInterval: time.Millisecond,
		Logger: quietLogger{}, LogLevel: asynq.ErrorLevel})
	mux := asynq.NewServeMux()
	mux.HandleFunc("sleep", func(ctx context.Context, _ *asynq.Task) error {
		start := time.Now()
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
		end := time.Now()
		mu.Lock()
		defer mu.Unlock()
		busy += end.Sub(start)
		if first.IsZero() || start.Before(first) {
			first = start
		}
		if end.After(last) {
			last = end
		}
		if n++; n == tasks {
			close(all)
		}
		return nil
	})
	if err := srv.Start(mux); err != nil {
		return u, fmt.Errorf("starting the asynq server: %w", err)
	}
	defer srv.Shutdown()
	cl := asynq.NewClient(redis)
	defer cl.Close()
	payload := []byte(strconv.Itoa(ms))
	for range tasks {
		if _, err := cl.EnqueueContext(ctx, asynq.NewTask("sleep", payload), asynq.MaxRetry(0)); err != nil {
			return u, fmt.Errorf("enqueue: %w", err)
		}
	}
	select {
	case <-all:
	case <-ctx.Done():
		return u, ctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	u.BusyS, u.WallS = busy.Seconds(), last.Sub(first).Seconds()
	u.Utilization = u.BusyS / (float64(slots) * u.WallS)
	return u, nil
}

// quietLogger drops asynq's logs below errors (LogLevel filters them; this satisfies the interface).
type quietLogger struct{}

func (quietLogger) Debug(...any) {}
func (quietLogger) Info(...any)  {}
func (quietLogger) Warn(...any)  {}
func (quietLogger) Error(args ...any) {
	fmt.Fprintln(os.Stderr, append([]any{"asynq:"}, args...)...)
}
func (quietLogger) Fatal(args ...any) {
	fmt.Fprintln(os.Stderr, append([]any{"asynq:"}, args...)...)
	os.Exit(1)
}
