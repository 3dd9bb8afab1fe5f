package bench

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/stack/stacktest"
)

// TestRunSmall runs the scenarios at a small scale on the in-process stack (real valkey-server,
// gateway, agent and Go example worker) and checks what they wrote.
func TestRunSmall(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts valkey-server, a gateway, an agent and worker processes")
	}
	root := stacktest.RepoRoot(t)
	worker := stacktest.GoWorker(t)
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	err := Run(ctx, Config{Out: out, Root: root, WorkerGo: worker, Python: filepath.Join(t.TempDir(), "no-python"),
		Scenarios: []string{ScenarioLatency, ScenarioThroughput, ScenarioUtilization, ScenarioMemory},
		Scale:     0.01, Profile: true, Logger: log, ComponentLogger: log})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var rep Report
	if ok, err := readJSON(filepath.Join(out, "report.json"), &rep); !ok || err != nil {
		t.Fatalf("report.json: %v %v", ok, err)
	}
	if rep.Latency == nil || len(rep.Latency.Modes) != 3 {
		t.Fatalf("latency = %+v, want 3 modes", rep.Latency)
	}
	for _, m := range rep.Latency.Modes {
		if m.Tasks == 0 || m.EndToEnd.N != m.Tasks || m.Processing.N != m.Tasks || m.EndToEnd.P50 <= 0 {
			t.Errorf("latency mode %q = %+v: want every task measured", m.Name, m)
		}
	}
	if rep.Throughput == nil || len(rep.Throughput.Runs) != 1 || rep.Throughput.Runs[0].Tasks != 200 || rep.Throughput.Runs[0].TasksPerS <= 0 {
		t.Fatalf("throughput = %+v, want one Go run of 200 tasks", rep.Throughput)
	}
	if p := rep.Throughput.Profile; p == nil || len(p.Components) == 0 || p.TotalUsPerTask <= 0 {
		t.Errorf("throughput profile = %+v, want CPU per component", p)
	}
	if rep.Utilization == nil || len(rep.Utilization.Runs) != 2 {
		t.Fatalf("utilization = %+v, want 2 runs", rep.Utilization)
	}
	for _, u := range rep.Utilization.Runs {
		// Sleeps run their full length, so busy time is at least tasks × duration.
		if u.BusyS < float64(u.Tasks*u.TaskMs)/1000 || u.Utilization <= 0 || u.Utilization > 1.01 {
			t.Errorf("utilization run %+v: busy below tasks × duration or utilization outside (0, 1]", u)
		}
	}
	if rep.Memory == nil || rep.Memory.Tasks != 1000 || rep.Memory.BytesPerTask <= 0 {
		t.Fatalf("memory = %+v, want 1000 tasks and a positive size", rep.Memory)
	}
	if len(rep.Memory.ByKey) == 0 || rep.Memory.ByKey[0].BytesPerTask <= 0 || !slices.ContainsFunc(rep.Memory.ByKey, func(k KeyCost) bool { return k.Key == ":t" }) {
		t.Fatalf("memory by key = %+v, want the task headers (:t) among positive costs", rep.Memory.ByKey)
	}
	for _, f := range []string{"latency.png", "throughput.png", "utilization.png", "memory.png", "report.md", "throughput-go.cpu.pprof"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s was not written: %v", f, err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	for _, h := range []string{"## 1. Latency", "## 2. Throughput", "## 3. Utilization", "## 5. Memory"} {
		if !strings.Contains(string(md), h) {
			t.Errorf("report.md lacks %q", h)
		}
	}
}

// TestInProcessOnlyScenariosRefuseAddr: against a gateway at --addr (no in-process stack), the
// scenarios that need the stack refuse to run and say why, before touching anything.
func TestInProcessOnlyScenariosRefuseAddr(t *testing.T) {
	t.Parallel()
	r := &Runner{}
	for _, name := range []string{ScenarioScalability, ScenarioMemory, ScenarioBigSession} {
		err := r.run(context.Background(), name)
		if err == nil || !strings.Contains(err.Error(), "run it with the in-process stack (--dev), not --addr") {
			t.Errorf("run(%s) without the in-process stack = %v; want the in-process stack asked for", name, err)
		}
	}
}
