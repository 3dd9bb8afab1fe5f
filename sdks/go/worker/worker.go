package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	workerv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/worker/v1"
	"github.com/chorus-hpc/chorus/sdks/go/otelenv"
	"github.com/chorus-hpc/chorus/sdks/go/worker/wirebatch"
)

// Handler runs one task and returns the data of its expected outputs.
type Handler func(ctx context.Context, t *Task) ([]Output, error)

// BytesHandler runs a task with exactly one expected output and returns its data.
type BytesHandler func(ctx context.Context, t *Task) ([]byte, error)

// maxMessageSize bounds messages on the stream (inline data is far smaller; paths carry the rest).
const maxMessageSize = 64 << 20

// Worker serves tasks for one agent. Register handlers with Handle before Run.
type Worker struct {
	cfg      Config
	handlers map[string]Handler

	// Sends go through one writer at a time. Once the agent accepts batches, a send while another
	// goroutine writes queues its message, and the writer sends everything queued as one
	// RequestBatch: outcomes ready at the same moment share a write, and no send waits for a batch.
	sendMu   sync.Mutex
	sendDone *sync.Cond // signalled (on sendMu) when the writer has emptied the queue
	drained  bool       // set under sendMu once the stream is half-closed after a Drain
	batches  bool       // the agent accepts batches (Welcome.accepts_batches)
	outq     []*workerv1.ConnectRequest
	writing  bool  // a goroutine is writing outq
	sendErr  error // the stream's first send error, with batches
	stream   grpc.BidiStreamingClient[workerv1.ConnectRequest, workerv1.ConnectResponse]

	inlineLimit int64
	callSeq     atomic.Int64
	mu          sync.Mutex
	calls       map[string]chan *workerv1.ConnectResponse
	running     map[string]context.CancelCauseFunc
	wg          sync.WaitGroup
	tracer      trace.Tracer
	// jobs hands an assigned task to an idle runner goroutine. A runner stays for the next task, so
	// a task pays neither for a new goroutine nor for its stack growing again (measured: stack
	// growth was a sixth of the worker's CPU on zero-work tasks).
	jobs chan job
}

// job is an assigned task with its context.
type job struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	a      *workerv1.AssignTask
}

// New returns a Worker for cfg (see FromEnv).
func New(cfg Config) (*Worker, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	w := &Worker{cfg: cfg, handlers: map[string]Handler{},
		calls: map[string]chan *workerv1.ConnectResponse{}, running: map[string]context.CancelCauseFunc{}, jobs: make(chan job)}
	w.sendDone = sync.NewCond(&w.sendMu)
	return w, nil
}

// Handle registers the handler of a method. Call it before Run.
func (w *Worker) Handle(method string, h Handler) { w.handlers[method] = h }

// HandleBytes registers a handler for a method whose tasks have one expected output; the bytes it
// returns complete that output.
func (w *Worker) HandleBytes(method string, h BytesHandler) {
	w.handlers[method] = func(ctx context.Context, t *Task) ([]Output, error) {
		b, err := h(ctx, t)
		if err != nil {
			return nil, err
		}
		if len(t.ExpectedOutputIDs) != 1 {
			return nil, fmt.Errorf("method %s returns one output but the task expects %d", t.Method, len(t.ExpectedOutputIDs))
		}
		return []Output{{ResultID: t.ExpectedOutputIDs[0], Data: b}}, nil
	}
}

// Run connects to the agent and serves tasks until ctx ends, the agent asks the worker to drain
// (then it returns nil once running tasks have finished), or the stream breaks.
func (w *Worker) Run(ctx context.Context) error {
	tp := w.cfg.TracerProvider
	if tp == nil {
		var shutdown func(context.Context) error
		var err error
		if tp, shutdown, err = otelenv.TracerProviderFromEnv(ctx, "chorus-worker-go"); err != nil {
			return fmt.Errorf("worker: tracing from the OTEL_* settings: %w", err)
		}
		if shutdown != nil {
			defer func() {
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = shutdown(sctx) // flush this worker's spans before it exits
			}()
		}
	}
	w.tracer = tp.Tracer("github.com/chorus-hpc/chorus/sdks/go/worker")
	conn, err := grpc.NewClient("unix://"+w.cfg.Socket,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageSize), grpc.MaxCallSendMsgSize(maxMessageSize)))
	if err != nil {
		return fmt.Errorf("worker: connect to the agent at %s: %w", w.cfg.Socket, err)
	}
	defer conn.Close()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := workerv1.NewWorkerServiceClient(conn).Connect(sctx)
	if err != nil {
		return fmt.Errorf("worker: open the stream to the agent at %s: %w", w.cfg.Socket, err)
	}
	w.stream = stream
	methods := make([]string, 0, len(w.handlers))
	for m := range w.handlers {
		methods = append(methods, m)
	}
	err = w.send(&workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_Hello{Hello: &workerv1.Hello{
		Token: w.cfg.Token, Language: "go", SdkVersion: SDKVersion, Methods: methods,
		Capacity: int32(w.cfg.Capacity), Pid: int32(os.Getpid()), AcceptsBatches: true}}})
	if err != nil {
		return fmt.Errorf("worker: say hello to the agent: %w", err)
	}
	first, err := stream.Recv()
	if err != nil {
		return fmt.Errorf("worker: the agent did not welcome this worker (wrong token?): %w", err)
	}
	welcome := first.GetWelcome()
	if welcome == nil {
		return errors.New("worker: the agent's first message was not Welcome")
	}
	w.inlineLimit = welcome.GetInlineLimitBytes()
	w.sendMu.Lock()
	w.batches = welcome.GetAcceptsBatches()
	w.sendMu.Unlock()
	w.cfg.Logger.Debug("connected to the agent", "agent_id", welcome.GetAgentId(), "worker_id", welcome.GetWorkerId())
	err = w.loop(sctx)
	w.cancelAll(errors.New("the worker is stopping"))
	w.wg.Wait()
	w.closeSend(false)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (w *Worker) loop(ctx context.Context) error {
	for {
		msg, err := w.stream.Recv()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			w.sendMu.Lock()
			drained := w.drained
			w.sendMu.Unlock()
			if drained {
				return nil
			}
			if errors.Is(err, io.EOF) {
				return errors.New("worker: the agent closed the stream")
			}
			return fmt.Errorf("worker: stream to the agent broke: %w", err)
		}
		if b := msg.GetBatch(); b != nil {
			for _, m := range b.GetMessages() {
				if err := w.dispatch(ctx, m); err != nil {
					return err
				}
			}
			continue
		}
		if err := w.dispatch(ctx, msg); err != nil {
			return err
		}
	}
}

// dispatch handles one message from the agent.
func (w *Worker) dispatch(ctx context.Context, msg *workerv1.ConnectResponse) error {
	switch m := msg.GetMessage().(type) {
	case *workerv1.ConnectResponse_AssignTask:
		w.start(ctx, m.AssignTask)
	case *workerv1.ConnectResponse_CancelTask:
		w.mu.Lock()
		if c, ok := w.running[m.CancelTask.GetTaskId()]; ok {
			c(errors.New(m.CancelTask.GetReason()))
		}
		w.mu.Unlock()
	case *workerv1.ConnectResponse_Drain:
		// Finish running tasks (they may still call the agent), then half-close the stream; the
		// agent answers by closing its side.
		go func() {
			w.wg.Wait()
			w.closeSend(true)
		}()
	case *workerv1.ConnectResponse_Ping:
		if err := w.send(&workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_Pong{
			Pong: &workerv1.Pong{Nonce: m.Ping.GetNonce()}}}); err != nil {
			return fmt.Errorf("worker: answer the agent's ping: %w", err)
		}
	case *workerv1.ConnectResponse_CreateResultsReply:
		w.reply(m.CreateResultsReply.GetCallId(), msg)
	case *workerv1.ConnectResponse_SubmitTasksReply:
		w.reply(m.SubmitTasksReply.GetCallId(), msg)
	}
	return nil
}

func (w *Worker) cancelAll(cause error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.running {
		c(cause)
	}
}

func (w *Worker) send(m *workerv1.ConnectRequest) error {
	w.sendMu.Lock()
	if w.drained {
		w.sendMu.Unlock()
		return errors.New("the worker has drained")
	}
	if !w.batches {
		defer w.sendMu.Unlock()
		return w.stream.Send(m)
	}
	if w.sendErr != nil {
		err := w.sendErr
		w.sendMu.Unlock()
		return err
	}
	w.outq = append(w.outq, m)
	if w.writing {
		w.sendMu.Unlock() // the writer sends it with what else is queued
		return nil
	}
	w.writing = true
	var err error
	for len(w.outq) > 0 && w.sendErr == nil {
		next, _ := wirebatch.Next(&w.outq, func(ms []*workerv1.ConnectRequest) *workerv1.ConnectRequest {
			return &workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_Batch{Batch: &workerv1.RequestBatch{Messages: ms}}}
		})
		w.sendMu.Unlock()
		e := w.stream.Send(next)
		w.sendMu.Lock()
		if e != nil {
			w.sendErr, err = e, e
			w.outq = nil
		}
	}
	w.writing = false
	w.sendDone.Broadcast()
	w.sendMu.Unlock()
	return err
}

// closeSend half-closes the stream once what is queued is written; drained makes later sends fail.
func (w *Worker) closeSend(drained bool) {
	w.sendMu.Lock()
	defer w.sendMu.Unlock()
	for w.writing {
		w.sendDone.Wait()
	}
	if drained {
		w.drained = true
	}
	_ = w.stream.CloseSend()
}

func (w *Worker) reply(callID string, msg *workerv1.ConnectResponse) {
	w.mu.Lock()
	ch, ok := w.calls[callID]
	delete(w.calls, callID)
	w.mu.Unlock()
	if ok {
		ch <- msg
	}
}

// call sends a request built with a fresh call id and waits for its reply.
func (w *Worker) call(ctx context.Context, build func(callID string) *workerv1.ConnectRequest) (*workerv1.ConnectResponse, error) {
	id := strconv.FormatInt(w.callSeq.Add(1), 10)
	ch := make(chan *workerv1.ConnectResponse, 1)
	w.mu.Lock()
	w.calls[id] = ch
	w.mu.Unlock()
	if err := w.send(build(id)); err != nil {
		w.mu.Lock()
		delete(w.calls, id)
		w.mu.Unlock()
		return nil, fmt.Errorf("send a request to the agent: %w", err)
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		w.mu.Lock()
		delete(w.calls, id)
		w.mu.Unlock()
		return nil, context.Cause(ctx)
	}
}

// outData turns bytes into a Data message: inline up to the agent's inline limit, else a file in the
// task's output folder.
func (w *Worker) outData(t *Task, b []byte) (*workerv1.Data, error) {
	if w.inlineLimit <= 0 || int64(len(b)) <= w.inlineLimit {
		return &workerv1.Data{Source: &workerv1.Data_Inline{Inline: b}}, nil
	}
	f, err := os.CreateTemp(t.OutputDir, "out-*")
	if err != nil {
		return nil, fmt.Errorf("write large data to the task's output folder %s: %w", t.OutputDir, err)
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return nil, fmt.Errorf("write large data to %s: %w", f.Name(), err)
	}
	return &workerv1.Data{Source: &workerv1.Data_Path{Path: f.Name()}}, nil
}

func (w *Worker) start(ctx context.Context, a *workerv1.AssignTask) {
	tctx, cancel := context.WithCancelCause(ctx)
	w.mu.Lock()
	w.running[a.GetTaskId()] = cancel
	w.mu.Unlock()
	w.wg.Add(1)
	j := job{ctx: tctx, cancel: cancel, a: a}
	select {
	case w.jobs <- j: // an idle runner takes it
	default:
		go w.runner(ctx, j)
	}
}

// runner runs j, then the tasks handed to it while it is idle, until ctx (the connection's) ends.
func (w *Worker) runner(ctx context.Context, j job) {
	for {
		w.finish(j)
		select {
		case j = <-w.jobs:
		case <-ctx.Done():
			return
		}
	}
}

// finish runs the task of j and reports its outcome.
func (w *Worker) finish(j job) {
	defer w.wg.Done()
	msg := w.run(j.ctx, j.a)
	w.mu.Lock()
	delete(w.running, j.a.GetTaskId())
	w.mu.Unlock()
	j.cancel(nil)
	if err := w.send(msg); err != nil {
		w.cfg.Logger.Warn("could not report a task's outcome to the agent", "task_id", j.a.GetTaskId(), "error", err)
	}
}

// traceContext reads the W3C trace context that the agent sends with each task.
var traceContext = propagation.TraceContext{}

// taskTraceContext returns ctx with the remote span of the task's traceparent and tracestate, so the
// spans of its handler join the task's trace. An empty or malformed traceparent leaves ctx as it is.
func taskTraceContext(ctx context.Context, a *workerv1.AssignTask) context.Context {
	if a.GetTraceparent() == "" {
		return ctx
	}
	return traceContext.Extract(ctx, propagation.MapCarrier{"traceparent": a.GetTraceparent(), "tracestate": a.GetTracestate()})
}

// run runs one task and returns the message that reports its outcome.
func (w *Worker) run(ctx context.Context, a *workerv1.AssignTask) (out *workerv1.ConnectRequest) {
	fail := func(msg string, retryable bool) *workerv1.ConnectRequest {
		return &workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_TaskFailed{TaskFailed: &workerv1.TaskFailed{
			TaskId: a.GetTaskId(), Message: msg, Retryable: retryable}}}
	}
	defer func() {
		if r := recover(); r != nil {
			out = fail(fmt.Sprintf("handler of %s panicked: %v\n%s", a.GetMethod(), r, debug.Stack()), false)
		}
	}()
	ctx, span := w.tracer.Start(taskTraceContext(ctx, a), "chorus worker "+a.GetMethod(),
		trace.WithAttributes(attribute.String("chorus.task_id", a.GetTaskId()), attribute.String("chorus.session_id", a.GetSessionId()),
			attribute.Int("chorus.attempt", int(a.GetAttempt()))))
	defer func() {
		if f := out.GetTaskFailed(); f != nil {
			span.SetStatus(codes.Error, f.GetMessage())
		}
		span.End()
	}()
	h, ok := w.handlers[a.GetMethod()]
	if !ok {
		return fail(fmt.Sprintf("this worker does not serve method %q", a.GetMethod()), false)
	}
	t, err := w.task(a)
	if err != nil {
		return fail(err.Error(), true)
	}
	outputs, err := h(ctx, t)
	if ctx.Err() != nil {
		return fail("cancelled: "+context.Cause(ctx).Error(), true)
	}
	if err != nil {
		return fail(err.Error(), IsRetryable(err))
	}
	done := &workerv1.TaskCompleted{TaskId: a.GetTaskId(), Outputs: make([]*workerv1.Output, len(outputs))}
	for i, o := range outputs {
		d := &workerv1.Data{Source: &workerv1.Data_Path{Path: o.Path}}
		if o.Path == "" {
			if d, err = w.outData(t, o.Data); err != nil {
				return fail(err.Error(), true)
			}
		}
		done.Outputs[i] = &workerv1.Output{ResultId: o.ResultID, Data: d}
	}
	return &workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_TaskCompleted{TaskCompleted: done}}
}

func (w *Worker) task(a *workerv1.AssignTask) (*Task, error) {
	t := &Task{SessionID: a.GetSessionId(), TaskID: a.GetTaskId(), Method: a.GetMethod(),
		ExpectedOutputIDs: a.GetExpectedOutputIds(), Options: a.GetOptions(), Attempt: a.GetAttempt(),
		Partition: a.GetPartition(), MaxDuration: a.GetMaxDuration().AsDuration(),
		TraceParent: a.GetTraceparent(), TraceState: a.GetTracestate(), OutputDir: a.GetOutputDir(), w: w}
	switch p := a.GetPayload().GetSource().(type) {
	case *workerv1.Data_Inline:
		t.Payload = p.Inline
	case *workerv1.Data_Path:
		b, err := os.ReadFile(filepath.Clean(p.Path))
		if err != nil {
			return nil, fmt.Errorf("read the task's payload from %s: %w", p.Path, err)
		}
		t.Payload = b
	}
	t.Inputs = make([]Input, len(a.GetInputs()))
	for i, in := range a.GetInputs() {
		t.Inputs[i] = Input{ResultID: in.GetResultId(), Data: in.GetData().GetInline(), Path: in.GetData().GetPath()}
	}
	return t, nil
}
