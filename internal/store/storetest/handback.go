package storetest

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// testReleaseRunning: at the drain deadline a never-started task goes back without an attempt, a
// RUNNING one counts a retryable attempt and is queued again at once, and a RUNNING one with no
// retries left fails, so a task longer than every drain deadline cannot run forever.
func testReleaseRunning(t *testing.T, s store.Store, _ *clock.Fake) {
	sid := newSession(t, s, 1)
	one := &chorusv1.TaskOptions{MaxRetries: proto.Int32(1)}
	st := submit(t, s, sid, store.TaskSpec{Method: "dispatched", Options: one}, store.TaskSpec{Method: "running", Options: one})
	c := claim(t, s, 2)
	if len(c) != 2 {
		t.Fatalf("claimed %d, want 2", len(c))
	}
	byID := map[string]*store.ClaimedTask{c[0].Lease.TaskID: c[0], c[1].Lease.TaskID: c[1]}
	disp, run := byID[st[0].TaskId], byID[st[1].TaskId]
	if err := s.MarkRunning(ctx(t), run.Lease); err != nil {
		t.Fatalf("MarkRunning: %v", err)
	}
	const why = "agent a1 stopped at its drain deadline"
	if err := s.ReleaseRunning(ctx(t), []store.Lease{disp.Lease, run.Lease}, why); err != nil {
		t.Fatalf("ReleaseRunning: %v", err)
	}
	tk, _ := s.GetTask(ctx(t), sid, disp.Lease.TaskID)
	if tk.Status != chorusv1.TaskStatus_TASK_STATUS_QUEUED || len(tk.Attempts) != 0 {
		t.Fatalf("never-started task after ReleaseRunning: %v with %d attempts; want QUEUED with none", tk.Status, len(tk.Attempts))
	}
	tk, _ = s.GetTask(ctx(t), sid, run.Lease.TaskID)
	if tk.Status != chorusv1.TaskStatus_TASK_STATUS_QUEUED || len(tk.Attempts) != 1 ||
		tk.Attempts[0].GetError().GetKind() != chorusv1.ErrorKind_ERROR_KIND_LEASE_EXPIRED || tk.Attempts[0].GetError().GetMessage() != why {
		t.Fatalf("running task after ReleaseRunning: %v, attempts %v; want QUEUED with one LEASE_EXPIRED attempt saying %q", tk.Status, tk.Attempts, why)
	}
	if err := s.MarkRunning(ctx(t), run.Lease); !store.IsLeaseLost(err) {
		t.Fatalf("MarkRunning with a handed-back lease: %v; want LeaseLost", err)
	}
	again := claim(t, s, 2) // queued at once: no backoff
	if len(again) != 2 {
		t.Fatalf("claimed %d after ReleaseRunning, want both tasks at once", len(again))
	}
	for _, a := range again {
		if a.Lease.TaskID == run.Lease.TaskID {
			if a.Lease.Attempt != 2 {
				t.Fatalf("the running task's next attempt is %d, want 2", a.Lease.Attempt)
			}
			if err := s.MarkRunning(ctx(t), a.Lease); err != nil {
				t.Fatalf("MarkRunning: %v", err)
			}
			if err := s.ReleaseRunning(ctx(t), []store.Lease{a.Lease}, why); err != nil {
				t.Fatalf("ReleaseRunning: %v", err)
			}
		}
	}
	tk, _ = s.GetTask(ctx(t), sid, run.Lease.TaskID)
	if tk.Status != chorusv1.TaskStatus_TASK_STATUS_FAILED || tk.Error.GetKind() != chorusv1.ErrorKind_ERROR_KIND_LEASE_EXPIRED {
		t.Fatalf("task handed back with no retries left: %v / %v; want FAILED LEASE_EXPIRED", tk.Status, tk.Error)
	}
}

// testReleaseAgentLeases: an agent restarting under the same id takes back its previous life's
// leases at once, and no other agent's.
func testReleaseAgentLeases(t *testing.T, s store.Store, _ *clock.Fake) {
	sid := newSession(t, s, 1)
	sid2 := newSession(t, s, 1)
	one := &chorusv1.TaskOptions{MaxRetries: proto.Int32(1)}
	a := submit(t, s, sid, store.TaskSpec{Method: "a", Options: one}, store.TaskSpec{Method: "b", Options: one})
	b := submit(t, s, sid2, store.TaskSpec{Method: "c", Options: one})
	if err := s.Heartbeat(ctx(t), store.AgentHeartbeat{AgentID: "host-1", Partition: part, Capacity: 4}, time.Hour); err != nil {
		t.Fatalf("Heartbeat: %v", err)
	}
	mine, err := s.Claim(ctx(t), store.ClaimRequest{Partition: part, AgentID: "host-1", Max: 2, LeaseTTL: time.Hour})
	if err != nil || len(mine) != 2 {
		t.Fatalf("Claim host-1 = %d, %v; want 2", len(mine), err)
	}
	mine2, err := s.Claim(ctx(t), store.ClaimRequest{Partition: part, AgentID: "host-1", Max: 1, LeaseTTL: time.Hour})
	if err != nil || len(mine2) != 1 {
		t.Fatalf("Claim host-1 = %d, %v; want 1", len(mine2), err)
	}
	if err := s.MarkRunning(ctx(t), mine[0].Lease); err != nil {
		t.Fatalf("MarkRunning: %v", err)
	}
	extra := submit(t, s, sid, store.TaskSpec{Method: "d", Options: one})
	other, err := s.Claim(ctx(t), store.ClaimRequest{Partition: part, AgentID: "host-2", Max: 1, LeaseTTL: time.Hour})
	if err != nil || len(other) != 1 || other[0].Lease.TaskID != extra[0].TaskId {
		t.Fatalf("Claim host-2 = %v, %v; want task %s", other, err, extra[0].TaskId)
	}
	n, err := s.ReleaseAgentLeases(ctx(t), "host-1")
	if err != nil || n != 3 {
		t.Fatalf("ReleaseAgentLeases = %d, %v; want 3", n, err)
	}
	for _, x := range []struct{ sid, tid string }{{sid, a[0].TaskId}, {sid, a[1].TaskId}, {sid2, b[0].TaskId}} {
		if got := taskStatus(t, s, x.sid, x.tid); got != chorusv1.TaskStatus_TASK_STATUS_QUEUED {
			t.Fatalf("task %s after ReleaseAgentLeases is %v, want QUEUED", x.tid, got)
		}
	}
	tk, _ := s.GetTask(ctx(t), mine[0].Lease.SessionID, mine[0].Lease.TaskID)
	if len(tk.Attempts) != 1 || tk.Attempts[0].GetError().GetKind() != chorusv1.ErrorKind_ERROR_KIND_LEASE_EXPIRED || tk.Attempts[0].GetError().GetRetryable() != true {
		t.Fatalf("the running task's attempts %v; want one retryable LEASE_EXPIRED", tk.Attempts)
	}
	if got := taskStatus(t, s, sid, extra[0].TaskId); got != chorusv1.TaskStatus_TASK_STATUS_DISPATCHED {
		t.Fatalf("host-2's task is %v after host-1's leases were taken back, want DISPATCHED", got)
	}
	if err := s.Complete(ctx(t), store.Completion{Lease: mine[1].Lease}); !store.IsLeaseLost(err) {
		t.Fatalf("Complete with a taken-back lease: %v; want LeaseLost", err)
	}
	if n, err := s.ReleaseAgentLeases(ctx(t), "host-1"); err != nil || n != 0 {
		t.Fatalf("second ReleaseAgentLeases = %d, %v; want 0", n, err)
	}
	if again := claim(t, s, 10); len(again) != 3 {
		t.Fatalf("claimed %d after ReleaseAgentLeases, want the 3 tasks at once", len(again))
	}
}
