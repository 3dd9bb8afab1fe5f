package worker

import (
	"context"
	"fmt"
	"os"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	workerv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/worker/v1"
)

// Task is one assigned attempt of a task.
type Task struct {
	SessionID string
	TaskID    string
	Method    string
	// Payload is the task's payload (read from its file when the agent sent a path).
	Payload []byte
	// Inputs are the task's data dependencies, in the order submitted.
	Inputs []Input
	// ExpectedOutputIDs are the results the task must complete or hand to a subtask.
	ExpectedOutputIDs []string
	// Options are the task's free-form options.
	Options map[string]string
	// Attempt is 1 for the first attempt, 2 for the first retry, ...
	Attempt int32
	// Partition runs the task.
	Partition string
	// MaxDuration is the longest the attempt may run (0 = no limit).
	MaxDuration time.Duration
	// TraceParent and TraceState are the task's W3C trace context.
	TraceParent string
	TraceState  string
	// OutputDir is an empty folder for output files of this task.
	OutputDir string

	w *Worker
}

// Input is one data dependency of a task: its bytes inline, or the path of a file holding them.
type Input struct {
	ResultID string
	Data     []byte // set for inline data
	Path     string // set for data in a file (large data)
}

// Bytes returns the input's data, reading its file when it travelled as a path.
func (in Input) Bytes() ([]byte, error) {
	if in.Path == "" {
		return in.Data, nil
	}
	b, err := os.ReadFile(in.Path)
	if err != nil {
		return nil, fmt.Errorf("read input %s from %s: %w", in.ResultID, in.Path, err)
	}
	return b, nil
}

// Output is the data of one expected output: bytes, or the path of a file the handler wrote
// (under Task.OutputDir). Large byte outputs are written to a file by the SDK.
type Output struct {
	ResultID string
	Data     []byte
	Path     string
}

// Subtask is a task submitted by a running task into its session.
type Subtask struct {
	Method  string
	Payload []byte
	// DataDependencies are results of the session or results the parent created in this attempt.
	DataDependencies []string
	// ExpectedOutputIDs are results it must complete; one of the parent's own expected outputs hands
	// it to the subtask (the parent then must not return it).
	ExpectedOutputIDs []string
	// Options left nil take the parent's.
	Options *SubtaskOptions
}

// SubtaskOptions are a subtask's options; unset fields take the parent's.
type SubtaskOptions struct {
	Partition   string
	Priority    *int32
	MaxRetries  *int32
	MaxDuration time.Duration
	Options     map[string]string
}

// Progress reports how far the task is (fraction from 0 to 1).
func (t *Task) Progress(fraction float64, message string) error {
	return t.w.send(&workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_TaskProgress{
		TaskProgress: &workerv1.TaskProgress{TaskId: t.TaskID, Fraction: fraction, Message: message}}})
}

// NewResults creates n results without data in the task's session (to be outputs of subtasks) and
// returns their ids. They are stored when the task completes.
func (t *Task) NewResults(ctx context.Context, n int) ([]string, error) {
	results := make([]*workerv1.NewResult, n)
	for i := range results {
		results[i] = &workerv1.NewResult{}
	}
	return t.createResults(ctx, results)
}

// CreateResult creates a completed result holding data in the task's session and returns its id.
// It is stored when the task completes.
func (t *Task) CreateResult(ctx context.Context, data []byte) (string, error) {
	d, err := t.w.outData(t, data)
	if err != nil {
		return "", err
	}
	ids, err := t.createResults(ctx, []*workerv1.NewResult{{Data: d}})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

func (t *Task) createResults(ctx context.Context, results []*workerv1.NewResult) ([]string, error) {
	r, err := askAgent(ctx, t, "create results", (*workerv1.ConnectResponse).GetCreateResultsReply,
		func(callID string) *workerv1.ConnectRequest {
			return &workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_CreateResults{
				CreateResults: &workerv1.CreateResults{CallId: callID, TaskId: t.TaskID, Results: results}}}
		})
	return r.GetResultIds(), err
}

// Submit submits subtasks into the task's session and returns their ids. They are stored when the
// task completes, atomically with its outputs.
func (t *Task) Submit(ctx context.Context, subtasks ...Subtask) ([]string, error) {
	msgs := make([]*workerv1.Subtask, len(subtasks))
	for i, s := range subtasks {
		d, err := t.w.outData(t, s.Payload)
		if err != nil {
			return nil, err
		}
		m := &workerv1.Subtask{Method: s.Method, Payload: d, DataDependencies: s.DataDependencies,
			ExpectedOutputIds: s.ExpectedOutputIDs}
		if o := s.Options; o != nil {
			m.Options = &workerv1.SubtaskOptions{Partition: o.Partition, Priority: o.Priority,
				MaxRetries: o.MaxRetries, Options: o.Options}
			if o.MaxDuration > 0 {
				m.Options.MaxDuration = durationpb.New(o.MaxDuration)
			}
		}
		msgs[i] = m
	}
	r, err := askAgent(ctx, t, "submit subtasks", (*workerv1.ConnectResponse).GetSubmitTasksReply,
		func(callID string) *workerv1.ConnectRequest {
			return &workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_SubmitTasks{
				SubmitTasks: &workerv1.SubmitTasks{CallId: callID, TaskId: t.TaskID, Tasks: msgs}}}
		})
	return r.GetTaskIds(), err
}

// askAgent sends the agent the request built around a call id and returns the reply that get takes
// from its answer, or an error when the call fails or the agent refuses (what names the call).
func askAgent[R interface{ GetError() string }](ctx context.Context, t *Task, what string, get func(*workerv1.ConnectResponse) R,
	request func(callID string) *workerv1.ConnectRequest) (R, error) {
	var none R
	answer, err := t.w.call(ctx, request)
	if err != nil {
		return none, err
	}
	r := get(answer)
	if r.GetError() != "" {
		return none, fmt.Errorf("%s: the agent refused: %s", what, r.GetError())
	}
	return r, nil
}
