package agent

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	workerv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/worker/v1"
)

// The stdio framing carries one proto3-JSON message per line, including lines longer than the
// read buffer, and skips blank lines.
func TestStdioFraming(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 200<<10)
	msgs := []*workerv1.ConnectRequest{
		{Message: &workerv1.ConnectRequest_Hello{Hello: &workerv1.Hello{Token: "tok", Capacity: 3, Methods: []string{"echo"}}}},
		{Message: &workerv1.ConnectRequest_TaskFailed{TaskFailed: &workerv1.TaskFailed{TaskId: "t1", Message: big, Retryable: true}}},
		{Message: &workerv1.ConnectRequest_Pong{Pong: &workerv1.Pong{Nonce: 7}}},
	}
	var in bytes.Buffer
	for _, m := range msgs {
		b, err := protojson.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		in.Write(b)
		in.WriteString("\n\n")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	tr := newStdioTransport(&in, w)
	for i, want := range msgs {
		got, err := tr.Recv()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if got.String() != want.String() {
			t.Errorf("message %d differs", i)
		}
	}
	if _, err := tr.Recv(); err != io.EOF {
		t.Errorf("after the last line: %v, want EOF", err)
	}
	go func() {
		_ = tr.Send(&workerv1.ConnectResponse{Message: &workerv1.ConnectResponse_Ping{Ping: &workerv1.Ping{Nonce: 9}}})
		tr.Close()
	}()
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(out, []byte("\n")) != 1 || !bytes.HasSuffix(out, []byte("\n")) {
		t.Fatalf("Send wrote %q, want one line", out)
	}
	var ping workerv1.ConnectResponse
	if err := protojson.Unmarshal(bytes.TrimSpace(out), &ping); err != nil || ping.GetPing().GetNonce() != 9 {
		t.Errorf("Send wrote %q (%v), want the Ping", out, err)
	}
}

func TestStdioRejectsNonJSON(t *testing.T) {
	t.Parallel()
	tr := newStdioTransport(strings.NewReader("starting up...\n"), nopCloser{io.Discard})
	if _, err := tr.Recv(); err == nil || !strings.Contains(err.Error(), "stderr") {
		t.Errorf("a log line on stdout: error %v, want one pointing to stderr", err)
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// The stdio send queue is bounded: a worker that stops reading its stdin makes Send wait, then fail
// with a message saying so, and every later Send fails at once; the worker's stdin is closed.
func TestStdioSendQueueIsBounded(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tr := newStdioTransport(strings.NewReader(""), w)
	tr.maxQueue, tr.sendWait = 4<<10, 100*time.Millisecond
	ping := &workerv1.ConnectResponse{Message: &workerv1.ConnectResponse_Ping{Ping: &workerv1.Ping{Nonce: 1}}}
	sent := 0
	for ; sent < 1_000_000; sent++ {
		if err = tr.Send(ping); err != nil {
			break
		}
	}
	if err == nil || !strings.Contains(err.Error(), "has not read its stdin") {
		t.Fatalf("after %d sends to a worker that reads nothing: error %v; want Send to fail saying the worker does not read", sent, err)
	}
	if err := tr.Send(ping); err == nil {
		t.Fatal("a Send after the queue overflowed succeeded; want it to fail at once")
	}
	// What was written reaches the worker, then its stdin ends.
	n, err := io.Copy(io.Discard, r)
	if err != nil || n == 0 {
		t.Fatalf("reading the worker's stdin: %d bytes, %v; want the queued lines then EOF", n, err)
	}
	t.Logf("%d messages accepted before the queue was full; %d bytes reached the worker", sent, n)
}
