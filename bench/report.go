package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/chorus-hpc/chorus/internal/bench/results"
)

// Report is everything a run produced (report.json).
type Report struct {
	Machine     Machine            `json:"machine"`
	Latency     *LatencyResult     `json:"latency,omitempty"`
	Throughput  *ThroughputResult  `json:"throughput,omitempty"`
	Utilization *UtilizationResult `json:"utilization,omitempty"`
	Scalability *ScalabilityResult `json:"scalability,omitempty"`
	Memory      *MemoryResult      `json:"memory,omitempty"`
	Peers       []results.Peer     `json:"peers,omitempty"`
	// Errors are the scenarios that failed, with why.
	Errors map[string]string `json:"errors,omitempty"`
}

// WriteReport reads the scenario and peer results in out and writes report.json and report.md.
func WriteReport(out string) error {
	var rep Report
	if ok, err := readJSON(filepath.Join(out, "machine.json"), &rep.Machine); err != nil || !ok {
		rep.Machine = DescribeMachine()
	}
	load := func(name string, v any) (bool, error) { return readJSON(filepath.Join(out, name+".json"), v) }
	var (
		lat LatencyResult
		thr ThroughputResult
		utl UtilizationResult
		scl ScalabilityResult
		mem MemoryResult
	)
	for name, dst := range map[string]any{ScenarioLatency: &lat, ScenarioThroughput: &thr, ScenarioUtilization: &utl, ScenarioScalability: &scl, ScenarioMemory: &mem} {
		ok, err := load(name, dst)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		switch name {
		case ScenarioLatency:
			rep.Latency = &lat
		case ScenarioThroughput:
			rep.Throughput = &thr
		case ScenarioUtilization:
			rep.Utilization = &utl
		case ScenarioScalability:
			rep.Scalability = &scl
		case ScenarioMemory:
			rep.Memory = &mem
		}
	}
	for _, name := range AllScenarios() {
		var e map[string]string
		if ok, _ := load(name+".error", &e); ok {
			if rep.Errors == nil {
				rep.Errors = map[string]string{}
			}
			rep.Errors[name] = e["error"]
		}
	}
	peers, _ := filepath.Glob(filepath.Join(out, "peers", "*.json"))
	sort.Strings(peers)
	for _, p := range peers {
		var pr results.Peer
		if _, err := readJSON(p, &pr); err != nil {
			pr = results.Peer{System: strings.TrimSuffix(filepath.Base(p), ".json"), Error: err.Error()}
		}
		rep.Peers = append(rep.Peers, pr)
	}
	if err := writeJSON(filepath.Join(out, "report.json"), rep); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "report.md"), []byte(rep.Markdown()), 0o644); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}

// goThroughput is Chorus's Go-worker throughput, or 0.
func (rep *Report) goThroughput() float64 {
	if rep.Throughput == nil {
		return 0
	}
	for _, r := range rep.Throughput.Runs {
		if r.Name == "go" {
			return r.TasksPerS
		}
	}
	return 0
}

func (rep *Report) latencyMode(name string) *LatencyMode {
	if rep.Latency == nil {
		return nil
	}
	for i := range rep.Latency.Modes {
		if rep.Latency.Modes[i].Name == name {
			return &rep.Latency.Modes[i]
		}
	}
	return nil
}

// markdown accumulates the report's text.
type markdown struct{ strings.Builder }

func (b *markdown) w(format string, a ...any) { fmt.Fprintf(b, format, a...) }

// writeSection writes a scenario's section when the scenario ran.
func writeSection[R any](b *markdown, result *R, write func(*R, *markdown)) {
	if result != nil {
		write(result, b)
	}
}

// section writes a scenario's heading, the line that introduces it, and its table's header.
func (b *markdown) section(title, intro string, columns ...string) {
	b.w("## %s\n\n%s.\n\n", title, intro)
	b.header(columns...)
}

// header writes a table's header row and the row under it.
func (b *markdown) header(columns ...string) {
	b.w("| %s |\n|%s\n", strings.Join(columns, " | "), strings.Repeat("---|", len(columns)))
}

// costs writes a table of CPU costs per task, each name written with nameFormat.
func (b *markdown) costs(title, column, nameFormat string, costs []Cost) {
	b.w("\n%s:\n\n", title)
	b.header(column, "µs/task", "share")
	for _, c := range costs {
		b.w("| "+nameFormat+" | %.1f | %.0f%% |\n", c.Name, c.UsPerTask, c.Percent)
	}
}

// Markdown renders the report: the machine, then a section per scenario that ran, then the peers.
func (rep *Report) Markdown() string {
	var b markdown
	rep.mdHeader(&b)
	writeSection(&b, rep.Latency, (*LatencyResult).markdown)
	writeSection(&b, rep.Throughput, (*ThroughputResult).markdown)
	writeSection(&b, rep.Utilization, (*UtilizationResult).markdown)
	writeSection(&b, rep.Scalability, (*ScalabilityResult).markdown)
	writeSection(&b, rep.Memory, (*MemoryResult).markdown)
	rep.mdPeers(&b)
	return b.String()
}

// mdHeader writes the title, the machine and the scenarios that failed.
func (rep *Report) mdHeader(b *markdown) {
	w := b.w
	m := rep.Machine
	w("# Chorus benchmark report\n\n")
	w("Machine: %s, %d CPUs (%s), %s RAM, kernel %s, %s, %s. Load average at the start: %s. Run at %s.\n\n",
		m.Hostname, m.NumCPU, m.CPUModel, m.MemTotal, m.Kernel, m.Go, m.Valkey, m.LoadAvg, m.Time)
	w("Every process (Valkey, gateway, agent, workers, clients, peers) shares these CPUs: the figures are ratios on one box, not cluster figures.\n\n")
	if len(rep.Errors) == 0 {
		return
	}
	w("## Scenarios that failed\n\n")
	for _, n := range AllScenarios() {
		if e, ok := rep.Errors[n]; ok {
			w("- %s: %s\n", n, e)
		}
	}
	w("\n")
}

// markdown writes section 1.
func (l *LatencyResult) markdown(b *markdown) {
	w := b.w
	b.section("1. Latency (zero-work tasks) — latency.png", l.Seed+". Workers: "+l.Workers,
		"mode", "tasks", "submission p50 / p99 (ms)", "processing p50 / p99 (ms)", "end-to-end p50 / p99 (ms)")
	for _, md := range l.Modes {
		w("| %s | %d | %.2f / %.2f | %.2f / %.2f | %.2f / %.2f |\n", md.Name, md.Tasks, md.Submit.P50, md.Submit.P99,
			md.Processing.P50, md.Processing.P99, md.EndToEnd.P50, md.EndToEnd.P99)
	}
	w("\nSubmission: the SubmitTasks call. Processing: queue_time → end_time of the task record. End-to-end: submit → the result's completion event on the client's watch stream.\n\n")
}

// markdown writes section 2: the runs, Valkey's time per task, and the CPU profile.
func (t *ThroughputResult) markdown(b *markdown) {
	w := b.w
	b.section("2. Throughput (zero-work tasks, 16 clients) — throughput.png", t.Seed,
		"workers", "tasks", "wall (s)", "tasks/s", "peak 1 s window", "CPU µs/task: bench process / Valkey / workers")
	for _, r := range t.Runs {
		w("| %s | %d | %.2f | **%.0f** | %.0f | %.0f / %.0f / %.0f |\n", r.Workers, r.Tasks, r.WallS, r.TasksPerS, r.PeakTasksPerS,
			r.CPU.BenchProcessUsPerTask, r.CPU.ValkeyUsPerTask, r.CPU.WorkersUsPerTask)
	}
	w("\n")
	for _, r := range t.Runs {
		if len(r.ValkeyCommands) == 0 {
			continue
		}
		w("Valkey server time per task, %s workers (INFO commandstats):", r.Name)
		for _, c := range r.ValkeyCommands[:min(6, len(r.ValkeyCommands))] {
			w(" %s %.1f µs (%.2f calls/task, %.1f µs/call);", c.Command, c.UsecPerTask, c.CallsPerTask, c.UsecPerCall)
		}
		w("\n\n")
	}
	if t.Profile != nil {
		mdProfile(b, t.Profile)
	}
}

// mdProfile writes the CPU profile of the Go throughput run.
func mdProfile(b *markdown, p *ProfileAnalysis) {
	w := b.w
	w("### CPU profile of the Go run (%s)\n\n", filepath.Base(p.File))
	w("Bench process: %.1f µs of CPU per task, by component:", p.TotalUsPerTask)
	for _, c := range p.Components {
		w(" %s %.1f µs (%.0f%%);", c.Name, c.UsPerTask, c.Percent)
	}
	w("\n")
	b.costs("By owner (nearest non-standard-library frame)", "owner", "%s", p.Owners)
	b.costs("By kind of work (leaf function)", "kind", "%s", p.Categories)
	b.costs("Top functions by cumulative CPU", "function", "`%s`", p.TopCumulative)
	w("\nRead it with `go tool pprof -top -tagfocus component=gateway %s` (or component=agent).\n\n", filepath.Base(p.File))
}

// markdown writes section 3.
func (u *UtilizationResult) markdown(b *markdown) {
	w := b.w
	b.section("3. Utilization (sleep tasks) — utilization.png", u.Seed,
		"task", "tasks", "slots", "busy (s)", "workers' span (s)", "utilization", "from submission",
		"idle: ramp-up / between tasks / ramp-down (slot·ms)")
	for _, r := range u.Runs {
		w("| %d ms | %d | %d | %.1f | %.2f | **%.2f%%** | %.2f%% | %.0f / %.0f / %.0f |\n", r.TaskMs, r.Tasks, r.Slots, r.BusyS, r.WallS,
			100*r.Utilization, 100*r.UtilizationFromSubmit, 1000*r.IdleRampUpS, 1000*r.IdleBetweenS, 1000*r.IdleRampDownS)
	}
	w("\nBusy time is the sum of attempt end − start from the task records; utilization = busy / (slots × span). " +
		"The idle slot time is split into the wait of each slot for its first task (the first starts after the first one), " +
		"the slots' wait after their last task (the last ends before the last one) and the rest, the gaps between tasks.\n\n")
}

// markdown writes section 4.
func (s *ScalabilityResult) markdown(b *markdown) {
	w := b.w
	b.section("4. Scalability (1 s sleep tasks) — scalability.png", s.Seed,
		"slots", "workers", "tasks", "wall (s)", "tasks/s", "ideal", "efficiency", "lost: to first start / ramp-up / between tasks / ramp-down")
	for _, p := range s.Points {
		lost := "—"
		if total := float64(p.Slots) * p.WallS; total > 0 && p.IdleBeforeFirstS+p.IdleRampUpS+p.IdleRampDownS > 0 {
			pct := func(v float64) float64 { return 100 * v / total }
			lost = fmt.Sprintf("%.1f / %.1f / %.1f / %.1f%%", pct(p.IdleBeforeFirstS), pct(p.IdleRampUpS), pct(p.IdleBetweenS), pct(p.IdleRampDownS))
		}
		w("| %d | %s | %d | %.2f | %.1f | %.0f | **%.1f%%** | %s |\n", p.Slots, p.Workers, p.Tasks, p.WallS, p.TasksPerS, p.IdealTasksPerS, 100*p.Efficiency, lost)
	}
	w("\nWall time runs from the first submission to the last task end, so it includes submitting and the ramp-up of the first wave. " +
		"The slot time lost (slots × wall − busy, as a share of slots × wall) is split into the wait from the first submission to the first start, " +
		"each slot's wait for its first task after that, the gaps between tasks, and each slot's wait after its last task.\n\n")
}

// markdown writes section 5.
func (mm *MemoryResult) markdown(b *markdown) {
	b.w("## 5. Memory per queued task — memory.png\n\n")
	b.w("%d queued zero-payload echo tasks (each with one expected output): Valkey used_memory grew by %.1f MiB, **%.0f bytes per task**. Submitted at %.0f tasks/s (4 clients, batches of 5000).\n\n",
		mm.Tasks, float64(mm.UsedMemoryAfter-mm.UsedMemoryBefore)/(1<<20), mm.BytesPerTask, mm.SubmitTasksPerS)
	if len(mm.ByKey) == 0 {
		return
	}
	b.w("What each kind of key costs per task (MEMORY USAGE of every key, by the suffix after the session's or partition's hash tag; see internal/store/valkeystore/keys.go):\n\n| key | keys | bytes per task |\n|---|---|---|\n")
	for _, c := range mm.ByKey {
		if c.BytesPerTask >= 0.5 {
			b.w("| `%s` | %d | %.1f |\n", c.Key, c.Keys, c.BytesPerTask)
		}
	}
	b.w("\n")
}

// mdPeers writes the peers' throughput and latency beside Chorus's, with ratios, then their utilization.
func (rep *Report) mdPeers(b *markdown) {
	if len(rep.Peers) == 0 {
		return
	}
	w := b.w
	w("## Peers on the same machine, same run\n\n")
	w("Ratios are Chorus's advantage: Chorus tasks/s ÷ peer tasks/s, and peer latency ÷ Chorus latency (above 1: Chorus is faster).\n\n")
	w("| system | setup | zero-work tasks/s | Chorus ÷ peer | e2e p50 one at a time (ms) | peer ÷ Chorus | e2e p50 batches of 100 (ms) | peer ÷ Chorus |\n|---|---|---|---|---|---|---|---|\n")
	gtp := rep.goThroughput()
	one, hundred := rep.latencyMode("one at a time"), rep.latencyMode("batches of 100")
	if gtp > 0 || one != nil {
		w("| Chorus | Go workers (see above) | %.0f | 1 | %s | 1 | %s | 1 |\n", gtp, p50(one), p50(hundred))
	}
	for _, p := range rep.Peers {
		if p.Error != "" {
			w("| %s %s | %s | failed: %s | | | | | |\n", p.System, p.Version, p.Setup, oneLine(p.Error))
			continue
		}
		tps, ratio := "—", "—"
		if p.Throughput != nil && p.Throughput.TasksPerS > 0 {
			tps = fmt.Sprintf("%.0f", p.Throughput.TasksPerS)
			if gtp > 0 {
				ratio = fmt.Sprintf("%.2f", gtp/p.Throughput.TasksPerS)
			}
		}
		l1, r1 := peerLat(p, "one at a time", one)
		l100, r100 := peerLat(p, "batches of 100", hundred)
		w("| %s %s | %s | %s | %s | %s | %s | %s | %s |\n", p.System, p.Version, p.Setup, tps, ratio, l1, r1, l100, r100)
	}
	w("\n")
	rep.peerUtilization(b)
}

func p50(m *LatencyMode) string {
	if m == nil {
		return "—"
	}
	return fmt.Sprintf("%.2f", m.EndToEnd.P50)
}

func peerLat(p results.Peer, name string, ours *LatencyMode) (string, string) {
	for _, l := range p.Latency {
		if l.Name == name && l.EndToEnd.N > 0 {
			ratio := "—"
			if ours != nil && ours.EndToEnd.P50 > 0 {
				ratio = fmt.Sprintf("%.2f", l.EndToEnd.P50/ours.EndToEnd.P50)
			}
			return fmt.Sprintf("%.2f", l.EndToEnd.P50), ratio
		}
	}
	return "—", "—"
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// peerUtilization writes the utilization table of the peers beside Chorus's.
func (rep *Report) peerUtilization(b *markdown) {
	w := b.w
	ours := map[int]UtilizationRun{}
	if rep.Utilization != nil {
		for _, r := range rep.Utilization.Runs {
			ours[r.TaskMs] = r
		}
	}
	header := false
	for _, p := range rep.Peers {
		for _, u := range p.Utilization {
			if !header {
				w("Utilization (sleep tasks, busy / (slots × span)); ratio = Chorus ÷ peer:\n\n| system | task | tasks | slots | peer utilization | Chorus utilization | Chorus ÷ peer |\n|---|---|---|---|---|---|---|\n")
				header = true
			}
			c, ratio := "—", "—"
			if o, ok := ours[u.TaskMs]; ok {
				c = fmt.Sprintf("%.2f%%", 100*o.Utilization)
				if u.Utilization > 0 {
					ratio = fmt.Sprintf("%.2f", o.Utilization/u.Utilization)
				}
			}
			w("| %s | %d ms | %d | %d | %.2f%% | %s | %s |\n", p.System, u.TaskMs, u.Tasks, u.Slots, 100*u.Utilization, c, ratio)
		}
	}
	if header {
		w("\n")
	}
}
