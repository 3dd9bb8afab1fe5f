// Command stdioworker is a minimal worker speaking the agent's stdio transport (one proto3-JSON
// message per line: requests on stdout, responses on stdin, logs on stderr). It serves echo and
// sha256 and exists to test the transport; real stdio workers (e.g. C#) follow the same protocol.
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
	send(&workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_Hello{Hello: &workerv1.Hello{
		Token: os.Getenv("CHORUS_WORKER_TOKEN"), Language: "go-stdio", SdkVersion: "test",
		Methods: []string{"echo", "sha256"}, Capacity: int32(max(1, capacity)), Pid: int32(os.Getpid())}}})
	fmt.Fprintln(os.Stderr, "stdio worker started")
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	for in.Scan() {
		var m workerv1.ConnectResponse
		if err := protojson.Unmarshal(in.Bytes(), &m); err != nil {
			fmt.Fprintln(os.Stderr, "decode:", err)
			os.Exit(1)
		}
		switch x := m.GetMessage().(type) {
		case *workerv1.ConnectResponse_Ping:
			send(&workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_Pong{Pong: &workerv1.Pong{Nonce: x.Ping.GetNonce()}}})
		case *workerv1.ConnectResponse_Drain:
			return
		case *workerv1.ConnectResponse_AssignTask:
			a := x.AssignTask
			data := a.GetPayload().GetInline()
			if a.GetMethod() == "sha256" {
				sum := sha256.Sum256(data)
				data = []byte(hex.EncodeToString(sum[:]))
			}
			send(&workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_TaskCompleted{TaskCompleted: &workerv1.TaskCompleted{
				TaskId: a.GetTaskId(), Outputs: []*workerv1.Output{{ResultId: a.GetExpectedOutputIds()[0],
					Data: &workerv1.Data{Source: &workerv1.Data_Inline{Inline: data}}}}}}})
		}
	}
}
