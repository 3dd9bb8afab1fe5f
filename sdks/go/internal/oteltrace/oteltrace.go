// Package oteltrace gives the Go SDK the tracing it needs without the server's telemetry package: a
// tracer provider configured by the standard OTEL_* environment variables, and the W3C trace context
// carried in the worker protocol's traceparent/tracestate fields.
package oteltrace

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// traceContext is the W3C propagator for the traceparent/tracestate fields of the worker protocol.
var traceContext = propagation.TraceContext{}

// ExtractTraceParent returns ctx with the remote span context of traceparent/tracestate, so spans
// started from it join the task's trace. An empty or malformed traceparent leaves ctx as it is.
func ExtractTraceParent(ctx context.Context, traceparent, tracestate string) context.Context {
	if traceparent == "" {
		return ctx
	}
	return traceContext.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent, "tracestate": tracestate})
}

// InjectTraceParent returns the W3C traceparent and tracestate of ctx's span ("" when there is none).
func InjectTraceParent(ctx context.Context) (traceparent, tracestate string) {
	c := propagation.MapCarrier{}
	traceContext.Inject(ctx, c)
	return c["traceparent"], c["tracestate"]
}

// TracerProviderFromEnv returns a tracer provider exporting spans as the OTEL_* environment says
// (service name from OTEL_SERVICE_NAME, else serviceName), or a no-op provider and a nil shutdown when
// tracing is not configured. Exporters: OTEL_TRACES_EXPORTER=otlp (the default when an OTLP endpoint
// is set; protocol from OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL, grpc or http/protobuf, default
// http/protobuf), console, or none.
func TracerProviderFromEnv(ctx context.Context, serviceName string) (trace.TracerProvider, func(context.Context) error, error) {
	return tracerProvider(ctx, os.Getenv, serviceName)
}

func tracerProvider(ctx context.Context, getenv func(string) string, serviceName string) (trace.TracerProvider, func(context.Context) error, error) {
	if !configured(getenv) {
		return noop.NewTracerProvider(), nil, nil
	}
	if v := getenv("OTEL_SERVICE_NAME"); v != "" {
		serviceName = v
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", serviceName)))
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: resource: %w", err)
	}
	var exp sdktrace.SpanExporter
	switch kind := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); kind {
	case "", "otlp":
		protocol := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
		if protocol == "" {
			protocol = getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
		}
		switch protocol {
		case "grpc":
			exp, err = otlptracegrpc.New(ctx)
		case "", "http/protobuf":
			exp, err = otlptracehttp.New(ctx)
		default:
			return nil, nil, fmt.Errorf("tracing: OTLP protocol %q is not supported: use grpc or http/protobuf", protocol)
		}
	case "console":
		exp, err = stdouttrace.New()
	default:
		return nil, nil, fmt.Errorf("tracing: OTEL_TRACES_EXPORTER=%q is not supported: use otlp, console or none", kind)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: span exporter from the OTEL_* settings: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}

// configured reports whether the OTEL_* settings ask for traces.
func configured(getenv func(string) string) bool {
	if v := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); v != "" {
		return v != "none"
	}
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}
