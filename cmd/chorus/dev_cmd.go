package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/chorus-hpc/chorus/agent"
	"github.com/chorus-hpc/chorus/gateway"
	"github.com/chorus-hpc/chorus/internal/demo"
	"github.com/chorus-hpc/chorus/internal/objstore/local"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/telemetry"
	"github.com/chorus-hpc/chorus/internal/valkeyproc"
	"github.com/chorus-hpc/chorus/sdks/go/client"
)

// devWorkers finds the example workers of this checkout: the partitions `chorus dev` serves.
func devWorkers(root string, python string) []agent.PartitionConfig {
	var parts []agent.PartitionConfig
	if p := filepath.Join(root, "bin", "chorus-worker-go"); isFile(p) {
		parts = append(parts, agent.PartitionConfig{Name: "go", Command: p, Processes: 1, Capacity: 8})
	}
	if python == "" {
		python = filepath.Join(root, ".venv", "bin", "python")
	}
	if script := filepath.Join(root, "workers", "python", "montecarlo.py"); isFile(python) && isFile(script) {
		parts = append(parts, agent.PartitionConfig{Name: "python", Command: python, Args: []string{script}, Processes: 2, Capacity: 1})
	}
	if p := filepath.Join(root, "workers", "cpp", "build", "chorus-worker-cpp"); isFile(p) {
		parts = append(parts, agent.PartitionConfig{Name: "cpp", Command: p, Processes: 1, Capacity: 4})
	}
	if exe := filepath.Join(root, "workers", "csharp", "build", "chorus-worker-csharp.exe"); isFile(exe) {
		if mono, err := exec.LookPath("mono"); err == nil {
			parts = append(parts, agent.PartitionConfig{Name: "csharp", Command: mono, Args: []string{exe}, Processes: 1, Capacity: 4, Transport: "stdio"})
		}
	}
	return parts
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// repoRoot is the checkout the binary runs from: the parent of bin/, else the working folder.
func repoRoot() string {
	if exe, err := os.Executable(); err == nil {
		if dir := filepath.Dir(filepath.Dir(exe)); isFile(filepath.Join(dir, "go.mod")) {
			return dir
		}
	}
	wd, _ := os.Getwd()
	return wd
}

func runDev(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "dev", "")
	var (
		gcfg gateway.Config
		lf   logFlags
	)
	gcfg.RegisterFlags(fs.FlagSet)
	lf.register(fs)
	dataDir := fs.String("data-dir", ".chorus", "folder for Valkey's data (AOF), objects and agent files; kept across runs")
	python := fs.String("python", "", "Python interpreter with the chorus-hpc package (default: .venv/bin/python of the checkout)")
	runDemo := fs.Bool("demo", false, "run the demo job, print its summary, then stop")
	demoTasks := fs.Int("demo-tasks", 2000, "demo: number of Python pricing tasks")
	withAuth := fs.Bool("auth", false, "require a bearer token (HS256 JWT; secret kept in <data-dir>/auth/jwt-secret) and print one for the tenant \"dev\"; 'chorus token' mints more")
	withJaeger := fs.Bool("jaeger", false, "start a local Jaeger (bin/jaeger, built by 'make jaeger-build') and trace everything into it; UI and query API on http://127.0.0.1:16686")
	if err := fs.parse(args); err != nil {
		return err
	}
	root := repoRoot()
	if *withJaeger {
		stop, err := startJaeger(root, *dataDir)
		if err != nil {
			return err
		}
		defer stop()
	}
	tel, err := lf.telemetry(ctx, env, "chorus-gateway")
	if err != nil {
		return err
	}
	defer shutdownTelemetry(tel.Shutdown)
	log := tel.Logger
	agentTP, agentTPStop, err := telemetry.TracerProviderFromEnv(ctx, "chorus-agent")
	if err != nil {
		return err
	}
	if agentTPStop != nil {
		defer shutdownTelemetry(agentTPStop)
	}
	data, err := filepath.Abs(*dataDir)
	if err != nil {
		return err
	}
	parts := devWorkers(root, *python)
	if len(parts) == 0 {
		return errors.New("no example worker found: run `make build` (Go worker) and `make python-venv` (Python worker) first")
	}
	if *withJaeger {
		for i := range parts {
			parts[i].Env = map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": jaegerOTLP, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
				"OTEL_SERVICE_NAME": "chorus-worker-" + parts[i].Name}
		}
	}

	vctx, vcancel := context.WithTimeout(ctx, 30*time.Second)
	defer vcancel()
	vk, err := valkeyproc.Start(vctx, valkeyproc.Config{Dir: filepath.Join(data, "valkey"), AppendOnly: true})
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := vk.Stop(sctx); err != nil {
			log.Error("stopping valkey", "error", err)
		}
	}()
	vc, err := valkey.NewClient(valkey.ClientOption{InitAddress: []string{vk.Addr()}})
	if err != nil {
		return fmt.Errorf("connecting to the dev Valkey: %w", err)
	}
	st, err := valkeystore.New(valkeystore.Config{Client: vc, Logger: log, TracerProvider: tel.TracerProvider})
	if err != nil {
		vc.Close()
		return err
	}
	defer st.Close()
	objs, err := local.New(local.Config{Dir: filepath.Join(data, "objects"), Logger: log})
	if err != nil {
		return err
	}

	for _, p := range parts {
		gcfg.DeclaredPartitions = append(gcfg.DeclaredPartitions, p.Name)
	}
	devToken := ""
	if *withAuth {
		secretFile, err := devSecret(data)
		if err != nil {
			return fmt.Errorf("--auth: %w", err)
		}
		gcfg.Auth.JWTSecretFile, gcfg.Auth.JWTAudience, gcfg.Auth.JWTIssuer = secretFile, devAudience, devIssuer
		secret, err := os.ReadFile(secretFile)
		if err != nil {
			return err
		}
		if devToken, err = mintToken(strings.TrimSpace(string(secret)), devTenant, "dev", []string{"user"}, devAudience, devIssuer, 24*time.Hour); err != nil {
			return err
		}
	}
	gcfg.Logger, gcfg.TracerProvider, gcfg.MeterProvider, gcfg.Propagator = log, tel.TracerProvider, tel.MeterProvider, tel.Propagator
	gcfg.MetricsHandler = tel.MetricsHandler
	gw, err := gateway.New(gcfg, st, objs)
	if err != nil {
		return err
	}
	acfg := agent.Config{Partitions: parts, Logger: log, TracerProvider: agentTP, MeterProvider: tel.MeterProvider, RuntimeDir: filepath.Join(os.TempDir(), fmt.Sprintf("chorus-dev-%d", os.Getpid()))}
	ag, err := agent.New(acfg, st, objs)
	if err != nil {
		return err
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, run := range []func(context.Context) error{gw.Run, ag.Run} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
				errs <- err
				stop()
			}
		}()
	}
	names := ""
	for _, p := range parts {
		names += " " + p.Name
	}
	scheme := "http"
	if gw.Secure() {
		scheme = "https"
	}
	fmt.Fprintf(env.stderr, "chorus dev is running (data in %s)\n  gRPC        %s\n  REST/JSON   %s://%s/v1/sessions\n  OpenAPI     %s://%s/openapi.json\n  Valkey      %s\n  partitions %s\nPress Ctrl-C to stop.\n",
		data, gw.GRPCAddr(), scheme, gw.HTTPAddr(), scheme, gw.HTTPAddr(), vk.Addr(), names)
	if devToken != "" {
		fmt.Fprintf(env.stderr, "Authentication is on. A token of tenant %q (role user, valid 24h):\n  export CHORUS_TOKEN=%s\n  curl -H \"Authorization: Bearer $CHORUS_TOKEN\" %s://%s/v1/sessions\nMore tokens: chorus token --secret-file %s --tenant NAME [--roles user|reader|admin]\n",
			devTenant, devToken, scheme, gw.HTTPAddr(), gcfg.Auth.JWTSecretFile)
	}

	var demoErr error
	if *runDemo {
		demoErr = runDemoJob(runCtx, env, gw.GRPCAddr(), devToken, *demoTasks, *withJaeger)
		stop()
	}
	<-runCtx.Done()
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	return demoErr
}

func runDemoJob(ctx context.Context, env *cliEnv, addr, token string, tasks int, traced bool) error {
	tp, stop, err := telemetry.TracerProviderFromEnv(ctx, "chorus-client")
	if err != nil {
		return err
	}
	cl, err := client.Dial(ctx, addr, client.WithTracerProvider(tp), client.WithToken(token))
	if err != nil {
		return err
	}
	defer cl.Close()
	jctx, span := tp.Tracer("chorus-demo").Start(ctx, "demo job")
	bar := newProgress(env.stderr, "demo", 0)
	bar.run(jctx)
	_, err = demo.Run(jctx, cl, demo.Config{Tasks: tasks, Progress: bar.set}, env.stdout)
	bar.finish()
	span.End()
	if stop != nil {
		shutdownTelemetry(stop)
	}
	if traced {
		id := span.SpanContext().TraceID().String()
		fmt.Fprintf(env.stdout, "trace of the demo job (every task in it): %s/api/traces/%s (Jaeger UI: %s/trace/%s)\n", jaegerQuery, id, jaegerQuery, id)
	}
	return err
}

// Jaeger's default all-in-one addresses, as `chorus dev --jaeger` runs it.
const (
	jaegerOTLP  = "http://127.0.0.1:4317"
	jaegerQuery = "http://127.0.0.1:16686"
)

// startJaeger runs bin/jaeger with its default all-in-one settings (in-memory storage) and points
// this process's OTEL_* settings at it; the returned function stops it.
func startJaeger(root, dataDir string) (func(), error) {
	bin := filepath.Join(root, "bin", "jaeger")
	if !isFile(bin) {
		return nil, fmt.Errorf("--jaeger: %s is missing: run `make jaeger-build` first", bin)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dataDir, "jaeger.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting jaeger: %w", err)
	}
	// A command-line program may set its own environment: the OTLP exporters read these.
	os.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", jaegerOTLP)
	os.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	return func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
	}, nil
}
