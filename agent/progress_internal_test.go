package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/valkey-io/valkey-go"

	chorusv1 "github.com/chorus-hpc/chorus/gen/chorus/v1"
	workerv1 "github.com/chorus-hpc/chorus/gen/chorus/worker/v1"
	"github.com/chorus-hpc/chorus/internal/objstore/local"
	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
)

// A burst of progress reports costs no goroutine per report: while the task's start is not yet
// recorded, 10,000 reports leave one goroutine waiting, and once it is, the latest report is the
// last one stored (reports coalesce, the worker's order is kept).
func TestProgressBurstCoalesces(t *testing.T) {
	t.Parallel()
	a, st, claimed := internalSetup(t)
	ctx := t.Context()
	sess := claimed[0].Lease
	r := &run{a: a, task: claimed[0], pr: a.parts[0].procs[0], marked: make(chan struct{})}
	r.tctx = context.Background()

	before := runtime.NumGoroutine()
	const n = 10000
	for i := 1; i <= n; i++ {
		r.queueProgress(&workerv1.TaskProgress{TaskId: claimed[0].Lease.TaskID, Fraction: float64(i) / n, Message: fmt.Sprint("step ", i)})
	}
	if grown := runtime.NumGoroutine() - before; grown > 10 {
		t.Fatalf("%d progress reports waiting for the task's start hold %d goroutines; want at most a few", n, grown)
	}
	if err := st.MarkRunning(ctx, claimed[0].Lease); err != nil {
		t.Fatal(err)
	}
	close(r.marked)
	r.progressFlushed()
	evs, err := st.ReadEvents(ctx, store.EventQuery{SessionID: sess.SessionID, Max: 100000})
	if err != nil {
		t.Fatal(err)
	}
	var got []*chorusv1.TaskProgressEvent
	for _, ev := range evs {
		if p := ev.GetTaskProgress(); p != nil {
			got = append(got, p)
		}
	}
	if len(got) == 0 || got[len(got)-1].GetMessage() != fmt.Sprint("step ", n) {
		t.Fatalf("stored progress %v; want the last report (step %d) stored last", got, n)
	}
	t.Logf("%d reports stored of %d sent", len(got), n)
}

// internalSetup starts a private Valkey, opens the real stores and an agent on them (not run), and
// claims one submitted task.
func internalSetup(t *testing.T) (*Agent, store.Store, []*store.ClaimedTask) {
	t.Helper()
	srv := valkeytest.Start(t)
	c, err := valkey.NewClient(valkey.ClientOption{InitAddress: []string{srv.Addr}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err := valkeystore.New(valkeystore.Config{Client: c})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	objs, err := local.New(local.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := New(Config{Partitions: []PartitionConfig{{Name: "go", Command: "true"}}, Logger: quiet}, st, objs)
	if err != nil {
		t.Fatal(err)
	}
	a.bg = context.Background()
	ctx := t.Context()
	sess, err := st.CreateSession(ctx, store.SessionSpec{DefaultTaskOptions: &chorusv1.TaskOptions{Partition: "go"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SubmitTasks(ctx, sess.GetSessionId(), store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "m", ExpectedOutputIDs: []string{"out"}}}}); err != nil {
		t.Fatal(err)
	}
	claimed, err := st.Claim(ctx, store.ClaimRequest{Partition: "go", AgentID: "a", Max: 1, LeaseTTL: time.Minute})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("Claim = %d tasks, %v", len(claimed), err)
	}
	return a, st, claimed
}
