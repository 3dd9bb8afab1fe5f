// Package jaegertest starts a real Jaeger v2 (all-in-one, in-memory storage) on free loopback ports
// for tracing tests, and reads traces back through its HTTP query API.
package jaegertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"

	"github.com/chorus-hpc/chorus/internal/jaegerconf"
	"github.com/chorus-hpc/chorus/internal/testutil/freeport"
	"github.com/chorus-hpc/chorus/internal/testutil/modroot"
)

// Jaeger is a running Jaeger.
type Jaeger struct {
	// OTLPGRPC is the OTLP/gRPC receiver address (host:port).
	OTLPGRPC string
	// OTLPHTTP is the OTLP/HTTP receiver base URL.
	OTLPHTTP string
	// QueryURL is the base URL of the query API (/api/traces/{id}, /api/services).
	QueryURL string
}

// Binary returns the path of bin/jaeger at the repository root, or "" when it is not built.
func Binary() string {
	root, err := modroot.Find()
	if err != nil {
		return ""
	}
	p := filepath.Join(root, "bin", "jaeger")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// Start runs Jaeger until the test ends. It fails the test when bin/jaeger is missing (build it with
// `make jaeger-build`; `make test` does).
func Start(t testing.TB) *Jaeger {
	t.Helper()
	bin := Binary()
	if bin == "" {
		t.Fatal("bin/jaeger is not built: run `make jaeger-build` (make test does it)")
	}
	qp, qg, og, oh := freeport.Get(t), freeport.Get(t), freeport.Get(t), freeport.Get(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "jaeger.yaml")
	if err := os.WriteFile(cfg, []byte(jaegerconf.YAML(jaegerconf.Addrs{
		OTLPGRPC: loopback(og), OTLPHTTP: loopback(oh), QueryHTTP: loopback(qp), QueryGRPC: loopback(qg)}, 50*time.Millisecond)), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "jaeger.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting jaeger: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	j := &Jaeger{OTLPGRPC: loopback(og), OTLPHTTP: "http://" + loopback(oh), QueryURL: "http://" + loopback(qp)}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(j.QueryURL + "/api/services")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return j
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("jaeger did not start within 30s: %v\n%s", err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TracerProvider returns a tracer provider that exports the spans of service to j over OTLP/gRPC,
// each within 50 ms; it is shut down when tb ends.
func (j *Jaeger) TracerProvider(tb testing.TB, service string) *sdktrace.TracerProvider {
	tb.Helper()
	exp, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(j.OTLPGRPC), otlptracegrpc.WithInsecure())
	if err != nil {
		tb.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(50*time.Millisecond)),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(service))))
	tb.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp
}

// WorkerEnv is the environment that has a worker process (its SDK reads the OTEL_* variables)
// export the spans of service to j over OTLP/gRPC, each within 50 ms.
func (j *Jaeger) WorkerEnv(service string) map[string]string {
	return map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + j.OTLPGRPC, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
		"OTEL_SERVICE_NAME": service, "OTEL_BSP_SCHEDULE_DELAY": "50",
	}
}

// loopback is the address of port on 127.0.0.1.
func loopback(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

// Span is a span as Jaeger's query API returns it.
type Span struct {
	TraceID       string `json:"traceID"`
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		TraceID string `json:"traceID"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	ProcessID string `json:"processID"`
	Tags      []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	} `json:"tags"`
}

// Trace is a trace with its spans and the service name of each span's process.
type Trace struct {
	TraceID   string `json:"traceID"`
	Spans     []Span `json:"spans"`
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	} `json:"processes"`
}

// Service returns the service name of a span.
func (tr *Trace) Service(s Span) string { return tr.Processes[s.ProcessID].ServiceName }

// Parent returns the span id of s's parent ("" for a root).
func (s Span) Parent() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

// Trace fetches one trace by id (hex). It returns nil, nil when Jaeger does not have it (yet).
func (j *Jaeger) Trace(traceID string) (*Trace, error) {
	resp, err := http.Get(j.QueryURL + "/api/traces/" + strings.ToLower(traceID))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jaeger: GET trace %s: %s", traceID, resp.Status)
	}
	var body struct {
		Data []Trace `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	if len(body.Data) == 0 {
		return nil, nil
	}
	return &body.Data[0], nil
}

// WaitTrace fetches a trace until it holds at least minSpans spans (exporters batch), or fails the test
// after timeout.
func (j *Jaeger) WaitTrace(t testing.TB, traceID string, minSpans int, timeout time.Duration) *Trace {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last *Trace
	for {
		tr, err := j.Trace(traceID)
		if err != nil {
			t.Fatal(err)
		}
		if tr != nil {
			last = tr
			if len(tr.Spans) >= minSpans {
				return tr
			}
		}
		if time.Now().After(deadline) {
			n := 0
			if last != nil {
				n = len(last.Spans)
			}
			t.Fatalf("trace %s has %d spans after %s, want at least %d", traceID, n, timeout, minSpans)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
