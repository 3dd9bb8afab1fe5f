package tracing_test

import (
	"context"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/chorus-hpc/chorus/agent"
	"github.com/chorus-hpc/chorus/gateway"
	"github.com/chorus-hpc/chorus/internal/objstore/local"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
	"github.com/chorus-hpc/chorus/sdks/go/client"
)

// BenchmarkTracingCost measures the throughput of zero-work tasks (batches of 100 through a real
// gateway, Valkey, agent and Go worker) with tracing off, sampled at 1% and at 100% (spans processed
// by the SDK and handed to an exporter that drops them, so the cost measured is Chorus's and the
// SDK's, not a collector's). Compare the tasks/s metrics of the three.
func BenchmarkTracingCost(b *testing.B) {
	root := repoRoot(&testing.T{})
	goWorker := filepath.Join(b.TempDir(), "go-worker")
	if out, err := exec.Command("go", "build", "-o", goWorker, filepath.Join(root, "workers", "go")).CombinedOutput(); err != nil {
		b.Fatalf("building the Go worker: %v\n%s", err, out)
	}
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
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			vk := valkeytest.Start(b)
			st, err := valkeystore.New(valkeystore.Config{Client: vk.Client(b), TracerProvider: tp})
			if err != nil {
				b.Fatal(err)
			}
			objs, err := local.New(local.Config{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			gw, err := gateway.New(gateway.Config{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", DeclaredPartitions: []string{"go"}, TracerProvider: tp, Logger: quiet}, st, objs)
			if err != nil {
				b.Fatal(err)
			}
			go gw.Run(ctx)
			ag, err := agent.New(agent.Config{Partitions: []agent.PartitionConfig{{Name: "go", Command: goWorker, Capacity: 16}}, TracerProvider: tp, Logger: quiet}, st, objs)
			if err != nil {
				b.Fatal(err)
			}
			adone := make(chan struct{})
			go func() { defer close(adone); ag.Run(ctx) }()
			defer func() { cancel(); <-adone }()
			cl, err := client.Dial(ctx, gw.GRPCAddr(), client.WithTracerProvider(tp))
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close()
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
