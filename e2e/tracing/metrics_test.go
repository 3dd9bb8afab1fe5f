package tracing_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/agent"
	"github.com/chorus-hpc/chorus/gateway"
	"github.com/chorus-hpc/chorus/internal/telemetry"
	"github.com/chorus-hpc/chorus/stack/stacktest"
)

// metric reads one sample of the gateway's /metrics (-1 when absent).
func metric(t *testing.T, url, name string) float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` ([0-9.e+]+)$`).FindSubmatch(b)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// TestMetricsDuringARun scrapes the gateway's /metrics while tasks wait in a queue and after an agent
// has run them, and checks queue depth and completed counts against what was submitted.
func TestMetricsDuringARun(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end (a real Jaeger, Valkey, gateway, agent and workers): run with `make test-e2e`")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tel, err := telemetry.New(ctx, telemetry.Config{ServiceName: "chorus-gateway", Getenv: func(string) string { return "" }, LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(ctx)
	s := stacktest.Start(t, stacktest.Config{Gateway: gateway.Config{DeclaredPartitions: []string{"go"},
		MeterProvider: tel.MeterProvider, MetricsHandler: tel.MetricsHandler}})
	url := "http://" + s.Gateway.HTTPAddr() + "/metrics"
	cl := s.Client()
	const n = 40
	sess, outs := stacktest.SubmitN(ctx, t, cl, n, "echo", []byte("x"))
	// No agent yet: every task is queued.
	if got := metric(t, url, `chorus_partition_queue_depth{partition="go"}`); got != n {
		t.Fatalf("queue depth before any agent = %v, want %d", got, n)
	}
	if got := metric(t, url, `chorus_partition_tasks{partition="go",status="queued"}`); got != n {
		t.Fatalf("queued tasks = %v, want %d", got, n)
	}

	s.StartAgent(agent.Config{Partitions: []agent.PartitionConfig{{Name: "go", Command: stacktest.GoWorker(t), Capacity: 4}}}, nil)
	if _, err := sess.Wait(ctx, outs, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond) // the gauges read the store at most every 2s
	if got := metric(t, url, `chorus_partition_tasks{partition="go",status="completed"}`); got != n {
		t.Fatalf("completed tasks = %v, want %d", got, n)
	}
	if got := metric(t, url, `chorus_partition_queue_depth{partition="go"}`); got != 0 {
		t.Fatalf("queue depth after the run = %v, want 0", got)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`(?m)^rpc_server_\w+_count\{[^}]*SubmitTasks[^}]*\} [1-9]`).Match(body) {
		t.Fatal("no RPC latency histogram for SubmitTasks in /metrics")
	}
	if regexp.MustCompile(sess.ID).Match(body) {
		t.Fatal("a session id became a metric label")
	}
}
