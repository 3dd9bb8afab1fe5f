package e2e

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/chorus-hpc/chorus/internal/testutil/proctest"
	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

const (
	// largeSize is the result moved end to end.
	largeSize = 1 << 30
	// memoryBound is the most resident memory the gateway and the agent may use while moving it.
	memoryBound = 200 << 20
)

// TestLargeData moves a 1 GiB result through REST upload, a sha256 task and an echo task (whose 1 GiB
// output is downloaded over REST), checks that the gateway's and agent's resident memory stays under
// 200 MiB, that a corrupted object is reported, naming its result, to a download and to a task, that a
// broken-off upload leaves no object, and that an agent refuses an output over its max_result_size.
func TestLargeData(t *testing.T) {
	if testing.Short() {
		t.Skip("moves gigabytes through real processes; skipped with -short")
	}
	// A bound on a hung run, not a timing assertion.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute)
	defer cancel()
	cl := startCluster(ctx, t, buildBinaries(t))
	c, err := client.Dial(ctx, cl.grpcAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })

	t.Run("1GiB", func(t *testing.T) { testLargeResult(ctx, t, cl, c) })
	t.Run("corrupted object", func(t *testing.T) { testCorruptedObject(ctx, t, cl, c) })
	t.Run("broken-off upload", func(t *testing.T) { testBrokenUpload(ctx, t, cl, c) })
	t.Run("output over max_result_size", func(t *testing.T) { testOutputOverLimit(ctx, t, cl, c) })

	for _, p := range []*proctest.Proc{cl.gateway, cl.agent} {
		m := p.Memory(t)
		t.Logf("%s resident memory: peak (VmHWM) %.1f MiB, largest VmRSS sampled %.1f MiB",
			p.Name, float64(m.HWM)/(1<<20), float64(m.SampledRSS)/(1<<20))
		if m.HWM > memoryBound || m.SampledRSS > memoryBound {
			t.Errorf("%s used more than %d MiB of resident memory: VmHWM %d bytes, sampled VmRSS %d bytes",
				p.Name, memoryBound>>20, m.HWM, m.SampledRSS)
		}
	}
}

func testLargeResult(ctx context.Context, t *testing.T, cl *cluster, c *client.Client) {
	sess, in := sessionWithResult(ctx, t, c, "go", "in-")

	gen := newGenerator(1, largeSize)
	start := time.Now()
	restUpload(ctx, t, cl.httpURL, sess.ID, in, gen, largeSize)
	t.Logf("REST upload of 1 GiB: %s (%s)", time.Since(start).Round(time.Millisecond), mibPerSec(largeSize, time.Since(start)))
	want := gen.sum()
	r, err := sess.Result(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if r.GetStatus() != chorusv1.ResultStatus_RESULT_STATUS_COMPLETED || r.GetSizeBytes() != largeSize || r.GetSha256() != want {
		t.Fatalf("uploaded result: status %s, %d bytes, SHA-256 %s; want COMPLETED, %d bytes, %s",
			r.GetStatus(), r.GetSizeBytes(), r.GetSha256(), largeSize, want)
	}

	// sha256 reads the 1 GiB payload (fetched by the agent into the worker's folder).
	shaOut := client.NewID("sha-")
	start = time.Now()
	_, outcome := runTask(ctx, t, c, sess, &chorusv1.TaskSpec{Method: "sha256", PayloadId: in, ExpectedOutputIds: []string{shaOut}})
	t.Logf("sha256 task on 1 GiB: %s (%s)", time.Since(start).Round(time.Millisecond), mibPerSec(largeSize, time.Since(start)))
	if outcome.Status != chorusv1.ResultStatus_RESULT_STATUS_COMPLETED {
		t.Fatalf("sha256 task output: %s (%s)", outcome.Status, outcome.Reason)
	}
	got, err := sess.DownloadBytes(ctx, shaOut)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("sha256 task returned %q, the uploaded data's SHA-256 is %s", got, want)
	}

	// echo returns the payload: a 1 GiB output the agent uploads from the worker's file.
	echoOut := client.NewID("echo-")
	start = time.Now()
	_, outcome = runTask(ctx, t, c, sess, &chorusv1.TaskSpec{Method: "echo", PayloadId: in, ExpectedOutputIds: []string{echoOut}})
	t.Logf("echo task on 1 GiB (fetch + 1 GiB output): %s (%s)", time.Since(start).Round(time.Millisecond), mibPerSec(largeSize, time.Since(start)))
	if outcome.Status != chorusv1.ResultStatus_RESULT_STATUS_COMPLETED {
		t.Fatalf("echo task output: %s (%s)", outcome.Status, outcome.Reason)
	}

	start = time.Now()
	d := restDownload(ctx, t, cl.httpURL, sess.ID, echoOut)
	t.Logf("REST download of 1 GiB: %s (%s)", time.Since(start).Round(time.Millisecond), mibPerSec(largeSize, time.Since(start)))
	if d.status != 200 || d.bodyErr != nil {
		t.Fatalf("REST download of the echo output: HTTP %d %s, body error %v", d.status, d.errorMsg, d.bodyErr)
	}
	if d.n != largeSize || d.length != largeSize || d.sha256 != want || d.header != want {
		t.Fatalf("REST download of the echo output: %d bytes (Content-Length %d) with SHA-256 %s (header %s); want %d bytes with %s",
			d.n, d.length, d.sha256, d.header, largeSize, want)
	}

	// Purging the session deletes its objects (the input and the echo output).
	if n := len(objectFiles(t, cl.objDir, sess.ID)); n != 2 {
		t.Errorf("the object store holds %d files of the session before purge; want 2 (input and echo output)", n)
	}
	if _, err := sess.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sess.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if files := objectFiles(t, cl.objDir, sess.ID); len(files) != 0 {
		t.Errorf("objects of the purged session are still in the object store: %v", files)
	}
}

func testCorruptedObject(ctx context.Context, t *testing.T, cl *cluster, c *client.Client) {
	sess, bad := sessionWithResult(ctx, t, c, "go", "bad-")
	const size = 3<<20 + 12345
	restUpload(ctx, t, cl.httpURL, sess.ID, bad, newGenerator(2, size), size)
	files := objectFiles(t, cl.objDir, sess.ID)
	if len(files) != 1 {
		t.Fatalf("want the result's one object file under the object store folder, found %v", files)
	}
	flipBytes(t, files[0], size/2, 16)
	name := fmt.Sprintf("result %q of session %q", bad, sess.ID)

	// gRPC download: the status names the result.
	_, err := sess.Download(ctx, bad, io.Discard)
	if status.Code(err) != codes.DataLoss || !strings.Contains(err.Error(), name+" is corrupted") {
		t.Errorf("gRPC download of the corrupted result: got %v (code %s); want DATA_LOSS naming %s", err, status.Code(err), name)
	}

	// REST download: the status line is sent before the end of the data is checked, so the transfer is
	// cut short of its Content-Length, and the gateway logs the error naming the result.
	d := restDownload(ctx, t, cl.httpURL, sess.ID, bad)
	if d.status != 200 || d.bodyErr == nil || d.n >= size {
		t.Errorf("REST download of the corrupted result: HTTP %d, %d of %d bytes, body error %v; want a transfer cut short",
			d.status, d.n, size, d.bodyErr)
	}
	line := cl.gateway.WaitFor(ctx, t, regexp.MustCompile(`.*does not match its record.*result_id=`+regexp.QuoteMeta(bad)+`.*`))
	if !strings.Contains(line[0], "session_id="+sess.ID) {
		t.Errorf("the gateway's log line does not name the session %s: %s", sess.ID, line[0])
	}

	// A task reading it fails with a data error naming the result.
	out := client.NewID("out-")
	tid, outcome := runTask(ctx, t, c, sess, &chorusv1.TaskSpec{Method: "sha256", PayloadId: bad, ExpectedOutputIds: []string{out}})
	if outcome.Status != chorusv1.ResultStatus_RESULT_STATUS_ABORTED {
		t.Fatalf("output of a task reading a corrupted payload: %s; want ABORTED", outcome.Status)
	}
	task, err := sess.Task(ctx, tid)
	if err != nil {
		t.Fatal(err)
	}
	if task.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_FAILED || task.GetError().GetKind() != chorusv1.ErrorKind_ERROR_KIND_DATA_ERROR ||
		!strings.Contains(task.GetError().GetMessage(), name+" is corrupted") {
		t.Errorf("task reading a corrupted payload: status %s, error %s %q; want FAILED with a DATA_ERROR naming %s",
			task.GetStatus(), task.GetError().GetKind(), task.GetError().GetMessage(), name)
	}
	t.Logf("task error: %s", task.GetError().GetMessage())
}

// flipBytes inverts n bytes of the file at offset off, keeping its size.
func flipBytes(t *testing.T, path string, off int64, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("opening the stored object to corrupt it: %v", err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] ^= 0xff
	}
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}
