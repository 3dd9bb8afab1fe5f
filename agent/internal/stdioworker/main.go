// Command stdioworker is a minimal worker speaking the agent's stdio transport (one proto3-JSON
// message per line: requests on stdout, responses on stdin, logs on stderr). It serves echo and
// sha256 and exists to test the transport; real stdio workers (e.g. C#) follow the same protocol.
//
// STDIO_WORKER_BATCHES=1 makes it accept batches: it reports the outcomes of the assignments of one
// batch as one batch. STDIO_WORKER_BAD_BATCH=hello or nested makes it break the protocol: it reports
// its first task in a batch that also holds a Hello, or another batch.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"

	"google.golang.org/protobuf/encoding/protojson"

	workerv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/worker/v1"
)

func main() {
	out := bufio.NewWriter(os.Stdout)
	send := func(m *workerv1.ConnectRequest) {
		b, err := protojson.Marshal(m)
		if err != nil {
			fmt.Fprintln(os.Stderr, "encode:", err)
			os.Exit(1)
		}
		out.Write(b)
		out.WriteByte('\n')
		out.Flush()
	}
	capacity, _ := strconv.Atoi(os.Getenv("CHORUS_WORKER_CAPACITY"))
	bad := os.Getenv("STDIO_WORKER_BAD_BATCH")
	batches := os.Getenv("STDIO_WORKER_BATCHES") == "1" || bad != ""
	send(&workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_Hello{Hello: &workerv1.Hello{
		Token: os.Getenv("CHORUS_WORKER_TOKEN"), Language: "go-stdio", SdkVersion: "test",
		Methods: []string{"echo", "sha256"}, Capacity: int32(max(1, capacity)), Pid: int32(os.Getpid()), AcceptsBatches: batches}}})
	fmt.Fprintln(os.Stderr, "stdio worker started")
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	for in.Scan() {
		var m workerv1.ConnectResponse
		if err := protojson.Unmarshal(in.Bytes(), &m); err != nil {
			fmt.Fprintln(os.Stderr, "decode:", err)
			os.Exit(1)
		}
		msgs := []*workerv1.ConnectResponse{&m}
		if b := m.GetBatch(); b != nil {
			msgs = b.GetMessages()
		}
		var replies []*workerv1.ConnectRequest
		for _, m := range msgs {
			r, more := answer(m)
			if !more {
				return
			}
			if r != nil {
				replies = append(replies, r)
			}
		}
		switch {
		case len(replies) == 0:
		case bad == "hello" || bad == "nested":
			inner := &workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_Hello{Hello: &workerv1.Hello{Token: "again"}}}
			if bad == "nested" {
				inner = &workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_Batch{Batch: &workerv1.RequestBatch{}}}
			}
			send(&workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_Batch{Batch: &workerv1.RequestBatch{
				Messages: append(replies, inner)}}})
		case batches && len(replies) > 1:
			send(&workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_Batch{Batch: &workerv1.RequestBatch{Messages: replies}}})
		default:
			for _, r := range replies {
				send(r)
			}
		}
	}
}

// answer returns the reply to one message from the agent (nil for none), and false on a Drain.
func answer(m *workerv1.ConnectResponse) (*workerv1.ConnectRequest, bool) {
	switch x := m.GetMessage().(type) {
	case *workerv1.ConnectResponse_Ping:
		return &workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_Pong{Pong: &workerv1.Pong{Nonce: x.Ping.GetNonce()}}}, true
	case *workerv1.ConnectResponse_Drain:
		return nil, false
	case *workerv1.ConnectResponse_AssignTask:
		a := x.AssignTask
		data := a.GetPayload().GetInline()
		if a.GetMethod() == "sha256" {
			sum := sha256.Sum256(data)
			data = []byte(hex.EncodeToString(sum[:]))
		}
		return &workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_TaskCompleted{TaskCompleted: &workerv1.TaskCompleted{
			TaskId: a.GetTaskId(), Outputs: []*workerv1.Output{{ResultId: a.GetExpectedOutputIds()[0],
				Data: &workerv1.Data{Source: &workerv1.Data_Inline{Inline: data}}}}}}}, true
	}
	return nil, true
}
