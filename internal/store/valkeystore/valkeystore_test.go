package valkeystore_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valkey-io/valkey-go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/store/storetest"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// newStore returns a store on c whose keys start with prefix, with the configuration mod changes.
// startStore is a store with key prefix prefix on a Valkey of the test's own, and its client.
func startStore(t testing.TB, prefix string) (*valkeystore.Store, valkey.Client) {
	c := valkeytest.Start(t).Client(t)
	return newStore(t, c, prefix, nil), c
}

func newStore(t testing.TB, c valkey.Client, prefix string, mod func(*valkeystore.Config)) *valkeystore.Store {
	t.Helper()
	cfg := valkeystore.Config{Client: c, KeyPrefix: prefix}
	if mod != nil {
		mod(&cfg)
	}
	s, err := valkeystore.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// cpuSession creates a session whose tasks run in partition cpu and submits tasks into it.
func cpuSession(t testing.TB, s *valkeystore.Store, tasks ...store.TaskSpec) (string, []*chorusv1.SubmittedTask) {
	t.Helper()
	sess, err := s.CreateSession(t.Context(), store.SessionSpec{DefaultTaskOptions: &chorusv1.TaskOptions{Partition: "cpu"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) == 0 {
		return sess.SessionId, nil
	}
	st, err := s.SubmitTasks(t.Context(), sess.SessionId, store.SubmitBatch{Tasks: tasks})
	if err != nil {
		t.Fatal(err)
	}
	return sess.SessionId, st
}

func factory(c valkey.Client) storetest.NewStore {
	var n atomic.Int64
	return func(t *testing.T, clk clock.Clock) store.Store {
		// Prefixes end in "s:" like the default "chorus:", so that messages are checked to name a
		// session as the caller gave it, not a piece of its key.
		return newStore(t, c, "t"+itoa(n.Add(1))+"-jobs:", func(cfg *valkeystore.Config) { cfg.Clock = clk })
	}
}

func itoa(i int64) string {
	b := []byte{}
	for i >= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
	}
	return string(append([]byte{byte('0' + i)}, b...))
}

func TestConformanceStandalone(t *testing.T) {
	t.Parallel()
	srv := valkeytest.Start(t)
	storetest.Run(t, factory(srv.Client(t)))
}

func TestConformanceCluster(t *testing.T) {
	t.Parallel()
	cl := valkeytest.StartCluster(t)
	storetest.Run(t, factory(cl.Client(t)))
}

func TestConfigRequiresClient(t *testing.T) {
	t.Parallel()
	if _, err := valkeystore.New(valkeystore.Config{}); err == nil {
		t.Fatal("New without a client succeeded")
	}
}

// TestListTasksNamesUndecodableRecord: a record ListTasks cannot decode is an error naming the task,
// not a task silently left out.
func TestListTasksNamesUndecodableRecord(t *testing.T) {
	t.Parallel()
	s, c := startStore(t, "lt:")
	ctx := t.Context()
	sid, st := cpuSession(t, s, store.TaskSpec{Method: "a"}, store.TaskSpec{Method: "b"})
	bad := st[1].TaskId
	stored := strings.TrimPrefix(bad, sid+".") // the store keeps the tasks it numbers by number (ids.go)
	if err := c.Do(ctx, c.B().Hset().Key("{lt:s:"+sid+"}:t").FieldValue().FieldValue(stored, "garbage without a header").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.ListTasks(ctx, sid, store.ListQuery[chorusv1.TaskStatus]{})
	if err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("ListTasks over an undecodable record = %v; want an error naming task %s", err, bad)
	}
}

// TestPurgedSessionExpiresAndIsUnlisted: a purged session's record gets a TTL and leaves the session
// index and the partition's indexes and counts; nothing else of the session is left, not even the
// SubmitTasks answers kept for idempotency (a day otherwise: 25 KB per batch of 1,000 tasks).
func TestPurgedSessionExpiresAndIsUnlisted(t *testing.T) {
	t.Parallel()
	c := valkeytest.Start(t).Client(t)
	// purge steps of 2 entries, so that the answers of 5 requests take several steps
	s := newStore(t, c, "pg:", func(cfg *valkeystore.Config) { cfg.PurgedRetention, cfg.ChunkSize = time.Hour, 2 })
	ctx := t.Context()
	sid, _ := cpuSession(t, s, store.TaskSpec{Method: "a"})
	for i := range 5 {
		req := store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "b"}}, RequestID: "req-" + itoa(int64(i))}
		if _, err := s.SubmitTasks(ctx, sid, req); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := c.Do(ctx, c.B().Exists().Key("{pg:s:"+sid+"}:req:req-4").Build()).AsInt64(); err != nil || n != 1 {
		t.Fatalf("the answer to request req-4 is not kept (%d, %v)", n, err)
	}
	if _, err := s.SetSessionStatus(ctx, sid, chorusv1.SessionStatus_SESSION_STATUS_CANCELLED); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PurgeSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	left, err := c.Do(ctx, c.B().Keys().Pattern("{pg:s:"+sid+"}*").Build()).AsStrSlice()
	if err != nil || len(left) != 1 || left[0] != "{pg:s:"+sid+"}:m" {
		t.Fatalf("keys of the purged session left = %v (%v); want only its record", left, err)
	}
	ttl, err := c.Do(ctx, c.B().Ttl().Key("{pg:s:"+sid+"}:m").Build()).AsInt64()
	if err != nil || ttl <= 0 || ttl > 3600 {
		t.Fatalf("TTL of the purged session's record = %d, %v; want it to expire within the retention", ttl, err)
	}
	n, err := c.Do(ctx, c.B().Zcard().Key("pg:sessions").Build()).AsInt64()
	if err != nil || n != 0 {
		t.Fatalf("session index holds %d entries after the purge (%v); want 0", n, err)
	}
	got, err := s.GetSession(ctx, sid)
	if err != nil || got.Status != chorusv1.SessionStatus_SESSION_STATUS_PURGED {
		t.Fatalf("GetSession during the retention = %v, %v; want PURGED", got, err)
	}
	p, err := s.GetPartition(ctx, "cpu")
	if err == nil && (p.TaskCounts.Cancelled != 0 || p.QueueDepth != 0) {
		t.Fatalf("partition counts after the purge = %v; want the purged session's tasks gone", p.TaskCounts)
	}
}

// TestGetPartitionReadsNoHashPerFinishedSession: once sessions have finished their work in a
// partition, GetPartition reads its totals, not one hash per session ever seen.
func TestGetPartitionReadsNoHashPerFinishedSession(t *testing.T) {
	t.Parallel()
	s, c := startStore(t, "gp:")
	ctx := t.Context()
	const sessions = 100
	for range sessions {
		cpuSession(t, s, store.TaskSpec{Method: "a"})
	}
	for done := 0; done < sessions; {
		cl, err := s.Claim(ctx, store.ClaimRequest{Partition: "cpu", AgentID: "a", Max: 64})
		if err != nil || len(cl) == 0 {
			t.Fatalf("Claim = %d, %v after %d", len(cl), err, done)
		}
		for _, x := range cl {
			if err := s.Complete(ctx, store.Completion{Lease: x.Lease}); err != nil {
				t.Fatal(err)
			}
			done++
		}
	}
	for wrapped := false; !wrapped; {
		rep, err := s.Reconcile(ctx, "cpu", 30)
		if err != nil {
			t.Fatal(err)
		}
		wrapped = rep.Wrapped
	}
	// the active set is walked with its own cursor: a few passes more cover it
	for range 10 {
		if _, err := s.Reconcile(ctx, "cpu", 30); err != nil {
			t.Fatal(err)
		}
	}
	calls := func() int64 {
		info, err := c.Do(ctx, c.B().Info().Section("commandstats").Build()).ToString()
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, line := range strings.Split(info, "\n") {
			for _, cmd := range []string{"cmdstat_hmget:", "cmdstat_hgetall:"} {
				if rest, ok := strings.CutPrefix(line, cmd+"calls="); ok {
					v, _, _ := strings.Cut(rest, ",")
					x, _ := strconv.ParseInt(v, 10, 64)
					n += x
				}
			}
		}
		return n
	}
	before := calls()
	p, err := s.GetPartition(ctx, "cpu")
	if err != nil {
		t.Fatal(err)
	}
	if read := calls() - before; read > 4 {
		t.Fatalf("GetPartition made %d hash reads over %d finished sessions; want a few whatever their number", read, sessions)
	}
	if p.TaskCounts.Completed != sessions || p.QueueDepth != 0 {
		t.Fatalf("partition counts = %v; want %d completed", p.TaskCounts, sessions)
	}
}

// TestIndexTroubleAfterCommitIsNotAFailure: when the partition's ready index cannot be written
// after a committed submit or completion, the operation still succeeds (its change is stored), and
// the reconciler restores the index once it can be written again.
func TestIndexTroubleAfterCommitIsNotAFailure(t *testing.T) {
	t.Parallel()
	s, c := startStore(t, "ix:")
	ctx := t.Context()
	sid, st := cpuSession(t, s, store.TaskSpec{Method: "a", ExpectedOutputIDs: []string{"o"}})
	cl, err := s.Claim(ctx, store.ClaimRequest{Partition: "cpu", AgentID: "a", Max: 1})
	if err != nil || len(cl) != 1 {
		t.Fatalf("Claim = %v, %v", cl, err)
	}
	// the ready index becomes unwritable (a key of the wrong type makes every ZADD fail)
	ready := "{ix:p:cpu}:ready"
	if err := c.Do(ctx, c.B().Set().Key(ready).Value("broken").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	st2, err := s.SubmitTasks(ctx, sid, store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "b", DataDependencies: []string{"o"}}, {Method: "c"}}})
	if err != nil {
		t.Fatalf("SubmitTasks with the ready index unwritable: %v; want success (the batch is stored)", err)
	}
	if err := s.Complete(ctx, store.Completion{Lease: cl[0].Lease, Outputs: []store.OutputData{{ResultID: "o", Data: store.ResultData{Inline: []byte("x")}}}}); err != nil {
		t.Fatalf("Complete with the ready index unwritable: %v; want success (the completion is stored)", err)
	}
	if tk, _ := s.GetTask(ctx, sid, st[0].TaskId); tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
		t.Fatalf("completed task = %v", tk.GetStatus())
	}
	if err := c.Do(ctx, c.B().Del().Key(ready).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Claim(ctx, store.ClaimRequest{Partition: "cpu", AgentID: "a", Max: 10}); err != nil || len(got) != 0 {
		t.Fatalf("Claim before the repair = %d, %v; want 0 (the index entry was never written)", len(got), err)
	}
	rep, err := s.Reconcile(ctx, "cpu", 100)
	if err != nil || rep.Repaired < 1 {
		t.Fatalf("Reconcile = %+v, %v; want the ready entry restored", rep, err)
	}
	got, err := s.Claim(ctx, store.ClaimRequest{Partition: "cpu", AgentID: "a", Max: 10})
	if err != nil || len(got) != 2 {
		t.Fatalf("Claim after the repair = %d, %v; want the 2 queued tasks (%s, %s)", len(got), err, st2[0].TaskId, st2[1].TaskId)
	}
}

// TestScriptSpans checks that script calls made within a trace are child client spans named after the
// script, and that calls outside a trace make none.
func TestScriptSpans(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	st := newStore(t, valkeytest.Start(t).Client(t), "trace:", func(cfg *valkeystore.Config) { cfg.TracerProvider = tp })
	ctx := context.Background()
	sess, err := st.CreateSession(ctx, store.SessionSpec{}) // no trace: no span
	if err != nil {
		t.Fatal(err)
	}
	if n := len(exp.GetSpans()); n != 0 {
		t.Fatalf("%d spans for a call outside any trace", n)
	}
	pctx, parent := tp.Tracer("test").Start(ctx, "submit")
	if _, err := st.CreateResults(pctx, sess.SessionId, []store.ResultSpec{{ResultID: "in", Data: &store.ResultData{Inline: []byte("x"), Size: 1}}}); err != nil {
		t.Fatal(err)
	}
	parent.End()
	spans := exp.GetSpans()
	var found bool
	for _, s := range spans {
		if s.Name == "valkey results_create" {
			found = true
			if s.Parent.SpanID() != parent.SpanContext().SpanID() || s.SpanKind != trace.SpanKindClient {
				t.Fatalf("script span has parent %v kind %v; want child of %v, client", s.Parent.SpanID(), s.SpanKind, parent.SpanContext().SpanID())
			}
		}
	}
	if !found {
		t.Fatalf("no 'valkey results_create' span among %d spans", len(spans))
	}
}

// TestTaskIDsNumberedPerSession: the store numbers a session's submitted tasks and shows them as
// "<session id>.<n>" (ids.go): unique across sessions, found by that id only, and kept a few bytes
// long in Valkey.
func TestTaskIDsNumberedPerSession(t *testing.T) {
	t.Parallel()
	s, c := startStore(t, "num:")
	ctx := t.Context()
	a, sa := cpuSession(t, s, store.TaskSpec{Method: "x"}, store.TaskSpec{Method: "y"})
	cpuSession(t, s) // another session between them: numbering is per session
	b, sb := cpuSession(t, s, store.TaskSpec{Method: "z"})
	sa3, err := s.SubmitTasks(ctx, a, store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "w"}}})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{sa[0].TaskId, sa[1].TaskId, sa3[0].TaskId, sb[0].TaskId}
	want := []string{a + ".1", a + ".2", a + ".3", b + ".1"}
	if !slices.Equal(got, want) {
		t.Fatalf("task ids %v; want %v", got, want)
	}
	if tk, err := s.GetTask(ctx, a, a+".2"); err != nil || tk.TaskId != a+".2" || tk.Method != "y" {
		t.Fatalf("GetTask(%s.2) = %v, %v", a, tk, err)
	}
	for _, bad := range []string{"2", b + ".1", a + ".", a + ".x"} {
		if _, err := s.GetTask(ctx, a, bad); store.CodeOf(err) != store.CodeNotFound {
			t.Fatalf("GetTask(%q) in session %s = %v; want NotFound", bad, a, err)
		}
	}
	// stored by number: the header's field, the queue and the order list hold "1", "2", "3"
	ids, err := c.Do(ctx, c.B().Lrange().Key("{num:s:"+a+"}:tl").Start(0).Stop(-1).Build()).AsStrSlice()
	if err != nil || !slices.Equal(ids, []string{"1", "2", "3"}) {
		t.Fatalf("order list %v, %v; want [1 2 3]", ids, err)
	}
	// what the agent gets and gives back uses the id users see
	got2, err := s.Claim(ctx, store.ClaimRequest{Partition: "cpu", AgentID: "ag", Max: 10, LeaseTTL: time.Minute})
	if err != nil || len(got2) != 4 {
		t.Fatalf("claimed %d tasks: %v", len(got2), err)
	}
	for _, ct := range got2 {
		if !strings.HasPrefix(ct.Lease.TaskID, ct.Lease.SessionID+".") {
			t.Fatalf("claimed task id %q; want it under session %s", ct.Lease.TaskID, ct.Lease.SessionID)
		}
		if err := s.Complete(ctx, store.Completion{Lease: ct.Lease}); err != nil {
			t.Fatal(err)
		}
	}
	if tk, err := s.GetTask(ctx, b, b+".1"); err != nil || tk.Status != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
		t.Fatalf("GetTask(%s.1) after its completion = %v, %v", b, tk, err)
	}
}

// TestSubmitFoldsCountsInItsRoundTrip: on one server a submit folds the session's counts into its
// partitions' totals in its own round trip (pcount.lua reading them as the script left them): the
// totals are right when the call returns, in every partition of the batch, and a refused submit to a
// purged session leaves no snapshot behind.
func TestSubmitFoldsCountsInItsRoundTrip(t *testing.T) {
	t.Parallel()
	s, c := startStore(t, "fold:")
	ctx := t.Context()
	sid, _ := cpuSession(t, s)
	first := store.NewResultID()
	gpu := &chorusv1.TaskOptions{Partition: "gpu"}
	if _, err := s.SubmitTasks(ctx, sid, store.SubmitBatch{Tasks: []store.TaskSpec{
		{Method: "a", ExpectedOutputIDs: []string{first}}, {Method: "a"}, {Method: "a"},
		{Method: "b", Options: gpu, DataDependencies: []string{first}}, {Method: "b", Options: gpu},
	}}); err != nil {
		t.Fatal(err)
	}
	hget := func(key, field string) string {
		v, err := c.Do(ctx, c.B().Hget().Key(key).Field(field).Build()).ToString()
		if err != nil && !valkey.IsValkeyNil(err) {
			t.Fatal(err)
		}
		return v
	}
	for part, want := range map[string]string{"cpu": "0,3,0,0,0,0,0", "gpu": "1,1,0,0,0,0,0"} {
		if got := hget("{fold:p:"+part+"}:snap", sid); got != want {
			t.Errorf("snapshot of the session in partition %s = %q; want %q", part, got, want)
		}
	}
	if got := hget("{fold:p:cpu}:tot", "2"); got != "3" {
		t.Errorf("queued total of partition cpu = %q; want 3", got)
	}
	if got := hget("{fold:p:gpu}:tot", "1"); got != "1" {
		t.Errorf("pending total of partition gpu = %q; want 1", got)
	}
	if _, err := s.SetSessionStatus(ctx, sid, chorusv1.SessionStatus_SESSION_STATUS_CANCELLED); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PurgeSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SubmitTasks(ctx, sid, store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "a", Options: &chorusv1.TaskOptions{Partition: "cpu"}}}}); err == nil {
		t.Fatal("a submit to a purged session was accepted")
	}
	for _, part := range []string{"cpu", "gpu"} {
		if got := hget("{fold:p:"+part+"}:snap", sid); got != "" {
			t.Errorf("snapshot of the purged session in partition %s = %q; want none", part, got)
		}
	}
}

// TestDepthCheckUsesAFreshReadingFarBelowTheLimit: a submit checks the partition's depth limit
// against the totals a submit of the last second folded while the partition stays at or below half
// the limit (no read before its script), and reads them again near the limit.
func TestDepthCheckUsesAFreshReadingFarBelowTheLimit(t *testing.T) {
	t.Parallel()
	s, c := startStore(t, "dp:")
	ctx := t.Context()
	sid, _ := cpuSession(t, s)
	one := func() error {
		_, err := s.SubmitTasks(ctx, sid, store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "a"}}, MaxQueueDepth: 100})
		return err
	}
	if err := one(); err != nil {
		t.Fatal(err)
	}
	// other gateways filled the partition meanwhile: a read would refuse the next task
	if err := c.Do(ctx, c.B().Hset().Key("{dp:p:cpu}:tot").FieldValue().FieldValue("2", "100").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if err := one(); err != nil {
		t.Fatalf("a submit far below the limit by a reading of the last second was refused: %v", err)
	}
	// that submit's fold answered the new totals: near the limit, the next submit reads and is refused
	err := one()
	if store.CodeOf(err) != store.CodeResourceExhausted {
		t.Fatalf("a submit past the limit = %v; want RESOURCE_EXHAUSTED", err)
	}
}

// TestSubmitFoldsAfterItsScriptRunsAgain: when the submit's function is missing on the server (a
// restart, a FUNCTION FLUSH), the script runs again after the wake-up and the fold pipelined behind
// it; they are sent again after it, so the partition's totals count the batch.
func TestSubmitFoldsAfterItsScriptRunsAgain(t *testing.T) {
	t.Parallel()
	s, c := startStore(t, "rr:")
	ctx := t.Context()
	sid, _ := cpuSession(t, s, store.TaskSpec{Method: "a"}) // the library is loaded
	if err := c.Do(ctx, c.B().FunctionFlush().Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SubmitTasks(ctx, sid, store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "a"}, {Method: "a"}}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Do(ctx, c.B().Hget().Key("{rr:p:cpu}:tot").Field("2").Build()).ToString()
	if err != nil || got != "3" {
		t.Fatalf("queued total of partition cpu = %q (%v); want 3", got, err)
	}
	if snap, _ := c.Do(ctx, c.B().Hget().Key("{rr:p:cpu}:snap").Field(sid).Build()).ToString(); snap != "0,3,0,0,0,0,0" {
		t.Fatalf("snapshot of the session = %q; want 0,3,0,0,0,0,0", snap)
	}
}

// TestClaimTakesThePreviousTailsReads: a claim's tail reads what the next claim starts with (the
// partition's due and ready sessions), so a claim that follows another makes two round trips (its
// scripts, its tail), not three; and a stale reading (the ready entry dropped and restored in
// between) does not make a claim miss the work: it reads again.
func TestClaimTakesThePreviousTailsReads(t *testing.T) {
	t.Parallel()
	c := &countingClient{Client: valkeytest.Start(t).Client(t)}
	s := newStore(t, c, "th:", nil)
	ctx := t.Context()
	const n = 10
	specs := make([]store.TaskSpec, n+1) // the claims' n, and one for another agent
	for i := range specs {
		specs[i] = store.TaskSpec{Method: "a"}
	}
	cpuSession(t, s, specs...)
	claimOne := func() {
		t.Helper()
		got, err := s.Claim(ctx, store.ClaimRequest{Partition: "cpu", AgentID: "a", Max: 1, LeaseTTL: time.Minute})
		if err != nil || len(got) != 1 {
			t.Fatalf("Claim = %d tasks, %v; want 1", len(got), err)
		}
	}
	claimOne() // its tail leaves the first hint
	s.WaitTails("cpu")
	c.calls.Store(0)
	for range n - 1 {
		claimOne()
	}
	s.WaitTails("cpu")
	if got := c.calls.Load(); got > 2*(n-1) {
		t.Fatalf("%d claims that followed another made %d round trips; want %d (their scripts and their tails)", n-1, got, 2*(n-1))
	}
	// a stale hint: another agent takes the session's last task after the last tail read it, and
	// work arrives in another session; the claim finds nothing where the hint points, then reads
	if got, err := newStore(t, c, "th:", nil).Claim(ctx, store.ClaimRequest{Partition: "cpu", AgentID: "b", Max: 1, LeaseTTL: time.Minute}); err != nil || len(got) != 1 {
		t.Fatalf("the other agent's Claim = %d tasks, %v; want 1", len(got), err)
	}
	cpuSession(t, s, store.TaskSpec{Method: "a"})
	claimOne()
}

// countingClient counts the round trips a store makes (Do and DoMulti calls).
type countingClient struct {
	valkey.Client
	calls atomic.Int64
}

func (c *countingClient) Do(ctx context.Context, cmd valkey.Completed) valkey.ValkeyResult {
	c.calls.Add(1)
	return c.Client.Do(ctx, cmd)
}

func (c *countingClient) DoMulti(ctx context.Context, cmds ...valkey.Completed) []valkey.ValkeyResult {
	c.calls.Add(1)
	return c.Client.DoMulti(ctx, cmds...)
}
