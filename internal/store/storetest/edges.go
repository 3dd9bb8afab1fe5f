package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// wantMessage fails unless err has code and its message is exactly want.
func wantMessage(t *testing.T, err error, code store.Code, want string) {
	t.Helper()
	if store.CodeOf(err) != code || err.Error() != want {
		t.Fatalf("got error %v (code %v), want %v %q", err, store.CodeOf(err), code, want)
	}
}

// testPaging pages through sessions, tasks and results with small pages while new items arrive, and
// refuses tokens that are not the store's.
func testPaging(t *testing.T, s store.Store, clk *clock.Fake) {
	// Sessions, newest first; several share a millisecond (the fake clock does not move).
	var made []string
	for i := 0; i < 5; i++ {
		made = append(made, newSession(t, s, 1))
	}
	clk.Advance(time.Millisecond)
	for i := 0; i < 2; i++ {
		made = append(made, newSession(t, s, 1))
	}
	seen := map[string]int{}
	token, pages := "", 0
	for {
		page, next, err := s.ListSessions(ctx(t), store.ListQuery[chorusv1.SessionStatus]{PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatalf("ListSessions page %d: %v", pages, err)
		}
		for _, sess := range page {
			seen[sess.SessionId]++
		}
		pages++
		if pages == 1 {
			// Sessions created between two pages are newer: they must not push old ones to a later page.
			clk.Advance(time.Millisecond)
			newSession(t, s, 1)
			newSession(t, s, 1)
		}
		if next == "" {
			break
		}
		if pages > 10 {
			t.Fatal("ListSessions does not end")
		}
		token = next
	}
	for _, id := range made {
		if seen[id] != 1 {
			t.Fatalf("session %s listed %d times over %d pages, want once: %v", id, seen[id], pages, seen)
		}
	}

	sid := newSession(t, s, 1)
	var specs []store.TaskSpec
	for i := 0; i < 7; i++ {
		specs = append(specs, store.TaskSpec{Method: "m"})
	}
	submitted := submit(t, s, sid, specs...)
	var tasks []string
	token = ""
	for {
		page, next, err := s.ListTasks(ctx(t), sid, store.ListQuery[chorusv1.TaskStatus]{PageSize: 3, PageToken: token})
		if err != nil {
			t.Fatalf("ListTasks: %v", err)
		}
		for _, tk := range page {
			tasks = append(tasks, tk.TaskId)
		}
		if next == "" {
			break
		}
		if strings.Trim(next, "0123456789") == "" {
			t.Fatalf("ListTasks token %q is a plain offset", next)
		}
		token = next
	}
	if len(tasks) != len(submitted) || tasks[0] != submitted[0].TaskId || tasks[6] != submitted[6].TaskId {
		t.Fatalf("ListTasks pages gave %v, want the 7 tasks in submission order", tasks)
	}
	if _, err := s.CreateResults(ctx(t), sid, []store.ResultSpec{{ResultID: "a"}, {ResultID: "b"}, {ResultID: "c"}}); err != nil {
		t.Fatalf("CreateResults: %v", err)
	}
	rpage, rnext, err := s.ListResults(ctx(t), sid, store.ListQuery[chorusv1.ResultStatus]{PageSize: 2})
	if err != nil || len(rpage) != 2 || rnext == "" {
		t.Fatalf("ListResults first page = %v, %q, %v", rpage, rnext, err)
	}
	rpage, rnext2, err := s.ListResults(ctx(t), sid, store.ListQuery[chorusv1.ResultStatus]{PageSize: 2, PageToken: rnext})
	if err != nil || len(rpage) != 1 || rpage[0].ResultId != "c" || rnext2 != "" {
		t.Fatalf("ListResults second page = %v, %q, %v; want [c] and no token", rpage, rnext2, err)
	}

	// Tokens that are not the store's: garbage, offsets, negative or huge numbers, a token changed by
	// one character, a token of another listing, a token of another session's list.
	_, taskToken, _ := s.ListTasks(ctx(t), sid, store.ListQuery[chorusv1.TaskStatus]{PageSize: 3})
	tampered := []byte(taskToken)
	tampered[3] ^= 1
	other := newSession(t, s, 1)
	submit(t, s, other, specs...)
	for _, bad := range []string{"garbage!", "3", "-5", "99999999999999999999", "AAAAAAAAAAAAAAAAAAAA", string(tampered), rnext} {
		_, _, err := s.ListTasks(ctx(t), sid, store.ListQuery[chorusv1.TaskStatus]{PageSize: 3, PageToken: bad})
		wantBadToken(t, err, "ListTasks with token "+bad)
	}
	_, _, err = s.ListTasks(ctx(t), other, store.ListQuery[chorusv1.TaskStatus]{PageSize: 3, PageToken: taskToken})
	wantBadToken(t, err, "ListTasks of another session's token")
	_, _, err = s.ListSessions(ctx(t), store.ListQuery[chorusv1.SessionStatus]{PageSize: 3, PageToken: taskToken})
	wantBadToken(t, err, "ListSessions with a ListTasks token")
	_, _, err = s.ListResults(ctx(t), sid, store.ListQuery[chorusv1.ResultStatus]{PageSize: 3, PageToken: "-1"})
	wantBadToken(t, err, "ListResults with token -1")
}

func wantBadToken(t *testing.T, err error, what string) {
	t.Helper()
	var se *store.Error
	if store.CodeOf(err) != store.CodeInvalidArgument || !strings.HasPrefix(err.Error(), "page_token: ") {
		t.Fatalf("%s: got %v, want InvalidArgument naming page_token", what, err)
	}
	if e, ok := err.(*store.Error); ok {
		se = e
	}
	if se == nil || se.Field != "page_token" {
		t.Fatalf("%s: error %#v does not name the field page_token", what, err)
	}
}

// testExactRefusals checks that each refusal names the session as the caller gave it and says exactly
// what is wrong with it.
func testExactRefusals(t *testing.T, s store.Store, _ *clock.Fake) {
	const ghost = "ghost-x"
	missing := "session ghost-x does not exist"
	_, err := s.SetSessionStatus(ctx(t), ghost, chorusv1.SessionStatus_SESSION_STATUS_PAUSED)
	wantMessage(t, err, store.CodeNotFound, missing)
	_, _, err = s.PurgeSession(ctx(t), ghost)
	wantMessage(t, err, store.CodeNotFound, missing)
	_, err = s.CancelTasks(ctx(t), ghost, []string{"t1"})
	wantMessage(t, err, store.CodeNotFound, missing)
	_, err = s.CreateResults(ctx(t), ghost, []store.ResultSpec{{ResultID: "r"}})
	wantMessage(t, err, store.CodeNotFound, missing)
	_, err = s.SubmitTasks(ctx(t), ghost, store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "m", Options: &chorusv1.TaskOptions{Partition: part}}}})
	wantMessage(t, err, store.CodeNotFound, missing)
	_, err = s.CompleteResult(ctx(t), ghost, "r", store.ResultData{Inline: []byte("x"), Size: 1})
	wantMessage(t, err, store.CodeNotFound, missing)
	_, err = s.GetTask(ctx(t), ghost, "t1")
	wantMessage(t, err, store.CodeNotFound, missing)
	_, err = s.GetResult(ctx(t), ghost, "r1")
	wantMessage(t, err, store.CodeNotFound, missing)
	_, err = s.GetResultData(ctx(t), ghost, []string{"r1"})
	wantMessage(t, err, store.CodeNotFound, missing)

	// The session exists: the missing thing is named.
	sid := newSession(t, s, 1)
	_, err = s.GetTask(ctx(t), sid, "t1")
	wantMessage(t, err, store.CodeNotFound, "task t1 does not exist in session "+sid)
	_, err = s.GetResult(ctx(t), sid, "r1")
	wantMessage(t, err, store.CodeNotFound, "result r1 does not exist in session "+sid)
	_, _, err = s.PurgeSession(ctx(t), sid)
	wantMessage(t, err, store.CodeFailedPrecondition, "session "+sid+" is running: only a closed or cancelled session can be purged; close or cancel it first")

	// A session that no longer takes work says which state it is in.
	task := []store.TaskSpec{{Method: "m"}}
	for _, c := range []struct {
		to   chorusv1.SessionStatus
		word string
	}{
		{chorusv1.SessionStatus_SESSION_STATUS_CLOSED, "closed"},
		{chorusv1.SessionStatus_SESSION_STATUS_CANCELLED, "cancelled"},
		{chorusv1.SessionStatus_SESSION_STATUS_PURGED, "purged"},
	} {
		id := newSession(t, s, 1)
		if c.to == chorusv1.SessionStatus_SESSION_STATUS_PURGED {
			if _, err := s.SetSessionStatus(ctx(t), id, chorusv1.SessionStatus_SESSION_STATUS_CLOSED); err != nil {
				t.Fatalf("close: %v", err)
			}
			if _, _, err := s.PurgeSession(ctx(t), id); err != nil {
				t.Fatalf("purge: %v", err)
			}
		} else if _, err := s.SetSessionStatus(ctx(t), id, c.to); err != nil {
			t.Fatalf("move to %v: %v", c.to, err)
		}
		_, err := s.SubmitTasks(ctx(t), id, store.SubmitBatch{Tasks: task})
		if store.CodeOf(err) != store.CodeFailedPrecondition || !strings.HasPrefix(err.Error(), "session "+id+" is "+c.word+":") ||
			strings.Contains(err.Error(), " or ") {
			t.Fatalf("submit to a %s session: %v; want FailedPrecondition saying it is %s", c.word, err, c.word)
		}
		_, err = s.CreateResults(ctx(t), id, []store.ResultSpec{{ResultID: "r"}})
		wantMessage(t, err, store.CodeFailedPrecondition, "session "+id+" is "+c.word+": it accepts no new results")
		if c.to != chorusv1.SessionStatus_SESSION_STATUS_CLOSED {
			_, err = s.SetSessionStatus(ctx(t), id, chorusv1.SessionStatus_SESSION_STATUS_RUNNING)
			wantMessage(t, err, store.CodeFailedPrecondition, "session "+id+" is "+c.word+" and a "+c.word+" session cannot become running")
		}
	}
}

// testCompletionRefusals: a completion that writes what its task may not write is refused whole, with
// a message naming the result, and leaves the task leased (its worker may still complete it properly):
// an output the task does not expect, the same output twice, a new result whose id is taken, an
// output both written and handed to a subtask, and a new result also expected from a subtask.
func testCompletionRefusals(t *testing.T, s store.Store, _ *clock.Fake) {
	sid := newSession(t, s, 1)
	st := submit(t, s, sid, store.TaskSpec{Method: "w", ExpectedOutputIDs: []string{"mine"}},
		store.TaskSpec{Method: "other", ExpectedOutputIDs: []string{"theirs"}})
	var c *store.ClaimedTask
	for _, x := range claim(t, s, 10) {
		if x.Lease.TaskID == st[0].TaskId {
			c = x
		}
	}
	if c == nil {
		t.Fatal("did not claim the task")
	}
	data := store.ResultData{Inline: []byte("x"), Size: 1}
	sub1, sub2 := store.NewTaskID(), store.NewTaskID()
	for _, tc := range []struct {
		what string
		comp store.Completion
		code store.Code
		msg  string
	}{
		{"an output the task does not expect", store.Completion{Outputs: []store.OutputData{{ResultID: "theirs", Data: data}}},
			store.CodeFailedPrecondition, "result theirs is not an expected output of task " + st[0].TaskId},
		{"the same output twice", store.Completion{Outputs: []store.OutputData{{ResultID: "mine", Data: data}, {ResultID: "mine", Data: data}}},
			store.CodeFailedPrecondition, "output mine is written twice"},
		{"a new result whose id is taken", store.Completion{NewResults: []store.ResultSpec{{ResultID: "theirs"}}},
			store.CodeAlreadyExists, "result id theirs is taken"},
		{"an output written and handed to a subtask", store.Completion{Outputs: []store.OutputData{{ResultID: "mine", Data: data}},
			Subtasks: []store.TaskSpec{{Method: "sub", ExpectedOutputIDs: []string{"mine"}}}, SubtaskIDs: []string{sub1}},
			store.CodeFailedPrecondition, "output mine is both written by task " + st[0].TaskId + " and handed to subtask " + sub1},
		{"a new result also expected from a subtask", store.Completion{NewResults: []store.ResultSpec{{ResultID: "fresh"}},
			Subtasks: []store.TaskSpec{{Method: "sub", ExpectedOutputIDs: []string{"fresh"}}}, SubtaskIDs: []string{sub2}},
			store.CodeFailedPrecondition, "result fresh is created by the completion and also expected from subtask " + sub2},
	} {
		tc.comp.Lease = c.Lease
		wantMessage(t, s.Complete(ctx(t), tc.comp), tc.code, tc.msg)
		if got := taskStatus(t, s, sid, st[0].TaskId); got != chorusv1.TaskStatus_TASK_STATUS_DISPATCHED {
			t.Fatalf("after a completion writing %s was refused, the task is %v; want it still DISPATCHED", tc.what, got)
		}
	}
	if _, err := s.GetResult(ctx(t), sid, "fresh"); err == nil {
		t.Fatal("a refused completion created its new result")
	}
	// the worker then completes it properly
	if err := s.Complete(ctx(t), store.Completion{Lease: c.Lease, Outputs: []store.OutputData{{ResultID: "mine", Data: data}}}); err != nil {
		t.Fatalf("the proper completion after the refused ones: %v", err)
	}
	if got := taskStatus(t, s, sid, st[0].TaskId); got != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
		t.Fatalf("task %v after its proper completion; want COMPLETED", got)
	}
}
