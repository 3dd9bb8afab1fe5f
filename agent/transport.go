package agent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"

	workerv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/worker/v1"
)

// transport carries the worker protocol's messages for one worker connection. Recv is called from
// one goroutine; Send is safe for concurrent use.
type transport interface {
	Recv() (*workerv1.ConnectRequest, error)
	Send(*workerv1.ConnectResponse) error
	// Close ends the agent's side of the connection.
	Close()
}

// grpcTransport is a WorkerService/Connect stream. The stream ends when its handler returns: when
// the worker closes it, its process dies, or the server stops.
type grpcTransport struct {
	stream grpc.BidiStreamingServer[workerv1.ConnectRequest, workerv1.ConnectResponse]
	mu     sync.Mutex
	closed chan struct{}
	once   sync.Once
}

func newGRPCTransport(s grpc.BidiStreamingServer[workerv1.ConnectRequest, workerv1.ConnectResponse]) *grpcTransport {
	return &grpcTransport{stream: s, closed: make(chan struct{})}
}

func (t *grpcTransport) Recv() (*workerv1.ConnectRequest, error) { return t.stream.Recv() }

func (t *grpcTransport) Send(m *workerv1.ConnectResponse) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	select {
	case <-t.closed:
		return errors.New("the worker connection is closed")
	default:
	}
	return t.stream.Send(m)
}

func (t *grpcTransport) Close() { t.once.Do(func() { close(t.closed) }) }

// stdioTransport is the line-delimited proto3-JSON transport over a worker's stdin and stdout.
// Sends are queued and written by one goroutine, so the agent's reader never blocks on a full stdin
// pipe while the worker blocks on a full stdout pipe.
type stdioTransport struct {
	r     *bufio.Reader
	w     io.WriteCloser
	uopts protojson.UnmarshalOptions

	mu      sync.Mutex
	cond    *sync.Cond
	queue   [][]byte
	closed  bool
	failed  error
	started bool
}

// maxLine bounds one stdio message (inline data is small; large data travels as files).
const maxLine = 64 << 20

func newStdioTransport(stdout io.Reader, stdin io.WriteCloser) *stdioTransport {
	t := &stdioTransport{r: bufio.NewReaderSize(stdout, 64<<10), w: stdin,
		uopts: protojson.UnmarshalOptions{DiscardUnknown: true}}
	t.cond = sync.NewCond(&t.mu)
	return t
}

func (t *stdioTransport) Recv() (*workerv1.ConnectRequest, error) {
	for {
		line, err := t.readLine()
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			continue
		}
		m := &workerv1.ConnectRequest{}
		if err := t.uopts.Unmarshal(line, m); err != nil {
			return nil, fmt.Errorf("the worker wrote a line on stdout that is not a chorus.worker.v1.ConnectRequest in proto3 JSON (log lines belong on stderr): %w", err)
		}
		return m, nil
	}
}

func (t *stdioTransport) readLine() ([]byte, error) {
	var long []byte
	for {
		frag, err := t.r.ReadSlice('\n')
		if err == nil {
			if long != nil {
				return append(long, frag[:len(frag)-1]...), nil
			}
			return frag[:len(frag)-1], nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, frag...)
			if len(long) > maxLine {
				return nil, fmt.Errorf("the worker wrote a line longer than %d bytes on stdout", maxLine)
			}
			continue
		}
		return nil, err
	}
}

func (t *stdioTransport) Send(m *workerv1.ConnectResponse) error {
	b, err := protojson.MarshalOptions{}.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode a message for the worker: %w", err)
	}
	b = append(b, '\n')
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.failed != nil {
		return errors.Join(errors.New("the worker's stdin is closed"), t.failed)
	}
	if !t.started {
		t.started = true
		go t.writeLoop()
	}
	t.queue = append(t.queue, b)
	t.cond.Signal()
	return nil
}

// writeLoop writes queued messages to the worker's stdin in order, and closes it after Close.
func (t *stdioTransport) writeLoop() {
	var batch [][]byte
	for {
		t.mu.Lock()
		for len(t.queue) == 0 && !t.closed {
			t.cond.Wait()
		}
		batch, t.queue = t.queue, batch[:0]
		closed := t.closed
		t.mu.Unlock()
		for _, b := range batch {
			if _, err := t.w.Write(b); err != nil {
				t.mu.Lock()
				t.failed = err
				t.mu.Unlock()
				_ = t.w.Close()
				return
			}
		}
		if closed && len(batch) == 0 {
			_ = t.w.Close()
			return
		}
	}
}

func (t *stdioTransport) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	if !t.started {
		t.started = true
		go t.writeLoop()
	}
	t.cond.Signal()
}
