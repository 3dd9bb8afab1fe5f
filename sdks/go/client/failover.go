package client

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
)

// DefaultCallTimeout bounds a unary call whose context has no deadline.
const DefaultCallTimeout = 30 * time.Second

// Keepalive pings: a gateway that does not answer one within keepaliveTimeout (frozen, or its
// machine gone) is dropped, and calls move to another gateway.
const (
	keepaliveTime    = 5 * time.Second
	keepaliveTimeout = 5 * time.Second
)

// WithCallTimeout bounds every unary call whose context has no deadline (default 30s; 0 leaves
// such calls unbounded). Streams (watches, uploads, downloads) are bounded by keepalives instead.
func WithCallTimeout(d time.Duration) DialOption { return func(o *options) { o.callTimeout = &d } }

// idempotentMethods are retried on another gateway when one is unavailable: reads, state changes
// that repeat harmlessly, and SubmitTasks, whose request id makes a repeat return the first answer.
var idempotentMethods = []struct{ service, method string }{
	{"chorus.v1.SessionService", "GetSession"}, {"chorus.v1.SessionService", "ListSessions"},
	{"chorus.v1.SessionService", "PauseSession"}, {"chorus.v1.SessionService", "ResumeSession"},
	{"chorus.v1.SessionService", "CloseSession"}, {"chorus.v1.SessionService", "CancelSession"},
	{"chorus.v1.TaskService", "SubmitTasks"}, {"chorus.v1.TaskService", "GetTask"},
	{"chorus.v1.TaskService", "ListTasks"}, {"chorus.v1.TaskService", "CancelTasks"},
	{"chorus.v1.ResultService", "GetResult"}, {"chorus.v1.ResultService", "ListResults"},
	{"chorus.v1.ResultService", "DownloadResultData"},
	{"chorus.v1.EventService", "WatchEvents"},
	{"chorus.v1.PartitionService", "ListPartitions"}, {"chorus.v1.PartitionService", "GetPartition"},
}

// serviceConfig spreads calls over the gateways (round robin over those that answer) and retries
// idempotent calls that found a gateway unavailable, with backoff, on another one.
func serviceConfig() string {
	names := make([]string, len(idempotentMethods))
	for i, m := range idempotentMethods {
		names[i] = fmt.Sprintf(`{"service":%q,"method":%q}`, m.service, m.method)
	}
	return `{"loadBalancingConfig":[{"round_robin":{}}],"methodConfig":[{"name":[` + strings.Join(names, ",") +
		`],"retryPolicy":{"maxAttempts":5,"initialBackoff":"0.1s","maxBackoff":"2s","backoffMultiplier":2,"retryableStatusCodes":["UNAVAILABLE"]}}]}`
}

// target turns "host:port[,host:port...]" into a gRPC target and the options that go with it:
// several gateways are resolved by the client itself (no DNS record needed).
func target(addr string) (string, []grpc.DialOption, error) {
	var addrs []resolver.Address
	for _, a := range strings.Split(addr, ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, resolver.Address{Addr: a})
		}
	}
	if len(addrs) == 0 {
		return "", nil, fmt.Errorf("chorus client: no gateway address in %q: give host:port, or several separated by commas", addr)
	}
	opts := []grpc.DialOption{
		grpc.WithDefaultServiceConfig(serviceConfig()),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: keepaliveTime, Timeout: keepaliveTimeout, PermitWithoutStream: true}),
	}
	if len(addrs) == 1 {
		return addrs[0].Addr, opts, nil
	}
	r := manual.NewBuilderWithScheme("chorus-gateways")
	r.InitialState(resolver.State{Addresses: addrs})
	return r.Scheme() + ":///gateways", append(opts, grpc.WithResolvers(r)), nil
}

// callTimeout gives a unary call without a deadline one of d.
func callTimeout(d time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok && d > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}
