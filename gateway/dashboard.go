package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
	webui "github.com/chorus-hpc/chorus/web"
)

// Dashboard routes on the REST port. The dashboard itself reads the public REST API; the one thing it
// cannot read there is a task's trace, which lives in Jaeger, so the gateway fetches it server-side.
const (
	dashboardTracePath = "GET /ui/api/sessions/{session_id}/tasks/{task_id}/trace"
	jaegerTimeout      = 10 * time.Second
	maxTraceSpans      = 5000
)

// handleDashboard adds the REST API and the dashboard to mux: /v1/ to api; GETs of every other path
// that /metrics, /healthz, /readyz and /openapi.json do not claim to the dashboard's files; other
// methods there to api too, so its routing errors (404, 405 with Allow) answer them as before; /ui and
// /dashboard redirect to /; and the trace route.
func (s *Server) handleDashboard(mux *http.ServeMux, api http.Handler) {
	ui := webui.Handler()
	mux.Handle("/v1/", api)
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			ui.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	}))
	for _, p := range []string{"/ui", "/ui/{$}", "/dashboard", "/dashboard/{$}"} {
		mux.Handle("GET "+p, http.RedirectHandler("/", http.StatusFound))
	}
	mux.HandleFunc(dashboardTracePath, s.taskTrace)
}

// traceSpan is one span of a task's trace as the dashboard draws it.
type traceSpan struct {
	SpanID   string `json:"spanId"`
	ParentID string `json:"parentId,omitempty"`
	Service  string `json:"service"`
	Name     string `json:"name"`
	Start    int64  `json:"startMicros"` // Unix time in microseconds
	Duration int64  `json:"durationMicros"`
	Error    bool   `json:"error,omitempty"`
	TaskID   string `json:"taskId,omitempty"`
}

type taskTraceResponse struct {
	// Message says why there is no trace yet (no Jaeger configured, spans not arrived); TraceID is
	// then empty.
	Message string `json:"message,omitempty"`
	// Retry says the trace may appear later (Jaeger is configured but holds no span yet).
	Retry     bool        `json:"retry,omitempty"`
	TraceID   string      `json:"traceId"`
	JaegerURL string      `json:"jaegerUrl"` // the trace in Jaeger's UI
	Spans     []traceSpan `json:"spans"`
	Truncated bool        `json:"truncated,omitempty"`
}

// taskTrace answers the trace of one task, read from Jaeger. The task is first read through the
// gateway's own TaskService with the caller's credentials, so a caller sees only the traces of tasks it
// may see; then Jaeger is searched for the spans tagged with the task's id (the agent's and worker's
// spans carry chorus.task_id) and the whole trace is returned.
func (s *Server) taskTrace(w http.ResponseWriter, r *http.Request) {
	fail := func(err error) { runtime.HTTPError(r.Context(), s.gwmux, restMarshaler(), w, r, err) }
	sid, tid := r.PathValue("session_id"), r.PathValue("task_id")
	ctx, cancel := context.WithTimeout(r.Context(), jaegerTimeout)
	defer cancel()
	// The caller's credentials, as the REST routes pass them: its bearer token and verified client
	// certificate.
	md := restClientCert(ctx, r)
	if auth := r.Header.Get("Authorization"); auth != "" {
		md = metadata.Join(md, metadata.Pairs("authorization", auth))
	}
	ctx = metadata.NewOutgoingContext(ctx, md)
	resp, err := chorusv1.NewTaskServiceClient(s.conn).GetTask(ctx, &chorusv1.GetTaskRequest{SessionId: sid, TaskId: tid})
	if err != nil {
		fail(err)
		return
	}
	// No Jaeger, or no span of the task yet, is an answer rather than an error: the page says so.
	answer := func(out taskTraceResponse) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(out)
	}
	if s.cfg.JaegerURL == "" {
		answer(taskTraceResponse{Spans: []traceSpan{}, Message: "This gateway reads no traces: start it with --jaeger-url (CHORUS_JAEGER_URL), e.g. http://127.0.0.1:16686, to see task traces here."})
		return
	}
	base := strings.TrimRight(s.cfg.JaegerURL, "/")
	since := time.Now().Add(-48 * time.Hour)
	if ct := resp.GetTask().GetCreateTime(); ct != nil {
		since = ct.AsTime().Add(-time.Minute)
	}
	traceID, err := s.findTaskTrace(ctx, base, sid, tid, since)
	if err != nil {
		fail(err)
		return
	}
	if traceID == "" {
		answer(taskTraceResponse{Spans: []traceSpan{}, Retry: true, Message: fmt.Sprintf("Jaeger (%s) holds no span of this task yet: spans arrive a few seconds after the task runs, and only when the agent exports its traces to this Jaeger.", base)})
		return
	}
	var got jaegerResponse
	if err := getJaeger(ctx, base+"/api/traces/"+url.PathEscape(traceID), &got); err != nil {
		fail(err)
		return
	}
	out := taskTraceResponse{TraceID: traceID, JaegerURL: base + "/trace/" + traceID, Spans: []traceSpan{}}
	for _, tr := range got.Data {
		for _, sp := range tr.Spans {
			if len(out.Spans) == maxTraceSpans {
				out.Truncated = true
				break
			}
			out.Spans = append(out.Spans, sp.toTraceSpan(tr.Processes))
		}
	}
	sort.Slice(out.Spans, func(i, j int) bool { return out.Spans[i].Start < out.Spans[j].Start })
	answer(out)
}

// findTaskTrace searches every service Jaeger knows for a span tagged with the task; "" when none.
func (s *Server) findTaskTrace(ctx context.Context, base, sid, tid string, since time.Time) (string, error) {
	var services struct {
		Data []string `json:"data"`
	}
	if err := getJaeger(ctx, base+"/api/services", &services); err != nil {
		return "", err
	}
	// The agent's spans are the most likely to carry the tag: try the services named like it first.
	sort.SliceStable(services.Data, func(i, j int) bool {
		return strings.Contains(services.Data[i], "agent") && !strings.Contains(services.Data[j], "agent")
	})
	tags, _ := json.Marshal(map[string]string{"chorus.task_id": tid, "chorus.session_id": sid})
	for _, svc := range services.Data {
		q := url.Values{
			"service": {svc}, "tags": {string(tags)}, "limit": {"1"},
			"start": {strconv.FormatInt(since.UnixMicro(), 10)},
			"end":   {strconv.FormatInt(time.Now().Add(time.Minute).UnixMicro(), 10)},
		}
		var found jaegerResponse
		if err := getJaeger(ctx, base+"/api/traces?"+q.Encode(), &found); err != nil {
			return "", err
		}
		for _, tr := range found.Data {
			if tr.TraceID != "" {
				return tr.TraceID, nil
			}
		}
	}
	return "", nil
}

// jaegerResponse is the part of Jaeger's HTTP query API answer (/api/traces) the dashboard uses.
type jaegerResponse struct {
	Data []struct {
		TraceID   string                   `json:"traceID"`
		Spans     []jaegerSpan             `json:"spans"`
		Processes map[string]jaegerProcess `json:"processes"`
	} `json:"data"`
}

type jaegerSpan struct {
	SpanID     string `json:"spanID"`
	Operation  string `json:"operationName"`
	References []struct {
		RefType string `json:"refType"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	StartTime int64       `json:"startTime"`
	Duration  int64       `json:"duration"`
	Tags      []jaegerTag `json:"tags"`
	ProcessID string      `json:"processID"`
}

type jaegerTag struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

type jaegerProcess struct {
	ServiceName string `json:"serviceName"`
}

func (sp jaegerSpan) toTraceSpan(procs map[string]jaegerProcess) traceSpan {
	out := traceSpan{SpanID: sp.SpanID, Service: procs[sp.ProcessID].ServiceName, Name: sp.Operation,
		Start: sp.StartTime, Duration: sp.Duration}
	for _, ref := range sp.References {
		if ref.RefType == "CHILD_OF" {
			out.ParentID = ref.SpanID
			break
		}
	}
	for _, tag := range sp.Tags {
		switch tag.Key {
		case "error":
			out.Error = fmt.Sprint(tag.Value) == "true"
		case "otel.status_code":
			out.Error = out.Error || fmt.Sprint(tag.Value) == "ERROR"
		case "chorus.task_id":
			out.TaskID = fmt.Sprint(tag.Value)
		}
	}
	return out
}

// getJaeger GETs a Jaeger query API URL into v; a failure says which Jaeger did not answer and why.
func getJaeger(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return status.Errorf(codes.Internal, "building the Jaeger request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return status.Errorf(codes.Unavailable, "Jaeger does not answer at %s: %v (check --jaeger-url)", req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return status.Errorf(codes.Unavailable, "reading Jaeger's answer from %s: %v", req.URL.Redacted(), err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return status.Errorf(codes.NotFound, "Jaeger has no such trace (%s)", req.URL.Path)
	}
	if resp.StatusCode != http.StatusOK {
		return status.Errorf(codes.Unavailable, "Jaeger answered HTTP %d at %s: %.200s", resp.StatusCode, req.URL.Redacted(), body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return status.Errorf(codes.Unavailable, "Jaeger's answer from %s is not the JSON of its query API: %v", req.URL.Redacted(), err)
	}
	return nil
}
