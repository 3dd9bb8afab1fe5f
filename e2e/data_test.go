package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// generator produces size pseudo-random bytes from a seed, hashing them as they are read: the test
// never holds the data, only its SHA-256.
type generator struct {
	rng  *rand.ChaCha8
	left int64
	h    hash.Hash
}

func newGenerator(seed uint64, size int64) *generator {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return &generator{rng: rand.NewChaCha8(s), left: size, h: sha256.New()}
}

func (g *generator) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n, _ := g.rng.Read(p)
	g.h.Write(p[:n])
	g.left -= int64(n)
	return n, nil
}

// sum is the hex SHA-256 of the bytes read so far (of all of them once the generator is drained).
func (g *generator) sum() string { return hex.EncodeToString(g.h.Sum(nil)) }

func resultDataURL(base, sid, rid string) string {
	return base + "/v1/sessions/" + sid + "/results/" + rid + "/data"
}

// restUpload streams size bytes from r into result rid with a raw REST PUT.
func restUpload(ctx context.Context, t *testing.T, base, sid, rid string, r io.Reader, size int64) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, resultDataURL(base, sid, rid), r)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("REST upload of result %s: %v", rid, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("REST upload of result %s: HTTP %d: %s", rid, resp.StatusCode, body)
	}
}

// download is what a streamed REST download delivered.
type download struct {
	status   int
	length   int64  // Content-Length
	header   string // Chorus-Sha256
	n        int64  // bytes received
	sha256   string // of the bytes received
	bodyErr  error  // reading the body failed (a transfer cut short)
	errorMsg string // the body of a non-200 answer
}

// restDownload streams result rid's data with a raw REST GET, hashing it as it arrives.
func restDownload(ctx context.Context, t *testing.T, base, sid, rid string) download {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, resultDataURL(base, sid, rid), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("REST download of result %s: %v", rid, err)
	}
	defer resp.Body.Close()
	d := download{status: resp.StatusCode, length: resp.ContentLength, header: resp.Header.Get("Chorus-Sha256")}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		d.errorMsg = string(b)
		return d
	}
	h := sha256.New()
	d.n, d.bodyErr = io.Copy(h, resp.Body)
	d.sha256 = hex.EncodeToString(h.Sum(nil))
	return d
}

// runTask submits one task that does not retry and waits until its output ends (COMPLETED or
// ABORTED). It returns the task's id and the output's outcome.
func runTask(ctx context.Context, t *testing.T, c *client.Client, sess *client.Session, spec *chorusv1.TaskSpec) (string, client.Outcome) {
	t.Helper()
	if spec.Options == nil {
		spec.Options = &chorusv1.TaskOptions{Partition: "go"}
	}
	spec.Options.MaxRetries = proto.Int32(0)
	resp, err := chorusv1.NewTaskServiceClient(c.Conn()).SubmitTasks(ctx,
		&chorusv1.SubmitTasksRequest{SessionId: sess.ID, Tasks: []*chorusv1.TaskSpec{spec}})
	if err != nil {
		t.Fatalf("submitting a %s task: %v", spec.GetMethod(), err)
	}
	outs, err := sess.Wait(ctx, spec.GetExpectedOutputIds(), nil)
	if err != nil {
		t.Fatalf("waiting for the %s task's output: %v", spec.GetMethod(), err)
	}
	return resp.GetTasks()[0].GetTaskId(), outs[0]
}

// objectFiles lists the files of session sid's objects in the local object store folder.
func objectFiles(t *testing.T, objDir, sid string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(objDir, "sessions", sid), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatalf("listing the objects of session %s: %v", sid, err)
	}
	return files
}

// failingReader yields the reader's first n bytes, then fails (a client that breaks off an upload).
type failingReader struct {
	r io.Reader
	n int64
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("the test breaks off the upload")
	}
	if int64(len(p)) > f.n {
		p = p[:f.n]
	}
	k, err := f.r.Read(p)
	f.n -= int64(k)
	return k, err
}

func mibPerSec(size int64, d time.Duration) string {
	return fmt.Sprintf("%.0f MiB/s", float64(size)/(1<<20)/d.Seconds())
}
