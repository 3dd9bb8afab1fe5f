package bench

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/chorus-hpc/chorus/agent"
)

// ThroughputResult is the throughput scenario's output (throughput.json).
type ThroughputResult struct {
	Scenario string           `json:"scenario"`
	Runs     []ThroughputRun  `json:"runs"`
	Seed     string           `json:"seed"`
	Profile  *ProfileAnalysis `json:"profile,omitempty"`
}

// ThroughputRun is one worker language's run.
type ThroughputRun struct {
	Name    string `json:"name"`
	Workers string `json:"workers"`
	Tasks   int    `json:"tasks"`
	Clients int    `json:"clients"`
	Batch   int    `json:"batch"`
	// WallS is from the first submission to the last completion; SubmitS until the last submission
	// returned.
	WallS     float64 `json:"wall_s"`
	SubmitS   float64 `json:"submit_s"`
	TasksPerS float64 `json:"tasks_per_s"`
	// PeakTasksPerS is the best 1 s window.
	PeakTasksPerS float64 `json:"peak_tasks_per_s"`
	// OverTime is tasks/s between samples (100 ms apart).
	OverTime []Point `json:"over_time"`
	CPU      CPUUse  `json:"cpu"`
	// ValkeyCommands is the server time per task by command (INFO commandstats), in-process stack only.
	ValkeyCommands []ValkeyCommand `json:"valkey_commands,omitempty"`
}

func (r *Runner) throughput(ctx context.Context) error {
	res := ThroughputResult{Scenario: ScenarioThroughput,
		Seed: "ArmoniK (seed article): ~4,000 tasks/s with 2,000 workers on a cluster"}
	goTasks := r.pick(20000, 100000)
	run, err := r.throughputRun(ctx, "go", r.goWorkers(2, 16), "Go example worker, 2 processes x capacity 16", goTasks, r.cfg.Profile && r.stack != nil)
	if err != nil {
		return err
	}
	res.Runs = append(res.Runs, run)
	if r.cfg.Profile && r.stack != nil {
		a, err := analyzeProfile(r.path("throughput-go.cpu.pprof"), goTasks)
		if err != nil {
			r.log.Warn("bench: analysing the CPU profile", "error", err)
		} else {
			res.Profile = &a
		}
	}
	if r.stack == nil || isFile(r.cfg.Python) {
		// Zero-work tasks: several per process, so the worker's messages to and from the agent travel
		// in batches (one read and one write per batch) rather than one round trip per task.
		run, err := r.throughputRun(ctx, "python", r.pythonWorkers(2, 16), "Python example worker (workers/python/worker.py, def handlers), 2 processes x capacity 16 (the setting for short tasks: batched messages)", r.pick(5000, 20000), false)
		if err != nil {
			return fmt.Errorf("python workers: %w", err)
		}
		res.Runs = append(res.Runs, run)
	} else {
		r.log.Warn("bench: skipping the Python throughput run: no interpreter (run `make python-venv`)", "python", r.cfg.Python)
	}
	if err := writeJSON(r.path("throughput.json"), res); err != nil {
		return err
	}
	var series []Series
	for _, run := range res.Runs {
		series = append(series, Series{Name: fmt.Sprintf("%s workers (%.0f tasks/s overall)", run.Name, run.TasksPerS), Points: smooth(run.OverTime, 5)})
	}
	return writeLinePlot(r.path("throughput.png"), linePlot{Title: "Chorus throughput, zero-work tasks, 16 clients",
		X: "time since the first submission (s)", Y: "tasks completed per second (0.5 s moving average)", LegendBottomRight: true, Series: series})
}

// throughputRun starts the workers (in-process stack) and measures them.
func (r *Runner) throughputRun(ctx context.Context, name string, workers agent.PartitionConfig, desc string, tasks int, profile bool) (ThroughputRun, error) {
	part, err := r.useAgent(ctx, workers)
	if err != nil {
		return ThroughputRun{}, err
	}
	return r.throughputLoad(ctx, name, part, desc, tasks, profile)
}

// throughputLoad pushes tasks zero-work echo tasks from 16 clients through the partition's workers.
func (r *Runner) throughputLoad(ctx context.Context, name, part, desc string, tasks int, profile bool) (ThroughputRun, error) {
	out := ThroughputRun{Name: name, Workers: desc, Tasks: tasks, Clients: 16, Batch: 500}
	meter := cpuMeter{}
	if r.stack != nil {
		meter.valkeyPID, _ = r.stack.ValkeyPID(ctx)
		meter.workerPIDs = r.stack.WorkerPIDs()
	}
	if profile {
		f, err := os.Create(r.path("throughput-" + name + ".cpu.pprof"))
		if err != nil {
			return out, fmt.Errorf("creating the CPU profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return out, fmt.Errorf("starting the CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	var statsBefore map[string]commandStat
	if r.stack != nil {
		statsBefore, _ = commandStats(ctx, r.stack.Valkey())
	}
	meter.start()
	run, err := r.push(ctx, load{Partition: part, Method: "echo", Tasks: tasks, Clients: out.Clients, Batch: out.Batch, Wait: true},
		&progress{log: r.log, what: "throughput " + name})
	if err != nil {
		return out, err
	}
	out.CPU = meter.stop(tasks)
	if statsBefore != nil {
		if after, err := commandStats(ctx, r.stack.Valkey()); err == nil {
			out.ValkeyCommands = commandDelta(statsBefore, after, tasks)
		}
	}
	if profile {
		pprof.StopCPUProfile()
	}
	defer cleanup(ctx, run.sessions)
	out.WallS = run.wall().Seconds()
	out.SubmitS = run.submitted.Sub(run.start).Seconds()
	out.TasksPerS = float64(tasks) / out.WallS
	out.OverTime = rateSeries(run.completed)
	out.PeakTasksPerS = peakWindow(run.completed, time.Second)
	r.log.Info("bench: throughput", "workers", name, "tasks", tasks, "wall", run.wall().Round(time.Millisecond), "tasks_per_s", int(out.TasksPerS))
	return out, nil
}

// peakWindow is the best rate over the shortest spans of at least w between cumulative samples.
func peakWindow(cum []Point, w time.Duration) float64 {
	best, j := 0.0, -1
	for i := range cum {
		// j is the last sample at least w before sample i.
		for j+1 < i && cum[i].T-cum[j+1].T >= w.Seconds() {
			j++
		}
		if j >= 0 && cum[i].T-cum[j].T >= w.Seconds() {
			if rate := (cum[i].V - cum[j].V) / (cum[i].T - cum[j].T); rate > best {
				best = rate
			}
		}
	}
	return best
}

// smooth is a centred moving average over k points.
func smooth(ps []Point, k int) []Point {
	out := make([]Point, len(ps))
	for i := range ps {
		lo, hi := max(0, i-k/2), min(len(ps), i+k/2+1)
		sum := 0.0
		for _, p := range ps[lo:hi] {
			sum += p.V
		}
		out[i] = Point{T: ps[i].T, V: sum / float64(hi-lo)}
	}
	return out
}
