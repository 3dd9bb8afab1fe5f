package gateway_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/chorus-hpc/chorus/gateway"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// The API's edges, tried as a new user would (issue 14), over gRPC and REST.

// wantExact fails unless err is a status with code and exactly the message want.
func wantExact(t testing.TB, err error, code codes.Code, want string) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != code || st.Message() != want {
		t.Fatalf("got %v, want %v %q", err, code, want)
	}
}

func TestPageTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	var made []string
	for i := 0; i < 5; i++ {
		made = append(made, e.session())
	}
	// gRPC: sessions created between two pages do not make old ones appear twice.
	seen := map[string]int{}
	token := ""
	for pages := 0; ; pages++ {
		resp, err := e.sessions.ListSessions(e.ctx, &chorusv1.ListSessionsRequest{PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatalf("ListSessions: %v", err)
		}
		for _, s := range resp.GetSessions() {
			seen[s.GetSessionId()]++
		}
		if pages == 0 {
			e.session()
			e.session()
		}
		if token = resp.GetNextPageToken(); token == "" || pages > 10 {
			break
		}
	}
	for _, id := range made {
		if seen[id] != 1 {
			t.Fatalf("session %s listed %d times: %v", id, seen[id], seen)
		}
	}
	// REST: the same token walk.
	var page chorusv1.ListSessionsResponse
	e.restOK("GET", "/v1/sessions?pageSize=3", "", &page)
	if len(page.GetSessions()) != 3 || page.GetNextPageToken() == "" {
		t.Fatalf("REST first page = %v", &page)
	}
	var page2 chorusv1.ListSessionsResponse
	e.restOK("GET", "/v1/sessions?pageSize=3&pageToken="+page.GetNextPageToken(), "", &page2)
	if len(page2.GetSessions()) != 3 || page2.GetSessions()[0].GetSessionId() == page.GetSessions()[2].GetSessionId() {
		t.Fatalf("REST second page = %v", &page2)
	}

	sid := e.session()
	for _, bad := range []string{"garbage", "-1", "99999999999999999999", "AQEAAAAAAA"} {
		_, err := e.sessions.ListSessions(e.ctx, &chorusv1.ListSessionsRequest{PageToken: bad})
		st := wantCode(t, err, codes.InvalidArgument, "page_token")
		wantFields(t, st.Details(), "page_token")
		_, err = e.tasks.ListTasks(e.ctx, &chorusv1.ListTasksRequest{SessionId: sid, PageToken: bad})
		st = wantCode(t, err, codes.InvalidArgument, "page_token")
		wantFields(t, st.Details(), "page_token")
		_, err = e.results.ListResults(e.ctx, &chorusv1.ListResultsRequest{SessionId: sid, PageToken: bad})
		st = wantCode(t, err, codes.InvalidArgument, "page_token")
		wantFields(t, st.Details(), "page_token")
		for _, path := range []string{"/v1/sessions", "/v1/sessions/" + sid + "/tasks", "/v1/sessions/" + sid + "/results"} {
			st := e.restErr("GET", path+"?pageToken="+bad, "", http.StatusBadRequest, codes.InvalidArgument, "page_token")
			wantFields(t, st.Details(), "page_token")
		}
	}
	// A sessions token is not a tasks token.
	_, err := e.tasks.ListTasks(e.ctx, &chorusv1.ListTasksRequest{SessionId: sid, PageToken: page.GetNextPageToken()})
	wantCode(t, err, codes.InvalidArgument, "page_token", "another listing")
}

// TestErrorsNameTheSessionAsGiven: with the default key prefix "chorus:", a missing session is named
// as the caller wrote it, never as a piece of a Valkey key.
func TestErrorsNameTheSessionAsGiven(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const want = "session ghost-x does not exist"
	for _, c := range []struct {
		name               string
		call               func() error // over gRPC
		method, path, body string       // the same call over REST
	}{
		{"pause", errCall(e.ctx, e.sessions.PauseSession, &chorusv1.PauseSessionRequest{SessionId: "ghost-x"}),
			"POST", "/v1/sessions/ghost-x:pause", "{}"},
		{"resume", errCall(e.ctx, e.sessions.ResumeSession, &chorusv1.ResumeSessionRequest{SessionId: "ghost-x"}),
			"POST", "/v1/sessions/ghost-x:resume", "{}"},
		{"close", errCall(e.ctx, e.sessions.CloseSession, &chorusv1.CloseSessionRequest{SessionId: "ghost-x"}),
			"POST", "/v1/sessions/ghost-x:close", "{}"},
		{"cancel", errCall(e.ctx, e.sessions.CancelSession, &chorusv1.CancelSessionRequest{SessionId: "ghost-x"}),
			"POST", "/v1/sessions/ghost-x:cancel", "{}"},
		{"purge", errCall(e.ctx, e.sessions.PurgeSession, &chorusv1.PurgeSessionRequest{SessionId: "ghost-x"}),
			"POST", "/v1/sessions/ghost-x:purge", "{}"},
		{"tasks:cancel", errCall(e.ctx, e.tasks.CancelTasks, &chorusv1.CancelTasksRequest{SessionId: "ghost-x", TaskIds: []string{"t1"}}),
			"POST", "/v1/sessions/ghost-x/tasks:cancel", `{"taskIds":["t1"]}`},
		{"results:batchCreate", errCall(e.ctx, e.results.CreateResults, &chorusv1.CreateResultsRequest{SessionId: "ghost-x", Results: []*chorusv1.ResultSpec{{ResultId: "r"}}}),
			"POST", "/v1/sessions/ghost-x/results:batchCreate", `{"results":[{"resultId":"r"}]}`},
		{"GetTask", errCall(e.ctx, e.tasks.GetTask, &chorusv1.GetTaskRequest{SessionId: "ghost-x", TaskId: "t1"}),
			"GET", "/v1/sessions/ghost-x/tasks/t1", ""},
		{"GetResult", errCall(e.ctx, e.results.GetResult, &chorusv1.GetResultRequest{SessionId: "ghost-x", ResultId: "r1"}),
			"GET", "/v1/sessions/ghost-x/results/r1", ""},
	} {
		t.Run(c.name, func(t *testing.T) { wantExact(t, c.call(), codes.NotFound, want) })
		st := e.restErr(c.method, c.path, c.body, http.StatusNotFound, codes.NotFound)
		if st.Message() != want {
			t.Fatalf("%s %s: message %q, want %q", c.method, c.path, st.Message(), want)
		}
	}
}

// TestRefusalsSayWhichState: a submit to a session that takes no work says the state it is in.
func TestRefusalsSayWhichState(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, c := range []struct {
		word string
		move func(id string) error
	}{
		{"closed", func(id string) error {
			_, err := e.sessions.CloseSession(e.ctx, &chorusv1.CloseSessionRequest{SessionId: id})
			return err
		}},
		{"cancelled", func(id string) error {
			_, err := e.sessions.CancelSession(e.ctx, &chorusv1.CancelSessionRequest{SessionId: id})
			return err
		}},
		{"purged", func(id string) error {
			if _, err := e.sessions.CloseSession(e.ctx, &chorusv1.CloseSessionRequest{SessionId: id}); err != nil {
				return err
			}
			_, err := e.sessions.PurgeSession(e.ctx, &chorusv1.PurgeSessionRequest{SessionId: id})
			return err
		}},
	} {
		id := e.session()
		if err := c.move(id); err != nil {
			t.Fatalf("make a %s session: %v", c.word, err)
		}
		_, err := e.tasks.SubmitTasks(e.ctx, &chorusv1.SubmitTasksRequest{SessionId: id, Tasks: []*chorusv1.TaskSpec{{Method: "echo"}}})
		st := wantCode(t, err, codes.FailedPrecondition, "session "+id+" is "+c.word+":")
		if strings.Contains(st.Message(), " or ") {
			t.Fatalf("submit to a %s session: %q hedges between states", c.word, st.Message())
		}
		rst := e.restErr("POST", "/v1/sessions/"+id+"/tasks:batchCreate", `{"tasks":[{"method":"echo"}]}`,
			http.StatusBadRequest, codes.FailedPrecondition, "session "+id+" is "+c.word+":")
		if rst.Message() != st.Message() {
			t.Fatalf("REST says %q, gRPC %q", rst.Message(), st.Message())
		}
		_, err = e.results.CreateResults(e.ctx, &chorusv1.CreateResultsRequest{SessionId: id, Results: []*chorusv1.ResultSpec{{ResultId: "r"}}})
		wantExact(t, err, codes.FailedPrecondition, "session "+id+" is "+c.word+": it accepts no new results")
	}
	// A task of a session that exists is named with the session.
	sid := e.session()
	_, err := e.tasks.GetTask(e.ctx, &chorusv1.GetTaskRequest{SessionId: sid, TaskId: "t1"})
	wantExact(t, err, codes.NotFound, "task t1 does not exist in session "+sid)
}

// TestCancelCountsNamedTasks: the count is the named tasks cancelled; a dependent of a cancelled task is
// CANCELLED with error kind CANCELLED naming the aborted output (docs/task-states.md).
func TestCancelCountsNamedTasks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, overREST := range []bool{false, true} {
		sid := e.session()
		sub, err := e.tasks.SubmitTasks(e.ctx, &chorusv1.SubmitTasksRequest{SessionId: sid, Tasks: []*chorusv1.TaskSpec{
			{Method: "a", ExpectedOutputIds: []string{"o"}},
			{Method: "b", DataDependencies: []string{"o"}, ExpectedOutputIds: []string{"o2"}},
			{Method: "c", DataDependencies: []string{"o2"}},
		}})
		if err != nil {
			t.Fatalf("SubmitTasks: %v", err)
		}
		a := sub.GetTasks()[0].GetTaskId()
		var n int32
		if overREST {
			var resp chorusv1.CancelTasksResponse
			e.restOK("POST", "/v1/sessions/"+sid+"/tasks:cancel", `{"taskIds":["`+a+`","unknown-task"]}`, &resp)
			n = resp.GetCancelledCount()
		} else {
			resp, err := e.tasks.CancelTasks(e.ctx, &chorusv1.CancelTasksRequest{SessionId: sid, TaskIds: []string{a, "unknown-task"}})
			if err != nil {
				t.Fatalf("CancelTasks: %v", err)
			}
			n = resp.GetCancelledCount()
		}
		if n != 1 {
			t.Fatalf("cancelled_count = %d (REST %v), want 1: the one named task (its 2 dependents are not counted)", n, overREST)
		}
		for _, st := range sub.GetTasks()[1:] {
			got, err := e.tasks.GetTask(e.ctx, &chorusv1.GetTaskRequest{SessionId: sid, TaskId: st.GetTaskId()})
			if err != nil || got.GetTask().GetStatus() != chorusv1.TaskStatus_TASK_STATUS_CANCELLED ||
				got.GetTask().GetError().GetKind() != chorusv1.ErrorKind_ERROR_KIND_CANCELLED ||
				!strings.Contains(got.GetTask().GetError().GetMessage(), "was aborted") {
				t.Fatalf("dependent %s = %v, %v; want CANCELLED with a CANCELLED error naming the aborted output", st.GetTaskId(), got, err)
			}
		}
	}
}

func TestWrongMethodIs405(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, c := range []struct{ method, path, allow string }{
		{"DELETE", "/v1/sessions", "GET, POST"},
		{"PUT", "/v1/sessions/s1:pause", "POST"},
		{"DELETE", "/v1/sessions/s1/tasks/t1", "GET"},
		{"POST", "/v1/sessions/s1/results/r1/data", "GET, PUT"},
		{"POST", "/healthz", "GET"},
		{"DELETE", "/readyz", "GET"},
	} {
		code, body, hdr := e.rest(c.method, c.path, "")
		if code != http.StatusMethodNotAllowed || hdr.Get("Allow") != c.allow {
			t.Fatalf("%s %s: HTTP %d, Allow %q (%s); want 405 with Allow %q", c.method, c.path, code, hdr.Get("Allow"), body, c.allow)
		}
		if c.path != "/healthz" && c.path != "/readyz" && !strings.Contains(string(body), "not allowed") {
			t.Fatalf("%s %s: body %s does not say the method is not allowed", c.method, c.path, body)
		}
	}
	if code, body, _ := e.rest("GET", "/v1/nothing-here", ""); code != http.StatusNotFound {
		t.Fatalf("GET of an unknown path: HTTP %d %s, want 404", code, body)
	}
}

func TestOversizedBodyIs413(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *gateway.Config) { c.MaxMessageSize = 300 << 10; c.MaxResultSize = 16 << 10 })
	sid := e.session()
	big := `{"tasks":[{"method":"` + strings.Repeat("x", 400<<10) + `"}]}`
	// With Content-Length.
	e.restErr("POST", "/v1/sessions/"+sid+"/tasks:batchCreate", big, http.StatusRequestEntityTooLarge, codes.ResourceExhausted, "MaxMessageSize")
	// Without (chunked): the body is measured as it is read.
	req, _ := http.NewRequestWithContext(e.ctx, "POST", e.base+"/v1/sessions/"+sid+"/tasks:batchCreate", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantHTTPError(t, resp.StatusCode, b, http.StatusRequestEntityTooLarge, codes.ResourceExhausted, "MaxMessageSize")
	// A payload over MaxPayload and a raw upload over MaxResultSize: 413 too.
	e.restErr("POST", "/v1/sessions/"+sid+"/tasks:batchCreate", `{"tasks":[{"method":"m","payload":"`+strings.Repeat("QUFB", 1<<10)+`"}]}`,
		http.StatusRequestEntityTooLarge, codes.ResourceExhausted, "MaxPayload")
	e.restOK("POST", "/v1/sessions/"+sid+"/results:batchCreate", `{"results":[{"resultId":"r"}]}`, nil)
	e.restErr("PUT", "/v1/sessions/"+sid+"/results/r/data", strings.Repeat("x", 20<<10), http.StatusRequestEntityTooLarge, codes.ResourceExhausted, "MaxResultSize")
	// A full queue stays 429: retrying later can succeed.
}

func TestJSONErrorsNameTheField(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	sid := e.session()
	for _, c := range []struct {
		path, body string
		parts      []string
	}{
		{"/v1/sessions", `{"weight":[1]}`, []string{`field "weight"`, "whole number", "got an array"}},
		{"/v1/sessions", `{"labels":"x"}`, []string{`field "labels"`, "object", "got a string"}},
		{"/v1/sessions", `{"defaultTaskOptions":{"maxRetries":true}}`, []string{`field "defaultTaskOptions.maxRetries"`, "got true/false"}},
		{"/v1/sessions/" + sid + "/tasks:batchCreate", `{"tasks":[{"method":5}]}`, []string{`field "tasks[0].method"`, "a string", "got a number"}},
		{"/v1/sessions/" + sid + "/tasks:batchCreate", `{"tasks":{"method":"m"}}`, []string{`field "tasks"`, "an array", "got an object"}},
		{"/v1/sessions", `{"wieght":3}`, []string{`unknown field "wieght"`, "weight"}},
		{"/v1/sessions", `{"weight":`, []string{"not valid JSON"}},
	} {
		st := e.restErr("POST", c.path, c.body, http.StatusBadRequest, codes.InvalidArgument, c.parts...)
		if strings.Contains(st.Message(), "\u00a0") {
			t.Fatalf("%s %s: message %q has a non-breaking space", c.path, c.body, st.Message())
		}
	}
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	code, body, _ := e.rest("GET", "/openapi.json", "")
	if code != http.StatusOK {
		t.Fatalf("GET /openapi.json: HTTP %d", code)
	}
	var doc struct {
		Info struct {
			Title   string `json:"title"`
			Version string `json:"version"`
		} `json:"info"`
		Paths map[string]map[string]struct {
			Consumes []string `json:"consumes"`
			Produces []string `json:"produces"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Info.Title != "Chorus API" || doc.Info.Version != "v1" {
		t.Fatalf("info = %+v, want title Chorus API, version v1", doc.Info)
	}
	data := doc.Paths["/v1/sessions/{sessionId}/results/{resultId}/data"]
	if fmt.Sprint(data["get"].Produces) != "[application/octet-stream]" || fmt.Sprint(data["put"].Consumes) != "[application/octet-stream]" {
		t.Fatalf("raw data routes: %+v", data)
	}
	if fmt.Sprint(doc.Paths["/v1/results:upload"]["post"].Consumes) != "[application/x-ndjson]" {
		t.Fatalf("NDJSON upload: %+v", doc.Paths["/v1/results:upload"])
	}
	for _, p := range []string{"/healthz", "/readyz", "/openapi.json"} {
		if _, ok := doc.Paths[p]["get"]; !ok {
			t.Fatalf("%s is not described", p)
		}
	}
}
