package oteltrace

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

func TestConfigured(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, true},
		{map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}, false},
		{map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}, false},
		{map[string]string{"OTEL_TRACES_EXPORTER": "console"}, true},
	} {
		if got := configured(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("configured(%v) = %v, want %v", tc.env, got, tc.want)
		}
	}
}

func TestTracerProviderFromSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tp, shutdown, err := tracerProvider(ctx, env(nil), "w")
	if err != nil || shutdown != nil || tp == nil {
		t.Fatalf("no settings: %v %v %v, want a no-op provider", tp, shutdown != nil, err)
	}
	for _, protocol := range []string{"grpc", "http/protobuf", ""} {
		tp, shutdown, err := tracerProvider(ctx, env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": protocol}), "w")
		if err != nil || shutdown == nil {
			t.Fatalf("protocol %q: %v", protocol, err)
		}
		_ = tp
		shutdown(ctx)
	}
	if _, _, err := tracerProvider(ctx, env(map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}), "w"); err == nil {
		t.Fatal("an unsupported exporter was accepted")
	}
}

func TestTraceParentRoundTrip(t *testing.T) {
	t.Parallel()
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ctx := ExtractTraceParent(context.Background(), tp, "k=v")
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() || sc.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("extracted %v", sc)
	}
	if got, state := InjectTraceParent(ctx); got != tp || state != "k=v" {
		t.Fatalf("injected %q %q", got, state)
	}
	if ctx := ExtractTraceParent(context.Background(), "", ""); trace.SpanContextFromContext(ctx).IsValid() {
		t.Fatal("an empty traceparent gave a span context")
	}
}
