package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
)

// traceContext is the W3C propagator used to store a task's trace context and hand it to workers.
var traceContext = propagation.TraceContext{}

// InjectTraceParent returns the W3C traceparent and tracestate of ctx's span ("" when there is none),
// to be stored with a task.
func InjectTraceParent(ctx context.Context) (traceparent, tracestate string) {
	c := propagation.MapCarrier{}
	traceContext.Inject(ctx, c)
	return c["traceparent"], c["tracestate"]
}

// ExtractTraceParent returns ctx with the remote span context of a stored traceparent/tracestate, so
// spans started from it join the task's trace. An empty or malformed traceparent leaves ctx as it is.
func ExtractTraceParent(ctx context.Context, traceparent, tracestate string) context.Context {
	if traceparent == "" {
		return ctx
	}
	return traceContext.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent, "tracestate": tracestate})
}
