package webui_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// TestDashboard drives the dashboard in headless chromium against one running stack; each subtest has
// its own session and tab and saves screenshots under web/.screenshots/.
func TestDashboard(t *testing.T) {
	s := startStack(t)
	t.Run("PagesLoadWithoutErrors", func(t *testing.T) { t.Parallel(); testPagesLoad(t, s) })
	t.Run("CountsMoveWithoutReload", func(t *testing.T) { t.Parallel(); testCountsMove(t, s) })
	t.Run("CancelFromPage", func(t *testing.T) { t.Parallel(); testCancelFromPage(t, s) })
	t.Run("FailedTaskShowsError", func(t *testing.T) { t.Parallel(); testFailedTask(t, s) })
	t.Run("TraceTimeline", func(t *testing.T) { t.Parallel(); testTraceTimeline(t, s) })
	t.Run("LargeSession", func(t *testing.T) { t.Parallel(); testLargeSession(t, s) })
	t.Run("TokenSentAsBearer", func(t *testing.T) { t.Parallel(); testToken(t, s) })
}

// testToken enters an API token in the page's field and checks every API call then carries it as
// "Authorization: Bearer <token>" (what the gateway checks when auth is on), the event stream too.
func testToken(t *testing.T, s *stack) {
	ctx := ctxFor(t, time.Minute)
	sess := s.session(ctx, t, nil)
	tb := s.tabIn(t, newBrowser(t)) // a browser of its own: the token must not reach the other tests
	var mu sync.Mutex
	auth := map[string]string{} // API path -> Authorization header seen
	chromedp.ListenTarget(tb.ctx, func(ev any) {
		if ev, ok := ev.(*network.EventRequestWillBeSent); ok && strings.Contains(ev.Request.URL, "/v1/") {
			v, _ := ev.Request.Headers["Authorization"].(string)
			mu.Lock()
			auth[strings.SplitN(strings.TrimPrefix(ev.Request.URL, s.base), "?", 2)[0]] = v
			mu.Unlock()
		}
	})
	tb.run(network.Enable())
	const token = "chorus-test-token-123"
	tb.open("/")
	tb.waitJS("the overview", `document.querySelector('tr[data-partition]') !== null`, 20*time.Second)
	// Only the requests made once the token is in count: the page reloads when it is saved.
	tb.run(chromedp.Evaluate(`window.__beforeToken = 1`, nil))
	mu.Lock()
	clear(auth)
	mu.Unlock()
	tb.run(chromedp.SendKeys(`input[data-token]`, token, chromedp.ByQuery), chromedp.Click(`form.token button[type="submit"]`, chromedp.ByQuery))
	tb.waitJS("the page reloaded with the token", fmt.Sprintf(`window.__beforeToken === undefined && localStorage.getItem("chorus.token") === %q && document.querySelector('tr[data-partition]') !== null`, token), 20*time.Second)
	tb.open("/sessions/" + sess.ID)
	tb.waitJS("the session page", `document.querySelector('.live.on') !== null`, 20*time.Second)
	tb.screenshot("token")
	mu.Lock()
	defer mu.Unlock()
	for _, p := range []string{"/v1/partitions", "/v1/sessions/" + sess.ID, "/v1/sessions/" + sess.ID + "/tasks", "/v1/sessions/" + sess.ID + "/events"} {
		if got := auth[p]; got != "Bearer "+token {
			t.Errorf("GET %s sent Authorization %q, want %q (requests seen: %v)", p, got, "Bearer "+token, auth)
		}
	}
	tb.noErrors("token")
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// submitAndWait submits g and waits until the session's tasks number tasks, all finished.
func submitAndWait(t *testing.T, ctx context.Context, sess *client.Session, g *client.Graph, tasks int64) []*chorusv1.SubmittedTask {
	t.Helper()
	sub, err := sess.Submit(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, ctx, sess, tasks)
	return sub
}

// waitDone waits (bounded) until the session has no unfinished task.
func waitDone(t *testing.T, ctx context.Context, sess *client.Session, want int64) *chorusv1.Session {
	t.Helper()
	for {
		got, err := sess.Get(ctx)
		if err != nil {
			t.Fatalf("reading session %s: %v", sess.ID, err)
		}
		c := got.GetTaskCounts()
		if c.GetCompleted()+c.GetFailed()+c.GetCancelled() >= want {
			return got
		}
		select {
		case <-ctx.Done():
			t.Fatalf("session %s did not finish %d tasks: %v", sess.ID, want, c)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// testPagesLoad opens every page of the dashboard (and its aliases) on a finished fanout graph and
// checks each shows its content and logs no console error.
func testPagesLoad(t *testing.T, s *stack) {
	ctx := ctxFor(t, 2*time.Minute)
	sess := s.session(ctx, t, map[string]string{"test": "pages"})
	g := client.NewGraph()
	a := g.Task("sha256", []byte("pages"))
	g.Task("echo", nil, client.DependsOn(a.Output()))
	g.Task("fanout", []byte("3"))
	// fanout submits 3 sha256 subtasks and a reducer: 7 tasks in all.
	sub := submitAndWait(t, ctx, sess, g, 7)

	tb := s.tab(t)
	for _, p := range []struct{ name, path, ready string }{
		{"overview", "/", `document.querySelector('tr[data-partition="go"]') !== null && document.querySelector('.chart .rate') !== null`},
		{"sessions", "/sessions", fmt.Sprintf(`document.querySelector('tr[data-session=%q]') !== null`, sess.ID)},
		{"session", "/sessions/" + sess.ID, `document.querySelector('[data-count="completed"]')?.textContent === "7" && document.querySelectorAll('[data-graph] [data-node]').length === 7 && document.querySelectorAll('table[data-table="tasks"] tbody tr').length === 7`},
		{"task", "/sessions/" + sess.ID + "/tasks/" + sub[1].GetTaskId(), `document.querySelector('[data-attempt="1"]') !== null && document.querySelector('tr[data-result] [data-download]') !== null && document.querySelector('[data-trace-id], [data-trace-message]') !== null`},
		{"ui-alias", "/ui", `location.pathname === "/" && document.querySelector('tr[data-partition="go"]') !== null`},
		{"dashboard-alias", "/dashboard", `location.pathname === "/" && document.querySelector('tr[data-partition="go"]') !== null`},
		{"sessions-filtered", "/sessions?status=SESSION_STATUS_RUNNING", fmt.Sprintf(`document.querySelector('tr[data-session=%q]') !== null`, sess.ID)},
		{"not-found", "/no/such/page", `document.querySelector('main h1').textContent === "Not found"`},
	} {
		tb.open(p.path)
		tb.waitJS(p.name+" page content", p.ready, 30*time.Second)
		tb.screenshot("pages-" + p.name)
		tb.noErrors(p.path)
	}
	// In-page navigation: from the sessions list to the session and on to a task, no reload.
	tb.open("/sessions")
	tb.run(chromedp.Evaluate(`window.__noReload = 1`, nil))
	tb.click(fmt.Sprintf(`tr[data-session=%q] a`, sess.ID))
	tb.waitJS("session page after a click", `document.querySelector('[data-count="total"]')?.textContent === "7"`, 20*time.Second)
	tb.click(fmt.Sprintf(`tr[data-task=%q] a`, sub[0].GetTaskId()))
	tb.waitJS("task page after a click", `location.pathname.includes("/tasks/") && document.querySelector('[data-attempt="1"]') !== null && window.__noReload === 1`, 20*time.Second)
	tb.noErrors("navigation")

	// The API and its neighbours are not shadowed by the dashboard.
	for path, want := range map[string]string{"/healthz": "ok", "/openapi.json": `"swagger"`, "/v1/sessions/" + sess.ID: `"sessionId"`} {
		resp, err := http.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: HTTP %d %.200s, want 200 with %s", path, resp.StatusCode, body, want)
		}
	}
}

// testCountsMove opens the page of an empty session, then submits a graph through the API and waits
// for the page's counts to reach it, without a reload.
func testCountsMove(t *testing.T, s *stack) {
	ctx := ctxFor(t, 2*time.Minute)
	sess := s.session(ctx, t, nil)
	tb := s.tab(t)
	tb.open("/sessions/" + sess.ID)
	tb.waitJS("the empty session's counts and live event stream", `document.querySelector('[data-count="total"]')?.textContent === "0" && document.querySelector('.live.on') !== null`, 20*time.Second)
	tb.run(chromedp.Evaluate(`window.__noReload = 1`, nil))
	tb.screenshot("counts-before")

	const n = 40
	g := client.NewGraph()
	var outs []string
	for i := range n - 1 {
		outs = append(outs, g.Task("sleep", []byte(strconv.Itoa(50+i%5*20))).Output())
	}
	g.Task("echo", nil, client.DependsOn(outs...))
	if _, err := sess.Submit(ctx, g); err != nil {
		t.Fatal(err)
	}
	// The counts move: the page first shows the tasks (some unfinished), then all of them completed.
	tb.waitJS("the submitted tasks in the counts", fmt.Sprintf(`document.querySelector('[data-count="total"]')?.textContent === "%d"`, n), 30*time.Second)
	tb.waitJS("every task completed", fmt.Sprintf(`document.querySelector('[data-count="completed"]')?.textContent === "%d" && window.__noReload === 1`, n), 60*time.Second)
	tb.waitJS("the throughput chart", `document.querySelector('.chart .rate') !== null`, 10*time.Second)
	tb.waitJS("the tasks table and graph caught up", fmt.Sprintf(`document.querySelectorAll('table[data-table="tasks"] [data-status="completed"]').length === %d && document.querySelectorAll('[data-graph] .node.s-completed').length === %d`, n, n), 20*time.Second)
	tb.screenshot("counts-after")
	tb.noErrors("session page while tasks run")
}

// testCancelFromPage pauses, resumes, cancels and purges a running session with the page's buttons
// (each confirmed in its dialog) and checks the API after each.
func testCancelFromPage(t *testing.T, s *stack) {
	ctx := ctxFor(t, 2*time.Minute)
	sess := s.session(ctx, t, nil)
	g := client.NewGraph()
	for range 20 {
		g.Task("sleep", []byte("600000")) // long enough to be running whatever the machine's load when the page cancels them
	}
	if _, err := sess.Submit(ctx, g); err != nil {
		t.Fatal(err)
	}
	tb := s.tab(t)
	tb.open("/sessions/" + sess.ID)
	tb.waitJS("the session's tasks", `document.querySelector('[data-count="total"]')?.textContent === "20"`, 20*time.Second)
	// act presses a lifecycle button, confirms, and checks both the page and the API.
	act := func(verb, badge string, want chorusv1.SessionStatus) {
		t.Helper()
		tb.click(fmt.Sprintf(`button[data-action=%q]`, verb))
		tb.waitJS("the confirmation of "+verb, `document.querySelector('[role="dialog"] [data-confirm="yes"]') !== null`, 5*time.Second)
		if verb == "cancel" {
			tb.screenshot("cancel-confirm")
		}
		tb.click(`[role="dialog"] [data-confirm="yes"]`)
		tb.waitJS("the "+badge+" badge", fmt.Sprintf(`document.querySelector('h1 .badge')?.dataset.status === %q`, badge), 20*time.Second)
		got, err := sess.Get(ctx)
		if err != nil {
			t.Fatalf("after %s on the page: %v", verb, err)
		}
		if got.GetStatus() != want {
			t.Fatalf("after %s on the page, the API says session %s is %s, want %s", verb, sess.ID, got.GetStatus(), want)
		}
	}
	act("pause", "paused", chorusv1.SessionStatus_SESSION_STATUS_PAUSED)
	act("resume", "running", chorusv1.SessionStatus_SESSION_STATUS_RUNNING)
	// "Keep it" leaves the session alone.
	tb.click(`button[data-action="cancel"]`)
	tb.click(`[role="dialog"] button:not([data-confirm])`)
	tb.waitJS("the dialog closed", `document.querySelector('[role="dialog"]') === null`, 5*time.Second)
	if got, err := sess.Get(ctx); err != nil || got.GetStatus() != chorusv1.SessionStatus_SESSION_STATUS_RUNNING {
		t.Fatalf("after 'Keep it': session %v, %v; want RUNNING", got.GetStatus(), err)
	}
	act("cancel", "cancelled", chorusv1.SessionStatus_SESSION_STATUS_CANCELLED)
	done := waitDone(t, ctx, sess, 20)
	if c := done.GetTaskCounts(); c.GetCancelled() != 20 {
		t.Errorf("after Cancel on the page: task counts %v, want 20 cancelled", c)
	}
	tb.waitJS("the cancelled counts", `document.querySelector('[data-count="cancelled"]')?.textContent === "20"`, 20*time.Second)
	tb.screenshot("cancel-done")
	act("purge", "purged", chorusv1.SessionStatus_SESSION_STATUS_PURGED)
	tb.waitJS("the purged session's empty page", `document.querySelector('[data-count="total"]')?.textContent === "0" && document.querySelector('[data-graph]') === null`, 20*time.Second)
	tb.screenshot("purge-done")
	tb.noErrors("cancel")
}

// testFailedTask runs a task that fails and checks its page (and the session's) shows the error.
func testFailedTask(t *testing.T, s *stack) {
	ctx := ctxFor(t, 2*time.Minute)
	sess := s.session(ctx, t, nil)
	const msg = "disk quota exceeded on /scratch"
	g := client.NewGraph()
	g.Task("fail", []byte(msg), client.MaxRetries(1))
	sub := submitAndWait(t, ctx, sess, g, 1)
	tb := s.tab(t)
	tb.open("/sessions/" + sess.ID)
	tb.waitJS("the failed tasks table", fmt.Sprintf(`document.querySelector('table[data-table="failed"]')?.textContent.includes(%q)`, msg), 20*time.Second)
	tb.screenshot("failed-session")
	tb.open("/sessions/" + sess.ID + "/tasks/" + sub[0].GetTaskId())
	tb.waitJS("the task's error", fmt.Sprintf(`document.querySelector('[data-task-error]')?.textContent.includes(%q)`, msg), 20*time.Second)
	// Its attempt (a worker error is not retried) shows the error on the timeline.
	tb.waitJS("the attempt with its error", fmt.Sprintf(`document.querySelectorAll('[data-attempt]').length >= 1 && [...document.querySelectorAll('[data-attempt]')].every(r => r.textContent.includes(%q))`, msg), 20*time.Second)
	tb.screenshot("failed-task")
	tb.noErrors("failed task")
}

// testTraceTimeline submits a traced task and checks its page draws spans of the client, gateway,
// agent and worker, read from the real Jaeger through the gateway.
func testTraceTimeline(t *testing.T, s *stack) {
	if s.jaeger == nil {
		t.Fatal("bin/jaeger is not built: run `make jaeger-build` (make test-web does it)")
	}
	ctx := ctxFor(t, 2*time.Minute)
	sess := s.session(ctx, t, nil)
	g := client.NewGraph()
	g.Task("sha256", []byte("traced from the dashboard"))
	sub := submitAndWait(t, ctx, sess, g, 1)
	tb := s.tab(t)
	tb.open("/sessions/" + sess.ID + "/tasks/" + sub[0].GetTaskId())
	want := []string{"chorus-client", "chorus-gateway", "chorus-agent", "chorus-worker-go"}
	var conds []string
	for _, svc := range want {
		conds = append(conds, fmt.Sprintf(`document.querySelector('[data-timeline="trace"] [data-service=%q]') !== null`, svc))
	}
	tb.waitJS("spans of "+strings.Join(want, ", "), strings.Join(conds, " && "), 45*time.Second)
	link := tb.text("[data-jaeger-link]")
	if link == "" {
		t.Errorf("no link to Jaeger on the task page")
	}
	tb.screenshot("trace-timeline")
	tb.noErrors("trace")
}

// testLargeSession opens the page of a 10,000-task session while it runs and after it ended, and logs
// how long the page takes to show its counts and first page of tasks (measured, not asserted: speed
// belongs to benchmarks).
func testLargeSession(t *testing.T, s *stack) {
	ctx := ctxFor(t, 3*time.Minute)
	sess := s.session(ctx, t, nil)
	const n = 10000
	g := client.NewGraph()
	for i := range n {
		g.Task("echo", []byte(strconv.Itoa(i)))
	}
	tb := s.tab(t)
	submitted := time.Now()
	if _, err := sess.Submit(ctx, g); err != nil {
		t.Fatal(err)
	}
	t.Logf("submitted %d tasks in %v", n, time.Since(submitted).Round(time.Millisecond))
	firstPage := `document.querySelectorAll('table[data-table="tasks"] tbody tr').length === 50`
	start := time.Now()
	tb.open("/sessions/" + sess.ID)
	tb.waitJS("the running session's counts and first page", fmt.Sprintf(`document.querySelector('[data-count="total"]')?.textContent === "%d" && %s`, n, firstPage), 60*time.Second)
	t.Logf("session page of %d tasks (running) shown in %v", n, time.Since(start).Round(time.Millisecond))
	// The page follows the run live; note when the API and then the page see it finished.
	waitDone(t, ctx, sess, n)
	apiDone := time.Now()
	t.Logf("%d tasks ran in %v", n, apiDone.Sub(submitted).Round(time.Millisecond))
	tb.waitJS("the page to show every task completed", fmt.Sprintf(`document.querySelector('[data-count="completed"]')?.textContent === "%d"`, n), 30*time.Second)
	t.Logf("the live page showed %d completed %v after the API did", n, time.Since(apiDone).Round(time.Millisecond))
	tb.screenshot("large-session-live")

	ready := fmt.Sprintf(`document.querySelector('[data-count="completed"]')?.textContent === "%d" && %s`, n, firstPage)
	for i := range 3 {
		start := time.Now()
		tb.open("/sessions/" + sess.ID)
		tb.waitJS("the 10,000-task session's counts and first page", ready, 60*time.Second)
		t.Logf("session page of %d tasks (ended) shown in %v (load %d)", n, time.Since(start).Round(time.Millisecond), i+1)
	}
	if tb.nodeCount("[data-graph]") != 0 {
		t.Errorf("a 10,000-task session should not draw its graph")
	}
	tb.screenshot("large-session")
	tb.click(`.pager button:last-child`)
	tb.waitJS("the second page of tasks", `document.querySelector('.pager .muted')?.textContent === "page 2"`, 20*time.Second)
	tb.noErrors("large session")
}
