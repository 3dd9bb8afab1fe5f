package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

func TestSessionsGRPC(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	created, err := e.sessions.CreateSession(e.ctx, &chorusv1.CreateSessionRequest{
		DefaultTaskOptions: &chorusv1.TaskOptions{Partition: declared},
		Weight:             3,
		Labels:             map[string]string{"team": "risk"},
	})
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	s := created.GetSession()
	if s.GetStatus() != chorusv1.SessionStatus_SESSION_STATUS_RUNNING || s.GetWeight() != 3 || s.GetLabels()["team"] != "risk" {
		t.Fatalf("created session = %v", s)
	}
	id := s.GetSessionId()

	got, err := e.sessions.GetSession(e.ctx, &chorusv1.GetSessionRequest{SessionId: id})
	if err != nil || got.GetSession().GetDefaultTaskOptions().GetPartition() != declared {
		t.Fatalf("GetSession = %v, %v", got, err)
	}
	list, err := e.sessions.ListSessions(e.ctx, &chorusv1.ListSessionsRequest{Status: chorusv1.SessionStatus_SESSION_STATUS_RUNNING})
	if err != nil || !containsSession(list.GetSessions(), id) {
		t.Fatalf("ListSessions = %v, %v; want it to contain %s", list, err, id)
	}

	steps := []struct {
		name string
		call func() (*chorusv1.Session, error)
		want chorusv1.SessionStatus
	}{
		{"pause", sessionCall(e.ctx, e.sessions.PauseSession, &chorusv1.PauseSessionRequest{SessionId: id}), chorusv1.SessionStatus_SESSION_STATUS_PAUSED},
		{"resume", sessionCall(e.ctx, e.sessions.ResumeSession, &chorusv1.ResumeSessionRequest{SessionId: id}), chorusv1.SessionStatus_SESSION_STATUS_RUNNING},
		{"close", sessionCall(e.ctx, e.sessions.CloseSession, &chorusv1.CloseSessionRequest{SessionId: id}), chorusv1.SessionStatus_SESSION_STATUS_CLOSED},
		{"cancel", sessionCall(e.ctx, e.sessions.CancelSession, &chorusv1.CancelSessionRequest{SessionId: id}), chorusv1.SessionStatus_SESSION_STATUS_CANCELLED},
		{"purge", sessionCall(e.ctx, e.sessions.PurgeSession, &chorusv1.PurgeSessionRequest{SessionId: id}), chorusv1.SessionStatus_SESSION_STATUS_PURGED},
	}
	for _, step := range steps {
		s, err := step.call()
		if err != nil || s.GetStatus() != step.want {
			t.Fatalf("%s: session = %v, %v; want %v", step.name, s, err, step.want)
		}
	}

	// Errors: unknown session, invalid ids, a move the state machine forbids.
	_, err = e.sessions.GetSession(e.ctx, &chorusv1.GetSessionRequest{SessionId: "snope"})
	wantCode(t, err, codes.NotFound, "snope")
	_, err = e.sessions.PauseSession(e.ctx, &chorusv1.PauseSessionRequest{SessionId: "snope"})
	wantCode(t, err, codes.NotFound, "snope")
	_, err = e.sessions.GetSession(e.ctx, &chorusv1.GetSessionRequest{SessionId: "../etc"})
	st := wantCode(t, err, codes.InvalidArgument, "session_id")
	wantFields(t, st.Details(), "session_id")
	_, err = e.sessions.CreateSession(e.ctx, &chorusv1.CreateSessionRequest{Weight: 101, Labels: map[string]string{"": "x"},
		DefaultTaskOptions: &chorusv1.TaskOptions{Partition: "bad partition"}})
	st = wantCode(t, err, codes.InvalidArgument, "weight", "default_task_options.partition")
	wantFields(t, st.Details(), "weight", `labels[""]`, "default_task_options.partition")

	other := e.session()
	_, err = e.sessions.PurgeSession(e.ctx, &chorusv1.PurgeSessionRequest{SessionId: other})
	wantCode(t, err, codes.FailedPrecondition)
	if _, err := e.sessions.CancelSession(e.ctx, &chorusv1.CancelSessionRequest{SessionId: other}); err != nil {
		t.Fatalf("CancelSession: %v", err)
	}
	_, err = e.sessions.ResumeSession(e.ctx, &chorusv1.ResumeSessionRequest{SessionId: other})
	wantCode(t, err, codes.FailedPrecondition)
}

func TestSessionsREST(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	var created chorusv1.CreateSessionResponse
	e.restOK("POST", "/v1/sessions", `{"defaultTaskOptions":{"partition":"p1","maxDuration":"30s"},"weight":2,"labels":{"team":"risk"}}`, &created)
	s := created.GetSession()
	if s.GetStatus() != chorusv1.SessionStatus_SESSION_STATUS_RUNNING || s.GetDefaultTaskOptions().GetMaxDuration().AsDuration().Seconds() != 30 {
		t.Fatalf("created session = %v", s)
	}
	id := s.GetSessionId()
	var got chorusv1.GetSessionResponse
	e.restOK("GET", "/v1/sessions/"+id, "", &got)
	if got.GetSession().GetSessionId() != id || got.GetSession().GetLabels()["team"] != "risk" {
		t.Fatalf("GET session = %v", got.GetSession())
	}
	var list chorusv1.ListSessionsResponse
	e.restOK("GET", "/v1/sessions?pageSize=1000&status=SESSION_STATUS_RUNNING", "", &list)
	if !containsSession(list.GetSessions(), id) {
		t.Fatalf("listed sessions %v do not contain %s", list.GetSessions(), id)
	}
	for _, step := range []struct {
		verb string
		want chorusv1.SessionStatus
	}{
		{"pause", chorusv1.SessionStatus_SESSION_STATUS_PAUSED},
		{"resume", chorusv1.SessionStatus_SESSION_STATUS_RUNNING},
		{"close", chorusv1.SessionStatus_SESSION_STATUS_CLOSED},
		{"cancel", chorusv1.SessionStatus_SESSION_STATUS_CANCELLED},
		{"purge", chorusv1.SessionStatus_SESSION_STATUS_PURGED},
	} {
		var resp chorusv1.PauseSessionResponse // every verb answers {"session": ...}
		e.restOK("POST", "/v1/sessions/"+id+":"+step.verb, `{}`, &resp)
		if resp.GetSession().GetStatus() != step.want {
			t.Fatalf("%s: session = %v, want %v", step.verb, resp.GetSession(), step.want)
		}
	}

	e.restErr("GET", "/v1/sessions/snope", "", http.StatusNotFound, codes.NotFound, "snope")
	e.restErr("POST", "/v1/sessions/snope:close", `{}`, http.StatusNotFound, codes.NotFound, "snope")
	st := e.restErr("POST", "/v1/sessions", `{"weight":101,"labels":{"":"x"}}`, http.StatusBadRequest, codes.InvalidArgument, "weight")
	wantFields(t, st.Details(), "weight", `labels[""]`)
	e.restErr("GET", "/v1/sessions?pageSize=1001", "", http.StatusBadRequest, codes.InvalidArgument, "page_size")
	// A misspelt field is an error, not silently dropped; so is a body that is not JSON.
	e.restErr("POST", "/v1/sessions", `{"wieght":1}`, http.StatusBadRequest, codes.InvalidArgument, "wieght")
	e.restErr("POST", "/v1/sessions", `{`, http.StatusBadRequest, codes.InvalidArgument)
	// A body over MaxMessageSize is refused before it is read.
	big := `{"labels":{"k":"` + strings.Repeat("x", 17<<20) + `"}}`
	e.restErr("POST", "/v1/sessions", big, http.StatusRequestEntityTooLarge, codes.ResourceExhausted, "MaxMessageSize")

	other := e.session()
	e.restErr("POST", "/v1/sessions/"+other+":purge", `{}`, http.StatusBadRequest, codes.FailedPrecondition)
}

func containsSession(list []*chorusv1.Session, id string) bool {
	for _, s := range list {
		if s.GetSessionId() == id {
			return true
		}
	}
	return false
}
