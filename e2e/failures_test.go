package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// testBrokenUpload breaks off a REST upload after 64 MiB: the half-written object is removed and the
// result stays CREATED, ready for a new upload.
func testBrokenUpload(ctx context.Context, t *testing.T, cl *cluster, c *client.Client) {
	sess, rid := sessionWithResult(ctx, t, c, "go", "broken-")
	body := &failingReader{r: newGenerator(3, largeSize), n: 64 << 20}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, resultDataURL(cl.httpURL, sess.ID, rid), body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = largeSize
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("a REST upload broken off after 64 MiB of 1 GiB answered HTTP %d; want a failed request", resp.StatusCode)
	}
	// The gateway notices the broken connection on its own time: wait (bounded by ctx) for the
	// object store folder of the session to empty.
	for files := objectFiles(t, cl.objDir, sess.ID); len(files) > 0; files = objectFiles(t, cl.objDir, sess.ID) {
		select {
		case <-ctx.Done():
			t.Fatalf("the half-written object of a broken-off upload is still in the object store: %v", files)
		case <-time.After(20 * time.Millisecond):
		}
	}
	r, err := sess.Result(ctx, rid)
	if err != nil {
		t.Fatal(err)
	}
	if r.GetStatus() != chorusv1.ResultStatus_RESULT_STATUS_CREATED {
		t.Fatalf("result of a broken-off upload is %s; want CREATED", r.GetStatus())
	}
	const size = 2 << 20
	gen := newGenerator(4, size)
	restUpload(ctx, t, cl.httpURL, sess.ID, rid, gen, size)
	if r, err = sess.Result(ctx, rid); err != nil || r.GetSha256() != gen.sum() {
		t.Fatalf("a new upload after the broken one: %v, SHA-256 %s, want %s", err, r.GetSha256(), gen.sum())
	}
}

// testOutputOverLimit runs echo on an agent whose max_result_size is 1 MiB with a 3 MiB payload: the
// task fails with a data error that names the limit, and the agent stores no object for it.
func testOutputOverLimit(ctx context.Context, t *testing.T, cl *cluster, c *client.Client) {
	cl.startAgent(ctx, t, "agent-small", "small", "max_result_size: 1048576\n")
	sess, in := sessionWithResult(ctx, t, c, "small", "in-")
	const size = 3 << 20
	restUpload(ctx, t, cl.httpURL, sess.ID, in, newGenerator(5, size), size)
	out := client.NewID("out-")
	tid, outcome := runTask(ctx, t, c, sess, &chorusv1.TaskSpec{Method: "echo", PayloadId: in, ExpectedOutputIds: []string{out},
		Options: &chorusv1.TaskOptions{Partition: "small"}})
	if outcome.Status != chorusv1.ResultStatus_RESULT_STATUS_ABORTED {
		t.Fatalf("output over max_result_size: %s; want ABORTED", outcome.Status)
	}
	task, err := sess.Task(ctx, tid)
	if err != nil {
		t.Fatal(err)
	}
	msg := task.GetError().GetMessage()
	if task.GetError().GetKind() != chorusv1.ErrorKind_ERROR_KIND_DATA_ERROR || !strings.Contains(msg, out) || !strings.Contains(msg, "max_result_size") {
		t.Errorf("task with an output over max_result_size: error %s %q; want a DATA_ERROR naming %s and max_result_size",
			task.GetError().GetKind(), msg, out)
	}
	if files := objectFiles(t, cl.objDir, sess.ID); len(files) != 1 {
		t.Errorf("object store files of the session: %v; want only the input's", files)
	}
}
