// Package bench runs Chorus's end-to-end benchmarks — the experiments of the seed article (latency,
// throughput, utilization, scalability, memory per queued task) — against a running gateway or an
// in-process stack (Valkey, gateway, agent with the example workers), and writes machine-readable
// results (JSON), plots (PNG) and a summary report under an output folder.
package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/chorus-hpc/chorus/agent"
	"github.com/chorus-hpc/chorus/sdks/go/client"
	"github.com/chorus-hpc/chorus/stack"
)

// Scenario names, in the order they run.
const (
	ScenarioLatency     = "latency"
	ScenarioThroughput  = "throughput"
	ScenarioUtilization = "utilization"
	ScenarioScalability = "scalability"
	ScenarioMemory      = "memory"
)

// AllScenarios lists every scenario in run order.
func AllScenarios() []string {
	return []string{ScenarioLatency, ScenarioThroughput, ScenarioUtilization, ScenarioScalability, ScenarioMemory}
}

// Config configures a benchmark run. Zero fields take the documented defaults.
type Config struct {
	// Addr is the gRPC address of a running gateway. Empty: start an in-process stack (Valkey,
	// gateway, agent) configured per scenario.
	Addr string
	// Out is the folder that receives the results. Default "bench/results".
	Out string
	// Scenarios to run (names above). Default: all.
	Scenarios []string
	// Full runs the long version of every scenario (the seed's sizes); the default is a quick run of
	// a few minutes.
	Full bool
	// Scale multiplies every task count (tests use a small one). Default 1.
	Scale float64
	// WorkerGo is the Go example worker executable. Default bin/chorus-worker-go under Root.
	WorkerGo string
	// Python is the interpreter with the chorus-hpc package. Default .venv/bin/python under Root.
	Python string
	// Root is the checkout holding the workers. Default: the working folder.
	Root string
	// GoPartition and PythonPartition name the partitions used against a running gateway (Addr set).
	// Defaults "go" and "python".
	GoPartition, PythonPartition string
	// Profile writes a CPU profile of the bench process (gateway, agent and client, told apart by the
	// pprof label "component") during the Go throughput run. Only with the in-process stack.
	Profile bool
	// Logger receives progress and the components' warnings. Default: text on stderr at Info.
	Logger *slog.Logger
	// ComponentLogger receives the in-process gateway's and agent's logs. Default: warnings on stderr.
	ComponentLogger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Out == "" {
		c.Out = filepath.Join("bench", "results")
	}
	if len(c.Scenarios) == 0 {
		c.Scenarios = AllScenarios()
	}
	for _, s := range c.Scenarios {
		if !slices.Contains(AllScenarios(), s) && s != ScenarioBigSession {
			return c, fmt.Errorf("unknown scenario %q: choose among %s", s, strings.Join(AllScenarios(), ", "))
		}
	}
	if c.Scale == 0 {
		c.Scale = 1
	}
	if c.Scale < 0 {
		return c, fmt.Errorf("scale %v must be positive", c.Scale)
	}
	if c.Root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return c, fmt.Errorf("finding the working folder: %w", err)
		}
		c.Root = wd
	}
	if c.WorkerGo == "" {
		c.WorkerGo = filepath.Join(c.Root, "bin", "chorus-worker-go")
	}
	if c.Python == "" {
		c.Python = filepath.Join(c.Root, ".venv", "bin", "python")
	}
	if c.GoPartition == "" {
		c.GoPartition = "go"
	}
	if c.PythonPartition == "" {
		c.PythonPartition = "python"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return c, nil
}

// Runner runs the scenarios.
type Runner struct {
	cfg   Config
	log   *slog.Logger
	stack *stack.Stack // nil against a running gateway
	cl    *client.Client
}

// Run runs the configured scenarios, writes each one's JSON and plot, then the report (merging any
// peer results found in the output folder). A failing scenario is recorded in the report and does not
// stop the others; Run returns the joined errors.
func Run(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return fmt.Errorf("creating the results folder: %w", err)
	}
	r := &Runner{cfg: cfg, log: cfg.Logger}
	addr := cfg.Addr
	if addr == "" {
		dir, err := os.MkdirTemp("", "chorus-bench-data-")
		if err != nil {
			return fmt.Errorf("creating the bench data folder: %w", err)
		}
		defer os.RemoveAll(dir)
		if !isFile(cfg.WorkerGo) {
			return fmt.Errorf("the Go example worker %s is missing: run `make build` first", cfg.WorkerGo)
		}
		r.stack, err = stack.Start(ctx, stack.Config{Dir: dir, AppendOnly: true, Logger: cfg.ComponentLogger,
			Partitions: []string{"go", "python", memoryPartition}})
		if err != nil {
			return err
		}
		defer r.stack.Close()
		addr = r.stack.GRPCAddr()
	}
	var secOpts []client.DialOption
	if cfg.Addr != "" { // a secured gateway: CHORUS_TOKEN, CHORUS_CA_FILE (docs/security.md)
		if secOpts, err = client.FromEnv(); err != nil {
			return err
		}
	}
	if r.cl, err = client.Dial(ctx, addr, secOpts...); err != nil {
		return err
	}
	defer r.cl.Close()

	var errs []error
	if err := writeJSON(filepath.Join(cfg.Out, "machine.json"), DescribeMachine()); err != nil {
		return err
	}
	for _, name := range append(AllScenarios(), ScenarioBigSession) {
		if !slices.Contains(cfg.Scenarios, name) {
			continue
		}
		r.log.Info("bench: scenario starts", "scenario", name, "full", cfg.Full)
		start := time.Now()
		var err error
		// The benchmark's own clients show as component=client in the CPU profile.
		pprof.Do(ctx, pprof.Labels("component", "client"), func(ctx context.Context) { err = r.run(ctx, name) })
		if err != nil {
			r.log.Error("bench: scenario failed", "scenario", name, "error", err)
			errs = append(errs, fmt.Errorf("scenario %s: %w", name, err))
			_ = writeJSON(filepath.Join(cfg.Out, name+".error.json"), map[string]string{"scenario": name, "error": err.Error()})
		} else {
			_ = os.Remove(filepath.Join(cfg.Out, name+".error.json"))
			r.log.Info("bench: scenario done", "scenario", name, "took", time.Since(start).Round(time.Millisecond))
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err := WriteReport(cfg.Out); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// inProcessOnly says, for the scenarios that cannot run against a gateway at --addr, what they need
// the in-process stack for.
var inProcessOnly = map[string]string{
	ScenarioScalability: "the scalability scenario sets the number of worker slots itself",
	ScenarioMemory:      "the memory scenario reads the private Valkey's INFO with no agent running",
	ScenarioBigSession:  "the big-session scenario reads the private Valkey's INFO",
}

func (r *Runner) run(ctx context.Context, name string) error {
	scenario, ok := map[string]func(context.Context) error{
		ScenarioLatency: r.latency, ScenarioThroughput: r.throughput, ScenarioUtilization: r.utilization,
		ScenarioScalability: r.scalability, ScenarioMemory: r.memory, ScenarioBigSession: r.bigSession,
	}[name]
	if !ok {
		return fmt.Errorf("unknown scenario %q", name)
	}
	if why, ok := inProcessOnly[name]; ok && r.stack == nil {
		return fmt.Errorf("%s: run it with the in-process stack (--dev), not --addr", why)
	}
	return scenario(ctx)
}

// goWorkers is a Go worker partition of processes × capacity slots.
func (r *Runner) goWorkers(processes, capacity int) agent.PartitionConfig {
	return agent.PartitionConfig{Name: "go", Command: r.cfg.WorkerGo, Processes: processes, Capacity: capacity}
}

// pythonWorkers is a Python worker partition (workers/python/worker.py).
func (r *Runner) pythonWorkers(processes, capacity int) agent.PartitionConfig {
	return agent.PartitionConfig{Name: "python", Command: r.cfg.Python,
		Args: []string{filepath.Join(r.cfg.Root, "workers", "python", "worker.py")}, Processes: processes, Capacity: capacity}
}

// useAgent starts an in-process agent with these partitions; against a running gateway it does
// nothing (the running agents serve) and returns the partition to use.
func (r *Runner) useAgent(ctx context.Context, p agent.PartitionConfig) (string, error) {
	if r.stack == nil {
		if p.Name == "python" {
			return r.cfg.PythonPartition, nil
		}
		return r.cfg.GoPartition, nil
	}
	return p.Name, r.stack.StartAgent(ctx, []agent.PartitionConfig{p})
}

// pick returns the quick or full task count, times the scale (at least 1).
func (r *Runner) pick(quick, full int) int {
	n := quick
	if r.cfg.Full {
		n = full
	}
	return max(1, int(float64(n)*r.cfg.Scale))
}

func (r *Runner) path(name string) string { return filepath.Join(r.cfg.Out, name) }

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// progress logs a line at most every few seconds.
type progress struct {
	log  *slog.Logger
	what string
	last time.Time
}

func (p *progress) tick(done, total int) {
	if time.Since(p.last) < 3*time.Second && done < total {
		return
	}
	p.last = time.Now()
	p.log.Info("bench: progress", "what", p.what, "done", done, "total", total)
}
