package conformance_test

import (
	"context"
	"testing"

	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// events follows a session's event stream from its first event and keeps what it read.
type events struct {
	w    *client.Watcher
	seen []*chorusv1.Event
}

// watchEvents watches every event of a session from its start; call it before submitting.
func watchEvents(t *testing.T, ctx context.Context, sess *client.Session) *events {
	t.Helper()
	w, err := sess.Watch(ctx, "")
	if err != nil {
		t.Fatalf("watch the session's events: %v", err)
	}
	t.Cleanup(w.Close)
	return &events{w: w}
}

// until reads events until cond holds for one of them (also checking those already read) and
// returns it; the test fails, saying what it waited for, when ctx ends first.
func (e *events) until(t *testing.T, ctx context.Context, what string, cond func(*chorusv1.Event) bool) *chorusv1.Event {
	t.Helper()
	for _, ev := range e.seen {
		if cond(ev) {
			return ev
		}
	}
	for {
		if ev := e.next(t, ctx, what); cond(ev) {
			return ev
		}
	}
}

// next reads one more event.
func (e *events) next(t *testing.T, ctx context.Context, what string) *chorusv1.Event {
	t.Helper()
	ev, err := e.w.Next(ctx)
	if err != nil {
		t.Fatalf("waiting for %s: %v (events so far: %v)", what, err, e.seen)
	}
	e.seen = append(e.seen, ev)
	return ev
}

// taskIs matches a task status event of one task reaching one of the statuses.
func taskIs(taskID string, statuses ...chorusv1.TaskStatus) func(*chorusv1.Event) bool {
	return func(ev *chorusv1.Event) bool {
		ts := ev.GetTaskStatus()
		if ts == nil || ts.GetTaskId() != taskID {
			return false
		}
		for _, s := range statuses {
			if ts.GetStatus() == s {
				return true
			}
		}
		return false
	}
}

// allTerminal reports whether every task has reached a final status in the events read so far.
func (e *events) allTerminal(taskIDs []string) bool {
	done := map[string]bool{}
	for _, ev := range e.seen {
		if ts := ev.GetTaskStatus(); ts != nil && terminal(ts.GetStatus()) {
			done[ts.GetTaskId()] = true
		}
	}
	for _, id := range taskIDs {
		if !done[id] {
			return false
		}
	}
	return true
}

func terminal(s chorusv1.TaskStatus) bool {
	return s == chorusv1.TaskStatus_TASK_STATUS_COMPLETED || s == chorusv1.TaskStatus_TASK_STATUS_FAILED ||
		s == chorusv1.TaskStatus_TASK_STATUS_CANCELLED
}
