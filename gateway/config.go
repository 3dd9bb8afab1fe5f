// Package gateway is Chorus's front door: it serves every client RPC of chorus.v1 over gRPC and, through
// grpc-gateway routed over an in-process gRPC connection, over REST/JSON, so validation, limits, error
// mapping and logging run once for both. State lives behind store.Store and large result data behind
// objstore.Store; the gateway itself is stateless and any number of replicas may run side by side.
package gateway

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/chorus-hpc/chorus/internal/auth"
	"github.com/chorus-hpc/chorus/internal/validate"
)

// Defaults of Config.
const (
	DefaultGRPCAddr       = "127.0.0.1:7070"
	DefaultHTTPAddr       = "127.0.0.1:7080"
	DefaultInlineLimit    = 64 << 10
	DefaultChunkSize      = 1 << 20
	DefaultMaxBatch       = 10000
	DefaultMaxResultSize  = 4 << 30
	DefaultMaxQueueDepth  = 1_000_000
	DefaultMaxMessageSize = 16 << 20
	DefaultShutdownGrace  = 10 * time.Second
	DefaultWatchBlock     = 5 * time.Second
	DefaultCallTimeout    = 30 * time.Second
)

// maxChunk is the largest chunk the contract allows in one upload or download message.
const maxChunk = 4 << 20

// Config configures a gateway. The zero value of every field means its documented default.
type Config struct {
	// GRPCAddr is the gRPC listen address. Default 127.0.0.1:7070; port 0 picks a free port.
	GRPCAddr string
	// HTTPAddr is the REST/JSON listen address (also /healthz, /readyz, /openapi.json). Default
	// 127.0.0.1:7080; port 0 picks a free port.
	HTTPAddr string
	// InlineLimit is the largest result data kept inline in the store; larger data goes to the object
	// store. Default 64 KiB.
	InlineLimit int64
	// ChunkSize is the size of the chunks of a download and of a REST upload. Default 1 MiB, at most
	// 4 MiB.
	ChunkSize int
	// MaxBatch is the most tasks (or results) one SubmitTasks (CreateResults) call may carry. Default
	// 10000, which is also the most the contract allows.
	MaxBatch int
	// MaxPayload is the largest inline task payload; larger payloads must be uploaded as a result and
	// named by payload_id. Default InlineLimit.
	MaxPayload int64
	// MaxResultSize is the largest result data an upload may write. Default 4 GiB.
	MaxResultSize int64
	// MaxQueueDepth is the most pending and queued tasks a partition may hold over all sessions; a
	// submission past it is refused with RESOURCE_EXHAUSTED naming the partition. The check is not
	// atomic with the submission (several gateways submit at once), and while a partition stays at
	// or below half the limit a gateway checks against the totals it read in the last second.
	// Default 1,000,000; negative means no limit.
	MaxQueueDepth int64
	// MaxSessionQueued is the most pending and queued tasks one session may hold; a submission past
	// it is refused with RESOURCE_EXHAUSTED naming the session. Default 0: no limit.
	MaxSessionQueued int64
	// MaxMessageSize is the largest gRPC message (and REST request body, except raw and streamed
	// uploads) the gateway accepts. Default 16 MiB.
	MaxMessageSize int
	// DeclaredPartitions are partitions tasks may target before any agent serves them.
	DeclaredPartitions []string
	// ShutdownGrace is how long in-flight calls may run after Run's context ends before they are cut.
	// Default 10s.
	ShutdownGrace time.Duration
	// CallTimeout bounds a unary call that brings no earlier deadline, so a store that hangs (Valkey
	// unreachable while its client retries) answers DEADLINE_EXCEEDED instead of holding the call.
	// Streams are not bounded. Default 30s.
	CallTimeout time.Duration
	// WatchBlock is how long one blocking read of an event watch waits on the store. Default 5s.
	WatchBlock time.Duration
	// Logger receives the gateway's logs. Default slog.Default().
	Logger *slog.Logger
	// TracerProvider traces every call (a server span per RPC, continuing the caller's W3C trace
	// context); the context of a SubmitTasks call is stored with its tasks. Default: otel's global one.
	TracerProvider trace.TracerProvider
	// MeterProvider receives RPC latency histograms and the per-partition gauges (queue depth, task
	// counts). Default: otel's global one.
	MeterProvider metric.MeterProvider
	// Propagator reads the trace context from calls. Default: otel's global one, else W3C trace context.
	Propagator propagation.TextMapPropagator
	// MetricsHandler, if set, is served at /metrics on the REST port (Prometheus text format).
	MetricsHandler http.Handler
	// TLS serves the gRPC and REST ports over TLS, with mutual TLS when it names a client CA. Default:
	// plaintext. See docs/security.md.
	TLS auth.TLSFiles
	// Auth says which bearer credentials (JWT keys, API tokens) are accepted. When it or TLS.ClientCAFile
	// is set every call must be authenticated and is authorized by role and tenant; otherwise the
	// gateway is open (fine on loopback). Default: open.
	Auth auth.Config
	// TenantsFile holds per-tenant allowed partitions and quotas; default: none, no limits.
	TenantsFile string
	// AuditLogger receives one line per write call (who, tenant, what, which session). Default Logger.
	AuditLogger *slog.Logger
	// JaegerURL, if set, is the base URL of a Jaeger query service (its HTTP API /api/traces and UI
	// /trace/{id}, e.g. http://127.0.0.1:16686). The dashboard's task page then shows the task's trace,
	// which the gateway reads from Jaeger server-side (the browser needs no route to Jaeger).
	JaegerURL string
}

// withDefaults returns cfg with every unset field at its default, or an error naming a bad field.
func (cfg Config) withDefaults() (Config, error) {
	cfg.GRPCAddr = cmp.Or(cfg.GRPCAddr, DefaultGRPCAddr)
	cfg.HTTPAddr = cmp.Or(cfg.HTTPAddr, DefaultHTTPAddr)
	cfg.InlineLimit = cmp.Or(cfg.InlineLimit, DefaultInlineLimit)
	cfg.ChunkSize = cmp.Or(cfg.ChunkSize, DefaultChunkSize)
	cfg.MaxBatch = cmp.Or(cfg.MaxBatch, DefaultMaxBatch)
	cfg.MaxPayload = cmp.Or(cfg.MaxPayload, cfg.InlineLimit)
	cfg.MaxResultSize = cmp.Or(cfg.MaxResultSize, DefaultMaxResultSize)
	cfg.MaxQueueDepth = cmp.Or(cfg.MaxQueueDepth, DefaultMaxQueueDepth)
	cfg.MaxMessageSize = cmp.Or(cfg.MaxMessageSize, DefaultMaxMessageSize)
	cfg.ShutdownGrace = cmp.Or(cfg.ShutdownGrace, DefaultShutdownGrace)
	cfg.WatchBlock = cmp.Or(cfg.WatchBlock, DefaultWatchBlock)
	cfg.CallTimeout = cmp.Or(cfg.CallTimeout, DefaultCallTimeout)
	cfg.Logger = cmp.Or(cfg.Logger, slog.Default())
	cfg.TracerProvider = cmp.Or(cfg.TracerProvider, otel.GetTracerProvider())
	cfg.MeterProvider = cmp.Or(cfg.MeterProvider, otel.GetMeterProvider())
	if cfg.Propagator == nil {
		cfg.Propagator = otel.GetTextMapPropagator()
		if len(cfg.Propagator.Fields()) == 0 {
			cfg.Propagator = propagation.TraceContext{}
		}
	}
	var errs []error
	if cfg.InlineLimit < 0 || cfg.InlineLimit > maxChunk {
		errs = append(errs, fmt.Errorf("InlineLimit %d must be between 1 and %d bytes", cfg.InlineLimit, maxChunk))
	}
	if cfg.ChunkSize < 0 || cfg.ChunkSize > maxChunk {
		errs = append(errs, fmt.Errorf("ChunkSize %d must be between 1 and %d bytes", cfg.ChunkSize, maxChunk))
	}
	if cfg.MaxBatch < 0 || cfg.MaxBatch > DefaultMaxBatch {
		errs = append(errs, fmt.Errorf("MaxBatch %d must be between 1 and %d", cfg.MaxBatch, DefaultMaxBatch))
	}
	if cfg.MaxPayload < 0 || cfg.MaxPayload > maxChunk {
		errs = append(errs, fmt.Errorf("MaxPayload %d must be between 1 and %d bytes", cfg.MaxPayload, maxChunk))
	}
	if cfg.MaxResultSize < 0 {
		errs = append(errs, fmt.Errorf("MaxResultSize %d must be positive", cfg.MaxResultSize))
	}
	if cfg.MaxMessageSize < 0 || cfg.MaxMessageSize < cfg.ChunkSize+1024 {
		errs = append(errs, fmt.Errorf("MaxMessageSize %d must be positive and exceed ChunkSize (%d) by at least 1 KiB", cfg.MaxMessageSize, cfg.ChunkSize))
	}
	if cfg.ShutdownGrace < 0 {
		errs = append(errs, fmt.Errorf("ShutdownGrace %v must not be negative", cfg.ShutdownGrace))
	}
	if cfg.CallTimeout < 0 {
		errs = append(errs, fmt.Errorf("CallTimeout %v must not be negative", cfg.CallTimeout))
	}
	if cfg.WatchBlock < 0 {
		errs = append(errs, fmt.Errorf("WatchBlock %v must not be negative", cfg.WatchBlock))
	}
	if cfg.JaegerURL != "" {
		if u, err := url.Parse(cfg.JaegerURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("JaegerURL %q must be an http(s) URL such as http://127.0.0.1:16686", cfg.JaegerURL))
		}
	}
	for _, p := range cfg.DeclaredPartitions {
		if validate.Partition(p) != nil {
			errs = append(errs, fmt.Errorf("declared partition %q is not a valid partition name (letters, digits, '.', '_', '-'; at most 64)", p))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return cfg, fmt.Errorf("gateway config: %w", err)
	}
	return cfg, nil
}

// RegisterFlags defines a flag for every field of cfg (except Logger) on fs, with cfg's current values
// as defaults; the command line (and CHORUS_* variables, when fs's owner reads them) then set cfg.
func (cfg *Config) RegisterFlags(fs *flag.FlagSet) {
	d, _ := cfg.withDefaults() // show defaults; validation happens in New
	*cfg = d
	fs.StringVar(&cfg.GRPCAddr, "grpc-addr", cfg.GRPCAddr, "gRPC listen address")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", cfg.HTTPAddr, "REST/JSON listen address (also /healthz, /readyz, /openapi.json)")
	fs.Int64Var(&cfg.InlineLimit, "inline-limit", cfg.InlineLimit, "largest result data kept inline in Valkey, in bytes; larger goes to the object store")
	fs.IntVar(&cfg.ChunkSize, "chunk-size", cfg.ChunkSize, "chunk size of result downloads and REST uploads, in bytes (at most 4 MiB)")
	fs.IntVar(&cfg.MaxBatch, "max-batch", cfg.MaxBatch, "most tasks or results per SubmitTasks/CreateResults call (at most 10000)")
	fs.Int64Var(&cfg.MaxPayload, "max-payload", cfg.MaxPayload, "largest inline task payload, in bytes; larger must be uploaded as a result")
	fs.Int64Var(&cfg.MaxResultSize, "max-result-size", cfg.MaxResultSize, "largest result upload, in bytes")
	fs.Int64Var(&cfg.MaxQueueDepth, "max-queue-depth", cfg.MaxQueueDepth, "most pending and queued tasks per partition, over all sessions (negative: no limit)")
	fs.Int64Var(&cfg.MaxSessionQueued, "max-session-queued", cfg.MaxSessionQueued, "most pending and queued tasks per session (0: no limit)")
	fs.IntVar(&cfg.MaxMessageSize, "max-message-size", cfg.MaxMessageSize, "largest gRPC message or REST body, in bytes")
	fs.Func("partitions", "comma-separated partitions tasks may target before an agent serves them", commaList(&cfg.DeclaredPartitions))
	fs.DurationVar(&cfg.ShutdownGrace, "shutdown-grace", cfg.ShutdownGrace, "how long in-flight calls may run after shutdown starts")
	fs.DurationVar(&cfg.CallTimeout, "call-timeout", cfg.CallTimeout, "deadline of a unary call that brings none (streams are not bounded)")
	fs.DurationVar(&cfg.WatchBlock, "watch-block", cfg.WatchBlock, "how long one blocking read of an event watch waits on Valkey")
	cfg.registerSecurityFlags(fs)
	fs.StringVar(&cfg.JaegerURL, "jaeger-url", cfg.JaegerURL, "base URL of a Jaeger query service (e.g. http://127.0.0.1:16686); the dashboard then shows task traces")
}

// commaList is a repeatable flag of comma-separated values: each use appends its non-empty values,
// trimmed, to dst.
func commaList(dst *[]string) func(string) error {
	return func(v string) error {
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" {
				*dst = append(*dst, x)
			}
		}
		return nil
	}
}
