package worker

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"

	workerv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/worker/v1"
)

// blockingStream is a worker stream whose first Send waits until released.
type blockingStream struct {
	grpc.BidiStreamingClient[workerv1.ConnectRequest, workerv1.ConnectResponse]
	entered, release chan struct{}
	mu               sync.Mutex
	sent             []*workerv1.ConnectRequest
}

func (s *blockingStream) Send(m *workerv1.ConnectRequest) error {
	s.mu.Lock()
	first := len(s.sent) == 0
	s.sent = append(s.sent, m)
	s.mu.Unlock()
	if first {
		close(s.entered)
		<-s.release
	}
	return nil
}

func (s *blockingStream) CloseSend() error { return nil }

func pong(n int64) *workerv1.ConnectRequest {
	return &workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_Pong{Pong: &workerv1.Pong{Nonce: n}}}
}

// Messages sent while another one is being written are queued and written together as one
// RequestBatch, in order; none waits for a batch to fill.
func TestMessagesReadyTogetherShareABatch(t *testing.T) {
	t.Parallel()
	w, err := New(Config{Socket: "/s", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	st := &blockingStream{entered: make(chan struct{}), release: make(chan struct{})}
	w.stream, w.batches = st, true
	done := make(chan error)
	go func() { done <- w.send(pong(1)) }()
	<-st.entered // the first send is being written
	for n := int64(2); n <= 4; n++ {
		if err := w.send(pong(n)); err != nil { // queued: returns at once
			t.Fatalf("send %d: %v", n, err)
		}
	}
	close(st.release)
	if err := <-done; err != nil {
		t.Fatalf("first send: %v", err)
	}
	w.closeSend(true)
	if len(st.sent) != 2 || st.sent[0].GetPong().GetNonce() != 1 {
		t.Fatalf("sent %v; want pong 1, then one batch", st.sent)
	}
	var got []int64
	for _, m := range st.sent[1].GetBatch().GetMessages() {
		got = append(got, m.GetPong().GetNonce())
	}
	if fmt.Sprint(got) != "[2 3 4]" {
		t.Errorf("the batch holds pongs %v, want [2 3 4]", got)
	}
	if err := w.send(pong(5)); err == nil {
		t.Error("a send after the drain succeeded")
	}
}

// testAgent is a WorkerService that welcomes one worker, sends it a batch of echo tasks and a Ping,
// and records what the worker sends back until every task has an outcome.
type testAgent struct {
	workerv1.UnimplementedWorkerServiceServer
	tasks   int
	batches bool // Welcome.accepts_batches

	hello    *workerv1.Hello
	messages []*workerv1.ConnectRequest // flattened
	reads    int
}

func (a *testAgent) Connect(s grpc.BidiStreamingServer[workerv1.ConnectRequest, workerv1.ConnectResponse]) error {
	first, err := s.Recv()
	if err != nil {
		return err
	}
	a.hello = first.GetHello()
	if err := s.Send(&workerv1.ConnectResponse{Message: &workerv1.ConnectResponse_Welcome{Welcome: &workerv1.Welcome{
		AgentId: "test", WorkerId: "w", AcceptsBatches: a.batches}}}); err != nil {
		return err
	}
	batch := &workerv1.ResponseBatch{}
	for i := range a.tasks {
		batch.Messages = append(batch.Messages, &workerv1.ConnectResponse{Message: &workerv1.ConnectResponse_AssignTask{AssignTask: &workerv1.AssignTask{
			TaskId: fmt.Sprint("t", i), Method: "echo", ExpectedOutputIds: []string{fmt.Sprint("o", i)},
			Payload: &workerv1.Data{Source: &workerv1.Data_Inline{Inline: []byte(fmt.Sprint(i))}}}}})
	}
	batch.Messages = append(batch.Messages, &workerv1.ConnectResponse{Message: &workerv1.ConnectResponse_Ping{Ping: &workerv1.Ping{Nonce: 7}}})
	if err := s.Send(&workerv1.ConnectResponse{Message: &workerv1.ConnectResponse_Batch{Batch: batch}}); err != nil {
		return err
	}
	outcomes := 0
	for outcomes < a.tasks {
		m, err := s.Recv()
		if err != nil {
			return err
		}
		a.reads++
		msgs := []*workerv1.ConnectRequest{m}
		if b := m.GetBatch(); b != nil {
			msgs = b.GetMessages()
		}
		for _, m := range msgs {
			a.messages = append(a.messages, m)
			if m.GetTaskCompleted() != nil || m.GetTaskFailed() != nil {
				outcomes++
			}
		}
	}
	if err := s.Send(&workerv1.ConnectResponse{Message: &workerv1.ConnectResponse_Drain{Drain: &workerv1.Drain{Grace: durationpb.New(0)}}}); err != nil {
		return err
	}
	for {
		if _, err := s.Recv(); err != nil {
			return nil // the worker half-closed after the drain
		}
	}
}

// The worker announces accepts_batches, runs every task of a batch of assignments, answers the
// Ping inside it, and sends batches only to an agent that accepts them.
func TestWorkerServesABatch(t *testing.T) {
	t.Parallel()
	for _, batches := range []bool{true, false} {
		t.Run(fmt.Sprint("agent accepts batches: ", batches), func(t *testing.T) {
			t.Parallel()
			sock := filepath.Join(t.TempDir(), "agent.sock")
			lis, err := net.Listen("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			srv := grpc.NewServer()
			agent := &testAgent{tasks: 32, batches: batches}
			workerv1.RegisterWorkerServiceServer(srv, agent)
			go func() { _ = srv.Serve(lis) }()
			defer srv.Stop()
			w, err := New(Config{Socket: sock, Token: "t", Capacity: 8})
			if err != nil {
				t.Fatal(err)
			}
			w.HandleBytes("echo", func(_ context.Context, t *Task) ([]byte, error) { return t.Payload, nil })
			if err := w.Run(context.Background()); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if !agent.hello.GetAcceptsBatches() {
				t.Error("the Hello does not announce accepts_batches")
			}
			done, pongs := map[string]string{}, 0
			for _, m := range agent.messages {
				if c := m.GetTaskCompleted(); c != nil {
					done[c.GetTaskId()] = string(c.GetOutputs()[0].GetData().GetInline())
				}
				if m.GetPong().GetNonce() == 7 {
					pongs++
				}
			}
			for i := range agent.tasks {
				if got := done[fmt.Sprint("t", i)]; got != fmt.Sprint(i) {
					t.Errorf("task t%d: output %q, want %q", i, got, fmt.Sprint(i))
				}
			}
			if pongs != 1 {
				t.Errorf("%d pongs to the ping inside the batch, want 1", pongs)
			}
			t.Logf("%d messages in %d reads", len(agent.messages), agent.reads)
			if !batches && agent.reads != len(agent.messages) {
				t.Errorf("the worker sent %d messages in %d writes to an agent that does not accept batches", len(agent.messages), agent.reads)
			}
		})
	}
}
