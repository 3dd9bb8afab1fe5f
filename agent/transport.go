package agent

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"

	workerv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/worker/v1"
	"github.com/chorus-hpc/chorus/sdks/go/worker/wirebatch"
)

// transport carries the worker protocol's messages for one worker connection. Recv is called from
// one goroutine; Send is safe for concurrent use.
//
// Once the worker said it accepts batches (Hello.accepts_batches), the messages that are queued for
// it at the same moment travel as one ResponseBatch: a Send while another goroutine writes (or while
// the connection is held) queues its message, and the writer takes everything queued at once. No
// Send ever waits to fill a batch. Without batches every message is written on its own, as before.
type transport interface {
	Recv() (*workerv1.ConnectRequest, error)
	// Send sends a message; a ConnectResponse.batch is sent as its messages, in order.
	Send(*workerv1.ConnectResponse) error
	// setBatching says whether the worker accepts batches (call it after the Welcome, before any
	// other Send) and where to count what is written.
	setBatching(on bool, c *wireCounts)
	// hold queues every Send until the returned release is called, which sends what was queued
	// (one batch). It lets the agent answer a worker's batch with one batch. Without batches it
	// does nothing.
	hold() (release func())
	// Close ends the agent's side of the connection.
	Close()
}

func noRelease() {}

// grpcTransport is a WorkerService/Connect stream. The stream ends when its handler returns: when
// the worker closes it, its process dies, or the server stops.
type grpcTransport struct {
	stream grpc.BidiStreamingServer[workerv1.ConnectRequest, workerv1.ConnectResponse]
	closed chan struct{}
	once   sync.Once

	// batches is set once, before any Send but the Welcome's; read without mu, so that hold never
	// waits for a Send that is blocked on the worker's flow control.
	batches atomic.Bool

	mu      sync.Mutex // serialises stream.Send without batches; guards the fields below
	counts  *wireCounts
	queue   []*workerv1.ConnectResponse // with batches: waiting for the writer
	writing bool                        // with batches: a goroutine is writing the queue
	holds   int
	err     error // the stream's first send error: later sends fail with it
}

func newGRPCTransport(s grpc.BidiStreamingServer[workerv1.ConnectRequest, workerv1.ConnectResponse]) *grpcTransport {
	return &grpcTransport{stream: s, closed: make(chan struct{})}
}

var errConnClosed = errors.New("the worker connection is closed")

func (t *grpcTransport) Recv() (*workerv1.ConnectRequest, error) { return t.stream.Recv() }

func (t *grpcTransport) setBatching(on bool, c *wireCounts) {
	t.mu.Lock()
	t.counts = c
	t.mu.Unlock()
	t.batches.Store(on)
}

func (t *grpcTransport) Send(m *workerv1.ConnectResponse) error {
	t.mu.Lock()
	select {
	case <-t.closed:
		t.mu.Unlock()
		return errConnClosed
	default:
	}
	if !t.batches.Load() {
		defer t.mu.Unlock()
		err := t.stream.Send(m)
		t.counts.sent(1)
		return err
	}
	if t.err != nil {
		err := t.err
		t.mu.Unlock()
		return err
	}
	t.queue = appendFlat(t.queue, m)
	if t.writing || t.holds > 0 {
		t.mu.Unlock() // the writer, or the release of the hold, sends it
		return nil
	}
	return t.writeLocked()
}

// writeLocked writes the queue, as batches, until it is empty or held. Called with mu held; returns
// with it released.
func (t *grpcTransport) writeLocked() error {
	t.writing = true
	var err error
	for len(t.queue) > 0 && t.holds == 0 && t.err == nil {
		m, n := wirebatch.Next(&t.queue, func(ms []*workerv1.ConnectResponse) *workerv1.ConnectResponse {
			return &workerv1.ConnectResponse{Message: &workerv1.ConnectResponse_Batch{Batch: &workerv1.ResponseBatch{Messages: ms}}}
		})
		t.mu.Unlock()
		e := t.stream.Send(m)
		t.mu.Lock()
		t.counts.sent(n)
		if e != nil {
			t.err, err = e, e
			t.queue = nil
		}
	}
	t.writing = false
	t.mu.Unlock()
	return err
}

func (t *grpcTransport) hold() func() {
	if !t.batches.Load() {
		return noRelease
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.holds++
	return func() {
		t.mu.Lock()
		t.holds--
		if t.holds > 0 || t.writing || len(t.queue) == 0 {
			t.mu.Unlock()
			return
		}
		_ = t.writeLocked() // a failed send is noticed by the receive loop, as without a hold
	}
}

func (t *grpcTransport) Close() { t.once.Do(func() { close(t.closed) }) }

// stdioTransport is the line-delimited proto3-JSON transport over a worker's stdin and stdout.
// Sends are queued and written by one goroutine, so the agent's reader never blocks on a full stdin
// pipe while the worker blocks on a full stdout pipe. The queue is bounded (maxSendQueue bytes,
// always room for one message): a Send waits for room up to sendWait, then fails, and the transport
// fails for good (stdin is closed) — a worker that has not read its stdin for that long is stuck,
// and its ping deadline then replaces it. With batches, the writer writes what is queued as one
// line holding a ResponseBatch.
type stdioTransport struct {
	r     *bufio.Reader
	w     io.WriteCloser
	uopts protojson.UnmarshalOptions

	maxQueue int           // bytes queued or being written, at most (one message always fits)
	sendWait time.Duration // how long a Send waits for room

	mu      sync.Mutex
	cond    *sync.Cond
	queue   [][]byte      // one message each, in proto3 JSON, without the newline
	pending int           // bytes queued or being written
	room    chan struct{} // closed (and replaced) whenever bytes were written
	closed  bool
	failed  error
	started bool
	batches bool
	holds   int
	counts  *wireCounts
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

func (t *stdioTransport) setBatching(on bool, c *wireCounts) {
	t.mu.Lock()
	t.batches, t.counts = on, c
	t.mu.Unlock()
}

func (t *stdioTransport) hold() func() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.batches {
		return noRelease
	}
	t.holds++
	return func() {
		t.mu.Lock()
		t.holds--
		t.cond.Signal()
		t.mu.Unlock()
	}
}

func (t *stdioTransport) Send(m *workerv1.ConnectResponse) error {
	msgs := []*workerv1.ConnectResponse{m}
	if b := m.GetBatch(); b != nil {
		msgs = b.GetMessages() // the writer batches what is queued
	}
	lines := make([][]byte, len(msgs))
	size := 0
	for i, m := range msgs {
		b, err := protojson.MarshalOptions{}.Marshal(m)
		if err != nil {
			return fmt.Errorf("encode a message for the worker: %w", err)
		}
		lines[i] = b
		size += len(b) + 1
	}
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
		if t.pending == 0 || t.pending+size <= t.maxQueue {
			t.queue = append(t.queue, lines...)
			t.pending += size
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

// Framing of a ResponseBatch line around messages already in proto3 JSON.
var (
	batchOpen  = []byte(`{"batch":{"messages":[`)
	batchClose = []byte("]}}\n")
)

// writeLoop writes queued messages to the worker's stdin in order, and closes it after Close. With
// batches, the messages queued at once go on one line.
func (t *stdioTransport) writeLoop() {
	var spare [][]byte
	var buf bytes.Buffer
	for {
		t.mu.Lock()
		for (len(t.queue) == 0 || t.holds > 0) && !t.closed && t.failed == nil {
			t.cond.Wait()
		}
		if t.failed != nil {
			t.mu.Unlock()
			_ = t.w.Close()
			return
		}
		taken := t.queue
		t.queue = spare[:0]
		closed, batches, counts := t.closed, t.batches, t.counts
		t.mu.Unlock()
		for rest := taken; len(rest) > 0; {
			n := 1
			if batches {
				n = wirebatch.LenBy(rest, func(line []byte) int { return len(line) })
			}
			buf.Reset()
			written := 0
			if n == 1 {
				buf.Write(rest[0])
				buf.WriteByte('\n')
			} else {
				buf.Write(batchOpen)
				for i, b := range rest[:n] {
					if i > 0 {
						buf.WriteByte(',')
					}
					buf.Write(b)
				}
				buf.Write(batchClose)
			}
			for _, b := range rest[:n] {
				written += len(b) + 1
			}
			rest = rest[n:]
			_, err := t.w.Write(buf.Bytes())
			counts.sent(n)
			t.mu.Lock()
			t.pending -= written
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
		if closed && len(taken) == 0 {
			_ = t.w.Close()
			return
		}
		clear(taken)
		spare = taken
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
