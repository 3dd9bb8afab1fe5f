package agent_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// waitCompleted blocks until n tasks of the session reached COMPLETED, reading the event stream.
func (e *env) waitCompleted(session string, n int) {
	e.t.Helper()
	cursor, done := "", 0
	for done < n {
		evs, _, err := e.st.ReadEvents(e.ctx, store.EventQuery{SessionID: session, Cursor: cursor, Max: 1000, Block: time.Second})
		if err != nil {
			e.t.Fatalf("ReadEvents: %v", err)
		}
		for _, ev := range evs {
			cursor = ev.GetCursor()
			switch ts := ev.GetTaskStatus(); ts.GetStatus() {
			case chorusv1.TaskStatus_TASK_STATUS_COMPLETED:
				done++
			case chorusv1.TaskStatus_TASK_STATUS_FAILED, chorusv1.TaskStatus_TASK_STATUS_CANCELLED:
				e.t.Fatalf("task %s ended %s: %v", ts.GetTaskId(), ts.GetStatus(), ts.GetError())
			}
		}
	}
}

// waitConnected blocks until every worker of the agent said Hello.
func (e *env) waitConnected(a *runningAgent) {
	e.waitFor("workers connected", func() bool {
		for _, w := range a.Stats().Workers {
			if !w.Connected {
				return false
			}
		}
		return true
	})
}

// BenchmarkSleepUtilization runs 200 tasks of 100 ms on 2 worker slots (2 processes of capacity 1)
// and reports utilization = busy time / (slots × wall time), wall time from submission to the last
// completion.
func BenchmarkSleepUtilization(b *testing.B) {
	const tasks, ms, slots = 200, 100, 2
	e := newEnv(b)
	a := e.startAgent(testConfig(slots, 1))
	e.waitConnected(a)
	payloads := make([]string, tasks)
	for i := range payloads {
		payloads[i] = strconv.Itoa(ms)
	}
	var util, occupancy float64
	for b.Loop() {
		s := e.session(nil)
		busy0 := busyTime(a)
		start := time.Now()
		e.submit(s, "sleep", nil, payloads...)
		e.waitCompleted(s, tasks)
		wall := time.Since(start)
		work := time.Duration(tasks*ms) * time.Millisecond
		util = float64(work) / (float64(slots) * float64(wall))
		occupancy = float64(busyTime(a)-busy0) / (float64(slots) * float64(wall))
		b.Logf("%d x %d ms on %d slots: wall %s; utilization (nominal work %s / slots x wall) %.4f; "+
			"slot occupancy (time a slot held a task, seen by the agent / slots x wall) %.4f",
			tasks, ms, slots, wall.Round(time.Millisecond), work, util, occupancy)
	}
	b.ReportMetric(util*100, "%util")
	b.ReportMetric(occupancy*100, "%occupied")
}

// BenchmarkZeroWorkThroughput pushes empty echo tasks through one agent with the Go worker and
// reports tasks per second, from submission to the last completion.
func BenchmarkZeroWorkThroughput(b *testing.B) {
	for _, c := range []struct{ procs, capacity int }{{1, 1}, {2, 4}} {
		b.Run(strconv.Itoa(c.procs)+"x"+strconv.Itoa(c.capacity), func(b *testing.B) {
			const tasks, batch = 5000, 500
			e := newEnv(b)
			a := e.startAgent(testConfig(c.procs, c.capacity))
			e.waitConnected(a)
			payloads := make([]string, batch)
			var rate float64
			for b.Loop() {
				s := e.session(nil)
				start := time.Now()
				for range tasks / batch {
					e.submit(s, "echo", nil, payloads...)
				}
				e.waitCompleted(s, tasks)
				wall := time.Since(start)
				rate = float64(tasks) / wall.Seconds()
				b.Logf("%d empty echo tasks, %d processes x capacity %d: wall %s, %.0f tasks/s", tasks, c.procs, c.capacity, wall.Round(time.Millisecond), rate)
			}
			b.ReportMetric(rate, "tasks/s")
		})
	}
}

// busyTime sums the agent's per-worker busy time.
func busyTime(a *runningAgent) time.Duration {
	var d time.Duration
	for _, w := range a.Stats().Workers {
		d += w.Busy
	}
	return d
}
