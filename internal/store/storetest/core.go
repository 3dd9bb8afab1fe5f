package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

func testSessions(t *testing.T, s store.Store, _ *clock.Fake) {
	sid := newSession(t, s, 3)
	got, err := s.GetSession(ctx(t), sid)
	if err != nil || got.Status != chorusv1.SessionStatus_SESSION_STATUS_RUNNING || got.Weight != 3 ||
		got.DefaultTaskOptions.GetPartition() != part {
		t.Fatalf("GetSession = %v, %v", got, err)
	}
	_, err = s.GetSession(ctx(t), "snope")
	wantCode(t, err, store.CodeNotFound, "GetSession of a missing session")
	list, _, err := s.ListSessions(ctx(t), store.ListQuery[chorusv1.SessionStatus]{})
	if err != nil || len(list) == 0 || list[0].SessionId != sid {
		t.Fatalf("ListSessions = %v, %v; want %s first", list, err, sid)
	}
	for _, step := range []struct {
		to   chorusv1.SessionStatus
		code store.Code
	}{
		{chorusv1.SessionStatus_SESSION_STATUS_PAUSED, 0},
		{chorusv1.SessionStatus_SESSION_STATUS_PAUSED, 0},
		{chorusv1.SessionStatus_SESSION_STATUS_RUNNING, 0},
		{chorusv1.SessionStatus_SESSION_STATUS_CLOSED, 0},
		{chorusv1.SessionStatus_SESSION_STATUS_RUNNING, store.CodeFailedPrecondition},
		{chorusv1.SessionStatus_SESSION_STATUS_CANCELLED, 0},
	} {
		got, err := s.SetSessionStatus(ctx(t), sid, step.to)
		if step.code != 0 {
			wantCode(t, err, step.code, "forbidden move to "+step.to.String())
			continue
		}
		if err != nil || got.Status != step.to {
			t.Fatalf("SetSessionStatus(%s) = %v, %v", step.to, got, err)
		}
	}
	_, err = s.SubmitTasks(ctx(t), sid, store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "echo"}}})
	wantCode(t, err, store.CodeFailedPrecondition, "submit to a cancelled session")
	p, _, err := s.PurgeSession(ctx(t), sid)
	if err != nil || p.Status != chorusv1.SessionStatus_SESSION_STATUS_PURGED {
		t.Fatalf("PurgeSession = %v, %v", p, err)
	}
}

func testDependencyChain(t *testing.T, s store.Store, _ *clock.Fake) {
	sid := newSession(t, s, 1)
	if _, err := s.CreateResults(ctx(t), sid, []store.ResultSpec{{ResultID: "in", Data: &store.ResultData{Inline: []byte("x")}}, {ResultID: "up"}}); err != nil {
		t.Fatalf("CreateResults: %v", err)
	}
	st := submit(t, s, sid,
		store.TaskSpec{Method: "a", Payload: []byte("pa"), DataDependencies: []string{"in"}, ExpectedOutputIDs: []string{"r1"}},
		store.TaskSpec{Method: "b", DataDependencies: []string{"r1", "up"}, ExpectedOutputIDs: []string{"r2"}})
	if st[0].Status != chorusv1.TaskStatus_TASK_STATUS_QUEUED || st[1].Status != chorusv1.TaskStatus_TASK_STATUS_PENDING {
		t.Fatalf("statuses after submit = %v, %v; want QUEUED, PENDING", st[0].Status, st[1].Status)
	}
	c := claim(t, s, 10)
	if len(c) != 1 || c[0].Lease.TaskID != st[0].TaskId || string(c[0].Payload) != "pa" || c[0].Method != "a" || c[0].Lease.Attempt != 1 {
		t.Fatalf("first claim = %+v; want task a only with its payload", c)
	}
	if err := s.MarkRunning(ctx(t), c[0].Lease); err != nil {
		t.Fatalf("MarkRunning: %v", err)
	}
	complete(t, s, c[0], "one")
	if err := s.Complete(ctx(t), store.Completion{Lease: c[0].Lease}); !store.IsLeaseLost(err) {
		t.Fatalf("second completion: %v, want LeaseLost", err)
	}
	if got := claim(t, s, 10); len(got) != 0 {
		t.Fatalf("b claimed while 'up' is not completed: %+v", got)
	}
	if _, err := s.CompleteResult(ctx(t), sid, "up", store.ResultData{Inline: []byte("u")}); err != nil {
		t.Fatalf("CompleteResult: %v", err)
	}
	_, err := s.CompleteResult(ctx(t), sid, "up", store.ResultData{Inline: []byte("again")})
	wantCode(t, err, store.CodeFailedPrecondition, "second CompleteResult")
	_, err = s.CompleteResult(ctx(t), sid, "r2", store.ResultData{Inline: []byte("x")})
	wantCode(t, err, store.CodeFailedPrecondition, "CompleteResult of a task's output")
	c = claim(t, s, 10)
	if len(c) != 1 || c[0].Lease.TaskID != st[1].TaskId {
		t.Fatalf("second claim = %+v; want task b", c)
	}
	complete(t, s, c[0], "two")
	data, err := s.GetResultData(ctx(t), sid, []string{"r1", "r2", "in"})
	if err != nil || string(data[0].Inline) != "one" || string(data[1].Inline) != "two" || string(data[2].Inline) != "x" {
		t.Fatalf("GetResultData = %+v, %v", data, err)
	}
	sess, _ := s.GetSession(ctx(t), sid)
	if sess.TaskCounts.Completed != 2 || sess.TaskCounts.Queued+sess.TaskCounts.Pending+sess.TaskCounts.Running != 0 {
		t.Fatalf("counts = %v; want 2 completed", sess.TaskCounts)
	}
	tk, err := s.GetTask(ctx(t), sid, st[0].TaskId)
	if err != nil || tk.Status != chorusv1.TaskStatus_TASK_STATUS_COMPLETED || len(tk.Attempts) != 1 || tk.Attempts[0].AgentId != "agent-1" ||
		tk.Options.GetPartition() != part || tk.PayloadSize != 2 || tk.EndTime == nil {
		t.Fatalf("GetTask = %v, %v", tk, err)
	}
	tasks, _, err := s.ListTasks(ctx(t), sid, store.ListQuery[chorusv1.TaskStatus]{PageSize: 1})
	if err != nil || len(tasks) != 1 || tasks[0].TaskId != st[0].TaskId {
		t.Fatalf("ListTasks page 1 = %v, %v", tasks, err)
	}
	if tasks[0].EndTime == nil || tasks[0].CreateTime == nil || tasks[0].EndTime.AsTime().Before(tasks[0].CreateTime.AsTime()) {
		t.Fatalf("listed completed task lacks its create/end times: %v", tasks[0])
	}
	rs, _, err := s.ListResults(ctx(t), sid, store.ListQuery[chorusv1.ResultStatus]{Status: chorusv1.ResultStatus_RESULT_STATUS_COMPLETED})
	if err != nil || len(rs) != 4 {
		t.Fatalf("ListResults(completed) = %d results, %v; want 4", len(rs), err)
	}
}

func testRetryThenFail(t *testing.T, s store.Store, clk *clock.Fake) {
	sid := newSession(t, s, 1)
	st := submit(t, s, sid,
		store.TaskSpec{Method: "f", ExpectedOutputIDs: []string{"o"}, Options: &chorusv1.TaskOptions{MaxRetries: proto.Int32(1)}},
		store.TaskSpec{Method: "g", DataDependencies: []string{"o"}, ExpectedOutputIDs: []string{"o2"}},
		store.TaskSpec{Method: "h", DataDependencies: []string{"o2"}})
	c := claim(t, s, 10)
	if len(c) != 1 {
		t.Fatalf("claimed %d, want 1", len(c))
	}
	retried, err := s.Fail(ctx(t), store.Failure{Lease: c[0].Lease, Error: &chorusv1.TaskError{Kind: chorusv1.ErrorKind_ERROR_KIND_WORKER_ERROR, Message: "boom", Retryable: true}})
	if err != nil || !retried {
		t.Fatalf("Fail = %v, %v; want retried", retried, err)
	}
	if got := claim(t, s, 10); len(got) != 0 {
		t.Fatalf("claimed a task before its backoff ended: %+v", got)
	}
	clk.Advance(time.Hour)
	c2 := claim(t, s, 10)
	if len(c2) != 1 || c2[0].Lease.Attempt != 2 {
		t.Fatalf("claim after backoff = %+v; want attempt 2", c2)
	}
	if _, err := s.Fail(ctx(t), store.Failure{Lease: c[0].Lease, Error: &chorusv1.TaskError{Message: "stale"}}); !store.IsLeaseLost(err) {
		t.Fatalf("Fail with the old lease: %v, want LeaseLost", err)
	}
	retried, err = s.Fail(ctx(t), store.Failure{Lease: c2[0].Lease, Error: &chorusv1.TaskError{Kind: chorusv1.ErrorKind_ERROR_KIND_WORKER_ERROR, Message: "boom2", Retryable: true}})
	if err != nil || retried {
		t.Fatalf("second Fail = %v, %v; want not retried (no retries left)", retried, err)
	}
	for i, want := range []chorusv1.TaskStatus{chorusv1.TaskStatus_TASK_STATUS_FAILED, chorusv1.TaskStatus_TASK_STATUS_FAILED, chorusv1.TaskStatus_TASK_STATUS_FAILED} {
		if got := taskStatus(t, s, sid, st[i].TaskId); got != want {
			t.Fatalf("task %d status %v, want %v", i, got, want)
		}
	}
	tk, _ := s.GetTask(ctx(t), sid, st[2].TaskId)
	if tk.Error.GetKind() != chorusv1.ErrorKind_ERROR_KIND_DEPENDENCY_FAILED {
		t.Fatalf("dependent's error = %v; want DEPENDENCY_FAILED", tk.Error)
	}
	tk, _ = s.GetTask(ctx(t), sid, st[0].TaskId)
	if len(tk.Attempts) != 2 || tk.Attempts[0].Error.GetMessage() != "boom" {
		t.Fatalf("attempts = %v; want 2 with the first error", tk.Attempts)
	}
	r, _ := s.GetResult(ctx(t), sid, "o2")
	if r.Status != chorusv1.ResultStatus_RESULT_STATUS_ABORTED || r.AbortReason == "" {
		t.Fatalf("dependent's output = %v; want ABORTED with a reason", r)
	}
}

func testLeaseExpiry(t *testing.T, s store.Store, clk *clock.Fake) {
	sid := newSession(t, s, 1)
	st := submit(t, s, sid, store.TaskSpec{Method: "x", ExpectedOutputIDs: []string{"o"}, Options: &chorusv1.TaskOptions{MaxRetries: proto.Int32(1)}})
	c, err := s.Claim(ctx(t), store.ClaimRequest{Partition: part, AgentID: "a", Max: 1, LeaseTTL: time.Second})
	if err != nil || len(c) != 1 {
		t.Fatalf("Claim = %v, %v", c, err)
	}
	if n, err := s.RequeueExpired(ctx(t), part, 100); err != nil || n != 0 {
		t.Fatalf("RequeueExpired before expiry = %d, %v; want 0", n, err)
	}
	clk.Advance(2 * time.Second)
	if n, err := s.RequeueExpired(ctx(t), part, 100); err != nil || n != 1 {
		t.Fatalf("RequeueExpired = %d, %v; want 1", n, err)
	}
	if n, _ := s.RequeueExpired(ctx(t), part, 100); n != 0 {
		t.Fatalf("second RequeueExpired = %d; want 0 (idempotent)", n)
	}
	if err := s.Complete(ctx(t), store.Completion{Lease: c[0].Lease}); !store.IsLeaseLost(err) {
		t.Fatalf("Complete with an expired lease: %v, want LeaseLost", err)
	}
	clk.Advance(time.Hour)
	c2 := claim(t, s, 1)
	if len(c2) != 1 || c2[0].Lease.Attempt != 2 {
		t.Fatalf("claim after expiry = %+v; want attempt 2", c2)
	}
	clk.Advance(time.Minute)
	if n, _ := s.RequeueExpired(ctx(t), part, 100); n != 1 {
		t.Fatalf("RequeueExpired of the last attempt = %d; want 1", n)
	}
	tk, _ := s.GetTask(ctx(t), sid, st[0].TaskId)
	if tk.Status != chorusv1.TaskStatus_TASK_STATUS_FAILED || tk.Error.GetKind() != chorusv1.ErrorKind_ERROR_KIND_LEASE_EXPIRED {
		t.Fatalf("task after its last lease expired = %v / %v; want FAILED LEASE_EXPIRED", tk.Status, tk.Error)
	}
}

func testAtomicBatch(t *testing.T, s store.Store, _ *clock.Fake) {
	sid := newSession(t, s, 1)
	for _, tc := range []struct {
		name  string
		specs []store.TaskSpec
		code  store.Code
	}{
		{"missing dependency", []store.TaskSpec{{Method: "a", ExpectedOutputIDs: []string{"x"}}, {Method: "b", DataDependencies: []string{"nope"}}}, store.CodeFailedPrecondition},
		{"output twice", []store.TaskSpec{{Method: "a", ExpectedOutputIDs: []string{"x"}}, {Method: "b", ExpectedOutputIDs: []string{"x"}}}, store.CodeFailedPrecondition},
		{"no method", []store.TaskSpec{{Method: "a"}, {}}, store.CodeInvalidArgument},
	} {
		_, err := s.SubmitTasks(ctx(t), sid, store.SubmitBatch{Tasks: tc.specs})
		wantCode(t, err, tc.code, tc.name)
	}
	nopart := newSessionNoPartition(t, s)
	_, err := s.SubmitTasks(ctx(t), nopart, store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "a"}}})
	wantCode(t, err, store.CodeFailedPrecondition, "no partition")
	submit(t, s, sid, store.TaskSpec{Method: "owner", ExpectedOutputIDs: []string{"owned"}})
	_, err = s.SubmitTasks(ctx(t), sid, store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "a"}, {Method: "b", ExpectedOutputIDs: []string{"owned"}}}})
	wantCode(t, err, store.CodeFailedPrecondition, "output owned by an unfinished task")
	_, err = s.SubmitTasks(ctx(t), sid, store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "a"}, {Method: "b"}}, MaxQueueDepth: 2})
	wantCode(t, err, store.CodeResourceExhausted, "queue depth")
	tasks, _, _ := s.ListTasks(ctx(t), sid, store.ListQuery[chorusv1.TaskStatus]{})
	if len(tasks) != 1 {
		t.Fatalf("%d tasks stored after rejected batches; want only the 1 accepted", len(tasks))
	}
	if _, err := s.GetResult(ctx(t), sid, "x"); !store.IsNotFound(err) {
		t.Fatalf("output of a rejected batch exists: %v", err)
	}
	sess, _ := s.GetSession(ctx(t), sid)
	if sess.TaskCounts.Queued != 1 {
		t.Fatalf("counts after rejections = %v; want 1 queued", sess.TaskCounts)
	}
}

func newSessionNoPartition(t *testing.T, s store.Store) string {
	sess, err := s.CreateSession(ctx(t), store.SessionSpec{})
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return sess.SessionId
}

func testIdempotent(t *testing.T, s store.Store, _ *clock.Fake) {
	sid := newSession(t, s, 1)
	b := store.SubmitBatch{RequestID: "req-1", Tasks: []store.TaskSpec{{Method: "a", ExpectedOutputIDs: []string{"o"}}, {Method: "b"},
		{Method: "c", DataDependencies: []string{"o"}}}}
	first, err := s.SubmitTasks(ctx(t), sid, b)
	if err != nil {
		t.Fatalf("SubmitTasks: %v", err)
	}
	again, err := s.SubmitTasks(ctx(t), sid, b)
	if err != nil || len(again) != 3 || len(again[0].ExpectedOutputIds) != 1 {
		t.Fatalf("repeated SubmitTasks = %v, %v; want the first answer %v", again, err, first)
	}
	for i := range first {
		if again[i].TaskId != first[i].TaskId || again[i].Status != first[i].Status {
			t.Fatalf("repeated SubmitTasks answered task %d as %s %v; the first answer was %s %v", i, again[i].TaskId, again[i].Status, first[i].TaskId, first[i].Status)
		}
	}
	if first[2].Status != chorusv1.TaskStatus_TASK_STATUS_PENDING {
		t.Fatalf("the task waiting on o is %v, want PENDING", first[2].Status)
	}
	sess, _ := s.GetSession(ctx(t), sid)
	if sess.TaskCounts.Queued != 2 || sess.TaskCounts.Pending != 1 {
		t.Fatalf("counts %v after a repeated request; want 2 queued and 1 pending", sess.TaskCounts)
	}
}

func testSubtasks(t *testing.T, s store.Store, _ *clock.Fake) {
	sid, st, parent := claimedProducer(t, s, "fanout", "final", "after")
	subIDs := []string{store.NewTaskID(), store.NewTaskID()}
	err := s.Complete(ctx(t), store.Completion{Lease: parent.Lease,
		NewResults: []store.ResultSpec{{ResultID: "part", Data: &store.ResultData{Inline: []byte("p")}}},
		Subtasks: []store.TaskSpec{
			{Method: "sha", DataDependencies: []string{"part"}, ExpectedOutputIDs: []string{"h"}},
			{Method: "reduce", DataDependencies: []string{"h"}, ExpectedOutputIDs: []string{"final"}},
		}, SubtaskIDs: subIDs})
	if err != nil {
		t.Fatalf("Complete with subtasks: %v", err)
	}
	if got := taskStatus(t, s, sid, st[0].TaskId); got != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
		t.Fatalf("parent = %v, want COMPLETED", got)
	}
	r, _ := s.GetResult(ctx(t), sid, "final")
	if r.Status != chorusv1.ResultStatus_RESULT_STATUS_CREATED || r.OwnerTaskId != subIDs[1] {
		t.Fatalf("handed-off output = %v; want CREATED owned by the reducer", r)
	}
	order := []string{}
	for range 3 {
		c := claim(t, s, 1)
		if len(c) != 1 {
			t.Fatalf("expected one more ready task after %v", order)
		}
		order = append(order, c[0].Method)
		complete(t, s, c[0], "v")
	}
	if order[0] != "sha" || order[1] != "reduce" || order[2] != "after" {
		t.Fatalf("run order %v; want sha, reduce, after", order)
	}
	tk, _ := s.GetTask(ctx(t), sid, subIDs[0])
	if tk.ParentTaskId != st[0].TaskId {
		t.Fatalf("subtask parent = %q", tk.ParentTaskId)
	}
}

func testCancel(t *testing.T, s store.Store, _ *clock.Fake) {
	sid, st, c := claimedProducer(t, s, "a", "o", "b")
	n, err := s.CancelTasks(ctx(t), sid, []string{st[0].TaskId})
	if err != nil || n != 1 {
		t.Fatalf("CancelTasks = %d, %v; want 1 (the named task; its dependent is cancelled but not counted)", n, err)
	}
	lost, err := s.RenewLeases(ctx(t), "agent-1", []store.Lease{c.Lease}, time.Minute)
	if err != nil || len(lost) != 1 || lost[0].Reason != "cancelled" {
		t.Fatalf("RenewLeases after cancel = %v, %v; want the lease lost as cancelled", lost, err)
	}
	if n, _ := s.CancelTasks(ctx(t), sid, []string{st[0].TaskId}); n != 0 {
		t.Fatalf("cancelling again cancelled %d", n)
	}
	// A dependent of a cancelled task is CANCELLED (not FAILED), its error names the aborted output.
	dep, err := s.GetTask(ctx(t), sid, st[1].TaskId)
	if err != nil || dep.Status != chorusv1.TaskStatus_TASK_STATUS_CANCELLED ||
		dep.Error.GetKind() != chorusv1.ErrorKind_ERROR_KIND_CANCELLED || !strings.Contains(dep.Error.GetMessage(), "dependency o was aborted") {
		t.Fatalf("dependent = %v, %v; want CANCELLED with a CANCELLED error naming output o", dep, err)
	}
	sid2 := newSession(t, s, 1)
	submit(t, s, sid2, store.TaskSpec{Method: "a"}, store.TaskSpec{Method: "b"})
	if _, err := s.SetSessionStatus(ctx(t), sid2, chorusv1.SessionStatus_SESSION_STATUS_CANCELLED); err != nil {
		t.Fatalf("cancel session: %v", err)
	}
	sess, _ := s.GetSession(ctx(t), sid2)
	if sess.TaskCounts.Cancelled != 2 || sess.TaskCounts.Queued != 0 {
		t.Fatalf("counts after session cancel = %v", sess.TaskCounts)
	}
	if got := claim(t, s, 10); len(got) != 0 {
		t.Fatalf("claimed %d tasks of a cancelled session", len(got))
	}
	// Tasks cancelled while queued are never claimed; the others come highest priority first, then
	// oldest first, and a session whose queued tasks were all cancelled yields nothing.
	sid3 := newSession(t, s, 1)
	prio := func(p int32) *chorusv1.TaskOptions { return &chorusv1.TaskOptions{Priority: proto.Int32(p)} }
	q := submit(t, s, sid3, store.TaskSpec{Method: "low1", Options: prio(1)}, store.TaskSpec{Method: "high1", Options: prio(7)},
		store.TaskSpec{Method: "high2", Options: prio(7)}, store.TaskSpec{Method: "low2", Options: prio(1)}, store.TaskSpec{Method: "mid", Options: prio(4)})
	if n, err := s.CancelTasks(ctx(t), sid3, []string{q[1].TaskId, q[3].TaskId}); err != nil || n != 2 {
		t.Fatalf("CancelTasks of two queued tasks = %d, %v", n, err)
	}
	var order []string
	for _, c := range claim(t, s, 10) {
		order = append(order, c.Method)
	}
	if strings.Join(order, ",") != "high2,mid,low1" {
		t.Fatalf("claimed %v; want high2, mid, low1 (cancelled high1 and low2 skipped)", order)
	}
	// Claims smaller than a queue take the rest of it first, then go on to the next priority.
	sid5 := newSession(t, s, 1)
	submit(t, s, sid5, store.TaskSpec{Method: "h1", Options: prio(7)}, store.TaskSpec{Method: "l1", Options: prio(1)},
		store.TaskSpec{Method: "h2", Options: prio(7)}, store.TaskSpec{Method: "h3", Options: prio(7)})
	order = nil
	for _, n := range []int{1, 1, 2, 1} {
		for _, c := range claim(t, s, n) {
			order = append(order, c.Method)
		}
	}
	if strings.Join(order, ",") != "h1,h2,h3,l1" {
		t.Fatalf("claimed %v by 1, 1, 2 and 1; want h1, h2, h3, l1", order)
	}
	sid4 := newSession(t, s, 1)
	q = submit(t, s, sid4, store.TaskSpec{Method: "a"}, store.TaskSpec{Method: "b"})
	if n, err := s.CancelTasks(ctx(t), sid4, []string{q[0].TaskId, q[1].TaskId}); err != nil || n != 2 {
		t.Fatalf("CancelTasks = %d, %v", n, err)
	}
	if got := claim(t, s, 10); len(got) != 0 {
		t.Fatalf("claimed %d cancelled tasks", len(got))
	}
}

func testRenewRelease(t *testing.T, s store.Store, clk *clock.Fake) {
	sid := newSession(t, s, 1)
	submit(t, s, sid, store.TaskSpec{Method: "a"}, store.TaskSpec{Method: "b"})
	c, _ := s.Claim(ctx(t), store.ClaimRequest{Partition: part, AgentID: "a", Max: 2, LeaseTTL: time.Second})
	if len(c) != 2 {
		t.Fatalf("claimed %d, want 2", len(c))
	}
	clk.Advance(800 * time.Millisecond)
	lost, err := s.RenewLeases(ctx(t), "a", []store.Lease{c[0].Lease, c[1].Lease}, time.Second)
	if err != nil || len(lost) != 0 {
		t.Fatalf("RenewLeases = %v, %v", lost, err)
	}
	clk.Advance(800 * time.Millisecond)
	if n, _ := s.RequeueExpired(ctx(t), part, 10); n != 0 {
		t.Fatalf("renewed leases taken back: %d", n)
	}
	if err := s.Release(ctx(t), []store.Lease{c[1].Lease}); err != nil {
		t.Fatalf("Release: %v", err)
	}
	again := claim(t, s, 10)
	if len(again) != 1 || again[0].Lease.TaskID != c[1].Lease.TaskID || again[0].Lease.Attempt != 1 {
		t.Fatalf("claim after release = %+v; want the released task at attempt 1", again)
	}
	if err := s.MarkRunning(ctx(t), c[1].Lease); !store.IsLeaseLost(err) {
		t.Fatalf("MarkRunning with a released lease: %v; want LeaseLost", err)
	}
	if err := s.ReportProgress(ctx(t), c[0].Lease, 0.5, "half"); err != nil {
		t.Fatalf("ReportProgress: %v", err)
	}
	if err := s.Heartbeat(ctx(t), store.AgentHeartbeat{AgentID: "a", Partition: part, Capacity: 4}, time.Hour); err != nil {
		t.Fatalf("Heartbeat: %v", err)
	}
}

// testReleaseRunning: at the drain deadline a never-started task goes back without an attempt, a
// RUNNING one counts a retryable attempt and is queued again at once, and a RUNNING one with no
// retries left fails, so a task longer than every drain deadline cannot run forever.
func testReleaseRunning(t *testing.T, s store.Store, _ *clock.Fake) {
	sid := newSession(t, s, 1)
	one := &chorusv1.TaskOptions{MaxRetries: proto.Int32(1)}
	st := submit(t, s, sid, store.TaskSpec{Method: "dispatched", Options: one}, store.TaskSpec{Method: "running", Options: one})
	c := claim(t, s, 2)
	if len(c) != 2 {
		t.Fatalf("claimed %d, want 2", len(c))
	}
	byID := map[string]*store.ClaimedTask{c[0].Lease.TaskID: c[0], c[1].Lease.TaskID: c[1]}
	disp, run := byID[st[0].TaskId], byID[st[1].TaskId]
	if err := s.MarkRunning(ctx(t), run.Lease); err != nil {
		t.Fatalf("MarkRunning: %v", err)
	}
	const why = "agent a1 stopped at its drain deadline"
	if err := s.ReleaseRunning(ctx(t), []store.Lease{disp.Lease, run.Lease}, why); err != nil {
		t.Fatalf("ReleaseRunning: %v", err)
	}
	tk, _ := s.GetTask(ctx(t), sid, disp.Lease.TaskID)
	if tk.Status != chorusv1.TaskStatus_TASK_STATUS_QUEUED || len(tk.Attempts) != 0 {
		t.Fatalf("never-started task after ReleaseRunning: %v with %d attempts; want QUEUED with none", tk.Status, len(tk.Attempts))
	}
	tk, _ = s.GetTask(ctx(t), sid, run.Lease.TaskID)
	if tk.Status != chorusv1.TaskStatus_TASK_STATUS_QUEUED || len(tk.Attempts) != 1 ||
		tk.Attempts[0].GetError().GetKind() != chorusv1.ErrorKind_ERROR_KIND_LEASE_EXPIRED || tk.Attempts[0].GetError().GetMessage() != why {
		t.Fatalf("running task after ReleaseRunning: %v, attempts %v; want QUEUED with one LEASE_EXPIRED attempt saying %q", tk.Status, tk.Attempts, why)
	}
	if err := s.MarkRunning(ctx(t), run.Lease); !store.IsLeaseLost(err) {
		t.Fatalf("MarkRunning with a handed-back lease: %v; want LeaseLost", err)
	}
	again := claim(t, s, 2) // queued at once: no backoff
	if len(again) != 2 {
		t.Fatalf("claimed %d after ReleaseRunning, want both tasks at once", len(again))
	}
	for _, a := range again {
		if a.Lease.TaskID == run.Lease.TaskID {
			if a.Lease.Attempt != 2 {
				t.Fatalf("the running task's next attempt is %d, want 2", a.Lease.Attempt)
			}
			if err := s.MarkRunning(ctx(t), a.Lease); err != nil {
				t.Fatalf("MarkRunning: %v", err)
			}
			if err := s.ReleaseRunning(ctx(t), []store.Lease{a.Lease}, why); err != nil {
				t.Fatalf("ReleaseRunning: %v", err)
			}
		}
	}
	tk, _ = s.GetTask(ctx(t), sid, run.Lease.TaskID)
	if tk.Status != chorusv1.TaskStatus_TASK_STATUS_FAILED || tk.Error.GetKind() != chorusv1.ErrorKind_ERROR_KIND_LEASE_EXPIRED {
		t.Fatalf("task handed back with no retries left: %v / %v; want FAILED LEASE_EXPIRED", tk.Status, tk.Error)
	}
}

// testReleaseAgentLeases: an agent restarting under the same id takes back its previous life's
// leases at once, and no other agent's.
func testReleaseAgentLeases(t *testing.T, s store.Store, _ *clock.Fake) {
	sid := newSession(t, s, 1)
	sid2 := newSession(t, s, 1)
	one := &chorusv1.TaskOptions{MaxRetries: proto.Int32(1)}
	a := submit(t, s, sid, store.TaskSpec{Method: "a", Options: one}, store.TaskSpec{Method: "b", Options: one})
	b := submit(t, s, sid2, store.TaskSpec{Method: "c", Options: one})
	if err := s.Heartbeat(ctx(t), store.AgentHeartbeat{AgentID: "host-1", Partition: part, Capacity: 4}, time.Hour); err != nil {
		t.Fatalf("Heartbeat: %v", err)
	}
	mine, err := s.Claim(ctx(t), store.ClaimRequest{Partition: part, AgentID: "host-1", Max: 2, LeaseTTL: time.Hour})
	if err != nil || len(mine) != 2 {
		t.Fatalf("Claim host-1 = %d, %v; want 2", len(mine), err)
	}
	mine2, err := s.Claim(ctx(t), store.ClaimRequest{Partition: part, AgentID: "host-1", Max: 1, LeaseTTL: time.Hour})
	if err != nil || len(mine2) != 1 {
		t.Fatalf("Claim host-1 = %d, %v; want 1", len(mine2), err)
	}
	if err := s.MarkRunning(ctx(t), mine[0].Lease); err != nil {
		t.Fatalf("MarkRunning: %v", err)
	}
	extra := submit(t, s, sid, store.TaskSpec{Method: "d", Options: one})
	other, err := s.Claim(ctx(t), store.ClaimRequest{Partition: part, AgentID: "host-2", Max: 1, LeaseTTL: time.Hour})
	if err != nil || len(other) != 1 || other[0].Lease.TaskID != extra[0].TaskId {
		t.Fatalf("Claim host-2 = %v, %v; want task %s", other, err, extra[0].TaskId)
	}
	releaseLeases(t, s, "host-1", 3)
	for _, x := range []struct{ sid, tid string }{{sid, a[0].TaskId}, {sid, a[1].TaskId}, {sid2, b[0].TaskId}} {
		if got := taskStatus(t, s, x.sid, x.tid); got != chorusv1.TaskStatus_TASK_STATUS_QUEUED {
			t.Fatalf("task %s after ReleaseAgentLeases is %v, want QUEUED", x.tid, got)
		}
	}
	tk, _ := s.GetTask(ctx(t), mine[0].Lease.SessionID, mine[0].Lease.TaskID)
	if len(tk.Attempts) != 1 || tk.Attempts[0].GetError().GetKind() != chorusv1.ErrorKind_ERROR_KIND_LEASE_EXPIRED || tk.Attempts[0].GetError().GetRetryable() != true {
		t.Fatalf("the running task's attempts %v; want one retryable LEASE_EXPIRED", tk.Attempts)
	}
	if got := taskStatus(t, s, sid, extra[0].TaskId); got != chorusv1.TaskStatus_TASK_STATUS_DISPATCHED {
		t.Fatalf("host-2's task is %v after host-1's leases were taken back, want DISPATCHED", got)
	}
	if err := s.Complete(ctx(t), store.Completion{Lease: mine[1].Lease}); !store.IsLeaseLost(err) {
		t.Fatalf("Complete with a taken-back lease: %v; want LeaseLost", err)
	}
	releaseLeases(t, s, "host-1", 0) // again: nothing left to take back
	if again := claim(t, s, 10); len(again) != 3 {
		t.Fatalf("claimed %d after ReleaseAgentLeases, want the 3 tasks at once", len(again))
	}
}

func testEvents(t *testing.T, s store.Store, _ *clock.Fake) {
	sid := newSession(t, s, 1)
	cur, err := s.EventCursor(ctx(t), sid)
	if err != nil {
		t.Fatalf("EventCursor: %v", err)
	}
	st := submit(t, s, sid, store.TaskSpec{Method: "a", ExpectedOutputIDs: []string{"o"}})
	c := claim(t, s, 1)
	if err := s.MarkRunning(ctx(t), c[0].Lease); err != nil {
		t.Fatal(err)
	}
	complete(t, s, c[0], "v")
	evs, _, err := s.ReadEvents(ctx(t), store.EventQuery{SessionID: sid, Cursor: cur, Kinds: []chorusv1.EventKind{chorusv1.EventKind_EVENT_KIND_TASK_STATUS}})
	if err != nil {
		t.Fatalf("ReadEvents: %v", err)
	}
	var seen []chorusv1.TaskStatus
	for _, e := range evs {
		if e.GetTaskStatus().GetTaskId() == st[0].TaskId {
			seen = append(seen, e.GetTaskStatus().Status)
		}
	}
	// submitting is an event too: a watcher sees tasks appear
	want := []chorusv1.TaskStatus{chorusv1.TaskStatus_TASK_STATUS_QUEUED, chorusv1.TaskStatus_TASK_STATUS_DISPATCHED,
		chorusv1.TaskStatus_TASK_STATUS_RUNNING, chorusv1.TaskStatus_TASK_STATUS_COMPLETED}
	if !slices.Equal(seen, want) {
		t.Fatalf("task events %v; want %v", seen, want)
	}
	all, _, _ := s.ReadEvents(ctx(t), store.EventQuery{SessionID: sid})
	last := all[len(all)-1]
	if last.GetResultStatus().GetResultId() != "o" && last.GetTaskStatus() == nil {
		t.Fatalf("unexpected last event %v", last)
	}
	// blocking read returns the next event written after it started
	done := make(chan []*chorusv1.Event, 1)
	go func() {
		evs, _, _ := s.ReadEvents(ctx(t), store.EventQuery{SessionID: sid, Cursor: last.Cursor, Block: time.Minute})
		done <- evs
	}()
	if _, err := s.SetSessionStatus(ctx(t), sid, chorusv1.SessionStatus_SESSION_STATUS_PAUSED); err != nil {
		t.Fatal(err)
	}
	got := <-done
	if len(got) == 0 || got[0].GetSessionStatus().GetStatus() != chorusv1.SessionStatus_SESSION_STATUS_PAUSED {
		t.Fatalf("blocked read got %v; want the PAUSED session event", got)
	}
	_, _, err = s.ReadEvents(ctx(t), store.EventQuery{SessionID: "snope"})
	wantCode(t, err, store.CodeNotFound, "ReadEvents of a missing session")
	_, _, err = s.ReadEvents(ctx(t), store.EventQuery{SessionID: "snope", Cursor: last.Cursor})
	wantCode(t, err, store.CodeNotFound, "ReadEvents of a missing session from a cursor")
	_, _, err = s.ReadEvents(ctx(t), store.EventQuery{SessionID: "snope", Cursor: "$", Block: 10 * time.Millisecond})
	wantCode(t, err, store.CodeNotFound, "a blocking ReadEvents of a missing session")
}

func testPartitions(t *testing.T, s store.Store, _ *clock.Fake) {
	if err := s.DeclarePartitions(ctx(t), []string{"gpu"}); err != nil {
		t.Fatal(err)
	}
	sid := newSession(t, s, 1)
	submit(t, s, sid, store.TaskSpec{Method: "a"}, store.TaskSpec{Method: "b"})
	if err := s.Heartbeat(ctx(t), store.AgentHeartbeat{AgentID: "ag", Partition: part, Capacity: 3}, time.Hour); err != nil {
		t.Fatal(err)
	}
	p, err := s.GetPartition(ctx(t), part)
	if err != nil || p.QueueDepth != 2 || p.TotalCapacity != 3 || len(p.Agents) != 1 {
		t.Fatalf("GetPartition = %v, %v", p, err)
	}
	ps, err := s.ListPartitions(ctx(t))
	if err != nil || len(ps) != 2 || ps[0].PartitionId != part || !ps[1].Declared {
		t.Fatalf("ListPartitions = %v, %v", ps, err)
	}
	_, err = s.GetPartition(ctx(t), "none")
	wantCode(t, err, store.CodeNotFound, "GetPartition of an unknown partition")
	if err := s.WaitForWork(ctx(t), part, time.Minute); err != nil {
		t.Fatalf("WaitForWork with ready work: %v", err)
	}
}
