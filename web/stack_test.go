package webui_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/chorus-hpc/chorus/agent"
	"github.com/chorus-hpc/chorus/gateway"
	"github.com/chorus-hpc/chorus/internal/objstore/local"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/testutil/jaegertest"
	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
	"github.com/chorus-hpc/chorus/sdks/go/client"
	"github.com/chorus-hpc/chorus/stack/stacktest"
)

// chromiumPath is Debian's chromium (`scripts/install-system.sh web`; `make test-web` installs it).
const chromiumPath = "/usr/bin/chromium"

// stack is what `chorus dev` runs, in this process: a real valkey-server, a gateway (with the
// dashboard and --jaeger-url), an agent with the Go example worker, a real Jaeger receiving the
// spans of the client, gateway, agent and worker, and one headless chromium.
type stack struct {
	base    string // the dashboard's (and REST API's) base URL
	jaeger  *jaegertest.Jaeger
	client  *client.Client
	browser context.Context // chromedp context of the browser; tabs are its children
	shots   string          // screenshot folder
}

// session creates a session whose tasks default to partition go, with labels.
func (s *stack) session(ctx context.Context, t *testing.T, labels map[string]string) *client.Session {
	t.Helper()
	sess, err := s.client.CreateSession(ctx, client.SessionOptions{Partition: "go", Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

// tracerProvider exports to j; with no Jaeger it records nothing.
func tracerProvider(t *testing.T, j *jaegertest.Jaeger, service string) *sdktrace.TracerProvider {
	if j == nil {
		return sdktrace.NewTracerProvider()
	}
	return j.TracerProvider(t, service)
}

// startStack starts everything; it is stopped when t ends.
func startStack(t *testing.T) *stack {
	if testing.Short() {
		t.Skip("browser tests run in `make test-web` (skipped with -short)")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s is not installed: run `bash scripts/install-system.sh web` (make test-web does it) to run the dashboard's browser tests", chromiumPath)
	}
	root := stacktest.RepoRoot(t)
	// Without bin/jaeger the trace test fails (it names `make jaeger-build`); the others still run.
	var j *jaegertest.Jaeger
	if jaegertest.Binary() != "" {
		j = jaegertest.Start(t)
	}
	prop := propagation.TraceContext{}
	gatewayTP, agentTP, clientTP := tracerProvider(t, j, "chorus-gateway"), tracerProvider(t, j, "chorus-agent"), tracerProvider(t, j, "chorus-client")
	jaegerURL, workerEnv := "", map[string]string{}
	if j != nil {
		jaegerURL = j.QueryURL
		workerEnv = j.WorkerEnv("chorus-worker-go")
	}

	vk := valkeytest.Start(t)
	gwStore, err := valkeystore.New(valkeystore.Config{Client: vk.Client(t), TracerProvider: gatewayTP})
	if err != nil {
		t.Fatal(err)
	}
	agStore, err := valkeystore.New(valkeystore.Config{Client: vk.Client(t), TracerProvider: agentTP})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := local.New(local.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })

	gw, err := gateway.New(gateway.Config{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", DeclaredPartitions: []string{"go"},
		TracerProvider: gatewayTP, Propagator: prop, JaegerURL: jaegerURL, Logger: logger}, gwStore, objs)
	if err != nil {
		t.Fatal(err)
	}
	worker := stacktest.GoWorker(t)
	ag, err := agent.New(agent.Config{
		Partitions:     []agent.PartitionConfig{{Name: "go", Command: worker, Processes: 2, Capacity: 8, Env: workerEnv}},
		TracerProvider: agentTP, Propagator: prop, RuntimeDir: t.TempDir(), HeartbeatInterval: time.Second, Logger: logger,
	}, agStore, objs)
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range []func(context.Context) error{gw.Run, ag.Run} {
		wg.Add(1)
		go func() { defer wg.Done(); _ = run(ctx) }()
	}
	cl, err := client.Dial(ctx, gw.GRPCAddr(), client.WithTracerProvider(clientTP), client.WithPropagator(prop))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })

	browser := newBrowser(t)
	shots := filepath.Join(root, "web", ".screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return &stack{base: "http://" + gw.HTTPAddr(), jaeger: j, client: cl, browser: browser, shots: shots}
}

// newBrowser starts a headless chromium with a fresh profile; it is stopped when t ends.
func newBrowser(t *testing.T) context.Context {
	// The profile folder is removed by hand: chromium's helper processes may still write to it for a
	// moment after the browser exits, which t.TempDir's cleanup reports as a failure.
	profile, err := os.MkdirTemp("", "chorus-web-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; os.RemoveAll(profile) != nil && i < 50; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	alloc, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1400, 1000),
	)
	browser, bcancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { bcancel(); acancel() })
	if err := chromedp.Run(browser); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	return browser
}

// tab is one browser tab of a test, recording every console error and uncaught exception.
type tab struct {
	t      *testing.T
	s      *stack
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

func (s *stack) tab(t *testing.T) *tab {
	return s.tabIn(t, s.browser)
}

// tabIn opens a tab in browser (s.browser, or one from newBrowser for a test that changes storage).
func (s *stack) tabIn(t *testing.T, browser context.Context) *tab {
	ctx, cancel := chromedp.NewContext(browser)
	ctx, tcancel := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { tcancel(); cancel() })
	tb := &tab{t: t, s: s, ctx: ctx}
	chromedp.ListenTarget(ctx, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError || ev.Type == runtime.APITypeAssert {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, strings.Trim(string(a.Value), `"`)+a.Description)
				}
				msg = "console." + string(ev.Type) + ": " + strings.Join(parts, " ")
			}
		case *runtime.EventExceptionThrown:
			msg = "uncaught: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.LevelError {
				msg = fmt.Sprintf("log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		}
		if msg != "" {
			tb.mu.Lock()
			tb.errors = append(tb.errors, msg)
			tb.mu.Unlock()
		}
	})
	tb.run(cdplog.Enable(), runtime.Enable())
	return tb
}

func (tb *tab) run(actions ...chromedp.Action) {
	tb.t.Helper()
	if err := chromedp.Run(tb.ctx, actions...); err != nil {
		tb.screenshot("failure-" + tb.t.Name())
		tb.t.Fatalf("browser: %v", err)
	}
}

// open loads a dashboard path and waits for the app to render.
func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.run(chromedp.Navigate(tb.s.base+path), chromedp.WaitVisible("main h1", chromedp.ByQuery))
}

// waitJS polls a JavaScript expression until it is truthy (at most timeout).
func (tb *tab) waitJS(what, expr string, timeout time.Duration) {
	tb.t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		err = chromedp.Run(tb.ctx, chromedp.Poll(expr, nil, chromedp.WithPollingTimeout(time.Until(deadline)), chromedp.WithPollingInterval(100*time.Millisecond)))
		// A page that reloads while polled loses its JavaScript context ("Cannot find context"), or
		// Chrome answers the poll's evaluation with "Inspected target navigated or closed": poll the
		// new page (a tab that is really gone fails at the deadline).
		if err == nil || !reloadedWhilePolled(err) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		var body string
		_ = chromedp.Run(tb.ctx, chromedp.Text("main", &body, chromedp.ByQuery))
		tb.screenshot("failure-" + tb.t.Name())
		tb.t.Fatalf("waiting for %s: %v\npage text:\n%s", what, err, body)
	}
}

// reloadedWhilePolled reports whether err is how Chrome answers an evaluation in a page that
// navigated away while it ran.
func reloadedWhilePolled(err error) bool {
	return strings.Contains(err.Error(), "Cannot find context") || strings.Contains(err.Error(), "Inspected target navigated or closed")
}

func (tb *tab) text(sel string) string {
	tb.t.Helper()
	var s string
	tb.run(chromedp.Text(sel, &s, chromedp.ByQuery))
	return s
}

func (tb *tab) click(sel string) {
	tb.t.Helper()
	tb.run(chromedp.WaitEnabled(sel, chromedp.ByQuery), chromedp.Click(sel, chromedp.ByQuery))
}

// screenshot saves the whole page as web/.screenshots/<name>.png.
func (tb *tab) screenshot(name string) {
	var buf []byte
	if err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(&buf, 100)); err != nil {
		tb.t.Logf("screenshot %s: %v", name, err)
		return
	}
	name = strings.NewReplacer("/", "_", " ", "_").Replace(name)
	p := filepath.Join(tb.s.shots, name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		tb.t.Logf("screenshot %s: %v", name, err)
		return
	}
	tb.t.Logf("screenshot: %s", p)
}

// noErrors fails the test if the page logged a console error or threw.
func (tb *tab) noErrors(page string) {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if len(tb.errors) > 0 {
		tb.t.Errorf("page %s logged %d errors:\n%s", page, len(tb.errors), strings.Join(tb.errors, "\n"))
		tb.errors = nil
	}
}

// nodeCount returns how many elements match a CSS selector.
func (tb *tab) nodeCount(sel string) int {
	var nodes []*cdp.Node
	tb.run(chromedp.Nodes(sel, &nodes, chromedp.ByQueryAll, chromedp.AtLeast(0)))
	return len(nodes)
}
