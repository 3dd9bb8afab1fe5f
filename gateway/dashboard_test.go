package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/chorus-hpc/chorus/gateway"
	"github.com/chorus-hpc/chorus/internal/testutil/freeport"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// TestDashboardRoutes checks the dashboard is served at / and its own paths, /ui and /dashboard
// redirect there, and the API and health routes beside it are not shadowed.
func TestDashboardRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.httpc = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	code, index, hdr := e.rest("GET", "/", "")
	if code != http.StatusOK || !strings.Contains(string(index), `<div id="app">`) || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: HTTP %d %s %.200s, want the dashboard's index.html", code, hdr.Get("Content-Type"), index)
	}
	// The dashboard's own routes answer index.html, so a reload or a shared link works.
	for _, p := range []string{"/sessions", "/sessions/s1/tasks/t1", "/sessions?status=SESSION_STATUS_RUNNING"} {
		if code, b, _ := e.rest("GET", p, ""); code != http.StatusOK || string(b) != string(index) {
			t.Errorf("GET %s: HTTP %d, want index.html", p, code)
		}
	}
	asset := regexp.MustCompile(`/assets/[^"]+\.js`).FindString(string(index))
	if asset == "" {
		t.Fatalf("index.html names no script under /assets/: %s", index)
	}
	if code, b, hdr := e.rest("GET", asset, ""); code != http.StatusOK || len(b) == 0 || !strings.Contains(hdr.Get("Cache-Control"), "immutable") {
		t.Errorf("GET %s: HTTP %d, %d bytes, Cache-Control %q; want the script, cached for good", asset, code, len(b), hdr.Get("Cache-Control"))
	}
	if code, _, _ := e.rest("GET", "/assets/missing.js", ""); code != http.StatusNotFound {
		t.Errorf("GET /assets/missing.js: HTTP %d, want 404", code)
	}
	// Other methods than GET outside /v1/ get the API's routing errors, not the dashboard.
	code, b, hdr := e.rest("POST", "/sessions", "{}")
	wantHTTPError(t, code, b, http.StatusNotFound, codes.NotFound)
	if !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Errorf("POST /sessions: Content-Type %q, want the API's JSON error", hdr.Get("Content-Type"))
	}
	for _, p := range []string{"/ui", "/ui/", "/dashboard", "/dashboard/"} {
		if code, _, hdr := e.rest("GET", p, ""); code != http.StatusFound || hdr.Get("Location") != "/" {
			t.Errorf("GET %s: HTTP %d Location %q, want a redirect to /", p, code, hdr.Get("Location"))
		}
	}
	// Beside the dashboard: health, OpenAPI and the API answer as before.
	if code, b, _ := e.rest("GET", "/healthz", ""); code != http.StatusOK || string(b) != "ok\n" {
		t.Errorf("GET /healthz: HTTP %d %q", code, b)
	}
	if code, b, _ := e.rest("GET", "/openapi.json", ""); code != http.StatusOK || !strings.Contains(string(b), `"swagger"`) {
		t.Errorf("GET /openapi.json: HTTP %d %.100s", code, b)
	}
	code, b, _ = e.rest("GET", "/v1/nothing-here", "")
	wantHTTPError(t, code, b, http.StatusNotFound, codes.NotFound)
	e.restErr("GET", "/v1/sessions/snope", "", http.StatusNotFound, codes.NotFound, "snope")
}

// TestDashboardTraceRoute checks the task-trace route: the task is read with the caller's rights first
// (an unknown one is NOT_FOUND), a gateway without Jaeger says so, and a Jaeger that does not answer is
// UNAVAILABLE with its address. Traces read from a real Jaeger are covered by web's browser tests.
func TestDashboardTraceRoute(t *testing.T) {
	t.Parallel()
	type traceAnswer struct {
		TraceID string `json:"traceId"`
		Message string `json:"message"`
		Retry   bool   `json:"retry"`
	}
	submit := func(e *env) (string, string) {
		sid := e.session()
		resp, err := e.tasks.SubmitTasks(e.ctx, &chorusv1.SubmitTasksRequest{SessionId: sid, Tasks: []*chorusv1.TaskSpec{{Method: "echo"}}})
		if err != nil {
			t.Fatalf("SubmitTasks: %v", err)
		}
		return sid, resp.GetTasks()[0].GetTaskId()
	}

	e := newEnv(t, nil)
	sid, tid := submit(e)
	path := fmt.Sprintf("/ui/api/sessions/%s/tasks/%s/trace", sid, tid)
	code, b, _ := e.rest("GET", path, "")
	var got traceAnswer
	if err := json.Unmarshal(b, &got); code != http.StatusOK || err != nil || got.TraceID != "" || !strings.Contains(got.Message, "--jaeger-url") || got.Retry {
		t.Errorf("GET %s without Jaeger: HTTP %d %s, want 200 with a message naming --jaeger-url", path, code, b)
	}
	e.restErr("GET", fmt.Sprintf("/ui/api/sessions/%s/tasks/tnope/trace", sid), "", http.StatusNotFound, codes.NotFound, "tnope")
	e.restErr("GET", "/ui/api/sessions/snope/tasks/tnope/trace", "", http.StatusNotFound, codes.NotFound, "snope")

	// A port nothing listens on: Jaeger is down.
	down := fmt.Sprintf("http://127.0.0.1:%d", freeport.Get(t))
	e2 := newEnv(t, func(c *gateway.Config) { c.JaegerURL = down })
	sid, tid = submit(e2)
	e2.restErr("GET", fmt.Sprintf("/ui/api/sessions/%s/tasks/%s/trace", sid, tid), "", http.StatusServiceUnavailable, codes.Unavailable, "Jaeger does not answer", down)
}
