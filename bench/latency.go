package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/chorus-hpc/chorus/internal/bench/results"
	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// LatencyResult is the latency scenario's output (latency.json).
type LatencyResult struct {
	Scenario string        `json:"scenario"`
	Workers  string        `json:"workers"`
	Modes    []LatencyMode `json:"modes"`
	// Seed is the seed article's figure for comparison (ArmoniK, Figure 1).
	Seed string `json:"seed"`
}

// LatencyMode is one way of submitting: one task at a time, or batches.
type LatencyMode struct {
	Name  string `json:"name"`
	Batch int    `json:"batch"`
	Tasks int    `json:"tasks"`
	// Submit is the SubmitTasks call, client side (every task of a batch gets its batch's time).
	Submit sampledDist `json:"submit"`
	// Processing is queue_time → end_time of the task record (server side: queue, dispatch, run,
	// completion).
	Processing sampledDist `json:"processing"`
	// EndToEnd is from the start of the SubmitTasks call to the arrival of the result's completion
	// event on the client's watch stream.
	EndToEnd sampledDist `json:"end_to_end"`
}

// sampledDist is a distribution that keeps its samples (sorted milliseconds) for the CDF plot; only
// the distribution is written to the JSON.
type sampledDist struct {
	results.Dist
	samples []float64
}

// sampleDist summarizes durations and keeps them.
func sampleDist(ds []time.Duration) sampledDist {
	ms := results.Millis(ds)
	return sampledDist{Dist: results.SummarizeSorted(ms), samples: ms}
}

func (r *Runner) latency(ctx context.Context) error {
	// 32 slots, as many as the peers' workers (asynq's concurrency) and the throughput scenario
	part, err := r.useAgent(ctx, r.goWorkers(2, 16))
	if err != nil {
		return err
	}
	res := LatencyResult{Scenario: ScenarioLatency, Workers: "Go example worker, 2 processes x capacity 16, method echo, empty payload",
		Seed: "ArmoniK (seed article, Figure 1): submission ~40 ms, processing ~60 ms, end-to-end ~140 ms"}
	// Warm up connections, scripts and workers; not recorded.
	if _, err := r.latencyMode(ctx, part, "warmup", 1, 20); err != nil {
		return err
	}
	for _, m := range []struct {
		name         string
		batch, tasks int
	}{
		{"one at a time", 1, r.pick(200, 1000)},
		{"batches of 10", 10, r.pick(500, 3000)},
		{"batches of 100", 100, r.pick(1000, 10000)},
	} {
		mode, err := r.latencyMode(ctx, part, m.name, m.batch, m.tasks)
		if err != nil {
			return err
		}
		r.log.Info("bench: latency", "mode", m.name, "submit_p50_ms", mode.Submit.P50, "processing_p50_ms", mode.Processing.P50, "e2e_p50_ms", mode.EndToEnd.P50)
		res.Modes = append(res.Modes, mode)
	}
	if err := writeJSON(r.path("latency.json"), res); err != nil {
		return err
	}
	var series []Series
	for i, m := range res.Modes {
		for j, s := range []Series{cdfSeries(m.Name+": submission", m.Submit.samples), cdfSeries(m.Name+": processing", m.Processing.samples), cdfSeries(m.Name+": end-to-end", m.EndToEnd.samples)} {
			s.Styled, s.Color, s.Dash = true, i, 2-j
			series = append(series, s)
		}
	}
	return writeLinePlot(r.path("latency.png"), linePlot{Title: "Chorus latency, zero-work tasks (CDF)",
		X: "latency (ms, log scale)", Y: "fraction of tasks", LogX: true, LegendBottomRight: true, Series: series})
}

type doneEvent struct {
	id string
	at time.Time
}

// watchCompletions follows the session's result status events from now until ctx ends. On the first
// channel it sends each completed result with the time its event arrived; on the second, the watch's
// error (an aborted result is one), after which it stops.
func watchCompletions(ctx context.Context, sess *client.Session) (<-chan doneEvent, <-chan error, error) {
	w, err := sess.Watch(ctx, "$", chorusv1.EventKind_EVENT_KIND_RESULT_STATUS)
	if err != nil {
		return nil, nil, err
	}
	events := make(chan doneEvent, 1024)
	watchErr := make(chan error, 1)
	go func() {
		defer w.Close()
		for {
			ev, err := w.Next(ctx)
			if err != nil {
				watchErr <- err
				return
			}
			rs := ev.GetResultStatus()
			if rs == nil {
				continue
			}
			if rs.GetStatus() == chorusv1.ResultStatus_RESULT_STATUS_ABORTED {
				watchErr <- fmt.Errorf("result %s was aborted: %s", rs.GetResultId(), rs.GetAbortReason())
				return
			}
			if rs.GetStatus() == chorusv1.ResultStatus_RESULT_STATUS_COMPLETED {
				select {
				case events <- doneEvent{rs.GetResultId(), time.Now()}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return events, watchErr, nil
}

// latencyMode submits tasks in batches of batch, waiting for each batch's results before the next.
func (r *Runner) latencyMode(ctx context.Context, part, name string, batch, tasks int) (LatencyMode, error) {
	mode := LatencyMode{Name: name, Batch: batch}
	sess, err := r.cl.CreateSession(ctx, client.SessionOptions{Partition: part})
	if err != nil {
		return mode, err
	}
	defer func() { _, _ = sess.Cancel(context.WithoutCancel(ctx)) }()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, watchErr, err := watchCompletions(wctx, sess)
	if err != nil {
		return mode, err
	}

	submitted := map[string]time.Time{} // output id → submit start
	var submits, e2e []time.Duration
	for sent := 0; sent < tasks; sent += batch {
		g := client.NewGraph()
		handles := make([]*client.TaskHandle, 0, batch)
		for range min(batch, tasks-sent) {
			handles = append(handles, g.Task("echo", nil))
		}
		t0 := time.Now()
		if _, err := sess.Submit(ctx, g); err != nil {
			return mode, err
		}
		took := time.Since(t0)
		for _, h := range handles {
			submitted[h.Output()] = t0
			submits = append(submits, took)
		}
		for waiting := len(handles); waiting > 0; {
			select {
			case ev := <-events:
				if t0, ok := submitted[ev.id]; ok {
					e2e = append(e2e, ev.at.Sub(t0))
					delete(submitted, ev.id)
					waiting--
				}
			case err := <-watchErr:
				return mode, fmt.Errorf("watching the latency session: %w", err)
			case <-ctx.Done():
				return mode, ctx.Err()
			}
		}
	}
	tasksList, err := sess.Tasks(ctx, chorusv1.TaskStatus_TASK_STATUS_UNSPECIFIED)
	if err != nil {
		return mode, err
	}
	var proc []time.Duration
	for _, t := range tasksList {
		if t.GetQueueTime() != nil && t.GetEndTime() != nil {
			proc = append(proc, t.GetEndTime().AsTime().Sub(t.GetQueueTime().AsTime()))
		}
	}
	mode.Tasks = len(e2e)
	mode.Submit, mode.Processing, mode.EndToEnd = sampleDist(submits), sampleDist(proc), sampleDist(e2e)
	return mode, nil
}
