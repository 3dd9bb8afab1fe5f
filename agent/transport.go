package agent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"

	workerv1 "github.com/chorus-hpc/chorus/gen/chorus/worker/v1"
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
type stdioTransport struct {
	r     *bufio.Reader
	w     io.WriteCloser
	mu    sync.Mutex
	buf   []byte
	uopts protojson.UnmarshalOptions
	once  sync.Once
}

// maxLine bounds one stdio message (inline data is small; large data travels as files).
const maxLine = 64 << 20

func newStdioTransport(stdout io.Reader, stdin io.WriteCloser) *stdioTransport {
	return &stdioTransport{r: bufio.NewReaderSize(stdout, 64<<10), w: stdin,
		uopts: protojson.UnmarshalOptions{DiscardUnknown: true}}
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
	t.mu.Lock()
	defer t.mu.Unlock()
	var err error
	t.buf, err = protojson.MarshalOptions{}.MarshalAppend(t.buf[:0], m)
	if err != nil {
		return fmt.Errorf("encode a message for the worker: %w", err)
	}
	t.buf = append(t.buf, '\n')
	_, err = t.w.Write(t.buf)
	return err
}

func (t *stdioTransport) Close() { t.once.Do(func() { _ = t.w.Close() }) }
