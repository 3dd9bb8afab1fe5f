package tracing_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/chorus-hpc/chorus/agent"
	"github.com/chorus-hpc/chorus/gateway"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/sdks/go/client"
	"github.com/chorus-hpc/chorus/stack/stacktest"
)

// BenchmarkTracingCost measures the throughput of zero-work tasks (batches of 100 through a real
// gateway, Valkey, agent and Go worker) with tracing off, sampled at 1% and at 100% (spans processed
// by the SDK and handed to an exporter that drops them, so the cost measured is Chorus's and the
// SDK's, not a collector's). Compare the tasks/s metrics of the three.
func BenchmarkTracingCost(b *testing.B) {
	goWorker := stacktest.GoWorker(b)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		name string
		tp   func() trace.TracerProvider
	}{
		{"off", func() trace.TracerProvider { return noop.NewTracerProvider() }},
		{"sampled-1pct", func() trace.TracerProvider {
			return sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.01))),
				sdktrace.WithBatcher(tracetest.NewNoopExporter()))
		}},
		{"sampled-100pct", func() trace.TracerProvider {
			return sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithBatcher(tracetest.NewNoopExporter()))
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tp := tc.tp()
			ctx := context.Background()
			s := stacktest.Start(b, stacktest.Config{
				Gateway: gateway.Config{DeclaredPartitions: []string{"go"}, TracerProvider: tp, Logger: quiet},
				Store:   valkeystore.Config{TracerProvider: tp},
			})
			s.StartAgent(agent.Config{Partitions: []agent.PartitionConfig{{Name: "go", Command: goWorker, Capacity: 16}}, TracerProvider: tp, Logger: quiet}, nil)
			cl := s.Client(client.WithTracerProvider(tp))
			sess, err := cl.CreateSession(ctx, client.SessionOptions{Partition: "go"})
			if err != nil {
				b.Fatal(err)
			}
			const batch = 100
			b.ResetTimer()
			start := time.Now()
			tasks := 0
			for i := 0; i < b.N; i++ {
				g := client.NewGraph()
				outs := make([]string, batch)
				for j := range outs {
					outs[j] = g.Task("echo", nil).Output()
				}
				if _, err := sess.Submit(ctx, g); err != nil {
					b.Fatal(err)
				}
				if _, err := sess.Wait(ctx, outs, nil); err != nil {
					b.Fatal(err)
				}
				tasks += batch
			}
			b.ReportMetric(float64(tasks)/time.Since(start).Seconds(), "tasks/s")
		})
	}
}
