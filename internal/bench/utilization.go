package bench

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// UtilizationResult is the utilization scenario's output (utilization.json).
type UtilizationResult struct {
	Scenario string           `json:"scenario"`
	Runs     []UtilizationRun `json:"runs"`
	Seed     string           `json:"seed"`
}

// UtilizationRun is one task duration on a set of slots.
type UtilizationRun struct {
	TaskMs int `json:"task_ms"`
	Tasks  int `json:"tasks"`
	Slots  int `json:"slots"`
	// BusyS is the sum over tasks of attempt end − attempt start (from GetTask).
	BusyS float64 `json:"busy_s"`
	// WallS is from the first attempt start to the last attempt end (the workers' span);
	// WallFromSubmitS from the first submission.
	WallS           float64 `json:"wall_s"`
	WallFromSubmitS float64 `json:"wall_from_submit_s"`
	// Utilization = busy / (slots × wall); UtilizationFromSubmit uses the wall from submission.
	Utilization           float64 `json:"utilization"`
	UtilizationFromSubmit float64 `json:"utilization_from_submit"`
	// The idle slot time (slots × wall − busy), split in three, in slot-seconds: before each slot's
	// first task (the first `slots` starts after the first one), after each slot's last task (the
	// last `slots` ends before the last one), and between tasks (the rest: dispatch gaps).
	IdleRampUpS   float64 `json:"idle_ramp_up_s"`
	IdleRampDownS float64 `json:"idle_ramp_down_s"`
	IdleBetweenS  float64 `json:"idle_between_s"`
}

func (r *Runner) utilization(ctx context.Context) error {
	slots := 50
	if r.cfg.Full {
		slots = 200
	}
	procs := 2
	part, err := r.useAgent(ctx, r.goWorkers(procs, slots/procs))
	if err != nil {
		return err
	}
	res := UtilizationResult{Scenario: ScenarioUtilization, Seed: "ArmoniK (seed article): 99.3% worker utilization"}
	for _, c := range []struct{ ms, perSlot int }{{100, r.pick(20, 50)}, {1000, r.pick(5, 20)}} {
		run, err := r.utilizationRun(ctx, part, slots, c.ms, slots*c.perSlot)
		if err != nil {
			return err
		}
		r.log.Info("bench: utilization", "task_ms", c.ms, "slots", slots, "utilization", fmt.Sprintf("%.2f%%", 100*run.Utilization))
		res.Runs = append(res.Runs, run)
	}
	if err := writeJSON(r.path("utilization.json"), res); err != nil {
		return err
	}
	bars := make([]bar, 0, 2*len(res.Runs))
	for _, run := range res.Runs {
		bars = append(bars, bar{fmt.Sprintf("%d ms (workers' span)", run.TaskMs), 100 * run.Utilization},
			bar{fmt.Sprintf("%d ms (from submission)", run.TaskMs), 100 * run.UtilizationFromSubmit})
	}
	return writeBarPlot(r.path("utilization.png"), fmt.Sprintf("Chorus worker utilization, sleep tasks on %d slots", slots), "utilization (%)", bars)
}

func (r *Runner) utilizationRun(ctx context.Context, part string, slots, taskMs, tasks int) (UtilizationRun, error) {
	out := UtilizationRun{TaskMs: taskMs, Tasks: tasks, Slots: slots}
	run, err := r.push(ctx, load{Partition: part, Method: "sleep", Payload: []byte(strconv.Itoa(taskMs)), Tasks: tasks, Clients: 4, Batch: 500, Wait: true},
		&progress{log: r.log, what: fmt.Sprintf("utilization %d ms", taskMs)})
	if err != nil {
		return out, err
	}
	defer cleanup(ctx, run.sessions)
	attempts, err := allAttempts(ctx, run.sessions)
	if err != nil {
		return out, err
	}
	var starts, ends []time.Time
	var busy time.Duration
	for _, a := range attempts {
		if a.GetStartTime() == nil || a.GetEndTime() == nil {
			continue
		}
		s, e := a.GetStartTime().AsTime(), a.GetEndTime().AsTime()
		busy += e.Sub(s)
		starts, ends = append(starts, s), append(ends, e)
	}
	if busy == 0 {
		return out, fmt.Errorf("no attempt has start and end times: cannot compute utilization")
	}
	slices.SortFunc(starts, time.Time.Compare)
	slices.SortFunc(ends, time.Time.Compare)
	first, last := starts[0], ends[len(ends)-1]
	out.BusyS = busy.Seconds()
	out.WallS = last.Sub(first).Seconds()
	out.WallFromSubmitS = last.Sub(run.start).Seconds()
	out.Utilization = out.BusyS / (float64(slots) * out.WallS)
	out.UtilizationFromSubmit = out.BusyS / (float64(slots) * out.WallFromSubmitS)
	for _, s := range starts[:min(slots, len(starts))] {
		out.IdleRampUpS += s.Sub(first).Seconds()
	}
	for _, e := range ends[max(0, len(ends)-slots):] {
		out.IdleRampDownS += last.Sub(e).Seconds()
	}
	out.IdleBetweenS = float64(slots)*out.WallS - out.BusyS - out.IdleRampUpS - out.IdleRampDownS
	return out, nil
}

// allAttempts reads every task of the sessions with GetTask (attempts are not in ListTasks), 16 at a
// time.
func allAttempts(ctx context.Context, sessions []*client.Session) ([]*chorusv1.TaskAttempt, error) {
	type ref struct {
		s  *client.Session
		id string
	}
	var refs []ref
	for _, s := range sessions {
		ts, err := s.Tasks(ctx, chorusv1.TaskStatus_TASK_STATUS_UNSPECIFIED)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			refs = append(refs, ref{s, t.GetTaskId()})
		}
	}
	var (
		mu    sync.Mutex
		out   []*chorusv1.TaskAttempt
		first error
		wg    sync.WaitGroup
		next  = make(chan ref)
	)
	for range 16 {
		wg.Go(func() {
			for rf := range next {
				t, err := rf.s.Task(ctx, rf.id)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				if err == nil {
					out = append(out, t.GetAttempts()...)
				}
				mu.Unlock()
			}
		})
	}
	for _, rf := range refs {
		next <- rf
	}
	close(next)
	wg.Wait()
	return out, first
}
