package agent

import (
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/chorus-hpc/chorus/internal/clock"
	workerv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/worker/v1"
)

// server is the WorkerService on the agent's Unix socket.
type server struct {
	workerv1.UnimplementedWorkerServiceServer
	a *Agent
}

// Connect authenticates a worker by the token of its process and serves its stream.
func (s *server) Connect(stream workerv1.WorkerService_ConnectServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	hello := first.GetHello()
	if hello == nil {
		return status.Error(codes.InvalidArgument, "the first message of a worker stream must be Hello")
	}
	s.a.mu.Lock()
	inc := s.a.tokens[hello.GetToken()]
	s.a.mu.Unlock()
	if inc == nil {
		s.a.log.Warn("refused a worker stream with an unknown token", "pid", hello.GetPid())
		return status.Error(codes.PermissionDenied, "unknown worker token: workers must be launched by this agent, which sets CHORUS_WORKER_TOKEN")
	}
	return inc.pr.serve(inc, newGRPCTransport(stream), hello)
}

// serveStdio reads the Hello of a stdio worker, then serves it.
func (pr *proc) serveStdio(inc *incarnation, tr *stdioTransport) {
	first, err := tr.Recv()
	if err == nil && first.GetHello() == nil {
		err = errors.New("its first message was not Hello")
	}
	if err == nil && first.GetHello().GetToken() != inc.token {
		err = errors.New("its Hello carried a wrong token (use CHORUS_WORKER_TOKEN)")
	}
	if err != nil {
		pr.log.Error("worker protocol error on stdio; killing the worker", "error", err)
		inc.kill("of a protocol error on stdio: " + err.Error())
		tr.Close()
		return
	}
	if err := pr.serve(inc, tr, first.GetHello()); err != nil {
		tr.Close()
	}
}

// serve runs one worker connection after its Hello until the stream ends.
func (pr *proc) serve(inc *incarnation, tr transport, hello *workerv1.Hello) error {
	a := pr.p.a
	pr.mu.Lock()
	if pr.inc != inc || pr.conn != nil || pr.welcoming {
		pr.mu.Unlock()
		return status.Error(codes.FailedPrecondition, "this worker process is already connected or has exited")
	}
	pr.welcoming = true
	pr.mu.Unlock()
	// The Welcome is the first message on the stream: the connection is published (and may be given
	// tasks) only once it is sent.
	err := tr.Send(&workerv1.ConnectResponse{Message: &workerv1.ConnectResponse_Welcome{Welcome: &workerv1.Welcome{
		AgentId: a.cfg.AgentID, WorkerId: pr.id, WorkDir: pr.dir, InlineLimitBytes: a.cfg.InlineLimit, AcceptsBatches: true}}})
	if err == nil {
		tr.setBatching(hello.GetAcceptsBatches(), &pr.wire)
	}
	pr.mu.Lock()
	pr.welcoming = false
	if err != nil {
		pr.mu.Unlock()
		inc.kill("the Welcome could not be sent: " + err.Error())
		return err
	}
	if pr.inc != inc {
		pr.mu.Unlock()
		return status.Error(codes.FailedPrecondition, "this worker process has exited")
	}
	pr.conn = tr
	pr.capacity = max(1, int(hello.GetCapacity()))
	pr.methods = nil
	if len(hello.GetMethods()) > 0 {
		pr.methods = make(map[string]bool, len(hello.GetMethods()))
		for _, m := range hello.GetMethods() {
			pr.methods[m] = true
		}
	}
	pr.assigned = make(map[string]*run, pr.capacity)
	pr.draining = a.isStopping()
	pr.lastSeen.Store(a.cfg.Clock.Now().UnixNano())
	pr.mu.Unlock()
	close(inc.hello)
	pr.fillOutDirs() // up to the capacity the worker announced
	pr.log.Info("worker connected", "pid", inc.pid.Load(), "language", hello.GetLanguage(), "sdk_version", hello.GetSdkVersion(),
		"capacity", pr.capacity, "methods", len(hello.GetMethods()), "batches", hello.GetAcceptsBatches())
	signal(pr.p.wake)
	for {
		m, err := tr.Recv()
		if err != nil {
			if a.isStopping() && errors.Is(err, io.EOF) {
				return nil // the worker drained
			}
			// A dying process ends its stream first: give it a moment to exit on its own so its exit
			// status (not the agent's kill) is what failed tasks report.
			t := time.NewTimer(2 * time.Second)
			defer t.Stop()
			select {
			case <-inc.exited:
			case <-t.C:
				pr.log.Warn("worker stream ended while its process runs; killing it", "pid", inc.pid.Load(), "error", err)
				inc.kill("its stream ended (" + err.Error() + ")")
			}
			return nil
		}
		pr.lastSeen.Store(a.cfg.Clock.Now().UnixNano())
		b := m.GetBatch()
		if b == nil {
			pr.wire.received(1)
			pr.handle(tr, m)
			continue
		}
		if err := checkBatch(b); err != nil {
			pr.log.Error("worker protocol error; ending its stream and killing it", "pid", inc.pid.Load(), "error", err)
			inc.kill("of a protocol error: " + err.Error())
			return status.Error(codes.InvalidArgument, err.Error())
		}
		pr.wire.received(len(b.GetMessages()))
		// What the batch's messages make the agent send (the tasks that take the freed slots)
		// travels as one batch too.
		release := tr.hold()
		for _, x := range b.GetMessages() {
			pr.handle(tr, x)
		}
		release()
	}
}

// handle processes one message from the worker.
func (pr *proc) handle(tr transport, m *workerv1.ConnectRequest) {
	switch msg := m.GetMessage().(type) {
	case *workerv1.ConnectRequest_TaskCompleted:
		if r := pr.finished(msg.TaskCompleted.GetTaskId()); r != nil {
			if outputsNeedIO(msg.TaskCompleted) {
				go r.complete(msg.TaskCompleted)
			} else {
				r.complete(msg.TaskCompleted)
			}
		}
	case *workerv1.ConnectRequest_TaskFailed:
		if r := pr.finished(msg.TaskFailed.GetTaskId()); r != nil {
			f := msg.TaskFailed
			r.fail(errWorker, f.GetMessage(), f.GetRetryable())
		}
	case *workerv1.ConnectRequest_TaskProgress:
		if r := pr.running(msg.TaskProgress.GetTaskId()); r != nil {
			r.queueProgress(msg.TaskProgress)
		}
	case *workerv1.ConnectRequest_CreateResults:
		c := msg.CreateResults
		serveCall(pr, tr, c, func(r *run) ([]string, error) { return staged(r, c.GetResults(), "results", r.stageResults) })
	case *workerv1.ConnectRequest_SubmitTasks:
		c := msg.SubmitTasks
		serveCall(pr, tr, c, func(r *run) ([]string, error) { return staged(r, c.GetTasks(), "subtasks", r.stageSubtasks) })
	case *workerv1.ConnectRequest_Pong:
	case *workerv1.ConnectRequest_Hello:
		pr.log.Warn("worker sent a second Hello; ignored")
	}
}

// running returns the live run of a task on this worker, or nil.
func (pr *proc) running(taskID string) *run {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if r := pr.assigned[taskID]; r != nil && !r.abandoned {
		return r
	}
	return nil
}

// finished removes a task the worker is done with, fills its slot, and returns the run when its
// outcome still counts (nil when it was abandoned: timed out, lease lost, handed back).
func (pr *proc) finished(taskID string) *run {
	pr.mu.Lock()
	r := pr.assigned[taskID]
	if r == nil {
		pr.mu.Unlock()
		return nil
	}
	delete(pr.assigned, taskID)
	pr.busy += time.Since(r.started)
	r.stopTimer()
	abandoned := r.abandoned
	send := pr.nextLocked()
	if len(send) > 0 {
		send[0].prev = r // it takes r's slot: record that it runs after r's outcome
	}
	idle := len(send) == 0 && len(pr.queued) == 0 && pr.conn != nil && !pr.draining
	pr.mu.Unlock()
	pr.assign(send)
	if idle {
		pr.p.steal(pr, r)
	}
	signal(pr.p.wake)
	r.mu.Lock()
	r.workerDone, r.outStamp = true, pr.outWatch().stamp()
	r.mu.Unlock()
	if abandoned {
		go r.cleanup()
		return nil
	}
	return r
}

// reserve takes a leased task for this worker and starts fetching its data.
func (pr *proc) reserve(r *run) bool {
	pr.mu.Lock()
	if pr.roomLocked() <= 0 {
		pr.mu.Unlock()
		return false
	}
	if pr.methods != nil && !pr.methods[r.task.Method] {
		pr.mu.Unlock()
		r.noStart()
		r.fail(errUnknownMethod, fmt.Sprintf("no worker of partition %s serves method %q", pr.p.cfg.Name, r.task.Method), false)
		return true
	}
	pr.queued = append(pr.queued, r)
	pr.mu.Unlock()
	if r.needsFetch() {
		go pr.prepare(r)
	} else {
		pr.prepare(r)
	}
	return true
}

// prepare fetches a task's data, then assigns it if the worker has a free slot.
func (pr *proc) prepare(r *run) {
	msg, err := r.prepare()
	pr.mu.Lock()
	r.msg, r.prepErr, r.ready = msg, err, true
	if r.abandoned {
		pr.mu.Unlock()
		r.cleanup()
		return
	}
	if err != nil {
		pr.removeQueuedLocked(r)
		r.abandoned = true
		pr.mu.Unlock()
		r.noStart()
		r.fail(errDataError, err.Error(), true)
		return
	}
	send := pr.nextLocked()
	pr.mu.Unlock()
	pr.assign(send)
}

func (pr *proc) removeQueuedLocked(r *run) bool {
	for i, q := range pr.queued {
		if q == r {
			pr.queued = append(pr.queued[:i], pr.queued[i+1:]...)
			return true
		}
	}
	return false
}

// nextLocked moves ready queued tasks into free slots and returns them for assign.
func (pr *proc) nextLocked() []*run {
	var send []*run
	for pr.conn != nil && len(pr.assigned) < pr.capacity {
		i := 0
		for i < len(pr.queued) && !pr.queued[i].ready {
			i++
		}
		if i == len(pr.queued) {
			break
		}
		r := pr.queued[i]
		pr.queued = append(pr.queued[:i], pr.queued[i+1:]...)
		pr.assigned[r.task.Lease.TaskID] = r
		pr.maxInFlight = max(pr.maxInFlight, len(pr.assigned))
		r.started = time.Now()
		r.startTimerLocked()
		send = append(send, r)
	}
	return send
}

// assign sends tasks to the worker and records that they run.
func (pr *proc) assign(runs []*run) {
	if len(runs) == 0 {
		return
	}
	pr.mu.Lock()
	conn := pr.conn
	pr.mu.Unlock()
	if conn != nil && len(runs) > 1 {
		defer conn.hold()() // one batch for the worker when it accepts batches
	}
	for _, r := range runs {
		r.markRunning()
		if conn != nil {
			if err := conn.Send(&workerv1.ConnectResponse{Message: &workerv1.ConnectResponse_AssignTask{AssignTask: r.msg}}); err != nil {
				pr.log.WarnContext(r.logCtx(), "could not send a task to the worker; it fails when the worker's exit is noticed", "task_id", r.task.Lease.TaskID, "error", err)
			}
		}
	}
}

// lose stops work on a task whose lease the agent no longer holds (cancelled, expired, finished).
func (pr *proc) lose(r *run, reason string) {
	pr.mu.Lock()
	if owner := r.proc(); owner != pr { // it moved to another worker (partition.steal)
		pr.mu.Unlock()
		if owner != nil {
			owner.lose(r, reason)
		}
		return
	}
	if r.abandoned {
		pr.mu.Unlock()
		return
	}
	r.abandoned = true
	queued := pr.removeQueuedLocked(r)
	onWorker := pr.assigned[r.task.Lease.TaskID] == r
	conn := pr.conn
	pr.mu.Unlock()
	pr.p.a.dropLease(r)
	if queued {
		r.cleanup()
		signal(pr.p.wake)
	}
	if onWorker && conn != nil {
		pr.cancelOnWorker(r, conn, reason)
	}
}

// cancelOnWorker asks the worker to stop a task, and kills the worker if it does not within the
// cancel grace.
func (pr *proc) cancelOnWorker(r *run, conn transport, reason string) {
	pr.log.InfoContext(r.logCtx(), "cancelling a task on its worker", "task_id", r.task.Lease.TaskID, "reason", reason)
	_ = conn.Send(&workerv1.ConnectResponse{Message: &workerv1.ConnectResponse_CancelTask{CancelTask: &workerv1.CancelTask{
		TaskId: r.task.Lease.TaskID, Reason: reason}}})
	clock.AfterFunc(pr.p.a.cfg.Clock, pr.p.a.cfg.CancelGrace, func() {
		pr.mu.Lock()
		still := pr.assigned[r.task.Lease.TaskID] == r
		inc := pr.inc
		pr.mu.Unlock()
		if still && inc != nil {
			pr.log.ErrorContext(r.logCtx(), "worker did not stop a cancelled task in time; killing it", "task_id", r.task.Lease.TaskID, "cancel_grace", pr.p.a.cfg.CancelGrace)
			inc.kill(fmt.Sprintf("it did not stop cancelled task %s within %s", r.task.Lease.TaskID, pr.p.a.cfg.CancelGrace))
		}
	})
}

// timeout fails a task that ran past its max duration and cancels it on the worker.
func (pr *proc) timeout(r *run, d time.Duration) {
	pr.mu.Lock()
	if r.abandoned || pr.assigned[r.task.Lease.TaskID] != r {
		pr.mu.Unlock()
		return
	}
	r.abandoned = true
	conn := pr.conn
	pr.mu.Unlock()
	msg := fmt.Sprintf("timed out after %s (the task's max_duration)", d)
	if conn != nil {
		pr.cancelOnWorker(r, conn, msg)
	}
	r.fail(errTimeout, msg, true)
}

// steal gives worker to, whose slot freed by freed would otherwise idle, a task leased for another
// worker of the partition that is prepared and waits there for a slot: at the end of a run, or
// beside a slower worker, no slot idles while a task waits behind a busy one. Only a task whose
// data travels inline moves (no input files in the other worker's folder).
// The queues are scanned twice on purpose: hasMovable first, so that a run's end with nothing to
// move (the common case) takes no output folder (taking one may create a directory, giving it back
// reads it); giveUp then scans again, since the queues may have changed meanwhile. Taking the task
// before the folder would need it put back in its queue when the folder cannot be made.
func (p *partition) steal(to *proc, freed *run) {
	waiting := false
	for _, from := range p.procs {
		if from != to && from.hasMovable() {
			waiting = true
			break
		}
	}
	if !waiting {
		return
	}
	out, err := to.takeOutDir()
	if err != nil {
		to.log.Warn("could not take over a task waiting for another worker", "error", err)
		return
	}
	for _, from := range p.procs {
		if from == to {
			continue
		}
		if r := from.giveUp(to); r != nil {
			to.adopt(r, from, freed, out)
			return
		}
	}
	to.putOutDir(out, true, 0)
}

// movableLocked is the index in the queue of the newest prepared task waiting here for a slot whose
// data travels inline, or -1.
func (pr *proc) movableLocked() int {
	for i := len(pr.queued) - 1; i >= 0; i-- {
		r := pr.queued[i]
		if r.ready && r.prepErr == nil && !r.abandoned && r.msg != nil && !r.needsFetch() {
			return i
		}
	}
	return -1
}

// hasMovable reports whether a task waits here that another worker could take.
func (pr *proc) hasMovable() bool {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return pr.movableLocked() >= 0
}

// giveUp removes a movable task from this worker's queue for worker to, or returns nil.
func (pr *proc) giveUp(to *proc) *run {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	i := pr.movableLocked()
	if i < 0 {
		return nil
	}
	r := pr.queued[i]
	pr.queued = append(pr.queued[:i], pr.queued[i+1:]...)
	r.owner.Store(to) // under the old owner's mu: a lose() from now on goes to the new owner
	return r
}

// adopt takes a task given up by worker from, with output folder out of this worker (the one from
// gave it goes back to from's pool, unused), into the next free slot.
func (pr *proc) adopt(r *run, from *proc, freed *run, out string) {
	r.mu.Lock()
	old := r.outDir
	r.outDir = out
	r.mu.Unlock()
	from.putOutDir(old, true, 0)
	pr.mu.Lock()
	if r.abandoned { // lost while it moved
		pr.mu.Unlock()
		r.cleanup()
		return
	}
	r.msg.OutputDir = out
	r.prev = freed
	pr.queued = append(pr.queued, r)
	send := pr.nextLocked()
	pr.mu.Unlock()
	pr.assign(send)
}
