// Package otelenv builds an OpenTelemetry tracer provider from the standard OTEL_* settings, so a
// program that uses Chorus (a client, a worker, the Chorus processes themselves) joins the traces of
// its tasks with no code of its own: tracing is off until the settings name an exporter.
//
// A client passes the provider to client.WithTracerProvider; a Go worker builds one by itself.
package otelenv

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracerProviderFromEnv is TracerProvider with the process's environment.
func TracerProviderFromEnv(ctx context.Context, serviceName string) (trace.TracerProvider, func(context.Context) error, error) {
	return TracerProvider(ctx, os.Getenv, serviceName)
}

// TracerProvider returns a tracer provider exporting spans as the OTEL_* settings read by getenv say,
// and the function that flushes and stops it; or a no-op provider and a nil function when they do
// not ask for traces.
//
// Traces are on when OTEL_TRACES_EXPORTER is set (other than "none") or an OTLP endpoint is
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), unless OTEL_SDK_DISABLED is
// true. Exporters: otlp (the default; protocol from OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL, grpc or
// http/protobuf, default http/protobuf) or console. The service is named as Resource says. The
// exporter's own settings (endpoint, headers) and the sampler (OTEL_TRACES_SAMPLER) are read by the
// OpenTelemetry SDK from the process's environment.
func TracerProvider(ctx context.Context, getenv func(string) string, serviceName string) (trace.TracerProvider, func(context.Context) error, error) {
	if !configured(getenv) {
		return noop.NewTracerProvider(), nil, nil
	}
	res, err := Resource(getenv, serviceName)
	if err != nil {
		return nil, nil, err
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
			return nil, nil, fmt.Errorf("otelenv: OTLP protocol %q is not supported: use grpc or http/protobuf", protocol)
		}
	case "console":
		exp, err = stdouttrace.New()
	default:
		return nil, nil, fmt.Errorf("otelenv: OTEL_TRACES_EXPORTER=%q is not supported: use otlp, console or none", kind)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("otelenv: span exporter from the OTEL_* settings: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}

// Resource describes the process to exporters: the SDK's defaults (which read
// OTEL_RESOURCE_ATTRIBUTES) and the service's name, OTEL_SERVICE_NAME when getenv has it, else
// serviceName.
func Resource(getenv func(string) string, serviceName string) (*resource.Resource, error) {
	if v := strings.TrimSpace(getenv("OTEL_SERVICE_NAME")); v != "" {
		serviceName = v
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", serviceName)))
	if err != nil {
		return nil, fmt.Errorf("otelenv: resource: %w", err)
	}
	return res, nil
}

// configured reports whether the OTEL_* settings ask for traces.
func configured(getenv func(string) string) bool {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	if v := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); v != "" {
		return v != "none"
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}
