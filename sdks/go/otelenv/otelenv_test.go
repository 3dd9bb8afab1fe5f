package otelenv

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func settings(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

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
		{map[string]string{"OTEL_SDK_DISABLED": "TRUE", "OTEL_TRACES_EXPORTER": "console"}, false},
		{map[string]string{"OTEL_TRACES_EXPORTER": "console"}, true},
	} {
		if got := configured(settings(tc.env)); got != tc.want {
			t.Errorf("configured(%v) = %v, want %v", tc.env, got, tc.want)
		}
	}
}

func TestTracerProvider(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tp, shutdown, err := TracerProvider(ctx, settings(nil), "w")
	if err != nil || shutdown != nil || tp == nil {
		t.Fatalf("no settings: %v %v %v, want a no-op provider", tp, shutdown != nil, err)
	}
	if _, span := tp.Tracer("x").Start(ctx, "op"); span.SpanContext().IsValid() {
		t.Fatal("the no-op provider made a recording span")
	}
	for _, protocol := range []string{"grpc", "http/protobuf", ""} {
		tp, shutdown, err := TracerProvider(ctx, settings(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": protocol}), "w")
		if err != nil || shutdown == nil {
			t.Fatalf("protocol %q: %v", protocol, err)
		}
		if _, ok := tp.(*sdktrace.TracerProvider); !ok {
			t.Fatalf("protocol %q: provider %T, want the SDK's", protocol, tp)
		}
		_ = shutdown(ctx)
	}
	for env, want := range map[string]map[string]string{
		"exporter": {"OTEL_TRACES_EXPORTER": "zipkin"},
		"protocol": {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"},
	} {
		if _, _, err := TracerProvider(ctx, settings(want), "w"); err == nil {
			t.Errorf("an unsupported %s was accepted", env)
		}
	}
}

func TestResourceNamesTheService(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{nil, "chorus-agent"},
		{map[string]string{"OTEL_SERVICE_NAME": "agent-eu-1"}, "agent-eu-1"},
	} {
		res, err := Resource(settings(tc.env), "chorus-agent")
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := res.Set().Value(attribute.Key("service.name")); got.AsString() != tc.want {
			t.Errorf("env %v: service.name %q, want %q", tc.env, got.AsString(), tc.want)
		}
	}
}
