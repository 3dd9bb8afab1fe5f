package conformance_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// failMessage is the payload of the fail method: the error message that must reach the client as is.
const failMessage = "conformance: this message must arrive unchanged — ünïcödé, \"quotes\", <angle> & tab\tend"

// testMethods calls every conformance method and checks the exact bytes of each output, and that
// fail ends the task FAILED after one attempt with the payload as its error message.
func testMethods(t *testing.T, s *stack) {
	ctx := testContext(t, caseTimeout)
	sess := s.session(t, ctx)
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	type call struct {
		method  string
		payload []byte
		want    []byte
	}
	calls := []call{
		{"echo", []byte("hello"), []byte("hello")},
		{"echo", nil, nil},
		{"echo", allBytes, allBytes},
		{"echo", []byte("héllo ✓"), []byte("héllo ✓")},
		// Digests from FIPS 180-2 and the usual test vectors, written out, not computed.
		{"sha256", []byte("abc"), []byte("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")},
		{"sha256", nil, []byte("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")},
		{"sha256", []byte("The quick brown fox jumps over the lazy dog"), []byte("d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592")},
		{"sha256", allBytes, []byte("40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880")},
		{"sleep", []byte("50"), []byte("50")},
		{"sleep", []byte("0"), []byte("0")},
	}
	g := client.NewGraph()
	handles := make([]*client.TaskHandle, len(calls))
	for i, c := range calls {
		handles[i] = g.Task(c.method, c.payload)
	}
	fail := g.Task("fail", []byte(failMessage))
	if _, err := sess.Submit(ctx, g); err != nil {
		t.Fatalf("submit: %v", err)
	}
	outs := make([]string, 0, len(handles)+1)
	for _, h := range append(handles, fail) {
		outs = append(outs, h.Output())
	}
	outcomes, err := sess.Wait(ctx, outs, nil)
	if err != nil {
		t.Fatalf("wait for the outputs: %v", err)
	}
	for i, c := range calls {
		if outcomes[i].Status != chorusv1.ResultStatus_RESULT_STATUS_COMPLETED {
			t.Errorf("%s(%q): output %s, reason %q", c.method, c.payload, outcomes[i].Status, outcomes[i].Reason)
			continue
		}
		got, err := sess.DownloadBytes(ctx, outs[i])
		if err != nil {
			t.Fatalf("download the output of %s(%q): %v", c.method, c.payload, err)
		}
		if !bytes.Equal(got, c.want) {
			t.Errorf("%s(%q) returned %q, want %q", c.method, c.payload, got, c.want)
		}
	}

	if st := outcomes[len(calls)].Status; st != chorusv1.ResultStatus_RESULT_STATUS_ABORTED {
		t.Errorf("the output of fail is %s, want ABORTED", st)
	}
	task, err := sess.Task(ctx, fail.ID)
	if err != nil {
		t.Fatalf("get the fail task: %v", err)
	}
	if task.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_FAILED {
		t.Errorf("fail task status %s, want FAILED", task.GetStatus())
	}
	if got := task.GetError().GetMessage(); got != failMessage {
		t.Errorf("fail task error message\n got %q\nwant %q (the payload, unchanged)", got, failMessage)
	}
	if task.GetError().GetRetryable() {
		t.Errorf("fail task error is retryable, want a final error: %v", task.GetError())
	}
	if n := len(task.GetAttempts()); n != 1 {
		t.Errorf("fail task ran %d attempts, want exactly 1 (a non-retryable error is not retried): %v", n, task.GetAttempts())
	}
}

// largeSize is the payload and output of the large-data case: far past every inline limit.
const largeSize = 16 << 20

// testLarge uploads a 16 MiB result, passes it to echo by payload_id, and checks the 16 MiB output
// arrived through the object store (the worker wrote it as a file) with the same bytes.
func testLarge(t *testing.T, s *stack) {
	ctx := testContext(t, caseTimeout)
	sess := s.session(t, ctx)
	data := make([]byte, largeSize)
	rng := rand.NewChaCha8([32]byte{'c', 'h', 'o', 'r', 'u', 's'})
	_, _ = rng.Read(data)
	payloadID := client.NewID("large-")
	if err := sess.PutResult(ctx, payloadID, data); err != nil {
		t.Fatalf("upload the 16 MiB payload: %v", err)
	}
	g := client.NewGraph()
	h := g.Task("echo", nil, func(spec *chorusv1.TaskSpec) { spec.PayloadId = payloadID })
	if _, err := sess.Submit(ctx, g); err != nil {
		t.Fatalf("submit: %v", err)
	}
	outcomes, err := sess.Wait(ctx, []string{h.Output()}, nil)
	if err != nil {
		t.Fatalf("wait for the output: %v", err)
	}
	if outcomes[0].Status != chorusv1.ResultStatus_RESULT_STATUS_COMPLETED {
		task, _ := sess.Task(ctx, h.ID)
		t.Fatalf("echo of 16 MiB: output %s (%s); task %v", outcomes[0].Status, outcomes[0].Reason, task)
	}
	res, err := sess.Result(ctx, h.Output())
	if err != nil {
		t.Fatalf("get the output: %v", err)
	}
	if res.GetSizeBytes() != largeSize || res.GetSha256() != sha256Hex(data) {
		t.Errorf("output is %d bytes with sha256 %s, want %d bytes with sha256 %s", res.GetSizeBytes(), res.GetSha256(), largeSize, sha256Hex(data))
	}
	// The agent stores data a worker sent inline as inline data; an object means it came as a file.
	if res.GetLocation() != chorusv1.ResultLocation_RESULT_LOCATION_OBJECT {
		t.Errorf("the 16 MiB output is stored %s, want RESULT_LOCATION_OBJECT (written by the worker as a file)", res.GetLocation())
	}
	got, err := sess.DownloadBytes(ctx, h.Output())
	if err != nil {
		t.Fatalf("download the output: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("the 16 MiB output differs from the payload (%d bytes, sha256 %s)", len(got), sha256Hex(got))
	}
}

// testProgress checks the progress report the sleep method makes half way is an event of its task,
// between RUNNING and COMPLETED.
func testProgress(t *testing.T, s *stack) {
	ctx, _, ev, h := s.watchedSleep(t, "400")
	ev.until(t, ctx, "the sleep task to complete", taskIs(h.ID, chorusv1.TaskStatus_TASK_STATUS_COMPLETED,
		chorusv1.TaskStatus_TASK_STATUS_FAILED, chorusv1.TaskStatus_TASK_STATUS_CANCELLED))
	var order []string
	for _, e := range ev.seen {
		switch {
		case e.GetTaskProgress().GetTaskId() == h.ID:
			p := e.GetTaskProgress()
			if p.GetFraction() != 0.5 || p.GetMessage() != "half way" {
				t.Errorf("progress event %v, want fraction 0.5 and message \"half way\"", p)
			}
			order = append(order, "progress")
		case e.GetTaskStatus().GetTaskId() == h.ID:
			order = append(order, strings.TrimPrefix(e.GetTaskStatus().GetStatus().String(), "TASK_STATUS_"))
		}
	}
	got := strings.Join(order, " ")
	if !strings.HasSuffix(got, "RUNNING progress COMPLETED") {
		t.Errorf("events of the sleep task: %s; want ... RUNNING progress COMPLETED", got)
	}
}

// testCancel cancels sleeps while they run on every slot of the worker, then proves the worker let
// go of them by itself: the same process runs a full set of new sleeps at once (the agent kills a
// worker only after CancelGrace, an hour here), and an echo after those is cancelled too.
func testCancel(t *testing.T, s *stack) {
	ctx := testContext(t, caseTimeout)
	sess := s.session(t, ctx)
	ev := watchEvents(t, ctx, sess)
	pid := s.workerPID(t, ctx)
	var lastCancel, runAgain time.Time
	for round := 1; round <= 2; round++ {
		g := client.NewGraph()
		hs := make([]*client.TaskHandle, s.capacity)
		ids := make([]string, s.capacity)
		for i := range hs {
			hs[i] = g.Task("sleep", []byte("600000")) // ten minutes: only a cancellation ends it
		}
		if _, err := sess.Submit(ctx, g); err != nil {
			t.Fatalf("submit: %v", err)
		}
		for i, h := range hs {
			ids[i] = h.ID
			// All `capacity` sleeps running at once: the slots of the first round were freed.
			ev.until(t, ctx, "sleep "+h.ID+" to run (round "+strconv.Itoa(round)+")", taskIs(h.ID, chorusv1.TaskStatus_TASK_STATUS_RUNNING))
		}
		runAgain = time.Now()
		// Running on the worker, not only marked RUNNING: each reports progress half way in (5 min),
		// too late to wait for; the agent has sent the task once it is RUNNING.
		cancelled := time.Now()
		n, err := sess.CancelTasks(ctx, ids...)
		if err != nil {
			t.Fatalf("cancel the running sleeps: %v", err)
		}
		if n != len(ids) {
			t.Errorf("CancelTasks cancelled %d tasks, want %d", n, len(ids))
		}
		for _, id := range ids {
			ev.until(t, ctx, "sleep "+id+" to be cancelled", taskIs(id, chorusv1.TaskStatus_TASK_STATUS_CANCELLED))
		}
		if round > 1 {
			t.Logf("round %d: the worker's slots were free again %v after the previous CancelTasks", round, runAgain.Sub(lastCancel).Round(time.Millisecond))
		}
		lastCancel = cancelled
	}
	g := client.NewGraph()
	h := g.Task("echo", []byte("after cancel"))
	if _, err := sess.Submit(ctx, g); err != nil {
		t.Fatalf("submit: %v", err)
	}
	got, err := sess.WaitAndDownload(ctx, h.Output())
	if err != nil || string(got) != "after cancel" {
		t.Fatalf("echo after the cancellations returned %q, %v; want \"after cancel\"", got, err)
	}
	if after := s.workerPID(t, ctx); after != pid {
		t.Errorf("the worker process changed from pid %d to %d: it was killed instead of stopping the cancelled tasks", pid, after)
	}
}

// testCapacity submits many sleeps and proves from the event order (RUNNING → final status, per
// task) that never more than the announced capacity ran at once, and that it was reached.
func testCapacity(t *testing.T, s *stack) {
	ctx := testContext(t, caseTimeout)
	sess := s.session(t, ctx)
	ev := watchEvents(t, ctx, sess)
	g := client.NewGraph()
	n := 4*s.capacity + 1
	ids := make([]string, 0, n)
	hs := make([]*client.TaskHandle, n)
	for i := range hs {
		hs[i] = g.Task("sleep", []byte("200"))
	}
	if _, err := sess.Submit(ctx, g); err != nil {
		t.Fatalf("submit: %v", err)
	}
	for _, h := range hs {
		ids = append(ids, h.ID)
	}
	for !ev.allTerminal(ids) {
		ev.next(t, ctx, "every sleep to end")
	}
	running := map[string]bool{}
	most := 0
	var over *chorusv1.Event // the RUNNING event that put more than capacity tasks in RUNNING
	for _, e := range ev.seen {
		ts := e.GetTaskStatus()
		if ts == nil {
			continue
		}
		switch st := ts.GetStatus(); {
		case st == chorusv1.TaskStatus_TASK_STATUS_RUNNING:
			running[ts.GetTaskId()] = true
			if len(running) > s.capacity {
				over = e
			}
			most = max(most, len(running))
		case terminal(st) || st == chorusv1.TaskStatus_TASK_STATUS_QUEUED:
			if terminal(st) && st != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
				t.Errorf("sleep %s ended %s: %v", ts.GetTaskId(), st, ts.GetError())
			}
			if over != nil && len(running) > s.capacity {
				t.Errorf("%d tasks RUNNING at once (capacity %d) from event %s (task %s RUNNING) until %s (task %s %s, %v later)",
					len(running), s.capacity, over.GetCursor(), over.GetTaskStatus().GetTaskId(), e.GetCursor(), ts.GetTaskId(),
					st, e.GetTime().AsTime().Sub(over.GetTime().AsTime()))
			}
			delete(running, ts.GetTaskId())
		}
	}
	if most < s.capacity {
		t.Errorf("at most %d sleeps ran at once, want the capacity %d to be used", most, s.capacity)
	}
	for _, w := range s.agent.Stats().Workers {
		if w.Capacity != s.capacity {
			t.Errorf("worker %s announced capacity %d, want %d (from CHORUS_WORKER_CAPACITY)", w.ID, w.Capacity, s.capacity)
		}
		if w.MaxInFlight > s.capacity {
			t.Errorf("the agent had %d tasks on worker %s at once, capacity %d", w.MaxInFlight, w.ID, s.capacity)
		}
	}
}

// testFanout runs fanout 100: 100 sha256 subtasks and a concat reducer that completes the fanout
// task's own output with the 100 digests of "0".."99" in order.
func testFanout(t *testing.T, s *stack) {
	ctx := testContext(t, caseTimeout)
	sess := s.session(t, ctx)
	g := client.NewGraph()
	h := g.Task("fanout", []byte("100"))
	if _, err := sess.Submit(ctx, g); err != nil {
		t.Fatalf("submit: %v", err)
	}
	got, err := sess.WaitAndDownload(ctx, h.Output())
	if err != nil {
		t.Fatalf("fanout 100: %v", err)
	}
	var want strings.Builder
	for i := range 100 {
		want.WriteString(sha256Hex([]byte(strconv.Itoa(i))))
	}
	if string(got) != want.String() {
		t.Errorf("fanout 100 returned %d bytes %.80q..., want the 100 digests of \"0\"..\"99\" (%d bytes) %.80q...", len(got), got, want.Len(), want.String())
	}
}

// testCrash kills the worker process with SIGKILL while it runs a sleep; the task runs again on the
// restarted worker and completes, with two attempts, the first failed as a worker crash.
func testCrash(t *testing.T, s *stack) {
	ctx, sess, ev, h := s.watchedSleep(t, "2000")
	// The progress report half way proves the worker is inside the handler.
	ev.until(t, ctx, "the sleep's progress report", func(e *chorusv1.Event) bool { return e.GetTaskProgress().GetTaskId() == h.ID })
	pid := s.workerPID(t, ctx)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the %s worker (pid %d): %v", s.lang.Name, pid, err)
	}
	got, err := sess.WaitAndDownload(ctx, h.Output())
	if err != nil || string(got) != "2000" {
		t.Fatalf("the sleep after the crash returned %q, %v; want \"2000\"", got, err)
	}
	task, err := sess.Task(ctx, h.ID)
	if err != nil {
		t.Fatalf("get the task: %v", err)
	}
	at := task.GetAttempts()
	if task.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_COMPLETED || len(at) != 2 {
		t.Fatalf("task %s with %d attempts, want COMPLETED with 2: %v", task.GetStatus(), len(at), at)
	}
	if k := at[0].GetError().GetKind(); k != chorusv1.ErrorKind_ERROR_KIND_WORKER_CRASHED {
		t.Errorf("the first attempt failed with %s (%q), want ERROR_KIND_WORKER_CRASHED", k, at[0].GetError().GetMessage())
	}
	if after := s.workerPID(t, ctx); after == pid {
		t.Errorf("the worker process is still pid %d after SIGKILL", pid)
	}
}
