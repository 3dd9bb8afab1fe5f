package agent_test

import (
	"testing"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

func TestStdioTransport(t *testing.T) {
	t.Parallel()
	cfg := testConfig(2, 2)
	stdioConfig(&cfg, nil)
	e, a, s := setup(t, cfg)
	echo := e.submit(s, "echo", nil, "over stdio", "")
	hashes := e.submit(s, "sha256", nil, "abc")
	for _, tk := range e.waitDone(s, append(echo, hashes...)) {
		if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
			t.Fatalf("task %s: status %s, error %v", tk.GetTaskId(), tk.GetStatus(), tk.GetError())
		}
	}
	if got := e.data(s, echo[0].Output); got != "over stdio" {
		t.Errorf("echo returned %q", got)
	}
	if got := e.data(s, echo[1].Output); got != "" {
		t.Errorf("empty echo returned %q", got)
	}
	if got := e.data(s, hashes[0].Output); got != sha("abc") {
		t.Errorf("sha256 returned %q", got)
	}
	// A method the worker does not announce fails at once as UNKNOWN_METHOD.
	unknown := e.submit(s, "sleep", nil, "10")
	if tk := e.waitDone(s, unknown)[0]; tk.GetError().GetKind() != chorusv1.ErrorKind_ERROR_KIND_UNKNOWN_METHOD {
		t.Errorf("unknown method: status %s, error %v; want UNKNOWN_METHOD", tk.GetStatus(), tk.GetError())
	}
	for _, w := range a.Stats().Workers {
		if w.Restarts != 0 {
			t.Errorf("stdio worker %s restarted %d times", w.ID, w.Restarts)
		}
	}
}
