package agent_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// flakyOutcomes is the real store with RecordOutcomes failing as Valkey does while it restarts: the
// first call carrying a completion gets no answer and is not applied, the second is applied but its
// answer is lost; later calls go through.
type flakyOutcomes struct {
	store.Store
	mu    sync.Mutex
	fails int
}

func (f *flakyOutcomes) RecordOutcomes(ctx context.Context, steps []store.Outcome) ([]store.OutcomeResult, error) {
	completes := false
	for _, s := range steps {
		completes = completes || s.Kind == store.OutcomeComplete
	}
	f.mu.Lock()
	n := f.fails
	if completes && n < 2 {
		f.fails++
	}
	f.mu.Unlock()
	unanswered := &store.Error{Code: store.CodeUnavailable, Message: "recording task outcomes: Valkey call failed: i/o timeout"}
	switch {
	case completes && n == 0:
		return nil, unanswered
	case completes && n == 1:
		if _, err := f.Store.RecordOutcomes(ctx, steps); err != nil {
			return nil, err
		}
		return nil, unanswered
	}
	return f.Store.RecordOutcomes(ctx, steps)
}

// A transient store error while recording a finished task's outcome does not throw the work away:
// the agent retries while its lease holds, so the task completes after one attempt, without waiting
// for its lease to expire and running again (issue 21, items 12 and 13).
func TestTransientStoreErrorRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	flaky := &flakyOutcomes{Store: e.st}
	e.st = flaky
	cfg := testConfig(1, 1)
	cfg.LeaseTTL = 30 * time.Second // a re-run would only come after this
	cfg.RenewInterval = time.Second
	e.startAgent(cfg)
	sid := e.session(nil)
	sub := e.submit(sid, "echo", nil, "kept")
	task := e.waitDone(sid, sub)[0]
	if task.Status != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
		t.Fatalf("task ended %v (%v); want COMPLETED", task.Status, task.Error)
	}
	full := e.task(sid, sub[0].TaskID)
	if len(full.Attempts) != 1 {
		t.Fatalf("task ran %d attempts %v; want 1: a transient error must not cause a re-run", len(full.Attempts), full.Attempts)
	}
	if got := e.data(sid, sub[0].Output); got != "kept" {
		t.Fatalf("output %q; want the echoed payload", got)
	}
	flaky.mu.Lock()
	defer flaky.mu.Unlock()
	if flaky.fails != 2 {
		t.Fatalf("the store failed %d completion calls; want 2 (the test did not exercise the retry)", flaky.fails)
	}
}
