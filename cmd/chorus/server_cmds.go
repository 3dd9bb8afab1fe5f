package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/chorus-hpc/chorus/agent"
	"github.com/chorus-hpc/chorus/gateway"
	"github.com/chorus-hpc/chorus/internal/telemetry"
)

// newGatewayFlags makes the flag set of a command that runs a gateway (gateway, dev), with the
// gateway's flags registered into the returned config.
func newGatewayFlags(env *cliEnv, name string) (*flags, *gateway.Config) {
	fs := newFlags(env, name, "")
	cfg := new(gateway.Config)
	cfg.RegisterFlags(fs.FlagSet)
	return fs, cfg
}

// withTelemetry gives a gateway the process's logger, providers and /metrics handler.
func withTelemetry(cfg *gateway.Config, tel *telemetry.Telemetry) {
	cfg.Logger, cfg.TracerProvider, cfg.MeterProvider, cfg.Propagator = tel.Logger, tel.TracerProvider, tel.MeterProvider, tel.Propagator
	cfg.MetricsHandler = tel.MetricsHandler
}

func runGateway(ctx context.Context, env *cliEnv, args []string) error {
	fs, cfg := newGatewayFlags(env, "gateway")
	var bf backendFlags
	bf.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	b, err := bf.open(ctx, env, "chorus-gateway")
	if err != nil {
		return err
	}
	defer b.close()
	withTelemetry(cfg, b.tel)
	gw, err := gateway.New(*cfg, b.st, b.objs)
	if err != nil {
		return err
	}
	scheme := "http"
	if gw.Secure() {
		scheme = "https"
	}
	fmt.Fprintf(env.stderr, "chorus gateway: gRPC on %s, REST/JSON on %s://%s (Valkey %s)\n", gw.GRPCAddr(), scheme, gw.HTTPAddr(), bf.valkey.addrs)
	fmt.Fprintf(env.stderr, "chorus gateway: dashboard on %s://%s/\n", scheme, gw.HTTPAddr())
	return gw.Run(ctx)
}

func runAgent(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "agent", "")
	var bf backendFlags
	config := fs.requiredString("config", "agent configuration file (YAML): partitions, worker commands, processes, capacity, transport (required)",
		" (see deploy/agent.example.yaml for an example)")
	metricsAddr := fs.String("metrics-addr", "127.0.0.1:7081", "address of the agent's /metrics and /healthz (empty: none)")
	bf.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	cfg, err := agent.LoadConfig(*config)
	if err != nil {
		return err
	}
	b, err := bf.open(ctx, env, "chorus-agent")
	if err != nil {
		return err
	}
	defer b.close()
	cfg.Logger, cfg.TracerProvider, cfg.MeterProvider, cfg.Propagator = b.tel.Logger, b.tel.TracerProvider, b.tel.MeterProvider, b.tel.Propagator
	a, err := agent.New(cfg, b.st, b.objs)
	if err != nil {
		return err
	}
	if *metricsAddr != "" {
		stop, err := serveMetrics(*metricsAddr, b.tel.MetricsHandler)
		if err != nil {
			return err
		}
		defer stop()
	}
	fmt.Fprintf(env.stderr, "chorus agent %s: serving %d partition(s) (Valkey %s)\n", a.ID(), len(cfg.Partitions), bf.valkey.addrs)
	return a.Run(ctx)
}

// serveMetrics serves /metrics and /healthz on addr until stop is called.
func serveMetrics(addr string, metrics http.Handler) (stop func(), err error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics address %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

func shutdownTelemetry(f func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = f(ctx)
}
