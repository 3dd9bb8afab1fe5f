package tracing_test

import (
	"context"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/chorus-hpc/chorus/internal/testutil/jaegertest"
	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
	"github.com/chorus-hpc/chorus/stack/stacktest"
)

// TestRunSpansLinkToTheirInputsProducers runs a graph across Go and Python workers and reads the run
// spans back from Jaeger: a task's run span links to the run spans that produced its inputs, whatever
// language ran them, so the data graph shows in the trace.
//
//	a: echo on python ─┐
//	                   ├─> c: concat on go ──> d: concat on python
//	b: sha256 on go ───┘
func TestRunSpansLinkToTheirInputsProducers(t *testing.T) {
	root, python, j := startTracingE2E(t)
	clientTP, agentTP := j.TracerProvider(t, "chorus-client"), j.TracerProvider(t, "chorus-agent")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_, sess := startTraced(ctx, t, root, python, stacktest.Config{}, agentTP, clientTP, nil)
	g := client.NewGraph()
	a := g.Task("echo", []byte("A"), client.Partition("python"))
	b := g.Task("sha256", []byte("B"))
	c := g.Task("concat", nil, client.DependsOn(a.Output(), b.Output()))
	d := g.Task("concat", nil, client.DependsOn(c.Output()), client.Partition("python"))
	rctx, rootSpan := clientTP.Tracer("test").Start(ctx, "linked job")
	if _, err := sess.Submit(rctx, g); err != nil {
		t.Fatal(err)
	}
	outs, err := sess.Wait(ctx, []string{d.Output()}, nil)
	if err != nil || outs[0].Status != chorusv1.ResultStatus_RESULT_STATUS_COMPLETED {
		t.Fatalf("the graph did not complete: %v %+v", err, outs)
	}
	rootSpan.End()
	for _, tp := range []*sdktrace.TracerProvider{clientTP, agentTP} {
		tp.ForceFlush(ctx)
	}

	// The run span of each task, by task id (chorus.task_id), once all four are in Jaeger.
	traceID := rootSpan.SpanContext().TraceID().String()
	runs := map[string]jaegertest.Span{}
	for deadline := time.Now().Add(30 * time.Second); len(runs) < 4; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Jaeger has %d of the 4 run spans of trace %s", len(runs), traceID)
		}
		tr := j.WaitTrace(t, traceID, 1, 30*time.Second)
		for _, s := range tr.Spans {
			if tr.Service(s) != "chorus-agent" || len(s.OperationName) < 10 || s.OperationName[:10] != "chorus run" {
				continue
			}
			if id := tag(s, "chorus.task_id"); id != "" {
				runs[id] = s
			}
		}
	}
	linked := func(s jaegertest.Span) map[string]bool {
		out := map[string]bool{}
		for _, r := range s.References {
			if r.RefType == "FOLLOWS_FROM" {
				out[r.SpanID] = true
			}
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		consumer  *client.TaskHandle
		producers []*client.TaskHandle
	}{
		{"go concat of a python and a go output", c, []*client.TaskHandle{a, b}},
		{"python concat of a go output", d, []*client.TaskHandle{c}},
		{"python echo without inputs", a, nil},
	} {
		got := linked(runs[tc.consumer.ID])
		want := map[string]bool{}
		for _, p := range tc.producers {
			want[runs[p.ID].SpanID] = true
		}
		if len(got) != len(want) {
			t.Errorf("%s: run span links to %v, want the run spans %v", tc.name, got, want)
		}
		for id := range want {
			if !got[id] {
				t.Errorf("%s: run span has no link to producer span %s (links: %v)", tc.name, id, got)
			}
		}
	}
}

// tag returns a span's string tag.
func tag(s jaegertest.Span, key string) string {
	for _, kv := range s.Tags {
		if kv.Key == key {
			if v, ok := kv.Value.(string); ok {
				return v
			}
		}
	}
	return ""
}
