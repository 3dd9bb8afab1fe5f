package bench

import (
	"context"
	"fmt"
	"time"
)

// ScalabilityResult is the scalability scenario's output (scalability.json).
type ScalabilityResult struct {
	Scenario string             `json:"scenario"`
	TaskMs   int                `json:"task_ms"`
	Points   []ScalabilityPoint `json:"points"`
	Seed     string             `json:"seed"`
}

// ScalabilityPoint is one number of worker slots.
type ScalabilityPoint struct {
	Slots     int    `json:"slots"`
	Processes int    `json:"processes"`
	Tasks     int    `json:"tasks"`
	Workers   string `json:"workers"`
	// WallS is from the first submission to the last task end (from the task records).
	WallS     float64 `json:"wall_s"`
	TasksPerS float64 `json:"tasks_per_s"`
	// IdealTasksPerS is slots / task duration; Efficiency is TasksPerS / IdealTasksPerS.
	IdealTasksPerS float64 `json:"ideal_tasks_per_s"`
	Efficiency     float64 `json:"efficiency"`
	// Where the slot time beyond the tasks' own went (see slotUse), in slot-seconds: from the first
	// submission to the first start, the first wave's ramp-up, gaps between tasks, the ramp-down.
	IdleBeforeFirstS float64 `json:"idle_before_first_s"`
	IdleRampUpS      float64 `json:"idle_ramp_up_s"`
	IdleBetweenS     float64 `json:"idle_between_s"`
	IdleRampDownS    float64 `json:"idle_ramp_down_s"`
}

func (r *Runner) scalability(ctx context.Context) error {
	const taskMs = 1000
	points := []int{1, 120, 500, 2000}
	perSlot := 2
	if r.cfg.Full {
		points = []int{1, 120, 250, 500, 1000, 2000}
		perSlot = 10
	}
	res := ScalabilityResult{Scenario: ScenarioScalability, TaskMs: taskMs,
		Seed: "ArmoniK (seed article): throughput vs ideal for 1, 120, 250, 500, 1000, 2000 workers running 1 s tasks"}
	for _, slots := range points {
		procs := max(1, (slots+999)/1000)
		if slots >= 2 {
			procs = max(procs, 2)
		}
		capacity := (slots + procs - 1) / procs
		pt := ScalabilityPoint{Slots: procs * capacity, Processes: procs, Tasks: procs * capacity * perSlot,
			Workers: fmt.Sprintf("Go example worker, %d processes x capacity %d", procs, capacity)}
		part, err := r.useAgent(ctx, r.goWorkers(procs, capacity))
		if err != nil {
			return err
		}
		run, err := r.push(ctx, load{Partition: part, Method: "sleep", Payload: []byte("1000"), Tasks: pt.Tasks, Clients: 4, Batch: 1000, Wait: true},
			&progress{log: r.log, what: fmt.Sprintf("scalability %d slots", pt.Slots)})
		if err != nil {
			return err
		}
		attempts, err := allAttempts(ctx, run.sessions)
		cleanup(ctx, run.sessions)
		if err != nil {
			return err
		}
		u, err := measureSlots(attempts, pt.Slots, run.start)
		if err != nil {
			return err
		}
		pt.WallS = u.WallFromSubmitS
		pt.IdleBeforeFirstS = float64(pt.Slots) * u.FirstStartS
		pt.IdleRampUpS, pt.IdleBetweenS, pt.IdleRampDownS = u.IdleRampUpS, u.IdleBetweenS, u.IdleRampDownS
		pt.TasksPerS = float64(pt.Tasks) / pt.WallS
		pt.IdealTasksPerS = float64(pt.Slots) / (float64(taskMs) / 1000)
		pt.Efficiency = pt.TasksPerS / pt.IdealTasksPerS
		r.log.Info("bench: scalability", "slots", pt.Slots, "tasks_per_s", fmt.Sprintf("%.1f", pt.TasksPerS), "ideal", pt.IdealTasksPerS,
			"efficiency", fmt.Sprintf("%.1f%%", 100*pt.Efficiency), "wall", time.Duration(pt.WallS*float64(time.Second)).Round(time.Millisecond))
		res.Points = append(res.Points, pt)
	}
	if err := r.stack.StopAgent(); err != nil {
		return err
	}
	if err := writeJSON(r.path("scalability.json"), res); err != nil {
		return err
	}
	measured, ideal := Series{Name: "Chorus (measured)"}, Series{Name: "ideal (slots / 1 s)"}
	for _, p := range res.Points {
		measured.Points = append(measured.Points, Point{T: float64(p.Slots), V: p.TasksPerS})
		ideal.Points = append(ideal.Points, Point{T: float64(p.Slots), V: p.IdealTasksPerS})
	}
	return writeLinePlot(r.path("scalability.png"), linePlot{Title: "Chorus scalability, 1 s sleep tasks", X: "worker slots (log)", Y: "tasks/s (log)",
		LogX: true, LogY: true, Series: []Series{measured, ideal}, Dashed: map[string]bool{ideal.Name: true}})
}
