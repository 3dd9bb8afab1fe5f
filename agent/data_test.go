package agent_test

import (
	"strings"
	"testing"

	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// With a tiny inline limit, payloads, inputs and outputs travel as files in the worker's private
// folder and outputs land in the object store.
func TestLargeDataTravelsAsFiles(t *testing.T) {
	t.Parallel()
	cfg := testConfig(1, 2)
	cfg.InlineLimit = 16
	e, _, s := setup(t, cfg)
	big := strings.Repeat("0123456789", 10)
	first := e.submit(s, "echo", nil, big)
	// A concat task reads the echo's output (an object) as an input file.
	out := store.NewResultID()
	res, err := e.st.SubmitTasks(e.ctx, s, store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "concat",
		DataDependencies: []string{first[0].Output, first[0].Output}, ExpectedOutputIDs: []string{out}}}})
	if err != nil {
		t.Fatalf("SubmitTasks: %v", err)
	}
	tasks := append(first, submitted{TaskID: res[0].GetTaskId(), Output: out})
	for _, tk := range e.waitDone(s, tasks) {
		if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
			t.Fatalf("task %s (%s): status %s, error %v", tk.GetTaskId(), tk.GetMethod(), tk.GetStatus(), tk.GetError())
		}
	}
	ds, err := e.st.GetResultData(e.ctx, s, []string{first[0].Output, out})
	if err != nil {
		t.Fatalf("GetResultData: %v", err)
	}
	for _, d := range ds {
		if d.ObjectKey == "" {
			t.Errorf("an output of %d bytes is inline; want it in the object store (inline limit 16)", d.Size)
		}
	}
	if got := e.data(s, first[0].Output); got != big {
		t.Errorf("echo output %q, want %q", got, big)
	}
	if got := e.data(s, out); got != big+big {
		t.Errorf("concat output %q, want the input twice", got)
	}
}
