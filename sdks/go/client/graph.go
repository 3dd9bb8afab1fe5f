package client

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// Graph is a set of tasks linked by data, built before submission. Outputs get client-chosen ids, so
// a task can depend on the output of another task of the same graph; the whole graph is submitted in
// one atomic batch when it fits (MaxBatch tasks), else in dependency order in several batches.
type Graph struct {
	tasks  []*TaskHandle
	inputs []graphInput
}

type graphInput struct {
	id   string
	data []byte
}

// TaskHandle is a task of a graph. ID is set once the graph is submitted.
type TaskHandle struct {
	spec *chorusv1.TaskSpec
	ID   string
}

// TaskOption sets something on a task of a graph.
type TaskOption func(*chorusv1.TaskSpec)

// NewGraph returns an empty graph.
func NewGraph() *Graph { return &Graph{} }

// NewID returns a new random id suitable for a result or request id: prefix and 80 random bits in
// 16 lowercase base32 characters. A session would need about a trillion of them before two are
// likely to be equal, and the store refuses an output or result id that is taken; longer ids cost
// Valkey memory (an output id is kept three times per task).
func NewID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return prefix + idEncoding.EncodeToString(b[:])
}

var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// Input adds data the graph's tasks can depend on, and returns its result id. It is uploaded when the
// graph is submitted.
func (g *Graph) Input(data []byte) string {
	id := NewID("in-")
	g.inputs = append(g.inputs, graphInput{id: id, data: data})
	return id
}

// Task adds a task calling method with payload. Unless Outputs or NumOutputs says otherwise, the task
// has one expected output with a new id (see TaskHandle.Output).
func (g *Graph) Task(method string, payload []byte, opts ...TaskOption) *TaskHandle {
	spec := &chorusv1.TaskSpec{Method: method, Payload: payload}
	for _, o := range opts {
		o(spec)
	}
	if spec.ExpectedOutputIds == nil {
		spec.ExpectedOutputIds = []string{NewID("out-")}
	}
	h := &TaskHandle{spec: spec}
	g.tasks = append(g.tasks, h)
	return h
}

// Len returns the number of tasks in the graph.
func (g *Graph) Len() int { return len(g.tasks) }

// Output returns the task's first expected output id.
func (h *TaskHandle) Output() string {
	if len(h.spec.ExpectedOutputIds) == 0 {
		return ""
	}
	return h.spec.ExpectedOutputIds[0]
}

// Outputs returns the task's expected output ids.
func (h *TaskHandle) Outputs() []string { return h.spec.ExpectedOutputIds }

// DependsOn makes the task read these results (outputs of other tasks or inputs).
func DependsOn(resultIDs ...string) TaskOption {
	return func(s *chorusv1.TaskSpec) { s.DataDependencies = append(s.DataDependencies, resultIDs...) }
}

// Outputs sets the task's expected output ids (none: pass no ids).
func Outputs(resultIDs ...string) TaskOption {
	return func(s *chorusv1.TaskSpec) { s.ExpectedOutputIds = append([]string{}, resultIDs...) }
}

// NumOutputs gives the task n expected outputs with new ids.
func NumOutputs(n int) TaskOption {
	return func(s *chorusv1.TaskSpec) {
		s.ExpectedOutputIds = make([]string, n)
		for i := range s.ExpectedOutputIds {
			s.ExpectedOutputIds[i] = NewID("out-")
		}
	}
}

func opts(s *chorusv1.TaskSpec) *chorusv1.TaskOptions {
	if s.Options == nil {
		s.Options = &chorusv1.TaskOptions{}
	}
	return s.Options
}

// Partition runs the task in a partition other than the session's default.
func Partition(p string) TaskOption { return func(s *chorusv1.TaskSpec) { opts(s).Partition = p } }

// Priority sets the task's priority in its session (0-9).
func Priority(p int32) TaskOption { return func(s *chorusv1.TaskSpec) { opts(s).Priority = &p } }

// MaxRetries sets how many times a failed attempt is retried.
func MaxRetries(n int32) TaskOption { return func(s *chorusv1.TaskSpec) { opts(s).MaxRetries = &n } }

// MaxDuration sets the longest an attempt may run.
func MaxDuration(d time.Duration) TaskOption {
	return func(s *chorusv1.TaskSpec) { opts(s).MaxDuration = durationpb.New(d) }
}

// Option sets a free-form option handed to the worker.
func Option(key, value string) TaskOption {
	return func(s *chorusv1.TaskSpec) {
		o := opts(s)
		if o.Options == nil {
			o.Options = map[string]string{}
		}
		o.Options[key] = value
	}
}

// MaxBatch is the most tasks the client sends in one SubmitTasks call.
const MaxBatch = 5000

// maxBatchBytes keeps one SubmitTasks request well under gRPC's default 4 MiB message limit.
const maxBatchBytes = 2 << 20

// Submit uploads the graph's inputs and large payloads, then submits its tasks and sets each handle's
// ID. Graphs of up to MaxBatch tasks (and 2 MiB of payloads) are one atomic batch; larger ones are
// split in the order the tasks were added, so a task must be added after the tasks it depends on.
// Each batch carries a request id, so a batch retried after a lost answer is stored once.
// The call is traced as one Producer span ("chorus submit"): every task of the graph continues that
// trace in the gateway, the agent and the worker.
func (s *Session) Submit(ctx context.Context, g *Graph) (_ []*chorusv1.SubmittedTask, err error) {
	if len(g.tasks) == 0 {
		return nil, fmt.Errorf("chorus: submit: the graph has no task")
	}
	ctx, span := s.c.tracer.Start(ctx, "chorus submit", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("chorus.session_id", s.ID), attribute.Int("chorus.tasks", len(g.tasks))))
	defer func() {
		if err != nil {
			span.SetStatus(otelcodes.Error, err.Error())
		}
		span.End()
	}()
	for _, in := range g.inputs {
		if err := s.PutResult(ctx, in.id, in.data); err != nil {
			return nil, err
		}
	}
	for _, h := range g.tasks {
		if len(h.spec.Payload) > s.c.inlineLimit {
			id := NewID("payload-")
			if err := s.PutResult(ctx, id, h.spec.Payload); err != nil {
				return nil, err
			}
			h.spec.Payload, h.spec.PayloadId = nil, id
		}
	}
	var out []*chorusv1.SubmittedTask
	for start := 0; start < len(g.tasks); {
		end, size := start, 0
		for end < len(g.tasks) && end-start < MaxBatch && (end == start || size+len(g.tasks[end].spec.Payload) <= maxBatchBytes) {
			size += len(g.tasks[end].spec.Payload) + 64
			end++
		}
		specs := make([]*chorusv1.TaskSpec, 0, end-start)
		for _, h := range g.tasks[start:end] {
			specs = append(specs, h.spec)
		}
		resp, err := s.submitBatch(ctx, specs)
		if err != nil {
			return out, err
		}
		for i, t := range resp {
			g.tasks[start+i].ID = t.GetTaskId()
		}
		out = append(out, resp...)
		start = end
	}
	return out, nil
}

// submitBatch sends one batch, retrying once with the same request id when the gateway was unavailable.
func (s *Session) submitBatch(ctx context.Context, specs []*chorusv1.TaskSpec) ([]*chorusv1.SubmittedTask, error) {
	req := &chorusv1.SubmitTasksRequest{SessionId: s.ID, Tasks: specs, RequestId: NewID("req-")}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var resp *chorusv1.SubmitTasksResponse
		resp, err = s.c.tasks.SubmitTasks(ctx, req)
		if err == nil {
			return resp.GetTasks(), nil
		}
		if status.Code(err) != codes.Unavailable {
			break
		}
		select {
		case <-ctx.Done():
			return nil, wrap("submit tasks", ctx.Err())
		case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
		}
	}
	return nil, wrap("submit tasks", err)
}
