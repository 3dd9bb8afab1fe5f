package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// graph is one session's work: the tasks to submit and the output each checked result must hold.
type graph struct {
	kind  string
	specs []*chorusv1.TaskSpec
	want  map[string]string // result id → expected data
	tasks int               // tasks that run, subtasks included
}

func hexSHA(b string) string {
	s := sha256.Sum256([]byte(b))
	return hex.EncodeToString(s[:])
}

func spec(method string, payload string, payloadID string, outs []string, deps ...string) *chorusv1.TaskSpec {
	s := &chorusv1.TaskSpec{Method: method, PayloadId: payloadID, ExpectedOutputIds: outs, DataDependencies: deps}
	if payloadID == "" {
		s.Payload = []byte(payload)
	}
	return s
}

// newGraph builds graph i of the mix: a fanout (the worker submits n sha256 subtasks and a
// reducer), a chain of sha256 tasks, or a diamond (echo → sha256 and echo → concat of both).
func newGraph(i int) graph {
	tag := "g" + strconv.Itoa(i)
	switch i % 3 {
	case 0: // fanout: 1 task + n sha256 subtasks + 1 concat
		n := 8 + i%9
		out := client.NewID("out-")
		want := ""
		for k := range n {
			want += hexSHA(strconv.Itoa(k))
		}
		return graph{kind: "fanout", specs: []*chorusv1.TaskSpec{spec("fanout", strconv.Itoa(n), "", []string{out})},
			want: map[string]string{out: want}, tasks: n + 2}
	case 1: // chain: sha256 of sha256 of ... of the tag
		g := graph{kind: "chain", want: map[string]string{}}
		prev, data := "", tag
		for range 5 {
			out := client.NewID("out-")
			if prev == "" {
				g.specs = append(g.specs, spec("sha256", data, "", []string{out}))
			} else {
				g.specs = append(g.specs, spec("sha256", "", prev, []string{out}))
			}
			data = hexSHA(data)
			g.want[out] = data
			prev = out
		}
		g.tasks = len(g.specs)
		return g
	default: // diamond: a = echo(tag); b = sha256(a); c = echo(a); d = concat(b, c)
		a, b, c, d := client.NewID("out-"), client.NewID("out-"), client.NewID("out-"), client.NewID("out-")
		return graph{kind: "diamond", specs: []*chorusv1.TaskSpec{
			spec("echo", tag, "", []string{a}),
			spec("sha256", "", a, []string{b}),
			spec("echo", "", a, []string{c}),
			spec("concat", "", "", []string{d}, b, c),
		}, want: map[string]string{a: tag, b: hexSHA(tag), c: tag, d: hexSHA(tag) + tag}, tasks: 4}
	}
}

// runStats is what a workload run observed.
type runStats struct {
	sessions   []string       // session id of each graph's final (successful) run
	tasks      int64          // tasks run to completion, subtasks included
	reruns     int64          // attempts beyond the first, over every task
	retries    int64          // client calls retried after an error (store or gateway unavailable)
	retryCodes map[string]int // the gRPC codes of the retried errors
	maxOutage  time.Duration  // longest time from a call's first error to its success
	lost       []loss         // acknowledged writes that were gone afterwards
	wall       time.Duration
	kindCounts map[string]int
}

// loss is an acknowledged write found missing: the graph was run again in a new session.
type loss struct {
	graph   int
	session string
	what    string
	ackedAt time.Time
}

// errLost marks an acknowledged object that the store no longer has.
var errLost = errors.New("acknowledged data is gone")

// workload runs n graphs over the clients (graph i through clients[i%len]), at most inflight at a
// time. onDone is called after each graph completes, with the number completed so far.
type workload struct {
	t        *testing.T
	clients  []*client.Client
	n        int
	inflight int
	onDone   func(done int)
	// retryFor bounds how long one call is retried after errors (a failover takes seconds).
	retryFor time.Duration
	// stallAfter, when not zero, ends the run when no graph has finished for that long: what the
	// unfinished graphs say then is the failure, not the test's deadline minutes later.
	stallAfter time.Duration
	// diag, when not nil, notes the stall.
	diag *diagnosis

	mu    sync.Mutex
	stats runStats
}

func (w *workload) run(ctx context.Context) runStats {
	w.stats = runStats{sessions: make([]string, w.n), kindCounts: map[string]int{}, retryCodes: map[string]int{}}
	start := time.Now()
	sem := make(chan struct{}, w.inflight)
	var wg sync.WaitGroup
	var done atomic.Int64
	var lastDone atomic.Int64 // unix ns of the last graph finished (or of the start)
	lastDone.Store(start.UnixNano())
	runCtx := ctx
	if w.stallAfter > 0 {
		var stop context.CancelFunc
		runCtx, stop = context.WithCancel(ctx)
		defer stop()
		go w.watchStall(runCtx, stop, &lastDone, &done)
	}
	errs := make(chan error, w.n)
	for i := range w.n {
		select {
		case sem <- struct{}{}:
		case <-runCtx.Done():
		}
		if runCtx.Err() != nil {
			break // the graphs not started are not counted as failures: the stall or deadline is
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := w.runGraph(runCtx, i); err != nil {
				errs <- fmt.Errorf("graph %d: %w", i, err)
				return
			}
			lastDone.Store(time.Now().UnixNano())
			if w.onDone != nil {
				w.onDone(int(done.Add(1)))
			} else {
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		w.t.Error(err)
		if n++; n <= 5 && w.diag != nil {
			w.diag.notef("%v", err)
		}
	}
	w.stats.wall = time.Since(start)
	w.countReruns(ctx)
	return w.stats
}

// watchStall cancels the run (stop) when no graph has finished for w.stallAfter.
func (w *workload) watchStall(ctx context.Context, stop context.CancelFunc, lastDone, done *atomic.Int64) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if idle := time.Since(time.Unix(0, lastDone.Load())); idle > w.stallAfter {
			msg := fmt.Sprintf("no graph finished for %s (%d of %d done): stopping the run", idle.Round(time.Second), done.Load(), w.n)
			w.t.Error(msg)
			if w.diag != nil {
				w.diag.notef("%s", msg)
			}
			stop()
			return
		}
	}
}

// countReruns reads every task of the finished sessions (GetTask: the list view carries no
// attempts) and counts the attempts beyond the first, after the timed run.
func (w *workload) countReruns(ctx context.Context) {
	for i, sid := range w.stats.sessions {
		if sid == "" {
			continue
		}
		c := w.clients[i%len(w.clients)]
		sess := c.Session(sid)
		all, err := sess.Tasks(ctx, chorusv1.TaskStatus_TASK_STATUS_UNSPECIFIED)
		if err != nil {
			w.t.Errorf("listing the tasks of session %s: %v", sid, err)
			return
		}
		for _, tk := range all {
			full, err := sess.Task(ctx, tk.GetTaskId())
			if err != nil {
				w.t.Errorf("reading task %s: %v", tk.GetTaskId(), err)
				return
			}
			n := len(full.GetAttempts())
			if n == 0 {
				w.t.Errorf("completed task %s (%s) records no attempt", tk.GetTaskId(), tk.GetMethod())
			}
			if n > 1 {
				w.stats.reruns += int64(n - 1)
			}
		}
	}
}

// runGraph runs graph i to the end and checks every output; when acknowledged data was lost (a
// master died before its replica had it) it records the loss and runs the graph again in a new
// session, at most 3 times.
func (w *workload) runGraph(ctx context.Context, i int) error {
	c := w.clients[i%len(w.clients)]
	for attempt := 0; ; attempt++ {
		g := newGraph(i) // new result ids: a rerun never meets the lost run's leftovers
		sid, ackedAt, err := w.runOnce(ctx, c, g)
		if errors.Is(err, errLost) && attempt < 3 {
			w.mu.Lock()
			w.stats.lost = append(w.stats.lost, loss{graph: i, session: sid, what: err.Error(), ackedAt: ackedAt})
			w.mu.Unlock()
			continue
		}
		if err != nil {
			return fmt.Errorf("%s graph in session %s: %w", g.kind, sid, err)
		}
		w.mu.Lock()
		w.stats.sessions[i] = sid
		w.stats.kindCounts[g.kind]++
		w.mu.Unlock()
		return nil
	}
}

// runOnce creates a session, submits g in one batch and waits for and checks its outputs and the
// end of every task. It returns the session id and when the submission was acknowledged.
func (w *workload) runOnce(ctx context.Context, c *client.Client, g graph) (string, time.Time, error) {
	sessions := chorusv1.NewSessionServiceClient(c.Conn())
	tasks := chorusv1.NewTaskServiceClient(c.Conn())
	var sid string
	err := w.retry(ctx, "create session", func(ctx context.Context) error {
		resp, err := sessions.CreateSession(ctx, &chorusv1.CreateSessionRequest{
			DefaultTaskOptions: &chorusv1.TaskOptions{Partition: "go"}})
		sid = resp.GetSession().GetSessionId()
		return err
	})
	if err != nil {
		return "", time.Time{}, err
	}
	req := &chorusv1.SubmitTasksRequest{SessionId: sid, Tasks: g.specs, RequestId: client.NewID("req-")}
	err = w.retry(ctx, "submit", func(ctx context.Context) error {
		_, err := tasks.SubmitTasks(ctx, req)
		return err
	})
	ackedAt := time.Now()
	if err != nil {
		return sid, ackedAt, err
	}
	sess := c.Session(sid)
	ids := make([]string, 0, len(g.want))
	for id := range g.want {
		ids = append(ids, id)
	}
	var outs []client.Outcome
	if err := w.retry(ctx, "wait", func(ctx context.Context) (err error) {
		outs, err = sess.Wait(ctx, ids, nil)
		return err
	}); err != nil {
		return sid, ackedAt, fmt.Errorf("%w; the session's tasks: %s", err, taskSummary(ctx, sess))
	}
	for _, o := range outs {
		if o.Status != chorusv1.ResultStatus_RESULT_STATUS_COMPLETED {
			return sid, ackedAt, fmt.Errorf("result %s ended %s (%s); want COMPLETED", o.ResultID, o.Status, o.Reason)
		}
		var data []byte
		if err := w.retry(ctx, "download", func(ctx context.Context) (err error) {
			data, err = sess.DownloadBytes(ctx, o.ResultID)
			return err
		}); err != nil {
			return sid, ackedAt, err
		}
		if string(data) != g.want[o.ResultID] {
			return sid, ackedAt, fmt.Errorf("result %s holds %q; want %q", o.ResultID, data, g.want[o.ResultID])
		}
	}
	var all []*chorusv1.Task
	if err := w.retry(ctx, "list tasks", func(ctx context.Context) (err error) {
		all, err = sess.Tasks(ctx, chorusv1.TaskStatus_TASK_STATUS_UNSPECIFIED)
		return err
	}); err != nil {
		return sid, ackedAt, err
	}
	if len(all) != g.tasks {
		return sid, ackedAt, fmt.Errorf("session lists %d tasks; want %d", len(all), g.tasks)
	}
	for _, tk := range all {
		if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
			return sid, ackedAt, fmt.Errorf("task %s (%s) is %s; want COMPLETED", tk.GetTaskId(), tk.GetMethod(), tk.GetStatus())
		}
	}
	w.mu.Lock()
	w.stats.tasks += int64(len(all))
	w.mu.Unlock()
	return sid, ackedAt, nil
}

// retry calls f until it succeeds, retrying errors a failover causes for up to retryFor. NOT_FOUND
// of a session the store acknowledged is a loss (errLost), not an error to retry.
func (w *workload) retry(ctx context.Context, what string, f func(context.Context) error) error {
	deadline := time.Now().Add(w.retryFor)
	var firstErr time.Time
	for {
		cctx, cancel := context.WithTimeout(ctx, w.retryFor)
		err := f(cctx)
		cancel()
		if err == nil {
			if !firstErr.IsZero() {
				w.mu.Lock()
				w.stats.maxOutage = max(w.stats.maxOutage, time.Since(firstErr))
				w.mu.Unlock()
			}
			return nil
		}
		if firstErr.IsZero() {
			firstErr = time.Now()
		}
		switch status.Code(err) {
		case codes.NotFound:
			return fmt.Errorf("%w: %s: %v", errLost, what, err)
		case codes.InvalidArgument, codes.FailedPrecondition, codes.AlreadyExists, codes.PermissionDenied, codes.Unauthenticated:
			return fmt.Errorf("%s: %w", what, err)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s: still failing after %s: %w", what, w.retryFor, err)
		}
		w.mu.Lock()
		w.stats.retries++
		w.stats.retryCodes[what+": "+status.Code(err).String()]++
		w.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// taskSummary lists a session's unfinished tasks, for the message of a graph that did not end.
func taskSummary(ctx context.Context, sess *client.Session) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second) // also after a stall stopped the run
	defer cancel()
	all, err := sess.Tasks(ctx, chorusv1.TaskStatus_TASK_STATUS_UNSPECIFIED)
	if err != nil {
		return fmt.Sprintf("(cannot list them: %v)", err)
	}
	counts := map[string]int{}
	var open []string
	for _, tk := range all {
		counts[tk.GetStatus().String()]++
		if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
			open = append(open, fmt.Sprintf("%s %s (%s, %d attempts)", tk.GetTaskId(), tk.GetMethod(), tk.GetStatus(), len(tk.GetAttempts())))
		}
	}
	return fmt.Sprintf("%v; unfinished: %v", counts, open)
}
