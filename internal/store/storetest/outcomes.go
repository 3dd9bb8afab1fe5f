package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// testOutcomesBatch records starts, progress, completions and failures of two sessions in one call:
// each step is applied or refused on its own, in order, and a late duplicate changes nothing.
func testOutcomesBatch(t *testing.T, s store.Store, _ *clock.Fake) {
	a, b := newSession(t, s, 1), newSession(t, s, 1)
	ta := submit(t, s, a, store.TaskSpec{Method: "x", ExpectedOutputIDs: []string{"oa"}}, store.TaskSpec{Method: "y"},
		store.TaskSpec{Method: "after", DataDependencies: []string{"oa"}})
	submit(t, s, b, store.TaskSpec{Method: "z"})
	cs := claim(t, s, 10)
	if len(cs) != 3 {
		t.Fatalf("claimed %d tasks, want 3 (x, y of session A and z of B)", len(cs))
	}
	byMethod := map[string]*store.ClaimedTask{}
	for _, c := range cs {
		byMethod[c.Method] = c
	}
	x, y, z := byMethod["x"], byMethod["y"], byMethod["z"]
	stale := y.Lease
	stale.Token = "not-the-token"
	steps := []store.Outcome{
		{Kind: store.OutcomeStart, Lease: x.Lease},
		{Kind: store.OutcomeStart, Lease: z.Lease},
		{Kind: store.OutcomeProgress, Lease: x.Lease, Fraction: 0.5, Message: "half"},
		{Kind: store.OutcomeComplete, Lease: x.Lease, Completion: &store.Completion{Lease: x.Lease,
			Outputs: []store.OutputData{{ResultID: "oa", Data: store.ResultData{Inline: []byte("v")}}}}},
		{Kind: store.OutcomeStart, Lease: stale}, // refused, the others go on
		{Kind: store.OutcomeFail, Lease: y.Lease, Error: &chorusv1.TaskError{Kind: chorusv1.ErrorKind_ERROR_KIND_WORKER_ERROR, Message: "boom"}},
		{Kind: store.OutcomeComplete, Lease: z.Lease, Completion: &store.Completion{Lease: z.Lease}},
		{Kind: store.OutcomeComplete, Lease: x.Lease, Completion: &store.Completion{Lease: x.Lease}}, // duplicate
	}
	res, err := s.RecordOutcomes(ctx(t), steps)
	if err != nil {
		t.Fatalf("RecordOutcomes: %v", err)
	}
	if len(res) != len(steps) {
		t.Fatalf("%d results for %d steps", len(res), len(steps))
	}
	for i, r := range res {
		wantLost := i == 4 || i == 7
		if wantLost {
			wantCode(t, r.Err, store.CodeLeaseLost, fmt.Sprintf("step %d", i))
		} else if r.Err != nil {
			t.Fatalf("step %d (%v): %v", i, steps[i].Kind, r.Err)
		}
		if r.Retried {
			t.Fatalf("step %d retried; nothing should be", i)
		}
	}
	if st := taskStatus(t, s, a, ta[0].TaskId); st != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
		t.Fatalf("x is %v, want COMPLETED", st)
	}
	if st := taskStatus(t, s, a, ta[1].TaskId); st != chorusv1.TaskStatus_TASK_STATUS_FAILED {
		t.Fatalf("y is %v, want FAILED (not retryable)", st)
	}
	if st := taskStatus(t, s, a, ta[2].TaskId); st != chorusv1.TaskStatus_TASK_STATUS_QUEUED {
		t.Fatalf("after is %v, want QUEUED once oa completed", st)
	}
	sb, err := s.GetSession(ctx(t), b)
	if err != nil {
		t.Fatal(err)
	}
	if n := sb.GetTaskCounts().GetCompleted(); n != 1 {
		t.Fatalf("session B counts %v; want one COMPLETED", sb.GetTaskCounts())
	}
	sa, err := s.GetSession(ctx(t), a)
	if err != nil {
		t.Fatal(err)
	}
	c := sa.GetTaskCounts()
	if c.GetCompleted() != 1 || c.GetFailed() != 1 || c.GetQueued() != 1 || c.GetRunning() != 0 || c.GetDispatched() != 0 {
		t.Fatalf("session A counts %v; want COMPLETED 1, FAILED 1, QUEUED 1, nothing running", c)
	}
	// the progress report is an event between the start and the completion of x
	evs, _, err := s.ReadEvents(ctx(t), store.EventQuery{SessionID: a, Max: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, e := range evs {
		if ts := e.GetTaskStatus(); ts != nil && ts.TaskId == ta[0].TaskId {
			order = append(order, ts.Status.String())
		}
		if p := e.GetTaskProgress(); p != nil && p.TaskId == ta[0].TaskId {
			order = append(order, "progress "+p.Message)
		}
	}
	want := []string{"TASK_STATUS_QUEUED", "TASK_STATUS_DISPATCHED", "TASK_STATUS_RUNNING", "progress half", "TASK_STATUS_COMPLETED"}
	if !slices.Equal(order, want) {
		t.Fatalf("events of x: %v; want %v", order, want)
	}
}

// testWaitersInOneBatch: a subtask that a completion creates, waiting on the output of a task that
// completes later in the same batch, is queued by that later completion (the batch's reads made
// ahead must not hide a waiter added in the batch); in the other order it is queued at once.
func testWaitersInOneBatch(t *testing.T, s store.Store, _ *clock.Fake) {
	for _, producerFirst := range []bool{false, true} {
		sid := newSession(t, s, 1)
		submit(t, s, sid, store.TaskSpec{Method: "parent", ExpectedOutputIDs: []string{"op"}},
			store.TaskSpec{Method: "producer", ExpectedOutputIDs: []string{"oy"}})
		byMethod := map[string]*store.ClaimedTask{}
		for _, c := range claim(t, s, 10) { // the previous round's child too
			byMethod[c.Method] = c
		}
		parent, producer := byMethod["parent"], byMethod["producer"]
		if parent == nil || producer == nil {
			t.Fatalf("claimed %v; want the parent and the producer", byMethod)
		}
		sub := store.NewTaskID()
		withSub := store.Outcome{Kind: store.OutcomeComplete, Lease: parent.Lease, Completion: &store.Completion{Lease: parent.Lease,
			Outputs:  []store.OutputData{{ResultID: "op", Data: store.ResultData{Inline: []byte("p")}}},
			Subtasks: []store.TaskSpec{{Method: "child", DataDependencies: []string{"oy"}, ExpectedOutputIDs: []string{"oc"}}}, SubtaskIDs: []string{sub}}}
		produce := store.Outcome{Kind: store.OutcomeComplete, Lease: producer.Lease, Completion: &store.Completion{Lease: producer.Lease,
			Outputs: []store.OutputData{{ResultID: "oy", Data: store.ResultData{Inline: []byte("y")}}}}}
		steps := []store.Outcome{withSub, produce}
		if producerFirst {
			steps = []store.Outcome{produce, withSub}
		}
		res, err := s.RecordOutcomes(ctx(t), steps)
		if err != nil {
			t.Fatalf("RecordOutcomes: %v", err)
		}
		for i, r := range res {
			if r.Err != nil {
				t.Fatalf("producer first %v, step %d: %v", producerFirst, i, r.Err)
			}
		}
		if st := taskStatus(t, s, sid, sub); st != chorusv1.TaskStatus_TASK_STATUS_QUEUED {
			t.Fatalf("producer first %v: the subtask waiting on oy is %v, want QUEUED once oy completed in the same batch", producerFirst, st)
		}
	}
}

// testCompletionWithStart: a completion that carries its task's start (Outcome.Started) records
// RUNNING with its start time, then COMPLETED, as a start step followed by a completion would.
func testCompletionWithStart(t *testing.T, s store.Store, clk *clock.Fake) {
	sid := newSession(t, s, 1)
	st := submit(t, s, sid, store.TaskSpec{Method: "quick", ExpectedOutputIDs: []string{"q-out"}})
	c := claim(t, s, 1)[0]
	started := clk.Now().Add(-5 * time.Millisecond).Truncate(time.Millisecond)
	res, err := s.RecordOutcomes(ctx(t), []store.Outcome{{Kind: store.OutcomeComplete, Lease: c.Lease, Started: started,
		Completion: &store.Completion{Lease: c.Lease, Outputs: []store.OutputData{{ResultID: "q-out", Data: store.ResultData{Inline: []byte("v")}}}}}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("RecordOutcomes = %v, %v", res, err)
	}
	tk, err := s.GetTask(ctx(t), sid, st[0].TaskId)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Status != chorusv1.TaskStatus_TASK_STATUS_COMPLETED || len(tk.Attempts) != 1 ||
		tk.Attempts[0].GetStartTime().AsTime().UnixMilli() != started.UnixMilli() {
		t.Fatalf("task = %v; want COMPLETED with one attempt started at %v", tk, started)
	}
	evs, _, err := s.ReadEvents(ctx(t), store.EventQuery{SessionID: sid, Max: 100})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, e := range evs {
		if ts := e.GetTaskStatus(); ts != nil {
			order = append(order, ts.Status.String())
		}
	}
	want := []string{"TASK_STATUS_QUEUED", "TASK_STATUS_DISPATCHED", "TASK_STATUS_RUNNING", "TASK_STATUS_COMPLETED"}
	if !slices.Equal(order, want) {
		t.Fatalf("events: %v; want %v", order, want)
	}
	sess, err := s.GetSession(ctx(t), sid)
	if err != nil {
		t.Fatal(err)
	}
	if n := sess.GetTaskCounts(); n.GetCompleted() != 1 || n.GetRunning() != 0 || n.GetDispatched() != 0 {
		t.Fatalf("counts %v; want one COMPLETED", n)
	}
}

// testOutcomesRetrySubtasks: a retryable failure in a batch is retried after a backoff, and a
// completion in a batch stores its subtasks.
func testOutcomesRetrySubtasks(t *testing.T, s store.Store, clk *clock.Fake) {
	sid := newSession(t, s, 1)
	st := submit(t, s, sid, store.TaskSpec{Method: "flaky", Options: &chorusv1.TaskOptions{MaxRetries: proto.Int32(2)}},
		store.TaskSpec{Method: "parent", ExpectedOutputIDs: []string{"final"}})
	cs := claim(t, s, 2)
	var flaky, parent *store.ClaimedTask
	for _, c := range cs {
		if c.Method == "flaky" {
			flaky = c
		} else {
			parent = c
		}
	}
	subID := store.NewTaskID()
	res, err := s.RecordOutcomes(ctx(t), []store.Outcome{
		{Kind: store.OutcomeFail, Lease: flaky.Lease, Error: &chorusv1.TaskError{Kind: chorusv1.ErrorKind_ERROR_KIND_WORKER_ERROR, Message: "again", Retryable: true}},
		{Kind: store.OutcomeComplete, Lease: parent.Lease, Completion: &store.Completion{Lease: parent.Lease,
			Subtasks: []store.TaskSpec{{Method: "child", ExpectedOutputIDs: []string{"final"}}}, SubtaskIDs: []string{subID}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Retried || res[0].Err != nil {
		t.Fatalf("retryable failure: %+v; want retried", res[0])
	}
	if res[1].Err != nil {
		t.Fatalf("completion with a subtask: %v", res[1].Err)
	}
	// the child runs now, the retry after its backoff
	got := claim(t, s, 10)
	if len(got) != 1 || got[0].Lease.TaskID != subID {
		t.Fatalf("claimed %v; want only the subtask before the retry is due", got)
	}
	complete(t, s, got[0], "done")
	clk.Advance(time.Hour)
	if _, err := s.RequeueExpired(ctx(t), part, 100); err != nil {
		t.Fatal(err)
	}
	got = claim(t, s, 10)
	if len(got) != 1 || got[0].Lease.TaskID != st[0].TaskId || got[0].Lease.Attempt != 2 {
		t.Fatalf("claimed %v; want the retried task, attempt 2", got)
	}
}

// testEventGroups: many tasks changing status in one script run are stored together but read as one
// event each; a cursor inside a group resumes at the next event of it; filters move the cursor past
// what they skip.
func testEventGroups(t *testing.T, s store.Store, _ *clock.Fake) {
	sid := newSession(t, s, 1)
	cur, err := s.EventCursor(ctx(t), sid)
	if err != nil {
		t.Fatal(err)
	}
	specs := make([]store.TaskSpec, 10)
	for i := range specs {
		specs[i] = store.TaskSpec{Method: "m"}
	}
	st := submit(t, s, sid, specs...)
	cs := claim(t, s, 10)
	var steps []store.Outcome
	for _, c := range cs {
		steps = append(steps, store.Outcome{Kind: store.OutcomeStart, Lease: c.Lease})
	}
	for _, c := range cs {
		steps = append(steps, store.Outcome{Kind: store.OutcomeComplete, Lease: c.Lease, Completion: &store.Completion{Lease: c.Lease}})
	}
	if _, err := s.RecordOutcomes(ctx(t), steps); err != nil {
		t.Fatal(err)
	}
	all, next, err := s.ReadEvents(ctx(t), store.EventQuery{SessionID: sid, Cursor: cur, Max: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 40 {
		t.Fatalf("read %d events; want 40 (10 tasks × queued, dispatched, running, completed)", len(all))
	}
	if next != all[len(all)-1].Cursor {
		t.Fatalf("next cursor %q; want the last event's %q", next, all[len(all)-1].Cursor)
	}
	// reading 3 at a time from each cursor gives the same sequence
	var paged []*chorusv1.Event
	c := cur
	for len(paged) < 40 {
		evs, n, err := s.ReadEvents(ctx(t), store.EventQuery{SessionID: sid, Cursor: c, Max: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			t.Fatalf("paging stopped after %d events", len(paged))
		}
		paged = append(paged, evs...)
		c = n
	}
	for i := range all {
		if !proto.Equal(all[i].GetTaskStatus(), paged[i].GetTaskStatus()) || all[i].Cursor != paged[i].Cursor {
			t.Fatalf("event %d: paged %v, whole %v", i, paged[i], all[i])
		}
	}
	// only final statuses: 10 completions; the cursor ends after the last one
	finals, next, err := s.ReadEvents(ctx(t), store.EventQuery{SessionID: sid, Cursor: cur, Max: 1000,
		TaskStatuses: []chorusv1.TaskStatus{chorusv1.TaskStatus_TASK_STATUS_COMPLETED, chorusv1.TaskStatus_TASK_STATUS_FAILED}})
	if err != nil {
		t.Fatal(err)
	}
	if len(finals) != 10 {
		t.Fatalf("%d final events; want 10", len(finals))
	}
	ids := map[string]bool{}
	for _, e := range finals {
		ids[e.GetTaskStatus().GetTaskId()] = true
	}
	for _, x := range st {
		if !ids[x.TaskId] {
			t.Fatalf("no completion event for task %s", x.TaskId)
		}
	}
	// nothing new after that cursor: a blocking read waits, then returns nothing
	evs, _, err := s.ReadEvents(ctx(t), store.EventQuery{SessionID: sid, Cursor: next, Block: 10 * time.Millisecond,
		TaskStatuses: []chorusv1.TaskStatus{chorusv1.TaskStatus_TASK_STATUS_COMPLETED}})
	if err != nil || len(evs) != 0 {
		t.Fatalf("read after the last completion: %v, %v; want nothing", evs, err)
	}
	_, _, err = s.ReadEvents(ctx(t), store.EventQuery{SessionID: sid, Cursor: "12-0/x"})
	wantCode(t, err, store.CodeInvalidArgument, "a malformed cursor")
}

// testAttemptsTimeline: attempts keep their agent, dispatch, start and end times and errors across a
// retry and a final completion.
func testAttemptsTimeline(t *testing.T, s store.Store, clk *clock.Fake) {
	sid := newSession(t, s, 1)
	st := submit(t, s, sid, store.TaskSpec{Method: "m", Options: &chorusv1.TaskOptions{MaxRetries: proto.Int32(1)}})
	c := claim(t, s, 1)[0]
	clk.Advance(time.Second)
	if err := s.MarkRunning(ctx(t), c.Lease); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if retried, err := s.Fail(ctx(t), store.Failure{Lease: c.Lease, Error: &chorusv1.TaskError{Kind: chorusv1.ErrorKind_ERROR_KIND_WORKER_ERROR, Message: "first", Retryable: true}}); err != nil || !retried {
		t.Fatalf("Fail: %v %v; want retried", retried, err)
	}
	clk.Advance(time.Hour)
	if _, err := s.RequeueExpired(ctx(t), part, 10); err != nil {
		t.Fatal(err)
	}
	c2 := claim(t, s, 1)[0]
	if err := s.MarkRunning(ctx(t), c2.Lease); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	complete(t, s, c2, "")
	task, err := s.GetTask(ctx(t), sid, st[0].TaskId)
	if err != nil {
		t.Fatal(err)
	}
	if len(task.Attempts) != 2 {
		t.Fatalf("%d attempts; want 2: %v", len(task.Attempts), task.Attempts)
	}
	a1, a2 := task.Attempts[0], task.Attempts[1]
	if a1.Number != 1 || a1.AgentId != "agent-1" || a1.GetError().GetMessage() != "first" || !a1.GetError().GetRetryable() ||
		a1.StartTime.AsTime().Sub(a1.DispatchTime.AsTime()) != time.Second || a1.EndTime.AsTime().Sub(a1.StartTime.AsTime()) != time.Second {
		t.Fatalf("attempt 1 = %v", a1)
	}
	if a2.Number != 2 || a2.Error != nil || a2.StartTime == nil || a2.EndTime.AsTime().Sub(a2.StartTime.AsTime()) != time.Second {
		t.Fatalf("attempt 2 = %v", a2)
	}
	if task.Status != chorusv1.TaskStatus_TASK_STATUS_COMPLETED || !task.EndTime.AsTime().Equal(a2.EndTime.AsTime()) {
		t.Fatalf("task %v ended %v; want COMPLETED at the end of attempt 2", task.Status, task.EndTime)
	}
}

// testBodiesSmallAndLarge: a task's body comes back whole from a claim, GetTask and ListTasks,
// whether it is small (kept with the task's header) or large (kept apart).
func testBodiesSmallAndLarge(t *testing.T, s store.Store, _ *clock.Fake) {
	sid := newSession(t, s, 1)
	long := strings.Repeat("x", 300)
	st := submit(t, s, sid, store.TaskSpec{Method: "small"},
		store.TaskSpec{Method: "large", Options: &chorusv1.TaskOptions{Options: map[string]string{"k": long}}})
	got := map[string]*store.ClaimedTask{}
	for _, c := range claim(t, s, 2) {
		got[c.Method] = c
	}
	if got["small"] == nil || got["large"] == nil || got["large"].Options.GetOptions()["k"] != long {
		t.Fatalf("claimed %v; want small and large with its option", got)
	}
	for i, want := range []string{"small", "large"} {
		tk, err := s.GetTask(ctx(t), sid, st[i].TaskId)
		if err != nil || tk.Method != want {
			t.Fatalf("GetTask %s = %v, %v; want method %s", st[i].TaskId, tk, err, want)
		}
	}
	tasks, _, err := s.ListTasks(ctx(t), sid, store.ListQuery[chorusv1.TaskStatus]{})
	if err != nil || len(tasks) != 2 || tasks[0].Method != "small" || tasks[1].Method != "large" ||
		tasks[1].GetOptions().GetOptions()["k"] != long {
		t.Fatalf("ListTasks = %v, %v; want small then large with its option", tasks, err)
	}
}

// testRunningAfterSlotOutcome: in one call, a start that names the task whose worker slot it took
// (Outcome.After) is RUNNING in the event stream only after that task's outcome, even though the
// store groups the call's changes by status; so is a completion carrying such a start.
func testRunningAfterSlotOutcome(t *testing.T, s store.Store, _ *clock.Fake) {
	sid := newSession(t, s, 1)
	st := submit(t, s, sid, store.TaskSpec{Method: "b"}, store.TaskSpec{Method: "a"}, store.TaskSpec{Method: "c"},
		store.TaskSpec{Method: "d"}, store.TaskSpec{Method: "e"})
	by := map[string]*store.ClaimedTask{}
	for _, c := range claim(t, s, 5) {
		by[c.Method] = c
	}
	if _, err := s.RecordOutcomes(ctx(t), []store.Outcome{{Kind: store.OutcomeStart, Lease: by["a"].Lease}}); err != nil {
		t.Fatal(err)
	}
	cur, err := s.EventCursor(ctx(t), sid)
	if err != nil {
		t.Fatal(err)
	}
	// b starts in a free slot; a completes; c takes a's slot; d completes with its start, in a's
	// slot after c... e takes c's slot only after c's outcome (c has none here: e waits on nothing).
	res, err := s.RecordOutcomes(ctx(t), []store.Outcome{
		{Kind: store.OutcomeStart, Lease: by["b"].Lease},
		{Kind: store.OutcomeComplete, Lease: by["a"].Lease, Completion: &store.Completion{Lease: by["a"].Lease}},
		{Kind: store.OutcomeStart, Lease: by["c"].Lease, After: by["a"].Lease.TaskID},
		{Kind: store.OutcomeComplete, Lease: by["c"].Lease, Completion: &store.Completion{Lease: by["c"].Lease}},
		{Kind: store.OutcomeComplete, Lease: by["d"].Lease, Started: time.UnixMilli(1), After: by["c"].Lease.TaskID,
			Completion: &store.Completion{Lease: by["d"].Lease}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("step %d: %v", i, r.Err)
		}
	}
	evs, _, err := s.ReadEvents(ctx(t), store.EventQuery{SessionID: sid, Cursor: cur, Max: 100})
	if err != nil {
		t.Fatal(err)
	}
	name := map[string]string{}
	for _, x := range st {
		tk, _ := s.GetTask(ctx(t), sid, x.TaskId)
		name[x.TaskId] = tk.Method
	}
	pos := map[string]int{}
	for i, e := range evs {
		if ts := e.GetTaskStatus(); ts != nil {
			pos[name[ts.TaskId]+" "+strings.TrimPrefix(ts.Status.String(), "TASK_STATUS_")] = i
		}
	}
	for _, w := range [][2]string{{"a COMPLETED", "c RUNNING"}, {"c RUNNING", "c COMPLETED"}, {"c COMPLETED", "d RUNNING"}, {"d RUNNING", "d COMPLETED"}} {
		bi, okb := pos[w[0]]
		ai, oka := pos[w[1]]
		if !okb || !oka || bi >= ai {
			t.Fatalf("events %v: want %s before %s", pos, w[0], w[1])
		}
	}
}

// testPurgeReturnsObjects: a purge hands back the object-store keys of the session's results, from
// client uploads and task outputs alike, and none of its inline data; a result nobody wrote, with a
// task that waited on it, does not stop it.
func testPurgeReturnsObjects(t *testing.T, s store.Store, _ *clock.Fake) {
	sid := newSession(t, s, 1)
	if _, err := s.CreateResults(ctx(t), sid, []store.ResultSpec{{ResultID: "up-obj", Data: &store.ResultData{ObjectKey: "objects/up"}},
		{ResultID: "up-inline", Data: &store.ResultData{Inline: []byte("x")}}, {ResultID: "never"}}); err != nil {
		t.Fatal(err)
	}
	st := submit(t, s, sid, store.TaskSpec{Method: "big", ExpectedOutputIDs: []string{"out-obj"}},
		store.TaskSpec{Method: "small", ExpectedOutputIDs: []string{"out-inline"}},
		store.TaskSpec{Method: "waits", DataDependencies: []string{"never"}})
	for _, c := range claim(t, s, 2) {
		data := store.ResultData{Inline: []byte("v")}
		if c.Method == "big" {
			data = store.ResultData{ObjectKey: "objects/out"}
		}
		if err := s.Complete(ctx(t), store.Completion{Lease: c.Lease, Outputs: []store.OutputData{{ResultID: c.ExpectedOutputIDs[0], Data: data}}}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.CancelTasks(ctx(t), sid, []string{st[2].TaskId}); err != nil || n != 1 {
		t.Fatalf("CancelTasks = %d, %v", n, err)
	}
	if _, err := s.SetSessionStatus(ctx(t), sid, chorusv1.SessionStatus_SESSION_STATUS_CLOSED); err != nil {
		t.Fatal(err)
	}
	p, objs, err := s.PurgeSession(ctx(t), sid)
	if err != nil || p.Status != chorusv1.SessionStatus_SESSION_STATUS_PURGED {
		t.Fatalf("PurgeSession = %v, %v", p, err)
	}
	slices.Sort(objs)
	if !slices.Equal(objs, []string{"objects/out", "objects/up"}) {
		t.Fatalf("the purge returned objects %v; want objects/out and objects/up", objs)
	}
}
