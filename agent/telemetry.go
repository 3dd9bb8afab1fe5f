package agent

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/telemetry"
)

// agentTelemetry holds the agent's tracer and instruments. Labels are the partition and the outcome,
// never ids.
type agentTelemetry struct {
	tracer      trace.Tracer
	queueWait   metric.Float64Histogram
	runDuration metric.Float64Histogram
	retries     metric.Int64Counter
	expirations metric.Int64Counter
	commitSteps metric.Int64Histogram
	unregister  func() error
	// labels holds the measurement options of each label set used per task (partition, or
	// partition and outcome), built once: building an attribute set for every task cost more
	// than recording the measurement.
	labelsMu sync.RWMutex
	labels   map[labelKey]metric.MeasurementOption
}

type labelKey struct{ partition, outcome string }

// labelled returns the measurement option of the labels partition=p (and outcome=outcome when not
// empty), built on first use.
func (t *agentTelemetry) labelled(p, outcome string) metric.MeasurementOption {
	k := labelKey{p, outcome}
	t.labelsMu.RLock()
	o, ok := t.labels[k]
	t.labelsMu.RUnlock()
	if ok {
		return o
	}
	attrs := []attribute.KeyValue{attribute.String("partition", p)}
	if outcome != "" {
		attrs = append(attrs, attribute.String("outcome", outcome))
	}
	o = metric.WithAttributeSet(attribute.NewSet(attrs...))
	t.labelsMu.Lock()
	if t.labels == nil {
		t.labels = map[labelKey]metric.MeasurementOption{}
	}
	t.labels[k] = o
	t.labelsMu.Unlock()
	return o
}

func newAgentTelemetry(a *Agent) (*agentTelemetry, error) {
	m := a.cfg.MeterProvider.Meter("github.com/chorus-hpc/chorus/agent")
	t := &agentTelemetry{tracer: a.cfg.TracerProvider.Tracer("github.com/chorus-hpc/chorus/agent")}
	var err error
	if t.queueWait, err = m.Float64Histogram("chorus.task.queue_wait", metric.WithUnit("s"),
		metric.WithDescription("Time from a task becoming ready to its lease by an agent.")); err != nil {
		return nil, err
	}
	if t.runDuration, err = m.Float64Histogram("chorus.task.run_duration", metric.WithUnit("s"),
		metric.WithDescription("Time from a task's lease to its outcome on this agent.")); err != nil {
		return nil, err
	}
	if t.retries, err = m.Int64Counter("chorus.task.retries", metric.WithDescription("Failed attempts that will be retried.")); err != nil {
		return nil, err
	}
	if t.expirations, err = m.Int64Counter("chorus.lease.expirations",
		metric.WithDescription("Leases of dead agents this agent took back.")); err != nil {
		return nil, err
	}
	if t.commitSteps, err = m.Int64Histogram("chorus.agent.commit_steps",
		metric.WithDescription("Task steps (starts, progress, outcomes) recorded by one store round trip.")); err != nil {
		return nil, err
	}
	util, err := m.Float64ObservableGauge("chorus.worker.utilization",
		metric.WithDescription("Tasks running on the partition's workers divided by their announced capacity."))
	if err != nil {
		return nil, err
	}
	slots, err := m.Int64ObservableGauge("chorus.worker.slots", metric.WithDescription("Task slots announced by connected workers."))
	if err != nil {
		return nil, err
	}
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		type agg struct{ busy, capacity int }
		per := map[string]*agg{}
		for _, w := range a.Stats().Workers {
			g := per[w.Partition]
			if g == nil {
				g = &agg{}
				per[w.Partition] = g
			}
			if w.Connected {
				g.busy += w.InFlight
				g.capacity += w.Capacity
			}
		}
		for p, g := range per {
			attrs := metric.WithAttributes(attribute.String("partition", p))
			o.ObserveInt64(slots, int64(g.capacity), attrs)
			if g.capacity > 0 {
				o.ObserveFloat64(util, float64(g.busy)/float64(g.capacity), attrs)
			}
		}
		return nil
	}, util, slots)
	if err != nil {
		return nil, err
	}
	t.unregister = reg.Unregister
	return t, nil
}

// traceStart opens the task's spans on this agent, continuing the trace stored with the task: the
// queue wait (from ready to lease, as its own span) and the run (a Consumer span until the outcome).
func (r *run) traceStart() {
	tel, t := r.a.tel, r.task
	r.leased = r.a.cfg.Clock.Now()
	parent := context.Background()
	if t.TraceParent != "" {
		parent = r.a.cfg.Propagator.Extract(parent, propagation.MapCarrier{"traceparent": t.TraceParent, "tracestate": t.TraceState})
	}
	attrs := trace.WithAttributes(attribute.String("chorus.task_id", t.Lease.TaskID), attribute.String("chorus.session_id", t.Lease.SessionID),
		attribute.String("chorus.partition", t.Partition), attribute.Int("chorus.attempt", int(t.Lease.Attempt)))
	part := tel.labelled(t.Partition, "")
	if !t.QueueTime.IsZero() && t.QueueTime.Before(r.leased) {
		tel.queueWait.Record(context.Background(), r.leased.Sub(t.QueueTime).Seconds(), part)
		if trace.SpanContextFromContext(parent).IsValid() {
			_, qs := tel.tracer.Start(parent, "chorus queue_wait", trace.WithTimestamp(t.QueueTime), attrs)
			qs.End(trace.WithTimestamp(r.leased))
		}
	}
	r.tctx, r.span = tel.tracer.Start(parent, "chorus run "+t.Method, trace.WithSpanKind(trace.SpanKindConsumer), attrs)
}

// linkInputs links the run span to the runs that produced its inputs (their traceparent is stored
// with each output), so the data graph shows in the trace viewer across tasks, traces and languages.
func (r *run) linkInputs(ids []string, data []store.ResultData) {
	if r.span == nil || !r.span.IsRecording() {
		return
	}
	for i, id := range ids {
		if i >= len(data) || data[i].TraceParent == "" {
			continue
		}
		sc := trace.SpanContextFromContext(telemetry.ExtractTraceParent(context.Background(), data[i].TraceParent, ""))
		if sc.IsValid() {
			r.span.AddLink(trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{
				attribute.String("chorus.link", "input"), attribute.String("chorus.result_id", id)}})
		}
	}
}

// producerTraceParent is the traceparent stored with the run's outputs: its run span's, "" when this
// agent does not trace.
func (r *run) producerTraceParent() string {
	if r.tctx == nil {
		return ""
	}
	tp, _ := telemetry.InjectTraceParent(r.tctx)
	return tp
}

// traceParent is the trace context handed to the worker: the run span's, else the task's own.
func (r *run) traceParent() (string, string) {
	c := propagation.MapCarrier{}
	r.a.cfg.Propagator.Inject(r.tctx, c)
	if tp := c["traceparent"]; tp != "" {
		return tp, c["tracestate"]
	}
	return r.task.TraceParent, r.task.TraceState
}

// traceEnd closes the run span and records its duration with the outcome ("completed", "failed",
// "retried", "lost"). Later calls do nothing.
func (r *run) traceEnd(outcome, errMsg string) {
	r.endOnce.Do(func() {
		if r.span == nil {
			return
		}
		if errMsg != "" {
			r.span.SetStatus(codes.Error, errMsg)
		}
		r.span.SetAttributes(attribute.String("chorus.outcome", outcome))
		r.span.End()
		r.a.tel.runDuration.Record(context.Background(), r.a.cfg.Clock.Now().Sub(r.leased).Seconds(),
			r.a.tel.labelled(r.task.Partition, outcome))
		if outcome == "retried" {
			r.a.tel.retries.Add(context.Background(), 1, r.a.tel.labelled(r.task.Partition, ""))
		}
	})
}

// span starts a child span of the run (fetching inputs, storing outputs).
func (r *run) childSpan(ctx context.Context, name string) (context.Context, trace.Span) {
	if !trace.SpanContextFromContext(r.tctx).IsValid() {
		return ctx, trace.SpanFromContext(ctx)
	}
	_, s := r.a.tel.tracer.Start(r.tctx, name)
	return trace.ContextWithSpan(ctx, s), s
}

// logCtx is the context to log a line about the run with: its trace context, so the line carries
// trace_id and span_id next to task_id.
func (r *run) logCtx() context.Context {
	if r.tctx != nil {
		return r.tctx
	}
	return context.Background()
}

// commitBatch records the size of one group commit.
func (t *agentTelemetry) commitBatch(n int) {
	t.commitSteps.Record(context.Background(), int64(n))
}
