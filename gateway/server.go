package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"buf.build/go/protovalidate"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/test/bufconn"

	"github.com/chorus-hpc/chorus/internal/metrics"
	"github.com/chorus-hpc/chorus/internal/objstore"
	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// Server is a gateway: a gRPC server and a REST/JSON server in front of the store and the object store.
type Server struct {
	cfg       Config
	log       *slog.Logger
	store     store.Store
	objects   objstore.Store
	validator protovalidate.Validator
	known     *knownCache
	sec       *security

	grpcServer   *grpc.Server // the gRPC port
	inprocServer *grpc.Server // the in-process connection of REST calls
	health       *health.Server
	grpcLis      net.Listener
	httpLis      net.Listener
	inproc       *bufconn.Listener
	conn         *grpc.ClientConn // in-process connection REST calls go through
	gwmux        *runtime.ServeMux
	httpServer   *http.Server
	routes       routeTable // REST paths and their methods (405 answers)

	unregisterGauges func() error

	stopping     chan struct{} // closed when shutdown starts: event watches end
	mu           sync.Mutex
	started      bool
	closed       bool
	stopStopping sync.Once
}

// New returns a gateway on st and objects with its listeners bound (so GRPCAddr and HTTPAddr are known,
// also for port 0). Call Run to serve, or Close to release the listeners without serving.
func New(cfg Config, st store.Store, objects objstore.Store) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if st == nil || objects == nil {
		return nil, errors.New("gateway: a store and an object store are required")
	}
	v, err := protovalidate.New()
	if err != nil {
		return nil, fmt.Errorf("gateway: building the request validator: %w", err)
	}
	sec, err := newSecurity(cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, log: cfg.Logger, store: st, objects: objects, validator: v,
		known:    newKnownCache(),
		sec:      sec,
		stopping: make(chan struct{}),
	}
	// The TCP port (TLS when configured) and the in-process connection of REST calls (whose TLS the
	// REST port terminates) have a server each, with the same services and interceptors.
	s.health = health.NewServer()
	var creds []grpc.ServerOption
	if sec.tls != nil {
		creds = append(creds, grpc.Creds(credentials.NewTLS(sec.tls)))
	}
	s.grpcServer = s.newGRPCServer(creds...)
	s.inprocServer = s.newGRPCServer()
	if err := checkAccessTable(s.grpcServer); err != nil {
		return nil, err
	}

	if s.unregisterGauges, err = metrics.RegisterPartitionGauges(cfg.MeterProvider.Meter("github.com/chorus-hpc/chorus/gateway"), st, 2*time.Second); err != nil {
		return nil, fmt.Errorf("gateway: registering the partition gauges: %w", err)
	}
	if s.grpcLis, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
		_ = s.unregisterGauges()
		return nil, fmt.Errorf("gateway: listening for gRPC on %s: %w", cfg.GRPCAddr, err)
	}
	if s.httpLis, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		_ = s.grpcLis.Close()
		return nil, fmt.Errorf("gateway: listening for REST on %s: %w", cfg.HTTPAddr, err)
	}
	if sec.tls != nil {
		s.httpLis = tls.NewListener(s.httpLis, sec.tls)
	}
	s.inproc = bufconn.Listen(1 << 20)
	s.conn, err = grpc.NewClient("passthrough:///chorus-gateway-inprocess",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return s.inproc.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(cfg.MaxMessageSize), grpc.MaxCallSendMsgSize(cfg.MaxMessageSize)),
	)
	if err == nil {
		err = s.buildREST()
	}
	if err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("gateway: building the REST server: %w", err)
	}
	return s, nil
}

func (s *Server) newGRPCServer(opts ...grpc.ServerOption) *grpc.Server {
	cfg := s.cfg
	g := grpc.NewServer(append(opts,
		grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(cfg.TracerProvider),
			otelgrpc.WithMeterProvider(cfg.MeterProvider), otelgrpc.WithPropagators(cfg.Propagator))),
		grpc.ChainUnaryInterceptor(s.entryUnary, s.authUnary, s.validateUnary),
		grpc.ChainStreamInterceptor(s.entryStream, s.authStream, s.validateStream),
		grpc.MaxRecvMsgSize(cfg.MaxMessageSize),
		grpc.MaxSendMsgSize(cfg.MaxMessageSize),
		// Clients ping every few seconds to notice a frozen gateway (the SDKs' keepalives).
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 2 * time.Second, PermitWithoutStream: true}),
	)...)
	chorusv1.RegisterSessionServiceServer(g, sessionService{Server: s})
	chorusv1.RegisterTaskServiceServer(g, taskService{Server: s})
	chorusv1.RegisterResultServiceServer(g, resultService{Server: s})
	chorusv1.RegisterEventServiceServer(g, eventService{Server: s})
	chorusv1.RegisterPartitionServiceServer(g, partitionService{Server: s})
	healthpb.RegisterHealthServer(g, s.health)
	reflection.Register(g)
	return g
}

// Secure reports whether the gateway's ports speak TLS.
func (s *Server) Secure() bool { return s.sec.tls != nil }

// GRPCAddr returns the address the gRPC server listens on.
func (s *Server) GRPCAddr() string { return s.grpcLis.Addr().String() }

// HTTPAddr returns the address the REST server listens on.
func (s *Server) HTTPAddr() string { return s.httpLis.Addr().String() }

// Run declares the configured partitions, then serves until ctx ends and shuts down gracefully: it
// stops accepting, ends event watches (clients resume from their cursor elsewhere), lets in-flight
// calls finish within ShutdownGrace, then cuts what is left. It returns nil after a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.started || s.closed {
		s.mu.Unlock()
		return errors.New("gateway: Run called twice or after Close")
	}
	s.started = true
	s.mu.Unlock()

	if len(s.cfg.DeclaredPartitions) > 0 {
		if err := s.store.DeclarePartitions(ctx, s.cfg.DeclaredPartitions); err != nil {
			s.closeListeners()
			return fmt.Errorf("gateway: declaring partitions %v: %w", s.cfg.DeclaredPartitions, err)
		}
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)

	errc := make(chan error, 3)
	go func() { errc <- serveErr("gRPC", s.grpcServer.Serve(s.grpcLis)) }()
	go func() { errc <- serveErr("in-process gRPC", s.inprocServer.Serve(s.inproc)) }()
	go func() { errc <- serveErr("REST", s.httpServer.Serve(s.httpLis)) }()
	s.log.Info("gateway serving", "grpc_addr", s.GRPCAddr(), "http_addr", s.HTTPAddr())

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	s.shutdown()
	_ = s.unregisterGauges()
	return runErr
}

func serveErr(what string, err error) error {
	if err == nil || errors.Is(err, grpc.ErrServerStopped) || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("gateway: serving %s: %w", what, err)
}

func (s *Server) shutdown() {
	s.health.Shutdown()
	s.stopStopping.Do(func() { close(s.stopping) })
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	if err := s.httpServer.Shutdown(ctx); err != nil {
		s.log.Warn("REST calls still running after the shutdown grace period; cutting them", "grace", s.cfg.ShutdownGrace)
		_ = s.httpServer.Close()
	}
	done := make(chan struct{})
	go func() { s.grpcServer.GracefulStop(); s.inprocServer.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn("gRPC calls still running after the shutdown grace period; cutting them", "grace", s.cfg.ShutdownGrace)
		s.grpcServer.Stop()
		s.inprocServer.Stop()
		<-done
	}
	_ = s.conn.Close()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.log.Info("gateway stopped")
}

// Close releases the listeners of a gateway whose Run was never called. After Run it does nothing.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return nil
	}
	s.closed = true
	s.closeListeners()
	return nil
}

func (s *Server) closeListeners() {
	if s.unregisterGauges != nil {
		_ = s.unregisterGauges()
	}
	_ = s.grpcLis.Close()
	_ = s.httpLis.Close()
	if s.inproc != nil {
		_ = s.inproc.Close()
	}
	if s.conn != nil {
		_ = s.conn.Close()
	}
}

// stopCtx returns ctx, also cancelled when the gateway starts shutting down (for long-lived streams).
func (s *Server) stopCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-s.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// readyTimeout bounds the store ping of /readyz.
const readyTimeout = 2 * time.Second
