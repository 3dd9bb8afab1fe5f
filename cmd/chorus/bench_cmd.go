package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/chorus-hpc/chorus/bench"
)

func runBench(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "bench", "")
	var scenarios stringList
	addr := fs.String("addr", "", "gRPC address of a running gateway to measure (default: start an in-process stack, as --dev)")
	dev := fs.Bool("dev", false, "start an in-process stack (private valkey-server, gateway, agent with the example workers) configured per scenario (the default when --addr is not given)")
	fs.Var(&scenarios, "scenario", "scenarios to run, comma-separated: latency, throughput, utilization, scalability, memory (default: all)")
	full := fs.Bool("full", false, "run the long version of every scenario (the seed article's sizes); the default is a quick run")
	out := fs.String("out", filepath.Join("bench", "results"), "folder that receives the JSON results, the PNG plots and report.md")
	profile := fs.Bool("profile", true, "write a CPU profile of the in-process gateway and agent during the Go throughput run (throughput-go.cpu.pprof)")
	reportOnly := fs.Bool("report-only", false, "only rebuild report.md and report.json from the results already in --out (e.g. after the peers ran)")
	goPart := fs.String("go-partition", "go", "with --addr: the partition served by Go example workers")
	pyPart := fs.String("python-partition", "python", "with --addr: the partition served by Python example workers")
	python := fs.String("python", "", "Python interpreter with the chorus-hpc package (default: .venv/bin/python of the checkout)")
	var lf logFlags
	lf.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	if len(fs.Args()) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Args()[0])
	}
	if *dev && *addr != "" {
		return fmt.Errorf("%w: --dev and --addr exclude each other: --dev starts its own stack, --addr measures a running gateway", errUsage)
	}
	if *reportOnly {
		return bench.WriteReport(*out)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(lf.level)); err != nil {
		return fmt.Errorf("%w: --log-level %q: want debug, info, warn or error", errUsage, lf.level)
	}
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: level}))
	comp := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: max(level, slog.LevelWarn)}))
	root := repoRoot()
	err := bench.Run(ctx, bench.Config{Addr: *addr, Out: *out, Scenarios: scenarios, Full: *full, Root: root, Python: *python,
		GoPartition: *goPart, PythonPartition: *pyPart, Profile: *profile && *addr == "", Logger: log, ComponentLogger: comp})
	if err == nil {
		fmt.Fprintf(env.stdout, "chorus bench: report written to %s\n", filepath.Join(*out, "report.md"))
	}
	return err
}
