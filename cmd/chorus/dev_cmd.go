package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valkey-io/valkey-go"
	"go.opentelemetry.io/otel/trace"

	"github.com/chorus-hpc/chorus/agent"
	"github.com/chorus-hpc/chorus/gateway"
	"github.com/chorus-hpc/chorus/internal/demo"
	"github.com/chorus-hpc/chorus/internal/jaegerconf"
	"github.com/chorus-hpc/chorus/internal/objstore/local"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/telemetry"
	"github.com/chorus-hpc/chorus/internal/valkeyproc"
	"github.com/chorus-hpc/chorus/sdks/go/client"
	"github.com/chorus-hpc/chorus/sdks/go/otelenv"
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
	fs, gcfg := newGatewayFlags(env, "dev")
	var lf logFlags
	lf.register(fs)
	dataDir := fs.String("data-dir", ".chorus", "folder for Valkey's data (AOF), objects and agent files; kept across runs")
	python := fs.String("python", "", "Python interpreter with the chorus-hpc package (default: .venv/bin/python of the checkout)")
	runDemo := fs.Bool("demo", false, "run the demo job and print its summary and links; the stack stays up until Ctrl-C")
	demoExit := fs.Bool("demo-exit", false, "with --demo: stop once the job is done (for scripts)")
	demoTasks := fs.Int("demo-tasks", 2000, "demo: number of Python pricing tasks")
	withAuth := fs.Bool("auth", false, "require a bearer token (HS256 JWT; secret kept in <data-dir>/auth/jwt-secret) and print one for the tenant \"dev\"; 'chorus token' mints more")
	withJaeger := fs.Bool("jaeger", false, "start a local Jaeger (bin/jaeger, built by 'make jaeger-build') and trace everything into it")
	var jcfg jaegerConfig
	fs.StringVar(&jcfg.otlpAddr, "jaeger-otlp-addr", "127.0.0.1:4317", "with --jaeger: its OTLP/gRPC receiver (OTLP/HTTP on the next port)")
	fs.StringVar(&jcfg.uiAddr, "jaeger-ui-addr", "127.0.0.1:16686", "with --jaeger: its UI and query API (its query gRPC on the port before)")
	if err := fs.parse(args); err != nil {
		return err
	}
	root := repoRoot()
	if *withJaeger {
		stop, err := startJaeger(ctx, root, *dataDir, &jcfg)
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
	agentTP, agentTPStop, err := otelenv.TracerProvider(ctx, env.getenv, "chorus-agent")
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
			parts[i].Env = map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + jcfg.otlpAddr, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
				"OTEL_SERVICE_NAME": "chorus-worker-" + parts[i].Name}
		}
	}

	vk, st, agentSt, objs, closeBackend, err := openDevBackend(ctx, data, log, tel.TracerProvider)
	if err != nil {
		return err
	}
	defer closeBackend()

	devToken, err := devGatewayConfig(gcfg, parts, data, *withAuth, tel)
	if err != nil {
		return err
	}
	if *withJaeger && gcfg.JaegerURL == "" {
		gcfg.JaegerURL = "http://" + jcfg.uiAddr // the dashboard shows task traces
	}
	gw, err := gateway.New(*gcfg, st, objs)
	if err != nil {
		return err
	}
	acfg := agent.Config{Partitions: parts, Logger: log, TracerProvider: agentTP, MeterProvider: tel.MeterProvider, RuntimeDir: filepath.Join(os.TempDir(), fmt.Sprintf("chorus-dev-%d", os.Getpid()))}
	ag, err := agent.New(acfg, agentSt, objs)
	if err != nil {
		return err
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	wait := runTogether(runCtx, stop, gw.Run, ag.Run)
	scheme := printDevBanner(env, gw, data, vk.Addr(), parts, devToken, gcfg.Auth.JWTSecretFile, *withJaeger, &jcfg, *dataDir)

	var demoErr error
	if *runDemo {
		var traceID string
		traceID, demoErr = runDemoJob(runCtx, env, gw.GRPCAddr(), devToken, *demoTasks)
		if *demoExit || demoErr != nil {
			stop()
		} else {
			printLinks(env, scheme, gw.HTTPAddr(), traceID, *withJaeger, &jcfg)
		}
	}
	<-runCtx.Done()
	runErr := wait()
	// the agent removed its workers' folders and released its lock; the folder is this run's alone
	_ = os.RemoveAll(acfg.RuntimeDir)
	if runErr != nil {
		return runErr
	}
	return demoErr
}

// devGatewayConfig completes the dev gateway's configuration: the example workers' partitions, the
// process's telemetry and, with auth, the dev tenant's secret; it returns that tenant's token ("" without
// auth).
func devGatewayConfig(gcfg *gateway.Config, parts []agent.PartitionConfig, data string, withAuth bool, tel *telemetry.Telemetry) (string, error) {
	for _, p := range parts {
		gcfg.DeclaredPartitions = append(gcfg.DeclaredPartitions, p.Name)
	}
	withTelemetry(gcfg, tel)
	if !withAuth {
		return "", nil
	}
	secretFile, token, err := devAuth(data)
	if err != nil {
		return "", err
	}
	gcfg.Auth.JWTSecretFile, gcfg.Auth.JWTAudience, gcfg.Auth.JWTIssuer = secretFile, devAudience, devIssuer
	return token, nil
}

// runTogether runs each of runs in its own goroutine until ctx ends. The first to fail (other than by
// ctx's end) stops the others through stop. wait waits for them all and returns the first failure.
func runTogether(ctx context.Context, stop context.CancelFunc, runs ...func(context.Context) error) (wait func() error) {
	var wg sync.WaitGroup
	errs := make(chan error, len(runs))
	for _, run := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errs <- err
				stop()
			}
		}()
	}
	return func() error {
		wg.Wait()
		close(errs)
		return <-errs // nil when none failed
	}
}

// runDemoJob runs the demo job and returns the id of its trace.
func runDemoJob(ctx context.Context, env *cliEnv, addr, token string, tasks int) (string, error) {
	tp, stop, err := otelenv.TracerProvider(ctx, env.getenv, "chorus-client")
	if err != nil {
		return "", err
	}
	cl, err := client.Dial(ctx, addr, client.WithTracerProvider(tp), client.WithToken(token))
	if err != nil {
		return "", err
	}
	defer cl.Close()
	jctx, span := tp.Tracer("chorus-demo").Start(ctx, "demo job")
	bar := newProgress(env.stderr, "demo", 0)
	bar.run(jctx)
	_, err = demo.Run(jctx, cl, demo.Config{Tasks: tasks, Progress: bar.set}, env.stdout)
	bar.finish()
	span.End()
	if stop != nil {
		shutdownTelemetry(stop) // flushes the client's spans, so the trace is whole when the links are shown
	}
	return span.SpanContext().TraceID().String(), err
}

// printLinks tells where to look once the demo is done; the stack stays up until Ctrl-C.
func printLinks(env *cliEnv, scheme, httpAddr, traceID string, traced bool, j *jaegerConfig) {
	fmt.Fprintf(env.stdout, "\nThe demo is done; everything stays up so these links work. Press Ctrl-C to stop.\n")
	if dashboardServed(scheme, httpAddr) {
		fmt.Fprintf(env.stdout, "  Dashboard       %s://%s/\n", scheme, httpAddr)
	}
	fmt.Fprintf(env.stdout, "  REST/JSON       %s://%s/v1/sessions\n", scheme, httpAddr)
	if traced {
		waitForTrace(j.uiAddr, traceID, 15*time.Second)
		fmt.Fprintf(env.stdout, "  Jaeger (trace)  http://%s/trace/%s\n  Trace as JSON   http://%s/api/traces/%s\n", j.uiAddr, traceID, j.uiAddr, traceID)
	}
}

// waitForTrace waits (at most max) until Jaeger has stored the trace, so its link works when shown:
// spans reach Jaeger through batching exporters.
func waitForTrace(uiAddr, traceID string, max time.Duration) {
	c := http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(max); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := c.Get("http://" + uiAddr + "/api/traces/" + traceID)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
}

// dashboardServed reports whether the gateway serves a web page at "/" (over TLS it is not probed).
func dashboardServed(scheme, httpAddr string) bool {
	if scheme != "http" {
		return false
	}
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + httpAddr + "/")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html")
}

// jaegerConfig is where `chorus dev --jaeger` runs Jaeger: loopback addresses by default.
type jaegerConfig struct {
	otlpAddr string // OTLP/gRPC; OTLP/HTTP listens on the next port
	uiAddr   string // UI and HTTP query API; query gRPC listens on the port before
}

// addrs returns every address Jaeger listens on, with what it is.
func (j *jaegerConfig) addrs() ([][2]string, error) {
	oh, op, err := net.SplitHostPort(j.otlpAddr)
	if err != nil {
		return nil, fmt.Errorf("%w: --jaeger-otlp-addr %q: %v", errUsage, j.otlpAddr, err)
	}
	uh, up, err := net.SplitHostPort(j.uiAddr)
	if err != nil {
		return nil, fmt.Errorf("%w: --jaeger-ui-addr %q: %v", errUsage, j.uiAddr, err)
	}
	o, err1 := strconv.Atoi(op)
	u, err2 := strconv.Atoi(up)
	if err1 != nil || err2 != nil || o < 1 || u < 2 {
		return nil, fmt.Errorf("%w: --jaeger-otlp-addr and --jaeger-ui-addr need numeric ports", errUsage)
	}
	return [][2]string{
		{net.JoinHostPort(oh, op), "OTLP/gRPC receiver"},
		{net.JoinHostPort(oh, strconv.Itoa(o+1)), "OTLP/HTTP receiver"},
		{net.JoinHostPort(uh, up), "UI and query API"},
		{net.JoinHostPort(uh, strconv.Itoa(u-1)), "query gRPC API"},
	}, nil
}

// jaegerConfigHeader heads the config file `chorus dev --jaeger` writes.
const jaegerConfigHeader = "# Written by chorus dev --jaeger: Jaeger v2 all-in-one, in-memory storage, on loopback.\n"

// startJaeger runs bin/jaeger on the configured addresses (in-memory storage) and points this
// process's OTEL_* settings at it; the returned function stops it. It fails with the reason when a
// port is taken or Jaeger does not answer.
func startJaeger(ctx context.Context, root, dataDir string, j *jaegerConfig) (func(), error) {
	bin := filepath.Join(root, "bin", "jaeger")
	if !isFile(bin) {
		return nil, fmt.Errorf("--jaeger: %s is missing: run 'make jaeger-build' first", bin)
	}
	addrs, err := j.addrs()
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		l, err := net.Listen("tcp", a[0])
		if err != nil {
			return nil, fmt.Errorf("--jaeger: cannot start Jaeger: %s (its %s) is taken, perhaps by another Jaeger or OpenTelemetry collector: stop it, or choose other ports with --jaeger-otlp-addr and --jaeger-ui-addr (%v)", a[0], a[1], err)
		}
		l.Close()
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dataDir, "jaeger.yaml")
	if err := os.WriteFile(cfg, []byte(jaegerConfigHeader+jaegerconf.YAML(jaegerconf.Addrs{
		OTLPGRPC: addrs[0][0], OTLPHTTP: addrs[1][0], QueryHTTP: addrs[2][0], QueryGRPC: addrs[3][0]}, 200*time.Millisecond)), 0o644); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dataDir, "jaeger.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--config", cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("--jaeger: starting %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logf.Close()
	}
	// Ready when the query API answers; a Jaeger that exits or stays silent is reported with its log.
	deadline := time.Now().Add(30 * time.Second)
	for ready := false; !ready; {
		resp, err := (&http.Client{Timeout: time.Second}).Get("http://" + j.uiAddr + "/api/services")
		if err == nil {
			resp.Body.Close()
			ready = resp.StatusCode == http.StatusOK
		}
		if ready {
			break
		}
		select {
		case <-exited:
			logf.Close()
			return nil, fmt.Errorf("--jaeger: Jaeger exited at start (log %s):\n%s", logPath, tail(logPath, 20))
		case <-ctx.Done():
			stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("--jaeger: Jaeger did not answer on http://%s within 30s (log %s):\n%s", j.uiAddr, logPath, tail(logPath, 20))
		}
	}
	// A command-line program may set its own environment: the OTLP exporters read these.
	os.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+j.otlpAddr)
	os.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	return stop, nil
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// openDevBackend starts the dev stack's private valkey-server (AOF on) in data/valkey and opens the
// store on it and the local object store in data/objects; closeBackend stops them.
func openDevBackend(ctx context.Context, data string, log *slog.Logger, tp trace.TracerProvider) (vk *valkeyproc.Proc, st, agentSt *valkeystore.Store, objs *local.Store, closeBackend func(), err error) {
	vctx, vcancel := context.WithTimeout(ctx, 30*time.Second)
	defer vcancel()
	vk, err = valkeyproc.Start(vctx, valkeyproc.Config{Dir: filepath.Join(data, "valkey"), AppendOnly: true})
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	var stores []*valkeystore.Store
	closeAll := func() {
		for _, s := range stores {
			s.Close()
		}
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := vk.Stop(sctx); err != nil {
			log.Error("stopping valkey", "error", err)
		}
	}
	// The gateway and the agent each get a store (a connection) of their own, as separate processes
	// have: on one pipelined connection the agent's claims would wait behind the gateway's submits.
	for range 2 {
		s, err := valkeystore.Open(valkey.ClientOption{InitAddress: []string{vk.Addr()}}, valkeystore.Config{Logger: log, TracerProvider: tp})
		if err != nil {
			closeAll()
			return nil, nil, nil, nil, nil, err
		}
		stores = append(stores, s)
	}
	objs, err = local.New(local.Config{Dir: filepath.Join(data, "objects"), Logger: log})
	if err != nil {
		closeAll()
		return nil, nil, nil, nil, nil, err
	}
	return vk, stores[0], stores[1], objs, closeAll, nil
}

// devAuth makes (once) the dev stack's JWT secret in data/auth and mints a 24 h token of tenant "dev".
func devAuth(data string) (secretFile, token string, err error) {
	if secretFile, err = devSecret(data); err != nil {
		return "", "", fmt.Errorf("--auth: %w", err)
	}
	secret, err := os.ReadFile(secretFile)
	if err != nil {
		return "", "", err
	}
	token, err = mintToken(strings.TrimSpace(string(secret)), devTenant, "dev", []string{"user"}, devAudience, devIssuer, 24*time.Hour)
	return secretFile, token, err
}

// printDevBanner prints the dev stack's addresses (and its token when auth is on) and returns the REST
// scheme.
func printDevBanner(env *cliEnv, gw *gateway.Server, data, valkeyAddr string, parts []agent.PartitionConfig, devToken, secretFile string,
	withJaeger bool, jcfg *jaegerConfig, dataDir string) string {
	jaegerLine := ""
	if withJaeger {
		jaegerLine = fmt.Sprintf("  Jaeger UI   http://%s (OTLP %s, log %s)\n", jcfg.uiAddr, jcfg.otlpAddr, filepath.Join(dataDir, "jaeger.log"))
	}
	names := ""
	for _, p := range parts {
		names += " " + p.Name
	}
	scheme := "http"
	if gw.Secure() {
		scheme = "https"
	}
	fmt.Fprintf(env.stderr, "chorus dev is running (data in %s)\n  Dashboard   %s://%s/\n  gRPC        %s\n  REST/JSON   %s://%s/v1/sessions\n  OpenAPI     %s://%s/openapi.json\n  Valkey      %s\n  partitions %s\n%sPress Ctrl-C to stop.\n",
		data, scheme, gw.HTTPAddr(), gw.GRPCAddr(), scheme, gw.HTTPAddr(), scheme, gw.HTTPAddr(), valkeyAddr, names, jaegerLine)
	if devToken != "" {
		fmt.Fprintf(env.stderr, "Authentication is on. A token of tenant %q (role user, valid 24h; the dashboard takes it in its API token field):\n  export CHORUS_TOKEN=%s\n  curl -H \"Authorization: Bearer $CHORUS_TOKEN\" %s://%s/v1/sessions\nMore tokens: chorus token --secret-file %s --tenant NAME [--roles user|reader|admin]\n",
			devTenant, devToken, scheme, gw.HTTPAddr(), secretFile)
	}
	return scheme
}
