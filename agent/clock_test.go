package agent_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valkey-io/valkey-go"
	"go.opentelemetry.io/otel/propagation"

	"github.com/chorus-hpc/chorus/agent"
	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// The agent's timers run on its Clock: a task's max duration passes when a fake clock is moved
// past it, without the test waiting for it.
func TestMaxDurationOnFakeClock(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Now())
	cfg := testConfig(1, 1)
	cfg.Clock = clk
	e, _, s := setup(t, cfg)
	tasks := e.submit(s, "sleep", durationOpts(0, time.Hour), "600000")
	e.waitStatus(s, tasks[0].TaskID, chorusv1.TaskStatus_TASK_STATUS_RUNNING)
	clk.Advance(2 * time.Hour)
	tk := e.waitDone(s, tasks)[0]
	if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_FAILED || tk.GetError().GetKind() != chorusv1.ErrorKind_ERROR_KIND_TIMEOUT {
		t.Fatalf("task %s (error %v), want FAILED with TIMEOUT once the fake clock passed its max duration", tk.GetStatus(), tk.GetError())
	}
}

// The drain deadline runs on the agent's Clock too: a task still running when a fake clock passes
// the deadline is handed back with its attempt counted.
func TestDrainDeadlineOnFakeClock(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Now())
	cfg := testConfig(1, 1)
	cfg.Clock, cfg.DrainDeadline = clk, time.Hour
	e, a, s := setup(t, cfg)
	tasks := e.submit(s, "sleep", durationOpts(1, 0), "600000")
	e.waitStatus(s, tasks[0].TaskID, chorusv1.TaskStatus_TASK_STATUS_RUNNING)
	stopped := make(chan error, 1)
	go func() { stopped <- a.stop() }()
	for done := false; !done; {
		select {
		case err := <-stopped:
			if err != nil {
				t.Fatalf("drain: %v", err)
			}
			done = true
		case <-time.After(20 * time.Millisecond):
			clk.Advance(10 * time.Minute) // until the drain deadline passes on the fake clock
		case <-e.ctx.Done():
			t.Fatal("the agent did not stop")
		}
	}
	tk := e.task(s, tasks[0].TaskID)
	if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_QUEUED || len(tk.GetAttempts()) != 1 {
		t.Fatalf("after the fake drain deadline the task is %s with %d attempts, want QUEUED with 1", tk.GetStatus(), len(tk.GetAttempts()))
	}
}

// countingPropagator is W3C trace context that counts its uses.
type countingPropagator struct {
	propagation.TraceContext
	injected atomic.Int64
}

func (p *countingPropagator) Inject(ctx context.Context, c propagation.TextMapCarrier) {
	p.injected.Add(1)
	p.TraceContext.Inject(ctx, c)
}

// The agent writes the trace context handed to workers with its configured Propagator.
func TestConfiguredPropagatorIsUsed(t *testing.T) {
	t.Parallel()
	prop := &countingPropagator{}
	cfg := testConfig(1, 1)
	cfg.Propagator = prop
	e, _, s := setup(t, cfg)
	tasks := e.submit(s, "echo", nil, "x")
	if tk := e.waitDone(s, tasks)[0]; tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
		t.Fatalf("task %s, want COMPLETED", tk.GetStatus())
	}
	if prop.injected.Load() == 0 {
		t.Fatal("the agent never used its configured Propagator")
	}
}

// Leases are renewed on the agent's Clock: with the store and the agent on one fake clock, moving
// it two lease TTLs forward one renew interval at a time keeps the running task's lease (the store
// finds nothing expired), with no test sleeping for the TTL.
func TestLeaseRenewalOnFakeClock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	clk := clock.NewFake(time.Now())
	vc, err := valkey.NewClient(valkey.ClientOption{InitAddress: []string{e.addr}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(vc.Close)
	st, err := valkeystore.New(valkeystore.Config{Client: vc, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(1, 1)
	// Intervals no wall-clock ticker would reach during the test: only the fake clock renews.
	cfg.Clock, cfg.LeaseTTL, cfg.RenewInterval, cfg.RequeueInterval = clk, time.Hour, 10*time.Minute, 30*time.Minute
	a, err := agent.New(cfg, st, e.objs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for { // the drain deadline runs on the fake clock too
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
				clk.Advance(time.Minute)
			}
		}
	})
	s := e.session(nil)
	tasks := e.submit(s, "sleep", durationOpts(0, 0), "600000")
	e.waitStatus(s, tasks[0].TaskID, chorusv1.TaskStatus_TASK_STATUS_RUNNING)
	leaseKey := "{chorus:s:" + s + "}:l:go"
	member := strings.TrimPrefix(tasks[0].TaskID, s+".") // the store keeps a task it numbered by its number
	expiry := func() time.Time {
		ms, err := vc.Do(e.ctx, vc.B().Zscore().Key(leaseKey).Member(member).Build()).AsFloat64()
		if err != nil {
			t.Fatalf("reading the lease: %v", err)
		}
		return time.UnixMilli(int64(ms))
	}
	for range 2 * int(cfg.LeaseTTL/cfg.RenewInterval) {
		clk.Advance(cfg.RenewInterval)
		// The renewal for this tick: the lease ends a TTL after the fake now (less one interval).
		e.waitFor("the lease renewed on the fake clock", func() bool {
			return !expiry().Before(clk.Now().Add(cfg.LeaseTTL - cfg.RenewInterval))
		})
	}
	if n, err := st.RequeueExpired(e.ctx, "go", 100); err != nil || n != 0 {
		t.Fatalf("RequeueExpired after two fake TTLs = %d, %v; want 0 (the lease was renewed)", n, err)
	}
	if tk := e.task(s, tasks[0].TaskID); tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_RUNNING || len(tk.GetAttempts()) != 1 {
		t.Fatalf("task %s with %d attempts, want still RUNNING in its first attempt", tk.GetStatus(), len(tk.GetAttempts()))
	}
}
