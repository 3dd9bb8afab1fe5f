package gateway_test

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/gateway"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// measure calls call once to warm up connections and caches, then b.N times, and reports the
// latencies of those calls.
func measure(b *testing.B, call func()) {
	call()
	lat := make(latencies, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		call()
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	lat.report(b)
}

// wantOK returns a function that fails the benchmark unless an HTTP call answered 200 OK, and
// reads and closes the answer's body.
func wantOK(b *testing.B) func(*http.Response, error) {
	return func(resp *http.Response, err error) {
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("HTTP %d: %s", resp.StatusCode, buf.Bytes())
		}
	}
}

// latencies collects per-call durations and reports their p50 and p99 in microseconds.
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	at := func(q float64) float64 { return float64(l[int(q*float64(len(l)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// BenchmarkSubmitGRPC measures the latency of a single-task SubmitTasks over gRPC (client → gateway →
// Valkey and back), one call at a time.
func BenchmarkSubmitGRPC(b *testing.B) {
	e := newEnv(b, nil)
	sid := e.session()
	req := &chorusv1.SubmitTasksRequest{SessionId: sid, Tasks: []*chorusv1.TaskSpec{{Method: "echo", Payload: []byte("hello")}}}
	measure(b, func() {
		if _, err := e.tasks.SubmitTasks(e.ctx, req); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkSubmitREST is BenchmarkSubmitGRPC over REST/JSON (net/http client, keep-alive).
func BenchmarkSubmitREST(b *testing.B) {
	e := newEnv(b, nil)
	sid := e.session()
	url := e.base + "/v1/sessions/" + sid + "/tasks:batchCreate"
	body := []byte(`{"tasks":[{"method":"echo","payload":"aGVsbG8="}]}`)
	measure(b, func() { wantOK(b)(e.httpc.Post(url, "application/json", bytes.NewReader(body))) })
}

// BenchmarkSubmitGRPCBatch100 is BenchmarkSubmitGRPC for a batch of 100 zero-payload tasks with one
// expected output each, as the bench's latency scenario submits them.
func BenchmarkSubmitGRPCBatch100(b *testing.B) {
	e := newEnv(b, func(c *gateway.Config) { c.MaxBatch = gateway.DefaultMaxBatch }) // the tests' is 50
	sid := e.session()
	n := 0
	measure(b, func() {
		req := &chorusv1.SubmitTasksRequest{SessionId: sid, Tasks: make([]*chorusv1.TaskSpec, 100)}
		for i := range req.Tasks {
			n++
			req.Tasks[i] = &chorusv1.TaskSpec{Method: "echo", ExpectedOutputIds: []string{"out-" + strconv.Itoa(n)}}
		}
		if _, err := e.tasks.SubmitTasks(e.ctx, req); err != nil {
			b.Fatal(err)
		}
	})
}
