package valkeystore_test

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
)

// TestScriptSpans checks that script calls made within a trace are child client spans named after the
// script, and that calls outside a trace make none.
func TestScriptSpans(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	st, err := valkeystore.New(valkeystore.Config{Client: valkeytest.Start(t).Client(t), KeyPrefix: "trace:", TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sess, err := st.CreateSession(ctx, store.SessionSpec{}) // no trace: no span
	if err != nil {
		t.Fatal(err)
	}
	if n := len(exp.GetSpans()); n != 0 {
		t.Fatalf("%d spans for a call outside any trace", n)
	}
	pctx, parent := tp.Tracer("test").Start(ctx, "submit")
	if _, err := st.CreateResults(pctx, sess.SessionId, []store.ResultSpec{{ResultID: "in", Data: &store.ResultData{Inline: []byte("x"), Size: 1}}}); err != nil {
		t.Fatal(err)
	}
	parent.End()
	spans := exp.GetSpans()
	var found bool
	for _, s := range spans {
		if s.Name == "valkey results_create" {
			found = true
			if s.Parent.SpanID() != parent.SpanContext().SpanID() || s.SpanKind != trace.SpanKindClient {
				t.Fatalf("script span has parent %v kind %v; want child of %v, client", s.Parent.SpanID(), s.SpanKind, parent.SpanContext().SpanID())
			}
		}
	}
	if !found {
		t.Fatalf("no 'valkey results_create' span among %d spans", len(spans))
	}
}
