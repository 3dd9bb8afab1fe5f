// Package client is the Go client SDK of Chorus: sessions, task graphs, result data and waiting for
// results through the event stream (no polling).
//
//	c, err := client.Dial(ctx, "127.0.0.1:7070")
//	sess, err := c.CreateSession(ctx, client.SessionOptions{Partition: "go"})
//	g := client.NewGraph()
//	h := g.Task("sha256", []byte("hello"))
//	_, err = sess.Submit(ctx, g)
//	data, err := sess.WaitAndDownload(ctx, h.Output())
package client

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// DefaultInlineLimit is the largest payload or result sent inline; larger data is uploaded as a
// stream. It matches the gateway's default inline limit.
const DefaultInlineLimit = 64 << 10

// DefaultChunkSize is the size of upload chunks.
const DefaultChunkSize = 1 << 20

// Client is a connection to a Chorus gateway. It is safe for concurrent use.
type Client struct {
	conn        *grpc.ClientConn
	sessions    chorusv1.SessionServiceClient
	tasks       chorusv1.TaskServiceClient
	results     chorusv1.ResultServiceClient
	events      chorusv1.EventServiceClient
	partitions  chorusv1.PartitionServiceClient
	inlineLimit int
	chunkSize   int
	tracer      trace.Tracer
}

type options struct {
	tls         *tls.Config
	dialOptions []grpc.DialOption
	inlineLimit int
	chunkSize   int
	tp          trace.TracerProvider
	prop        propagation.TextMapPropagator
	callTimeout *time.Duration
}

// DialOption configures Dial.
type DialOption func(*options)

// WithTLS connects with TLS using cfg (the default is a plaintext connection, for loopback and
// private networks).
func WithTLS(cfg *tls.Config) DialOption { return func(o *options) { o.tls = cfg } }

// WithDialOptions adds gRPC dial options (interceptors, tracing stats handlers, ...).
func WithDialOptions(opts ...grpc.DialOption) DialOption {
	return func(o *options) { o.dialOptions = append(o.dialOptions, opts...) }
}

// WithTracerProvider traces the client's calls with tp (default: otel's global provider). The W3C
// trace context travels with every call, so the gateway, the agent and the worker continue the trace
// of the call that submitted a task.
func WithTracerProvider(tp trace.TracerProvider) DialOption { return func(o *options) { o.tp = tp } }

// WithPropagator sets how the trace context is written into calls (default: otel's global
// propagator, W3C trace context when none is set).
func WithPropagator(p propagation.TextMapPropagator) DialOption {
	return func(o *options) { o.prop = p }
}

// WithInlineLimit sets the largest payload or result data sent inline (default 64 KiB); it must not
// exceed the gateway's inline limit.
func WithInlineLimit(n int) DialOption { return func(o *options) { o.inlineLimit = n } }

// WithChunkSize sets the upload chunk size (default 1 MiB).
func WithChunkSize(n int) DialOption { return func(o *options) { o.chunkSize = n } }

// Dial connects to a gateway's gRPC address ("host:port"), or to several gateways of one
// installation ("host1:port,host2:port"): calls are spread over those that answer, idempotent calls
// (with their request id) are retried on another gateway when one is unavailable, and watches
// resume from their cursor on another. Every unary call gets a deadline (WithCallTimeout) and
// every connection keepalive pings, so a frozen gateway is left within seconds. The connection is
// made lazily; ctx bounds nothing but is kept for symmetry with other calls.
func Dial(_ context.Context, addr string, opts ...DialOption) (*Client, error) {
	o := options{inlineLimit: DefaultInlineLimit, chunkSize: DefaultChunkSize}
	for _, opt := range opts {
		opt(&o)
	}
	if o.inlineLimit < 0 || o.chunkSize <= 0 {
		return nil, fmt.Errorf("chorus client: inline limit must be >= 0 and chunk size > 0")
	}
	if o.tp == nil {
		o.tp = otel.GetTracerProvider()
	}
	if o.prop == nil {
		o.prop = otel.GetTextMapPropagator()
		if len(o.prop.Fields()) == 0 {
			o.prop = propagation.TraceContext{}
		}
	}
	creds := insecure.NewCredentials()
	if o.tls != nil {
		creds = credentials.NewTLS(o.tls)
	}
	tgt, failover, err := target(addr)
	if err != nil {
		return nil, err
	}
	ct := DefaultCallTimeout
	if o.callTimeout != nil {
		ct = *o.callTimeout
	}
	dial := append(append(failover, grpc.WithChainUnaryInterceptor(callTimeout(ct))), []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64 << 20)),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(o.tp), otelgrpc.WithPropagators(o.prop))),
	}...)
	dial = append(dial, o.dialOptions...)
	conn, err := grpc.NewClient(tgt, dial...)
	if err != nil {
		return nil, fmt.Errorf("chorus client: cannot connect to %q: %w", addr, err)
	}
	return &Client{
		conn:        conn,
		sessions:    chorusv1.NewSessionServiceClient(conn),
		tasks:       chorusv1.NewTaskServiceClient(conn),
		results:     chorusv1.NewResultServiceClient(conn),
		events:      chorusv1.NewEventServiceClient(conn),
		partitions:  chorusv1.NewPartitionServiceClient(conn),
		inlineLimit: o.inlineLimit,
		chunkSize:   o.chunkSize,
		tracer:      o.tp.Tracer("github.com/chorus-hpc/chorus/sdks/go/client"),
	}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Conn returns the underlying gRPC connection, for the raw generated clients.
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// SessionOptions are the options of a new session.
type SessionOptions struct {
	// Partition that runs the session's tasks unless a task names another.
	Partition string
	// Priority of the session's tasks (0-9) unless a task sets its own; nil leaves the server default.
	Priority *int32
	// MaxRetries of the session's tasks unless a task sets its own; nil leaves the server default (3).
	MaxRetries *int32
	// MaxDuration of one attempt unless a task sets its own; 0 means no limit.
	MaxDuration time.Duration
	// Weight against other sessions of the same partitions (1-100; 0 means 1).
	Weight int32
	// Labels are free-form key/values.
	Labels map[string]string
}

// CreateSession creates a session.
func (c *Client) CreateSession(ctx context.Context, o SessionOptions) (*Session, error) {
	req := &chorusv1.CreateSessionRequest{
		DefaultTaskOptions: taskOptions(o.Partition, o.Priority, o.MaxRetries, o.MaxDuration),
		Weight:             o.Weight,
		Labels:             o.Labels,
	}
	resp, err := c.sessions.CreateSession(ctx, req)
	if err != nil {
		return nil, wrap("create session", err)
	}
	return &Session{c: c, ID: resp.GetSession().GetSessionId()}, nil
}

// Session returns a handle on an existing session (nothing is checked until it is used).
func (c *Client) Session(id string) *Session { return &Session{c: c, ID: id} }

// ListSessions returns every session in a status (UNSPECIFIED: any), newest first, following pages.
func (c *Client) ListSessions(ctx context.Context, status chorusv1.SessionStatus) ([]*chorusv1.Session, error) {
	return listAll("sessions", func(token string) ([]*chorusv1.Session, string, error) {
		resp, err := c.sessions.ListSessions(ctx, &chorusv1.ListSessionsRequest{PageSize: 1000, PageToken: token, Status: status})
		return resp.GetSessions(), resp.GetNextPageToken(), err
	})
}

// listAll follows the pages of a listing of what: page returns the items at token and the next
// page's token ("" after the last page).
func listAll[T any](what string, page func(token string) ([]T, string, error)) ([]T, error) {
	var out []T
	for token := ""; ; {
		items, next, err := page(token)
		if err != nil {
			return nil, wrap("list "+what, err)
		}
		out = append(out, items...)
		if token = next; token == "" {
			return out, nil
		}
	}
}

// Partitions lists the partitions with their queue depth and agents.
func (c *Client) Partitions(ctx context.Context) ([]*chorusv1.Partition, error) {
	resp, err := c.partitions.ListPartitions(ctx, &chorusv1.ListPartitionsRequest{})
	if err != nil {
		return nil, wrap("list partitions", err)
	}
	return resp.GetPartitions(), nil
}

func taskOptions(partition string, priority, maxRetries *int32, maxDuration time.Duration) *chorusv1.TaskOptions {
	o := &chorusv1.TaskOptions{Partition: partition, Priority: priority, MaxRetries: maxRetries}
	if maxDuration > 0 {
		o.MaxDuration = durationpb.New(maxDuration)
	}
	return o
}
