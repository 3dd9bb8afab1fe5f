package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/chorus-hpc/chorus/gateway"
	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

const traceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// ownPartition declares a partition only this test uses (so claims see only its tasks).
func ownPartition(p *string) func(*gateway.Config) {
	*p = "own-" + store.NewID()
	return func(c *gateway.Config) { c.DeclaredPartitions = append(c.DeclaredPartitions, *p) }
}

func TestTasksGRPC(t *testing.T) {
	t.Parallel()
	var part string
	e := newEnv(t, ownPartition(&part))
	sid := e.session()
	if _, err := e.results.CreateResults(e.ctx, &chorusv1.CreateResultsRequest{SessionId: sid, Results: []*chorusv1.ResultSpec{{ResultId: "in"}}}); err != nil {
		t.Fatalf("CreateResults: %v", err)
	}
	req := &chorusv1.SubmitTasksRequest{SessionId: sid, RequestId: "req-1", Tasks: []*chorusv1.TaskSpec{
		{Method: "echo", Payload: []byte("a"), DataDependencies: []string{"in"}, ExpectedOutputIds: []string{"out-a"}},
		{Method: "echo", Payload: []byte("b"), ExpectedOutputIds: []string{"out-b"}, Options: &chorusv1.TaskOptions{Partition: part}},
	}}
	ctx := metadata.AppendToOutgoingContext(e.ctx, "traceparent", traceParent)
	resp, err := e.tasks.SubmitTasks(ctx, req)
	if err != nil {
		t.Fatalf("SubmitTasks: %v", err)
	}
	ts := resp.GetTasks()
	if len(ts) != 2 || ts[0].GetStatus() != chorusv1.TaskStatus_TASK_STATUS_PENDING || ts[1].GetStatus() != chorusv1.TaskStatus_TASK_STATUS_QUEUED {
		t.Fatalf("submitted = %v; want PENDING then QUEUED", ts)
	}
	again, err := e.tasks.SubmitTasks(ctx, req)
	if err != nil || again.GetTasks()[0].GetTaskId() != ts[0].GetTaskId() || again.GetTasks()[1].GetTaskId() != ts[1].GetTaskId() {
		t.Fatalf("repeated request_id: %v, %v; want the first answer %v", again, err, ts)
	}

	// The trace context of the call is stored with the task.
	claimed, err := e.st.Claim(e.ctx, store.ClaimRequest{Partition: part, AgentID: "agent-1", Max: 10, LeaseTTL: time.Minute})
	if err != nil || len(claimed) != 1 || claimed[0].Lease.TaskID != ts[1].GetTaskId() {
		t.Fatalf("Claim = %v, %v; want task %s", claimed, err, ts[1].GetTaskId())
	}
	if claimed[0].TraceParent != traceParent {
		t.Fatalf("stored traceparent = %q, want %q", claimed[0].TraceParent, traceParent)
	}

	got, err := e.tasks.GetTask(e.ctx, &chorusv1.GetTaskRequest{SessionId: sid, TaskId: ts[0].GetTaskId()})
	if err != nil || got.GetTask().GetMethod() != "echo" || got.GetTask().GetStatus() != chorusv1.TaskStatus_TASK_STATUS_PENDING ||
		len(got.GetTask().GetDataDependencies()) != 1 {
		t.Fatalf("GetTask = %v, %v", got, err)
	}
	list, err := e.tasks.ListTasks(e.ctx, &chorusv1.ListTasksRequest{SessionId: sid})
	if err != nil || len(list.GetTasks()) != 2 {
		t.Fatalf("ListTasks = %v, %v; want 2 tasks", list, err)
	}
	pending, err := e.tasks.ListTasks(e.ctx, &chorusv1.ListTasksRequest{SessionId: sid, Status: chorusv1.TaskStatus_TASK_STATUS_PENDING})
	if err != nil || len(pending.GetTasks()) != 1 || pending.GetTasks()[0].GetTaskId() != ts[0].GetTaskId() {
		t.Fatalf("ListTasks(PENDING) = %v, %v", pending, err)
	}
	cancelled, err := e.tasks.CancelTasks(e.ctx, &chorusv1.CancelTasksRequest{SessionId: sid, TaskIds: []string{ts[0].GetTaskId()}})
	if err != nil || cancelled.GetCancelledCount() != 1 {
		t.Fatalf("CancelTasks = %v, %v; want 1", cancelled, err)
	}
	cancelled, err = e.tasks.CancelTasks(e.ctx, &chorusv1.CancelTasksRequest{SessionId: sid, TaskIds: []string{ts[0].GetTaskId()}})
	if err != nil || cancelled.GetCancelledCount() != 0 {
		t.Fatalf("CancelTasks again = %v, %v; want 0", cancelled, err)
	}

	// Errors.
	_, err = e.tasks.GetTask(e.ctx, &chorusv1.GetTaskRequest{SessionId: sid, TaskId: "tnope"})
	wantCode(t, err, codes.NotFound, "tnope")
	_, err = e.tasks.GetTask(e.ctx, &chorusv1.GetTaskRequest{SessionId: sid, TaskId: "bad id"})
	wantCode(t, err, codes.InvalidArgument, "task_id")
	_, err = e.tasks.ListTasks(e.ctx, &chorusv1.ListTasksRequest{SessionId: "snope"})
	wantCode(t, err, codes.NotFound, "snope")
	_, err = e.tasks.CancelTasks(e.ctx, &chorusv1.CancelTasksRequest{SessionId: sid, TaskIds: []string{"a", "a"}})
	wantCode(t, err, codes.InvalidArgument, "task_ids")

	submit := func(specs ...*chorusv1.TaskSpec) error {
		_, err := e.tasks.SubmitTasks(e.ctx, &chorusv1.SubmitTasksRequest{SessionId: sid, Tasks: specs})
		return err
	}
	err = submit(&chorusv1.TaskSpec{Method: "echo", Options: &chorusv1.TaskOptions{Partition: "nowhere"}})
	wantCode(t, err, codes.FailedPrecondition, `"nowhere"`, "agent", "declare")
	err = submit(&chorusv1.TaskSpec{Method: "echo", ExpectedOutputIds: []string{"fine"}},
		&chorusv1.TaskSpec{Method: "echo", DataDependencies: []string{"ghost"}})
	wantCode(t, err, codes.FailedPrecondition, "ghost")
	if r, err := e.results.GetResult(e.ctx, &chorusv1.GetResultRequest{SessionId: sid, ResultId: "fine"}); err == nil {
		t.Fatalf("a rejected batch stored part of itself: result %v exists", r)
	}
	many := make([]*chorusv1.TaskSpec, 51)
	for i := range many {
		many[i] = &chorusv1.TaskSpec{Method: "echo"}
	}
	wantCode(t, submit(many...), codes.ResourceExhausted, "MaxBatch", "50")
	err = submit(&chorusv1.TaskSpec{Method: "echo", Payload: make([]byte, 1025)})
	wantCode(t, err, codes.ResourceExhausted, "MaxPayload", "1024", "payload_id")
	err = submit(&chorusv1.TaskSpec{Method: "", Payload: []byte("x"), PayloadId: "r1", Options: &chorusv1.TaskOptions{Priority: ptr[int32](10)}})
	st := wantCode(t, err, codes.InvalidArgument, "tasks[0].method", "tasks[0].options.priority", "payload_id")
	wantFields(t, st.Details(), "tasks[0].method", "tasks[0].options.priority", "tasks[0]")
	_, err = e.tasks.SubmitTasks(e.ctx, &chorusv1.SubmitTasksRequest{SessionId: "snope", Tasks: []*chorusv1.TaskSpec{{Method: "echo"}}})
	wantCode(t, err, codes.NotFound, "snope")

	// A session without a default partition, and a task without one.
	bare, err := e.sessions.CreateSession(e.ctx, &chorusv1.CreateSessionRequest{})
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	_, err = e.tasks.SubmitTasks(e.ctx, &chorusv1.SubmitTasksRequest{SessionId: bare.GetSession().GetSessionId(), Tasks: []*chorusv1.TaskSpec{{Method: "echo"}}})
	wantCode(t, err, codes.FailedPrecondition, "partition")

	// A closed session takes no new tasks.
	if _, err := e.sessions.CloseSession(e.ctx, &chorusv1.CloseSessionRequest{SessionId: sid}); err != nil {
		t.Fatalf("CloseSession: %v", err)
	}
	wantCode(t, submit(&chorusv1.TaskSpec{Method: "echo"}), codes.FailedPrecondition)
}

func TestQueueDepthLimit(t *testing.T) {
	t.Parallel()
	var part string
	own := ownPartition(&part)
	e := newEnv(t, func(c *gateway.Config) { own(c); c.MaxQueueDepth = 3 })
	sid := e.session()
	specs := []*chorusv1.TaskSpec{{Method: "echo", Options: &chorusv1.TaskOptions{Partition: part}}}
	for i := range 3 {
		if _, err := e.tasks.SubmitTasks(e.ctx, &chorusv1.SubmitTasksRequest{SessionId: sid, Tasks: specs}); err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	_, err := e.tasks.SubmitTasks(e.ctx, &chorusv1.SubmitTasksRequest{SessionId: sid, Tasks: specs})
	wantCode(t, err, codes.ResourceExhausted, part)
	body := fmt.Sprintf(`{"tasks":[{"method":"echo","options":{"partition":%q}}]}`, part)
	e.restErr("POST", "/v1/sessions/"+sid+"/tasks:batchCreate", body, http.StatusTooManyRequests, codes.ResourceExhausted, part)
}

func TestTasksREST(t *testing.T) {
	t.Parallel()
	var part string
	e := newEnv(t, ownPartition(&part))
	sid := e.session()
	path := "/v1/sessions/" + sid + "/tasks"
	req, err := http.NewRequestWithContext(context.Background(), "POST", e.base+path+":batchCreate",
		strings.NewReader(fmt.Sprintf(`{"tasks":[{"method":"sha256","payload":"aGVsbG8=","expectedOutputIds":["o1"],"options":{"partition":%q,"priority":3}}],"requestId":"r-1"}`, part)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("traceparent", traceParent)
	req.Header.Set("X-Request-Id", "my-request-7")
	resp, err := e.httpc.Do(req)
	if err != nil {
		t.Fatalf("POST tasks:batchCreate: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Request-Id") != "my-request-7" {
		t.Fatalf("POST tasks:batchCreate: HTTP %d, X-Request-Id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
	}
	claimed, err := e.st.Claim(e.ctx, store.ClaimRequest{Partition: part, AgentID: "agent-1", Max: 10, LeaseTTL: time.Minute})
	if err != nil || len(claimed) != 1 || claimed[0].TraceParent != traceParent || string(claimed[0].Payload) != "hello" {
		t.Fatalf("Claim = %v, %v; want one task with payload hello and the REST call's traceparent", claimed, err)
	}
	tid := claimed[0].Lease.TaskID

	var got chorusv1.GetTaskResponse
	e.restOK("GET", path+"/"+tid, "", &got)
	if got.GetTask().GetStatus() != chorusv1.TaskStatus_TASK_STATUS_DISPATCHED || got.GetTask().GetOptions().GetPriority() != 3 {
		t.Fatalf("GET task = %v", got.GetTask())
	}
	var list chorusv1.ListTasksResponse
	e.restOK("GET", path+"?status=TASK_STATUS_DISPATCHED&pageSize=10", "", &list)
	if len(list.GetTasks()) != 1 || list.GetTasks()[0].GetTaskId() != tid {
		t.Fatalf("GET tasks = %v", list.GetTasks())
	}
	var cancelled chorusv1.CancelTasksResponse
	e.restOK("POST", path+":cancel", `{"taskIds":["`+tid+`"]}`, &cancelled)
	if cancelled.GetCancelledCount() != 1 {
		t.Fatalf("cancelled %d, want 1", cancelled.GetCancelledCount())
	}

	e.restErr("GET", path+"/tnope", "", http.StatusNotFound, codes.NotFound, "tnope")
	e.restErr("GET", "/v1/sessions/snope/tasks", "", http.StatusNotFound, codes.NotFound, "snope")
	e.restErr("POST", path+":batchCreate", `{"tasks":[{"method":"echo","options":{"partition":"nowhere"}}]}`,
		http.StatusBadRequest, codes.FailedPrecondition, `"nowhere"`)
	e.restErr("POST", path+":batchCreate", `{"tasks":[{"method":"echo","dataDependencies":["ghost"]}]}`,
		http.StatusBadRequest, codes.FailedPrecondition, "ghost")
	e.restErr("POST", path+":batchCreate", `{"tasks":[{"method":"echo","payload":"`+strings.Repeat("QUFB", 400)+`"}]}`,
		http.StatusRequestEntityTooLarge, codes.ResourceExhausted, "MaxPayload")
	e.restErr("POST", path+":batchCreate", `{"tasks":[`+strings.TrimSuffix(strings.Repeat(`{"method":"echo"},`, 51), ",")+`]}`,
		http.StatusRequestEntityTooLarge, codes.ResourceExhausted, "MaxBatch")
	st := e.restErr("POST", path+":batchCreate", `{"tasks":[{"method":"no spaces","dataDependencies":["a","a"]}]}`,
		http.StatusBadRequest, codes.InvalidArgument, "tasks[0].method")
	wantFields(t, st.Details(), "tasks[0].method", "tasks[0].data_dependencies")
	e.restErr("POST", path+":batchCreate", `{"tasks":[]}`, http.StatusBadRequest, codes.InvalidArgument, "tasks")
	e.restOK("POST", "/v1/sessions/"+sid+":close", `{}`, nil)
	e.restErr("POST", path+":batchCreate", `{"tasks":[{"method":"echo"}]}`, http.StatusBadRequest, codes.FailedPrecondition)
}

func ptr[T any](v T) *T { return &v }
