package tracing_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/chorus-hpc/chorus/agent"
	"github.com/chorus-hpc/chorus/gateway"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/testutil/jaegertest"
	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
	"github.com/chorus-hpc/chorus/stack/stacktest"
)

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// startTracingE2E skips the test under -short, else returns the repository root, the Python of its
// venv (failing the test when there is none) and a running Jaeger.
func startTracingE2E(t *testing.T) (root, python string, j *jaegertest.Jaeger) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end (a real Jaeger, Valkey, gateway, agent and workers): run with `make test-e2e`")
	}
	root = stacktest.RepoRoot(t)
	python = filepath.Join(root, ".venv", "bin", "python")
	if !fileExists(python) {
		t.Fatalf("%s is missing: run `make python-venv` (make test does it before the Go tests)", python)
	}
	j = jaegertest.Start(t)
	return root, python, j
}

// startTraced starts a stack (cfg, with the go and python partitions), an agent serving them with the
// Go and the Python worker (tracing with agentTP; workerEnv, when not nil, gives a worker's
// environment by its service name) and a session (default partition go) of a client tracing with
// clientTP, all propagating W3C trace context.
func startTraced(ctx context.Context, t *testing.T, root, python string, cfg stacktest.Config, agentTP, clientTP *sdktrace.TracerProvider,
	workerEnv func(service string) map[string]string) (*stacktest.Agent, *client.Session) {
	t.Helper()
	prop := propagation.TraceContext{}
	cfg.Gateway.DeclaredPartitions, cfg.Gateway.Propagator = []string{"go", "python"}, prop
	env := func(service string) map[string]string {
		if workerEnv == nil {
			return nil
		}
		return workerEnv(service)
	}
	s := stacktest.Start(t, cfg)
	ag := s.StartAgent(agent.Config{
		Partitions: []agent.PartitionConfig{
			{Name: "go", Command: stacktest.GoWorker(t), Capacity: 4, Env: env("chorus-worker-go")},
			{Name: "python", Command: python, Args: []string{filepath.Join(root, "workers", "python", "worker.py")}, Env: env("chorus-worker-python")},
		},
		TracerProvider: agentTP, Propagator: prop,
	}, &valkeystore.Config{TracerProvider: agentTP})
	cl := s.Client(client.WithTracerProvider(clientTP), client.WithPropagator(prop))
	sess, err := cl.CreateSession(ctx, client.SessionOptions{Partition: "go"})
	if err != nil {
		t.Fatal(err)
	}
	return ag, sess
}

// TestOneTracePerTask runs a task on a Go worker, a task on a Python worker and a fanout graph through
// a real gateway and agent, then reads the trace from Jaeger: client, gateway, Valkey, agent and worker
// spans in one trace, each linked to its parent, with the fanout's subtasks inside it.
func TestOneTracePerTask(t *testing.T) {
	root, python, j := startTracingE2E(t)
	clientTP, gatewayTP, agentTP := j.TracerProvider(t, "chorus-client"), j.TracerProvider(t, "chorus-gateway"), j.TracerProvider(t, "chorus-agent")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ag, sess := startTraced(ctx, t, root, python, stacktest.Config{
		Gateway: gateway.Config{TracerProvider: gatewayTP},
		Store:   valkeystore.Config{TracerProvider: gatewayTP},
	}, agentTP, clientTP, j.WorkerEnv)
	g := client.NewGraph()
	onGo := g.Task("sha256", []byte("traced"))
	onPython := g.Task("echo", []byte("from python"), client.Partition("python"))
	fan := g.Task("fanout", []byte("3"))
	rctx, rootSpan := clientTP.Tracer("test").Start(ctx, "test job")
	if _, err := sess.Submit(rctx, g); err != nil {
		t.Fatal(err)
	}
	outs, err := sess.Wait(ctx, []string{onGo.Output(), onPython.Output(), fan.Output()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if o.Status != chorusv1.ResultStatus_RESULT_STATUS_COMPLETED {
			t.Fatalf("result %s: %s %s", o.ResultID, o.Status, o.Reason)
		}
	}
	rootSpan.End()
	// Stop the agent: its workers drain and exit, flushing their spans; then flush ours.
	if err := ag.Stop(); err != nil {
		t.Errorf("the agent stopped with %v", err)
	}
	for _, tp := range []*sdktrace.TracerProvider{clientTP, gatewayTP, agentTP} {
		tp.ForceFlush(ctx)
	}

	traceID := rootSpan.SpanContext().TraceID().String()
	var tr *jaegertest.Trace
	deadline := time.Now().Add(30 * time.Second)
	// Jaeger stores what it receives a little later: wait until the trace holds every span the checks
	// below look for (each parent, the root included, and the 7 runs), or the deadline.
	for {
		tr = j.WaitTrace(t, traceID, 1, 30*time.Second)
		if whole(tr, rootSpan.SpanContext().SpanID().String(), 7) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	byID := map[string]jaegertest.Span{}
	for _, s := range tr.Spans {
		byID[s.SpanID] = s
	}
	svc := services(tr)
	for _, want := range []string{"chorus-client", "chorus-gateway", "chorus-agent", "chorus-worker-go", "chorus-worker-python"} {
		if svc[want] == 0 {
			t.Errorf("trace %s has no span of %s (services: %v)", traceID, want, svc)
		}
	}
	// Every span but the root has its parent in the same trace.
	for _, s := range tr.Spans {
		if p := s.Parent(); p != "" {
			if _, ok := byID[p]; !ok {
				t.Errorf("span %q (%s) has parent %s, which is not in the trace", s.OperationName, tr.Service(s), p)
			}
		} else if s.SpanID != rootSpan.SpanContext().SpanID().String() {
			t.Errorf("span %q (%s) is a second root", s.OperationName, tr.Service(s))
		}
	}
	// chain returns the services from a span up to the root.
	chain := func(s jaegertest.Span) []string {
		var out []string
		for {
			out = append(out, tr.Service(s)+":"+s.OperationName)
			p, ok := byID[s.Parent()]
			if !ok {
				return out
			}
			s = p
		}
	}
	runs, workerSpans := 0, 0
	for _, s := range tr.Spans {
		c := strings.Join(chain(s), " <- ")
		switch {
		case tr.Service(s) == "chorus-agent" && strings.HasPrefix(s.OperationName, "chorus run"):
			runs++
			if !strings.Contains(c, "chorus-gateway:") || !strings.Contains(c, "chorus-client:chorus submit") {
				t.Errorf("agent run span does not descend from the gateway and the client's submit: %s", c)
			}
		case strings.HasPrefix(tr.Service(s), "chorus-worker-"):
			workerSpans++
			if p := byID[s.Parent()]; tr.Service(p) != "chorus-agent" {
				t.Errorf("worker span %q's parent is %s:%q, want an agent span", s.OperationName, tr.Service(p), p.OperationName)
			}
		case tr.Service(s) == "chorus-gateway" && strings.HasPrefix(s.OperationName, "valkey "):
			if p := byID[s.Parent()]; tr.Service(p) != "chorus-gateway" {
				t.Errorf("valkey span %q is not inside a gateway span", s.OperationName)
			}
		}
	}
	// sha256 + echo + fanout + 3 sha256 subtasks + the concat reducer: 7 runs, each with a worker span.
	if runs < 7 || workerSpans < 7 {
		t.Errorf("trace has %d agent run spans and %d worker spans, want at least 7 of each (subtasks included)", runs, workerSpans)
	}
	if t.Failed() {
		for _, s := range tr.Spans {
			t.Logf("%s", strings.Join(chain(s), " <- "))
		}
	}
}

// whole reports whether the trace holds its root, the parent of every span, and at least runs agent
// run spans and worker spans (Go and Python).
func whole(tr *jaegertest.Trace, root string, runs int) bool {
	ids := map[string]bool{}
	for _, s := range tr.Spans {
		ids[s.SpanID] = true
	}
	if !ids[root] {
		return false
	}
	agentRuns, workers := 0, map[string]int{}
	for _, s := range tr.Spans {
		if p := s.Parent(); p != "" && !ids[p] {
			return false
		}
		switch svc := tr.Service(s); {
		case svc == "chorus-agent" && strings.HasPrefix(s.OperationName, "chorus run"):
			agentRuns++
		case strings.HasPrefix(svc, "chorus-worker-"):
			workers[svc]++
		}
	}
	return agentRuns >= runs && workers["chorus-worker-go"]+workers["chorus-worker-python"] >= runs && workers["chorus-worker-python"] > 0
}

func services(tr *jaegertest.Trace) map[string]int {
	out := map[string]int{}
	for _, s := range tr.Spans {
		out[tr.Service(s)]++
	}
	return out
}
