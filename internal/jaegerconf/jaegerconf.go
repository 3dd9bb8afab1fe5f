// Package jaegerconf writes the config of a Jaeger v2 all-in-one with in-memory storage, as
// `chorus dev --jaeger` and the tracing tests run it.
package jaegerconf

import (
	"fmt"
	"time"
)

// Addrs are the addresses (host:port) Jaeger listens on.
type Addrs struct {
	OTLPGRPC  string // OTLP/gRPC receiver
	OTLPHTTP  string // OTLP/HTTP receiver
	QueryHTTP string // UI and HTTP query API
	QueryGRPC string // query gRPC API
}

// YAML returns the config: traces received over OTLP on a, batched for batchTimeout, kept in memory
// (at most 100,000) and served by the query API on a; Jaeger's own metrics are off.
func YAML(a Addrs, batchTimeout time.Duration) string {
	return fmt.Sprintf(config, a.OTLPGRPC, a.OTLPHTTP, a.QueryHTTP, a.QueryGRPC, batchTimeout)
}

const config = `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_query:
    storage:
      traces: mem
    http:
      endpoint: %[3]s
    grpc:
      endpoint: %[4]s
  jaeger_storage:
    backends:
      mem:
        memory:
          max_traces: 100000
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %[1]s
      http:
        endpoint: %[2]s
processors:
  batch:
    timeout: %[5]s
exporters:
  jaeger_storage_exporter:
    trace_storage: mem
`
