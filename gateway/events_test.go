package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// watch opens a gRPC watch; cancel ends it like a client going away.
func (e *env) watch(sid, cursor string, kinds ...chorusv1.EventKind) (chorusv1.EventService_WatchEventsClient, metadata.MD, context.CancelFunc) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(e.ctx)
	stream, err := e.events.WatchEvents(ctx, &chorusv1.WatchEventsRequest{SessionId: sid, Cursor: cursor, Kinds: kinds})
	if err != nil {
		cancel()
		e.t.Fatalf("WatchEvents: %v", err)
	}
	header, _ := stream.Header() // empty when the watch failed at once: Recv returns why
	return stream, header, cancel
}

func next(t testing.TB, stream chorusv1.EventService_WatchEventsClient) *chorusv1.Event {
	t.Helper()
	resp, err := stream.Recv()
	if err != nil {
		t.Fatalf("watch Recv: %v", err)
	}
	return resp.GetEvent()
}

func TestWatchEventsResumesGRPC(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	sid := e.session()
	if _, err := e.results.CreateResults(e.ctx, &chorusv1.CreateResultsRequest{SessionId: sid, Results: []*chorusv1.ResultSpec{{ResultId: "a", Data: []byte("x")}}}); err != nil {
		t.Fatal(err)
	}
	stream, _, cancel := e.watch(sid, "")
	first := next(t, stream)
	if first.GetSessionId() != sid || first.GetCursor() == "" {
		t.Fatalf("first event = %v", first)
	}
	// The client goes away after the first event, then more happens.
	cancel()
	for {
		if _, err := stream.Recv(); err != nil {
			wantCode(t, err, codes.Canceled)
			break
		}
	}
	if _, err := e.sessions.PauseSession(e.ctx, &chorusv1.PauseSessionRequest{SessionId: sid}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sessions.ResumeSession(e.ctx, &chorusv1.ResumeSessionRequest{SessionId: sid}); err != nil {
		t.Fatal(err)
	}
	// Reconnecting from the cursor delivers what came after it, first the events that were already
	// there, in order, without the one already seen.
	stream, header, cancel := e.watch(sid, first.GetCursor(), chorusv1.EventKind_EVENT_KIND_SESSION_STATUS)
	defer cancel()
	if got := header.Get("chorus-cursor"); len(got) != 1 || got[0] != first.GetCursor() {
		t.Fatalf("chorus-cursor header = %v, want %s", got, first.GetCursor())
	}
	paused, resumed := next(t, stream), next(t, stream)
	if paused.GetSessionStatus().GetStatus() != chorusv1.SessionStatus_SESSION_STATUS_PAUSED ||
		resumed.GetSessionStatus().GetStatus() != chorusv1.SessionStatus_SESSION_STATUS_RUNNING {
		t.Fatalf("after the cursor: %v then %v; want PAUSED then RUNNING", paused, resumed)
	}
	if paused.GetCursor() == first.GetCursor() {
		t.Fatalf("the event at the resume cursor %s was delivered again", first.GetCursor())
	}
	// Live events arrive on the open stream.
	if _, err := e.sessions.CloseSession(e.ctx, &chorusv1.CloseSessionRequest{SessionId: sid}); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, stream); ev.GetSessionStatus().GetStatus() != chorusv1.SessionStatus_SESSION_STATUS_CLOSED {
		t.Fatalf("live event = %v, want CLOSED", ev)
	}

	// "$" starts from now: the header names the newest cursor, and only later events follow.
	now, header, cancelNow := e.watch(sid, "$")
	defer cancelNow()
	if got := header.Get("chorus-cursor"); len(got) != 1 || got[0] == "$" || got[0] == "" {
		t.Fatalf("chorus-cursor header for $ = %v, want a concrete cursor", got)
	}
	if _, err := e.sessions.CancelSession(e.ctx, &chorusv1.CancelSessionRequest{SessionId: sid}); err != nil {
		t.Fatal(err)
	}
	for {
		ev := next(t, now)
		if ev.GetSessionStatus() == nil {
			continue // cancelling may report other events first
		}
		if ev.GetSessionStatus().GetStatus() != chorusv1.SessionStatus_SESSION_STATUS_CANCELLED {
			t.Fatalf("first session event from $ = %v, want CANCELLED", ev)
		}
		break
	}

	// Errors.
	bad, _, c1 := e.watch("snope", "")
	defer c1()
	_, err := bad.Recv()
	wantCode(t, err, codes.NotFound, "snope")
	bad, _, c2 := e.watch(sid, "not-a-cursor", 0)
	defer c2()
	_, err = bad.Recv()
	st := wantCode(t, err, codes.InvalidArgument, "cursor")
	wantFields(t, st.Details(), "cursor", "kinds[0]")
}

// restEvent is one line of grpc-gateway's newline-delimited JSON stream.
type restEvent struct {
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

func TestWatchEventsREST(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	sid := e.session()
	if _, err := e.sessions.PauseSession(e.ctx, &chorusv1.PauseSessionRequest{SessionId: sid}); err != nil {
		t.Fatal(err)
	}
	open := func(query string) (*http.Response, *bufio.Scanner, context.CancelFunc) {
		ctx, cancel := context.WithCancel(e.ctx)
		req, _ := http.NewRequestWithContext(ctx, "GET", e.base+"/v1/sessions/"+sid+"/events"+query, nil)
		resp, err := e.httpc.Do(req)
		if err != nil {
			cancel()
			t.Fatalf("GET events: %v", err)
		}
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			cancel()
			t.Fatalf("GET events: HTTP %d: %s", resp.StatusCode, b)
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		return resp, sc, cancel
	}
	read := func(sc *bufio.Scanner) *chorusv1.Event {
		t.Helper()
		if !sc.Scan() {
			t.Fatalf("event stream ended: %v", sc.Err())
		}
		var line restEvent
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.Error != nil {
			t.Fatalf("event line %s: %v", sc.Bytes(), err)
		}
		var resp chorusv1.WatchEventsResponse
		if err := protojson.Unmarshal(line.Result, &resp); err != nil {
			t.Fatalf("event %s: %v", line.Result, err)
		}
		return resp.GetEvent()
	}

	resp, sc, cancel := open("?kinds=EVENT_KIND_SESSION_STATUS")
	if ev := read(sc); ev.GetSessionStatus().GetStatus() != chorusv1.SessionStatus_SESSION_STATUS_RUNNING {
		t.Fatalf("first session event = %v, want RUNNING (created)", ev)
	}
	first := read(sc)
	if first.GetSessionStatus().GetStatus() != chorusv1.SessionStatus_SESSION_STATUS_PAUSED {
		t.Fatalf("second session event = %v, want PAUSED", first)
	}
	cancel() // the client goes away
	resp.Body.Close()

	if _, err := e.sessions.ResumeSession(e.ctx, &chorusv1.ResumeSessionRequest{SessionId: sid}); err != nil {
		t.Fatal(err)
	}
	resp, sc, cancel = open("?kinds=EVENT_KIND_SESSION_STATUS&cursor=" + first.GetCursor())
	defer cancel()
	defer resp.Body.Close()
	if got := resp.Header.Get("Chorus-Cursor"); got != first.GetCursor() {
		t.Fatalf("Chorus-Cursor = %q, want %q", got, first.GetCursor())
	}
	if ev := read(sc); ev.GetSessionStatus().GetStatus() != chorusv1.SessionStatus_SESSION_STATUS_RUNNING {
		t.Fatalf("event after the cursor = %v, want RUNNING", ev)
	}
	if _, err := e.sessions.CloseSession(e.ctx, &chorusv1.CloseSessionRequest{SessionId: sid}); err != nil {
		t.Fatal(err)
	}
	if ev := read(sc); ev.GetSessionStatus().GetStatus() != chorusv1.SessionStatus_SESSION_STATUS_CLOSED {
		t.Fatalf("live event = %v, want CLOSED", ev)
	}

	// grpc-gateway answers a stream that fails before its first message with the HTTP status of the
	// error and the status wrapped in {"error": ...}.
	for _, tc := range []struct {
		query, part string
		http        int
		code        codes.Code
	}{
		{"/v1/sessions/snope/events", "snope", http.StatusNotFound, codes.NotFound},
		{"/v1/sessions/" + sid + "/events?cursor=x", "cursor", http.StatusBadRequest, codes.InvalidArgument},
	} {
		got, b, _ := e.rest("GET", tc.query, "")
		var line restEvent
		if err := json.Unmarshal(b, &line); err != nil || line.Error == nil {
			t.Fatalf("GET %s: %s is not a stream error", tc.query, b)
		}
		wantHTTPError(t, got, line.Error, tc.http, tc.code, tc.part)
	}
}

// TestShutdownEndsWatches stops a gateway with a watch open: the watch ends with UNAVAILABLE (the
// client resumes elsewhere) and Run returns without error.
func TestShutdownEndsWatches(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	sid := e.session()
	stream, _, cancel := e.watch(sid, "$")
	defer cancel()
	if err := e.stop(); err != nil {
		t.Fatalf("Run after shutdown: %v", err)
	}
	for {
		_, err := stream.Recv()
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			t.Fatalf("watch ended without a status")
		}
		wantCode(t, err, codes.Unavailable, "shutting down")
		break
	}
}

// TestWatchEventsBatches: a watch that asks for batches receives the events of one read in one
// message (events, in order, event unset); the same events as one per message otherwise.
func TestWatchEventsBatches(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	sid := e.session()
	specs := make([]*chorusv1.TaskSpec, 50)
	for i := range specs {
		specs[i] = &chorusv1.TaskSpec{Method: "m"}
	}
	sub, err := e.tasks.SubmitTasks(e.ctx, &chorusv1.SubmitTasksRequest{SessionId: sid, Tasks: specs})
	if err != nil {
		t.Fatal(err)
	}
	kinds := []chorusv1.EventKind{chorusv1.EventKind_EVENT_KIND_TASK_STATUS}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	batched, err := e.events.WatchEvents(ctx, &chorusv1.WatchEventsRequest{SessionId: sid, Kinds: kinds, Batches: true})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := batched.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetEvent() != nil || len(resp.GetEvents()) != len(specs) {
		t.Fatalf("batched message: event %v and %d events; want no event and %d events", resp.GetEvent(), len(resp.GetEvents()), len(specs))
	}
	single, _, cancelSingle := e.watch(sid, "", kinds...)
	defer cancelSingle()
	for i, ev := range resp.GetEvents() {
		one := next(t, single)
		if ev.GetTaskStatus().GetTaskId() != sub.Tasks[i].TaskId || one.GetCursor() != ev.GetCursor() {
			t.Fatalf("event %d: batched %v, single %v; want task %s at the same cursor", i, ev, one, sub.Tasks[i].TaskId)
		}
	}
}
