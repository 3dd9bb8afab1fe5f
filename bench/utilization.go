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
	u, err := measureSlots(attempts, slots, run.start)
	if err != nil {
		return out, err
	}
	out.BusyS, out.WallS, out.WallFromSubmitS = u.BusyS, u.WallS, u.WallFromSubmitS
	out.Utilization = out.BusyS / (float64(slots) * out.WallS)
	out.UtilizationFromSubmit = out.BusyS / (float64(slots) * out.WallFromSubmitS)
	out.IdleRampUpS, out.IdleBetweenS, out.IdleRampDownS = u.IdleRampUpS, u.IdleBetweenS, u.IdleRampDownS
	return out, nil
}

// slotUse is how the worker slots spent a run, from the attempts' start and end times.
type slotUse struct {
	// BusyS is the sum of attempt end − start; WallS runs from the first start to the last end,
	// WallFromSubmitS from the first submission; FirstStartS is from the first submission to the
	// first start.
	BusyS, WallS, WallFromSubmitS, FirstStartS float64
	// The idle slot time of the workers' span (slots × WallS − busy) in slot-seconds: before each
	// slot's first task (the first `slots` starts after the first one), after each slot's last task
	// (the last `slots` ends before the last one), and between tasks (the rest: dispatch gaps).
	IdleRampUpS, IdleBetweenS, IdleRampDownS float64
}

// measureSlots computes slotUse for slots worker slots from attempts, submitted from submitStart.
func measureSlots(attempts []*chorusv1.TaskAttempt, slots int, submitStart time.Time) (slotUse, error) {
	var u slotUse
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
		return u, fmt.Errorf("no attempt has start and end times: cannot compute how the slots were used")
	}
	slices.SortFunc(starts, time.Time.Compare)
	slices.SortFunc(ends, time.Time.Compare)
	first, last := starts[0], ends[len(ends)-1]
	u.BusyS = busy.Seconds()
	u.WallS = last.Sub(first).Seconds()
	u.WallFromSubmitS = last.Sub(submitStart).Seconds()
	u.FirstStartS = first.Sub(submitStart).Seconds()
	for _, s := range starts[:min(slots, len(starts))] {
		u.IdleRampUpS += s.Sub(first).Seconds()
	}
	for _, e := range ends[max(0, len(ends)-slots):] {
		u.IdleRampDownS += last.Sub(e).Seconds()
	}
	u.IdleBetweenS = float64(slots)*u.WallS - u.BusyS - u.IdleRampUpS - u.IdleRampDownS
	return u, nil
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
