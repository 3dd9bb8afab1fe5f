package agent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

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
// pipe while the worker blocks on a full stdout pipe. The queue is bounded (maxSendQueue bytes,
// always room for one message): a Send waits for room up to sendWait, then fails, and the transport
// fails for good (stdin is closed) — a worker that has not read its stdin for that long is stuck,
// and its ping deadline then replaces it.
type stdioTransport struct {
	r     *bufio.Reader
	w     io.WriteCloser
	uopts protojson.UnmarshalOptions

	maxQueue int           // bytes queued or being written, at most (one message always fits)
	sendWait time.Duration // how long a Send waits for room

	mu      sync.Mutex
	cond    *sync.Cond
	queue   [][]byte
	pending int           // bytes queued or being written
	room    chan struct{} // closed (and replaced) whenever bytes were written
	closed  bool
	failed  error
	started bool
}

// Defaults of the stdio send queue's bound.
const (
	maxSendQueue = 16 << 20
	sendWait     = 10 * time.Second
)

// maxLine bounds one stdio message (inline data is small; large data travels as files).
const maxLine = 64 << 20

func newStdioTransport(stdout io.Reader, stdin io.WriteCloser) *stdioTransport {
	t := &stdioTransport{r: bufio.NewReaderSize(stdout, 64<<10), w: stdin,
		uopts: protojson.UnmarshalOptions{DiscardUnknown: true}, maxQueue: maxSendQueue, sendWait: sendWait, room: make(chan struct{})}
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
	var timer *time.Timer
	for {
		t.mu.Lock()
		if t.closed || t.failed != nil {
			t.mu.Unlock()
			return errors.Join(errors.New("the worker's stdin is closed"), t.failed)
		}
		if !t.started {
			t.started = true
			go t.writeLoop()
		}
		if t.pending == 0 || t.pending+len(b) <= t.maxQueue {
			t.queue = append(t.queue, b)
			t.pending += len(b)
			t.cond.Signal()
			t.mu.Unlock()
			return nil
		}
		room := t.room
		t.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(t.sendWait)
			defer timer.Stop()
		}
		select {
		case <-room:
		case <-timer.C:
			err := fmt.Errorf("the worker has not read its stdin for %s (%d bytes waiting): closing its stdin", t.sendWait, t.pendingBytes())
			t.fail(err)
			return err
		}
	}
}

func (t *stdioTransport) pendingBytes() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pending
}

// fail ends the transport for good: later Sends fail and the writer closes stdin.
func (t *stdioTransport) fail(err error) {
	t.mu.Lock()
	if t.failed == nil {
		t.failed = err
	}
	t.cond.Signal()
	t.mu.Unlock()
	_ = t.w.Close() // unblocks a write stuck on the full pipe
}

// writeLoop writes queued messages to the worker's stdin in order, and closes it after Close.
func (t *stdioTransport) writeLoop() {
	var batch [][]byte
	for {
		t.mu.Lock()
		for len(t.queue) == 0 && !t.closed && t.failed == nil {
			t.cond.Wait()
		}
		if t.failed != nil {
			t.mu.Unlock()
			_ = t.w.Close()
			return
		}
		batch, t.queue = t.queue, batch[:0]
		closed := t.closed
		t.mu.Unlock()
		for _, b := range batch {
			_, err := t.w.Write(b)
			t.mu.Lock()
			t.pending -= len(b)
			close(t.room)
			t.room = make(chan struct{})
			if err != nil && t.failed == nil {
				t.failed = err
			}
			t.mu.Unlock()
			if err != nil {
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
