package agent_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestEchoAndSha256(t *testing.T) {
	t.Parallel()
	e, _, s := setup(t, testConfig(1, 2))
	echo := e.submit(s, "echo", nil, "hello", "", "chorus")
	hashes := e.submit(s, "sha256", nil, "abc", "")
	for i, tk := range e.waitDone(s, append(echo, hashes...)) {
		if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
			t.Fatalf("task %d: status %s, error %v", i, tk.GetStatus(), tk.GetError())
		}
	}
	for i, p := range []string{"hello", "", "chorus"} {
		if got := e.data(s, echo[i].Output); got != p {
			t.Errorf("echo %q returned %q", p, got)
		}
	}
	for i, p := range []string{"abc", ""} {
		if got := e.data(s, hashes[i].Output); got != sha(p) {
			t.Errorf("sha256 %q returned %q, want %q", p, got, sha(p))
		}
	}
}

func TestFailIsNotRetried(t *testing.T) {
	t.Parallel()
	e, _, s := setup(t, testConfig(1, 1))
	tasks := e.submit(s, "fail", durationOpts(3, 0), "the input is malformed: expected a matrix")
	tk := e.waitDone(s, tasks)[0]
	if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_FAILED {
		t.Fatalf("status %s, want FAILED", tk.GetStatus())
	}
	if got := tk.GetError().GetMessage(); got != "the input is malformed: expected a matrix" {
		t.Errorf("error message %q does not carry the worker's message", got)
	}
	if tk.GetError().GetRetryable() || tk.GetError().GetKind() != chorusv1.ErrorKind_ERROR_KIND_WORKER_ERROR {
		t.Errorf("error %v: want a non-retryable WORKER_ERROR", tk.GetError())
	}
	if n := len(tk.GetAttempts()); n != 1 {
		t.Errorf("%d attempts, want 1 (a non-retryable error is not retried)", n)
	}
}

func TestRetryableFailureSucceedsOnSecondAttempt(t *testing.T) {
	t.Parallel()
	e, _, s := setup(t, testConfig(1, 1))
	tasks := e.submit(s, "flaky", durationOpts(3, 0), "second time lucky")
	at := e.waitTaskCompleted(s, tasks[0]).GetAttempts()
	if len(at) != 2 {
		t.Fatalf("%d attempts, want 2", len(at))
	}
	if !at[0].GetError().GetRetryable() || !strings.Contains(at[0].GetError().GetMessage(), "attempt 1 fails on purpose") {
		t.Errorf("attempt 1 error %v: want the worker's retryable error", at[0].GetError())
	}
	if at[1].GetError() != nil {
		t.Errorf("attempt 2 has an error: %v", at[1].GetError())
	}
	if got := e.data(s, tasks[0].Output); got != "second time lucky" {
		t.Errorf("output %q", got)
	}
}

func TestSleepPastMaxDurationTimesOut(t *testing.T) {
	t.Parallel()
	e, _, s := setup(t, testConfig(1, 1))
	tasks := e.submit(s, "sleep", durationOpts(1, 100*time.Millisecond), "600000")
	tk := e.waitDone(s, tasks)[0]
	if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_FAILED {
		t.Fatalf("status %s, want FAILED", tk.GetStatus())
	}
	if k := tk.GetError().GetKind(); k != chorusv1.ErrorKind_ERROR_KIND_TIMEOUT {
		t.Errorf("error kind %s, want TIMEOUT (%v)", k, tk.GetError())
	}
	if n := len(tk.GetAttempts()); n != 2 {
		t.Errorf("%d attempts, want 2 (a timeout is retryable, max_retries 1)", n)
	}
	// The worker gave the cancelled attempts back: a short task still runs on the single slot.
	next := e.submit(s, "echo", nil, "after the timeouts")
	if tk := e.waitDone(s, next)[0]; tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
		t.Fatalf("echo after timeouts: status %s", tk.GetStatus())
	}
}

func TestFanoutHandsOutputToReducer(t *testing.T) {
	t.Parallel()
	e, _, s := setup(t, testConfig(2, 2))
	const n = 7
	tasks := e.submit(s, "fanout", nil, strconv.Itoa(n))
	// The fanout task completes at once; its output is completed by the reducer.
	if tk := e.waitDone(s, tasks)[0]; tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
		t.Fatalf("fanout: status %s, error %v", tk.GetStatus(), tk.GetError())
	}
	e.waitUntil(s, "the fanout's output is completed", func() bool {
		r, err := e.st.GetResult(e.ctx, s, tasks[0].Output)
		if err != nil {
			t.Fatalf("GetResult: %v", err)
		}
		return r.GetStatus() == chorusv1.ResultStatus_RESULT_STATUS_COMPLETED
	})
	var want strings.Builder
	for i := range n {
		want.WriteString(sha(strconv.Itoa(i)))
	}
	if got := e.data(s, tasks[0].Output); got != want.String() {
		t.Errorf("reducer output %q, want %q", got, want.String())
	}
	r, _ := e.st.GetResult(e.ctx, s, tasks[0].Output)
	reducer := e.task(s, r.GetOwnerTaskId())
	if reducer.GetMethod() != "concat" || reducer.GetParentTaskId() != tasks[0].TaskID || len(reducer.GetDataDependencies()) != n {
		t.Errorf("the output's owner is %s (parent %s, %d deps), want the concat reducer submitted by the fanout",
			reducer.GetMethod(), reducer.GetParentTaskId(), len(reducer.GetDataDependencies()))
	}
}
