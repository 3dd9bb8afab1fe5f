package agent_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/chorus-hpc/chorus/agent"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
	workerv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/worker/v1"
)

// payloads returns n distinct payloads.
func payloads(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(i)
	}
	return out
}

// runEchoes runs n echo tasks submitted at once and checks their outputs.
func (e *env) runEchoes(n int) {
	e.t.Helper()
	s := e.session(nil)
	tasks := e.submit(s, "echo", nil, payloads(n)...)
	for i, tk := range e.waitDone(s, tasks) {
		if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
			e.t.Fatalf("task %s: status %s, error %v", tk.GetTaskId(), tk.GetStatus(), tk.GetError())
		}
		if got := e.data(s, tasks[i].Output); got != fmt.Sprint(i) {
			e.t.Fatalf("echo %d returned %q", i, got)
		}
	}
}

// wire sums the message counters of the agent's workers.
func wire(st agent.Stats) (sent, writes, received, reads int64) {
	for _, w := range st.Workers {
		sent += w.MessagesSent
		writes += w.WritesSent
		received += w.MessagesReceived
		reads += w.ReadsReceived
	}
	return
}

// A worker that accepts batches gets several assignments per write when several are ready at once
// (the first claim fills its 16 slots), and its batches of outcomes are read in order.
func TestBatchesToAndFromWorkers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, transport string }{{"grpc", "grpc"}, {"stdio", "stdio"}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			cfg := testConfig(1, 16)
			if tc.transport == "stdio" {
				stdioConfig(&cfg, map[string]string{"STDIO_WORKER_BATCHES": "1"})
			}
			a := e.startAgent(cfg)
			e.waitFor("the worker connected", func() bool { return a.Stats().Workers[0].Connected })
			e.runEchoes(400)
			sent, writes, received, reads := wire(a.Stats())
			t.Logf("agent → worker: %d messages in %d writes; worker → agent: %d messages in %d reads", sent, writes, received, reads)
			if writes >= sent {
				t.Errorf("the agent wrote %d messages in %d writes; want batches (fewer writes than messages)", sent, writes)
			}
			// The stdio test worker answers a batch of assignments with one batch; the Go SDK batches
			// outcomes that happen to be ready together, which is likely but not certain here.
			if tc.transport == "stdio" && reads >= received {
				t.Errorf("the agent read %d messages in %d reads; want the worker's batches", received, reads)
			}
		})
	}
}

// A worker that does not announce accepts_batches (the C++ and C# SDKs, older workers) gets one
// message per write.
func TestNoBatchesToWorkersWithoutThem(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(1, 16)
	stdioConfig(&cfg, nil)
	a := e.startAgent(cfg)
	e.waitFor("the worker connected", func() bool { return a.Stats().Workers[0].Connected })
	e.runEchoes(100)
	sent, writes, received, reads := wire(a.Stats())
	if writes != sent || reads != received || sent < 100 {
		t.Errorf("agent → worker: %d messages in %d writes; worker → agent: %d in %d reads; want one message per write and read",
			sent, writes, received, reads)
	}
}

// A batch holding a Hello or another batch is a protocol error: the worker is killed, and the task
// it was running fails naming the error.
func TestBadBatchIsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ transport, bad, want string }{
		{"stdio", "hello", "batch holding a Hello"},
		{"stdio", "nested", "batch holding another batch"},
		{"grpc", "hello", "batch holding a Hello"},
		{"grpc", "nested", "batch holding another batch"},
	} {
		t.Run(tc.transport+"/"+tc.bad, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			cfg := testConfig(1, 1)
			if tc.transport == "stdio" {
				stdioConfig(&cfg, map[string]string{"STDIO_WORKER_BAD_BATCH": tc.bad})
			} else {
				cfg.Partitions[0].Command, cfg.Partitions[0].Args = os.Args[0], []string{"-test.run=^$"}
				cfg.Partitions[0].Env = map[string]string{rawWorkerEnv: tc.bad}
			}
			e.startAgent(cfg)
			s := e.session(nil)
			tasks := e.submit(s, "echo", durationOpts(0, 0), "x")
			tk := e.waitDone(s, tasks)[0]
			if tk.GetStatus() != chorusv1.TaskStatus_TASK_STATUS_FAILED || tk.GetError().GetKind() != chorusv1.ErrorKind_ERROR_KIND_WORKER_CRASHED ||
				!strings.Contains(tk.GetError().GetMessage(), "protocol error: the worker sent a "+tc.want) {
				t.Errorf("task after a %s in a batch: status %s, error %v; want FAILED as WORKER_CRASHED naming the protocol error",
					tc.bad, tk.GetStatus(), tk.GetError())
			}
		})
	}
}

// rawWorkerEnv makes the test binary a gRPC worker written on the generated stubs alone, which
// reports its first task in a batch that also holds a Hello ("hello") or another batch ("nested").
const rawWorkerEnv = "CHORUS_TEST_RAW_WORKER"

func runRawWorker() int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "raw worker:", err)
		return 1
	}
	conn, err := grpc.NewClient("unix://"+os.Getenv("CHORUS_AGENT_SOCKET"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fail(err)
	}
	defer conn.Close()
	stream, err := workerv1.NewWorkerServiceClient(conn).Connect(context.Background())
	if err != nil {
		return fail(err)
	}
	err = stream.Send(&workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_Hello{Hello: &workerv1.Hello{
		Token: os.Getenv("CHORUS_WORKER_TOKEN"), Language: "go-raw", Capacity: 1, Pid: int32(os.Getpid()), AcceptsBatches: true}}})
	if err != nil {
		return fail(err)
	}
	inner := &workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_Hello{Hello: &workerv1.Hello{Token: "again"}}}
	if os.Getenv(rawWorkerEnv) == "nested" {
		inner = &workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_Batch{Batch: &workerv1.RequestBatch{}}}
	}
	for {
		m, err := stream.Recv()
		if err != nil {
			fmt.Fprintln(os.Stderr, "raw worker: the stream ended:", err)
			return 0
		}
		msgs := []*workerv1.ConnectResponse{m}
		if b := m.GetBatch(); b != nil {
			msgs = b.GetMessages()
		}
		for _, m := range msgs {
			if a := m.GetAssignTask(); a != nil {
				done := &workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_TaskCompleted{TaskCompleted: &workerv1.TaskCompleted{
					TaskId: a.GetTaskId(), Outputs: []*workerv1.Output{{ResultId: a.GetExpectedOutputIds()[0],
						Data: &workerv1.Data{Source: &workerv1.Data_Inline{Inline: a.GetPayload().GetInline()}}}}}}}
				if err := stream.Send(&workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_Batch{Batch: &workerv1.RequestBatch{
					Messages: []*workerv1.ConnectRequest{done, inner}}}}); err != nil {
					return fail(err)
				}
			}
		}
	}
}
