package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/store"
	workerv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/worker/v1"
)

// proc is one worker process slot of a partition: the supervisor restarts the process in place,
// and the slot holds the tasks assigned to the current process.
type proc struct {
	p   *partition
	id  string
	dir string // private folder
	log *slog.Logger

	lastSeen atomic.Int64 // unix nanos of the last message from the worker
	wire     wireCounts   // messages to and from the slot's processes

	mu          sync.Mutex
	inc         *incarnation // current process; nil between restarts
	conn        transport    // set once the process said Hello and was welcomed
	welcoming   bool         // a Hello is being answered
	capacity    int
	methods     map[string]bool // nil: any method
	assigned    map[string]*run // task id → run on the worker
	queued      []*run          // leased for this worker, being prefetched or waiting for a slot
	draining    bool
	maxInFlight int
	restarts    int
	busy        time.Duration     // sum over tasks of assignment to outcome
	outDirs     []outDir          // empty output folders ready for reuse
	outBusy     map[string]outDir // output folders of tasks in flight, by path
	outClosed   bool              // the agent stopped: folders given back are removed
	outSeq      int
	filling     bool           // fillOutDirs is running
	fillWG      sync.WaitGroup // fillOutDirs's goroutine
}

// incarnation is one run of a worker process.
type incarnation struct {
	pr     *proc
	token  string
	cmd    *exec.Cmd
	pid    atomic.Int64
	hello  chan struct{} // closed when the worker said Hello
	exited chan struct{} // closed when the process exited
	desc   string        // how it exited, set before exited is closed
	cause  atomic.Pointer[string]

	pmu    sync.Mutex
	proc   *os.Process // set once started
	killed bool        // kill was asked (before or after the start)
}

// kill ends the process, remembering why for the log and the failed tasks' error.
func (inc *incarnation) kill(cause string) {
	inc.cause.CompareAndSwap(nil, &cause)
	inc.pmu.Lock()
	inc.killed = true
	p := inc.proc
	inc.pmu.Unlock()
	if p != nil {
		_ = p.Kill()
	}
}

// room is how many more tasks this worker can take: capacity in flight plus its prefetch.
func (pr *proc) room() int {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return pr.roomLocked()
}

func (pr *proc) roomLocked() int {
	if pr.conn == nil || pr.draining {
		return 0
	}
	return max(0, pr.capacity+pr.prefetchLocked()-len(pr.assigned)-len(pr.queued))
}

// prefetchLocked is how many tasks are leased ahead for this worker (PartitionConfig.Prefetch).
func (pr *proc) prefetchLocked() int {
	if n := pr.p.cfg.Prefetch; n > 0 {
		return n
	}
	return max(1, pr.capacity)
}

// need says how many tasks this worker can take (room) and whether it would idle without a claim
// now: a slot is free and nothing is prefetched for it.
func (pr *proc) need() (room int, hungry bool) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	room = pr.roomLocked()
	return room, room > 0 && len(pr.queued) == 0 && len(pr.assigned) < pr.capacity
}

// supervise runs the worker process, restarting it with backoff until the agent stops.
func (pr *proc) supervise(ctx context.Context) {
	a := pr.p.a
	backoff := a.cfg.RestartBackoff
	for !a.isStopping() && ctx.Err() == nil {
		started := a.cfg.Clock.Now()
		inc, err := pr.start()
		desc := ""
		if err != nil {
			desc = err.Error()
			pr.log.Error("could not start the worker process", "command", pr.p.cfg.Command, "error", err)
		} else {
			go pr.watch(inc)
			<-inc.exited
			desc = inc.desc
			pr.onExit(inc)
		}
		if a.isStopping() || ctx.Err() != nil {
			return
		}
		if a.cfg.Clock.Now().Sub(started) > time.Minute {
			backoff = a.cfg.RestartBackoff
		}
		pr.log.Warn("worker process exited; restarting it", "exit", desc, "restart_in", backoff)
		a.sleep(ctx, backoff)
		backoff = min(2*backoff, a.cfg.MaxRestartBackoff)
		pr.mu.Lock()
		pr.restarts++
		pr.mu.Unlock()
	}
}

// start launches a worker process.
func (pr *proc) start() (*incarnation, error) {
	a, cfg := pr.p.a, pr.p.cfg
	inc := &incarnation{pr: pr, token: store.NewID() + store.NewID(), hello: make(chan struct{}), exited: make(chan struct{})}
	cmd := exec.Command(cfg.Command, cfg.Args...)
	cmd.Dir = cfg.Dir
	cmd.Env = os.Environ()
	for k, v := range cfg.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "CHORUS_AGENT_SOCKET="+a.socket, "CHORUS_WORKER_TOKEN="+inc.token,
		"CHORUS_WORKER_CAPACITY="+strconv.Itoa(cfg.Capacity), "CHORUS_WORKER_ID="+pr.id,
		"CHORUS_WORKER_DIR="+pr.dir, "CHORUS_WORKER_TRANSPORT="+cfg.Transport)
	// The worker dies with the agent, so a killed agent leaves no orphans holding tasks.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second
	cmd.Stderr = &logWriter{log: pr.log}
	var stdio *stdioTransport
	var stdoutW *os.File
	if cfg.Transport == TransportStdio {
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return nil, fmt.Errorf("create the worker's stdin pipe: %w", err)
		}
		r, w, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("create the worker's stdout pipe: %w", err)
		}
		cmd.Stdout, stdoutW = w, w
		stdio = newStdioTransport(r, stdin)
		defer func() { _ = stdoutW.Close() }()
	} else {
		cmd.Stdout = &logWriter{log: pr.log}
	}
	inc.cmd = cmd
	pr.mu.Lock()
	pr.inc = inc
	pr.mu.Unlock()
	a.mu.Lock()
	a.tokens[inc.token] = inc
	a.mu.Unlock()
	if err := cmd.Start(); err != nil {
		inc.desc = "could not be started: " + err.Error()
		close(inc.exited)
		pr.onExit(inc)
		if stdio != nil {
			stdio.Close()
		}
		return nil, fmt.Errorf("start %s: %w", cfg.Command, err)
	}
	inc.pmu.Lock()
	inc.proc = cmd.Process
	killed := inc.killed
	inc.pmu.Unlock()
	if killed { // stopped while starting
		_ = cmd.Process.Kill()
	}
	inc.pid.Store(int64(cmd.Process.Pid))
	pr.log.Info("worker process started", "pid", inc.pid.Load(), "transport", cfg.Transport)
	go func() {
		err := cmd.Wait()
		inc.desc = describeExit(cmd.ProcessState, err, inc.cause.Load())
		close(inc.exited)
	}()
	if stdio != nil {
		go pr.serveStdio(inc, stdio)
	}
	return inc, nil
}

func describeExit(ps *os.ProcessState, err error, cause *string) string {
	var s string
	switch {
	case ps == nil:
		s = fmt.Sprintf("could not be waited for (%v)", err)
	case ps.Sys() != nil && ps.Sys().(syscall.WaitStatus).Signaled():
		s = "was killed by signal " + ps.Sys().(syscall.WaitStatus).Signal().String()
	default:
		s = fmt.Sprintf("exited with code %d", ps.ExitCode())
	}
	if cause != nil {
		s += " after the agent killed it because " + *cause
	}
	return s
}

// watch kills a worker that does not say Hello in time or stops answering pings.
func (pr *proc) watch(inc *incarnation) {
	a := pr.p.a
	t := clock.NewTimer(a.cfg.Clock, a.cfg.HelloTimeout)
	select {
	case <-inc.hello:
		t.Stop()
	case <-t.C():
		pr.log.Error("worker did not say Hello in time; killing it", "pid", inc.pid.Load(), "hello_timeout", a.cfg.HelloTimeout)
		inc.kill(fmt.Sprintf("it did not say Hello within %s", a.cfg.HelloTimeout))
		return
	case <-inc.exited:
		t.Stop()
		return
	}
	tick := clock.NewTicker(a.cfg.Clock, a.cfg.PingInterval)
	defer tick.Stop()
	var nonce int64
	for {
		select {
		case <-inc.exited:
			return
		case <-tick.C():
		}
		now := a.cfg.Clock.Now()
		if a.stall.observe(now) {
			pr.lastSeen.Store(now.UnixNano()) // the agent was stopped, not the worker: no blame
		}
		silent := now.Sub(time.Unix(0, pr.lastSeen.Load()))
		if silent > a.cfg.PingTimeout {
			pr.log.Error("worker stopped answering; killing it", "pid", inc.pid.Load(), "silent_for", silent.Round(time.Millisecond))
			inc.kill(fmt.Sprintf("it did not answer for %s", silent.Round(time.Millisecond)))
			return
		}
		nonce++
		pr.mu.Lock()
		conn := pr.conn
		pr.mu.Unlock()
		if conn != nil {
			_ = conn.Send(&workerv1.ConnectResponse{Message: &workerv1.ConnectResponse_Ping{Ping: &workerv1.Ping{Nonce: nonce}}})
		}
	}
}

// onExit forgets a process that exited: tasks it was running fail as WORKER_CRASHED (retryable),
// tasks prefetched for it go back to the queue.
func (pr *proc) onExit(inc *incarnation) {
	a := pr.p.a
	a.mu.Lock()
	delete(a.tokens, inc.token)
	a.mu.Unlock()
	pr.mu.Lock()
	if pr.inc != inc {
		pr.mu.Unlock()
		return
	}
	pr.inc = nil
	if pr.conn != nil {
		pr.conn.Close()
		pr.conn = nil
	}
	assigned, queued := pr.assigned, pr.queued
	pr.assigned, pr.queued = nil, nil
	var crashed []*run
	for _, r := range assigned {
		r.stopTimer()
		if !r.abandoned {
			r.abandoned = true
			crashed = append(crashed, r)
		} else {
			go r.cleanup()
		}
	}
	for _, r := range queued {
		r.abandoned = true
	}
	pr.mu.Unlock()
	if len(queued) > 0 {
		go a.release(queued, "its worker exited")
	}
	msg := fmt.Sprintf("worker process %s (pid %d) %s while running the task", pr.id, inc.pid.Load(), inc.desc)
	for _, r := range crashed {
		go r.fail(errWorkerCrashed, msg, true)
	}
	if len(crashed) > 0 {
		pr.log.Warn("worker process died while running tasks; they are failed as retryable", "tasks", len(crashed), "exit", inc.desc)
	}
	signal(pr.p.wake)
}

// sendDrain stops new assignments and asks the worker to finish its tasks and exit.
func (pr *proc) sendDrain(grace time.Duration) {
	pr.mu.Lock()
	pr.draining = true
	conn := pr.conn
	pr.mu.Unlock()
	if conn != nil {
		_ = conn.Send(&workerv1.ConnectResponse{Message: &workerv1.ConnectResponse_Drain{
			Drain: &workerv1.Drain{Grace: durationpb.New(grace)}}})
	}
}

// takeQueued removes the tasks leased for this worker but not started, and stops assignments.
func (pr *proc) takeQueued() []*run {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.draining = true
	q := pr.queued
	pr.queued = nil
	for _, r := range q {
		r.abandoned = true
	}
	return q
}

// takeAll removes every task of this worker (the drain deadline passed); late outcomes are ignored.
func (pr *proc) takeAll() []*run {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	out := pr.queued
	pr.queued = nil
	for _, r := range pr.assigned {
		if !r.abandoned {
			out = append(out, r)
		}
	}
	for _, r := range out {
		r.abandoned = true
		r.stopTimer()
	}
	return out
}

// stop ends the worker process at agent shutdown: it was asked to drain; it is killed at once when
// it still runs tasks that were handed back (busy), else if it has not exited after a short grace.
func (pr *proc) stop(busy bool) {
	pr.mu.Lock()
	inc, connected := pr.inc, pr.conn != nil
	pr.mu.Unlock()
	if inc == nil {
		return
	}
	if !connected || busy {
		inc.kill("the agent stopped (the worker had not said Hello, or its tasks were handed back at the drain deadline)")
		<-inc.exited
		return
	}
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-inc.exited:
	case <-t.C:
		inc.kill("the agent stopped")
		<-inc.exited
	}
}

// logWriter forwards a worker's output lines to the log.
type logWriter struct {
	log *slog.Logger
	buf []byte
}

func (w *logWriter) Write(b []byte) (int, error) {
	w.buf = append(w.buf, b...)
	for {
		i := indexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		if i > 0 {
			w.log.Info(string(w.buf[:i]), "source", "worker")
		}
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 64<<10 {
		w.log.Info(string(w.buf), "source", "worker")
		w.buf = w.buf[:0]
	}
	return len(b), nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
