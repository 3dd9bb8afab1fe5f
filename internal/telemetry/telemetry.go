// Package telemetry sets up what every Chorus process reports: OpenTelemetry traces (configured by the
// standard OTEL_* environment variables, off when none is set), OpenTelemetry metrics exported for
// Prometheus, and slog logs carrying the trace and span ids of the context they are written with.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/chorus-hpc/chorus/sdks/go/otelenv"
)

// Config says how a process reports.
type Config struct {
	// ServiceName names the process in traces ("chorus-gateway", "chorus-agent"); required.
	ServiceName string
	// Getenv reads OTEL_* variables; default os.Getenv.
	Getenv func(string) string
	// LogFormat is "text" (default) or "json".
	LogFormat string
	// LogLevel is the lowest level logged; default Info.
	LogLevel slog.Level
	// LogOutput receives the logs; default os.Stderr.
	LogOutput io.Writer
}

// Telemetry holds a process's providers. Pass its fields to the constructors that take them.
type Telemetry struct {
	// TracerProvider is an SDK provider exporting spans when OTEL_* says where, else a no-op one.
	TracerProvider trace.TracerProvider
	// MeterProvider exports to the Prometheus registry served by MetricsHandler.
	MeterProvider metric.MeterProvider
	// Propagator carries W3C trace context (and baggage).
	Propagator propagation.TextMapPropagator
	// Logger writes slog records with trace_id and span_id when the context has a span.
	Logger *slog.Logger
	// MetricsHandler serves the Prometheus text format (mount it at /metrics).
	MetricsHandler http.Handler

	tracing  bool
	shutdown []func(context.Context) error
}

// TracingEnabled reports whether spans are exported.
func (t *Telemetry) TracingEnabled() bool { return t.tracing }

// New builds the providers. Traces are configured by the OTEL_* variables as the Go SDK's
// otelenv.TracerProvider reads them: on when OTEL_TRACES_EXPORTER is set (other than "none") or an
// OTLP endpoint is; exporter otlp (grpc or http/protobuf) or console; sampler from
// OTEL_TRACES_SAMPLER (e.g. parentbased_traceidratio with OTEL_TRACES_SAMPLER_ARG=0.01). Traces and
// metrics name the service OTEL_SERVICE_NAME when it is set, else cfg.ServiceName.
func New(ctx context.Context, cfg Config) (*Telemetry, error) {
	if cfg.ServiceName == "" {
		return nil, errors.New("telemetry: ServiceName is required")
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.LogOutput == nil {
		cfg.LogOutput = os.Stderr
	}
	t := &Telemetry{
		Propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}
	var h slog.Handler
	switch strings.ToLower(cfg.LogFormat) {
	case "", "text":
		h = slog.NewTextHandler(cfg.LogOutput, &slog.HandlerOptions{Level: cfg.LogLevel})
	case "json":
		h = slog.NewJSONHandler(cfg.LogOutput, &slog.HandlerOptions{Level: cfg.LogLevel})
	default:
		return nil, fmt.Errorf("telemetry: log format must be text or json, not %q", cfg.LogFormat)
	}
	t.Logger = slog.New(traceHandler{h})

	res, err := otelenv.Resource(cfg.Getenv, cfg.ServiceName)
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}

	tp, shutdown, err := otelenv.TracerProvider(ctx, cfg.Getenv, cfg.ServiceName)
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	t.TracerProvider, t.tracing = tp, shutdown != nil
	if shutdown != nil {
		t.shutdown = append(t.shutdown, shutdown)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("telemetry: prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter), sdkmetric.WithResource(res))
	t.MeterProvider = mp
	t.shutdown = append(t.shutdown, mp.Shutdown)
	t.MetricsHandler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return t, nil
}

// Shutdown flushes and stops the providers.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	for _, f := range t.shutdown {
		errs = append(errs, f(ctx))
	}
	return errors.Join(errs...)
}

// traceHandler adds trace_id and span_id to records logged with a context holding a span.
type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return traceHandler{h.Handler.WithAttrs(as)}
}
func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.Handler.WithGroup(name)}
}
