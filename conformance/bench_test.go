package conformance_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// BenchmarkZeroWork measures zero-work tasks (echo of an empty payload) through one agent with one
// worker process, per language and worker capacity: b.N tasks submitted as one graph, timed from the
// submission to the last output. It reports tasks/s and µs/task (the inverse); the difference of
// µs/task to the Go worker's is the language's per-task overhead.
//
//	make conformance-bench
func BenchmarkZeroWork(b *testing.B) {
	for _, l := range languages {
		for _, c := range []int{1, 4, 16} {
			b.Run(fmt.Sprintf("%s/capacity=%d", l.Name, c), func(b *testing.B) {
				s := startStack(b, l, c)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				defer cancel()
				sess, err := s.client.CreateSession(ctx, client.SessionOptions{Partition: l.Name})
				if err != nil {
					b.Fatalf("create a session: %v", err)
				}
				// Warm up: the worker has started and said Hello once one task is done.
				runEchoes(b, ctx, sess, 1)
				b.ResetTimer()
				start := time.Now()
				runEchoes(b, ctx, sess, b.N)
				elapsed := time.Since(start)
				b.StopTimer()
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "tasks/s")
				b.ReportMetric(float64(elapsed.Microseconds())/float64(b.N), "µs/task")
			})
		}
	}
}

// runEchoes submits n echo tasks with an empty payload and waits for all their outputs.
func runEchoes(b *testing.B, ctx context.Context, sess *client.Session, n int) {
	b.Helper()
	g := client.NewGraph()
	outs := make([]string, n)
	for i := range outs {
		outs[i] = g.Task("echo", nil).Output()
	}
	if _, err := sess.Submit(ctx, g); err != nil {
		b.Fatalf("submit %d echo tasks: %v", n, err)
	}
	outcomes, err := sess.Wait(ctx, outs, nil)
	if err != nil {
		b.Fatalf("wait for %d echo outputs: %v", n, err)
	}
	for _, o := range outcomes {
		if o.Status != chorusv1.ResultStatus_RESULT_STATUS_COMPLETED {
			b.Fatalf("echo output %s ended %s: %s", o.ResultID, o.Status, o.Reason)
		}
	}
}
