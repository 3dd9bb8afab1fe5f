package jaegertest_test

import (
	"context"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/internal/testutil/jaegertest"
)

// TestSpansRoundTrip sends a parent and a child span over OTLP/gRPC and reads them back.
func TestSpansRoundTrip(t *testing.T) {
	t.Parallel()
	j := jaegertest.Start(t)
	ctx := context.Background()
	tp := j.TracerProvider(t, "jaegertest")
	pctx, parent := tp.Tracer("t").Start(ctx, "parent")
	_, child := tp.Tracer("t").Start(pctx, "child")
	child.End()
	parent.End()
	tr := j.WaitTrace(t, parent.SpanContext().TraceID().String(), 2, 20*time.Second)
	byName := map[string]jaegertest.Span{}
	for _, s := range tr.Spans {
		byName[s.OperationName] = s
		if tr.Service(s) != "jaegertest" {
			t.Errorf("span %s has service %q", s.OperationName, tr.Service(s))
		}
	}
	if byName["child"].Parent() != byName["parent"].SpanID {
		t.Fatalf("child's parent is %q, want %q", byName["child"].Parent(), byName["parent"].SpanID)
	}
}
