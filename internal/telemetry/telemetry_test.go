package telemetry_test

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/chorus-hpc/chorus/internal/telemetry"
)

func env(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

// newTelemetry returns the telemetry of service "test" with the environment vars (logs discarded);
// it is shut down when the test ends.
func newTelemetry(t *testing.T, vars map[string]string) *telemetry.Telemetry {
	t.Helper()
	tel, err := telemetry.New(context.Background(), telemetry.Config{ServiceName: "test", Getenv: env(vars), LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel
}

func TestTracingOffWithoutSettings(t *testing.T) {
	t.Parallel()
	tel := newTelemetry(t, nil)
	if tel.TracingEnabled() {
		t.Fatal("tracing is on without any OTEL_* setting")
	}
	_, span := tel.TracerProvider.Tracer("x").Start(context.Background(), "op")
	if span.SpanContext().IsValid() {
		t.Fatal("a disabled tracer produced a recording span")
	}
}

func TestTracingSwitch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}, false},
		{map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}, false},
		{map[string]string{"OTEL_TRACES_EXPORTER": "console"}, true},
	} {
		tel := newTelemetry(t, tc.env)
		if got := tel.TracingEnabled(); got != tc.want {
			t.Errorf("env %v: tracing %v, want %v", tc.env, got, tc.want)
		}
	}
}

func TestMetricsAreServed(t *testing.T) {
	t.Parallel()
	tel := newTelemetry(t, nil)
	c, err := tel.MeterProvider.Meter("chorus").Int64Counter("chorus.test.things")
	if err != nil {
		t.Fatal(err)
	}
	c.Add(context.Background(), 3)
	body := metricsText(tel)
	if !strings.Contains(body, "chorus_test_things_total") || !strings.Contains(body, "chorus_test_things_total 3") {
		t.Fatalf("counter missing from /metrics:\n%s", body)
	}
	if !strings.Contains(body, "go_goroutines") {
		t.Error("Go runtime metrics missing from /metrics")
	}
}

// OTEL_SERVICE_NAME names the service (as a Helm release sets it), else the name the process gives.
func TestServiceName(t *testing.T) {
	t.Parallel()
	if body := metricsText(newTelemetry(t, nil)); !strings.Contains(body, `service_name="test"`) {
		t.Errorf("without OTEL_SERVICE_NAME, /metrics names no service \"test\":\n%s", body)
	}
	named := newTelemetry(t, map[string]string{"OTEL_SERVICE_NAME": "gateway-eu-1"})
	if body := metricsText(named); !strings.Contains(body, `service_name="gateway-eu-1"`) {
		t.Errorf("OTEL_SERVICE_NAME=gateway-eu-1, yet /metrics does not name it:\n%s", body)
	}
}

// metricsText is what tel serves at /metrics.
func metricsText(tel *telemetry.Telemetry) string {
	rec := httptest.NewRecorder()
	tel.MetricsHandler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func TestLogsCarryTraceIDs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	tel, err := telemetry.New(context.Background(), telemetry.Config{ServiceName: "test", Getenv: env(nil), LogOutput: &buf, LogFormat: "json"})
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	ctx, span := tp.Tracer("x").Start(context.Background(), "op")
	tel.Logger.InfoContext(ctx, "task started", "task_id", "t1")
	span.End()
	out := buf.String()
	if !strings.Contains(out, `"trace_id":"`+span.SpanContext().TraceID().String()+`"`) || !strings.Contains(out, `"task_id":"t1"`) {
		t.Fatalf("log line lacks the trace id or the task id: %s", out)
	}
}

func TestTraceParentRoundTrip(t *testing.T) {
	t.Parallel()
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	ctx, span := tp.Tracer("x").Start(context.Background(), "submit")
	defer span.End()
	parent, state := telemetry.InjectTraceParent(ctx)
	if !strings.HasPrefix(parent, "00-"+span.SpanContext().TraceID().String()) {
		t.Fatalf("traceparent %q does not carry the trace id", parent)
	}
	ctx2, child := tp.Tracer("x").Start(telemetry.ExtractTraceParent(context.Background(), parent, state), "run")
	defer child.End()
	_ = ctx2
	if child.SpanContext().TraceID() != span.SpanContext().TraceID() {
		t.Fatal("span started from the stored traceparent is not in the same trace")
	}
	if p, _ := telemetry.InjectTraceParent(context.Background()); p != "" {
		t.Fatalf("no span, yet traceparent %q", p)
	}
	if got := telemetry.ExtractTraceParent(context.Background(), "garbage", ""); got == nil {
		t.Fatal("nil context")
	}
}

func TestBadLogFormat(t *testing.T) {
	t.Parallel()
	if _, err := telemetry.New(context.Background(), telemetry.Config{ServiceName: "x", LogFormat: "xml"}); err == nil {
		t.Fatal("log format xml accepted")
	}
	if _, err := telemetry.New(context.Background(), telemetry.Config{}); err == nil {
		t.Fatal("missing service name accepted")
	}
}
