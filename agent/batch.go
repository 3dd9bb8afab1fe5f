package agent

import (
	"errors"
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	workerv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/worker/v1"
)

// Bounds of one ResponseBatch: what is queued beyond them travels in the next batch.
const (
	maxBatchMessages = 512
	maxBatchBytes    = 4 << 20
)

// wireCounts counts a worker slot's messages and the writes and reads that carried them (a batch is
// one write or read of several messages).
type wireCounts struct {
	sentMsgs, sentWrites atomic.Int64
	recvMsgs, recvReads  atomic.Int64
}

func (c *wireCounts) sent(msgs int) {
	if c != nil {
		c.sentMsgs.Add(int64(msgs))
		c.sentWrites.Add(1)
	}
}

func (c *wireCounts) received(msgs int) {
	if c != nil {
		c.recvMsgs.Add(int64(msgs))
		c.recvReads.Add(1)
	}
}

// appendFlat appends a message to a send queue, or the messages of a batch.
func appendFlat(q []*workerv1.ConnectResponse, m *workerv1.ConnectResponse) []*workerv1.ConnectResponse {
	if b := m.GetBatch(); b != nil {
		return append(q, b.GetMessages()...)
	}
	return append(q, m)
}

// batchLen is how many messages at the head of q go in the next write: at least one, at most
// maxBatchMessages and (beyond the first) maxBatchBytes.
func batchLen(q []*workerv1.ConnectResponse) int {
	n, size := 0, 0
	for n < len(q) && n < maxBatchMessages {
		size += proto.Size(q[n])
		if n > 0 && size > maxBatchBytes {
			break
		}
		n++
	}
	return n
}

// errNestedHello and errNestedBatch are the protocol errors of a RequestBatch.
var (
	errNestedHello = errors.New("the worker sent a batch holding a Hello (Hello is only the first message of a stream, never in a batch)")
	errNestedBatch = errors.New("the worker sent a batch holding another batch (batches do not nest)")
)

// checkBatch returns the protocol error of a RequestBatch, or nil. Every message is checked before
// any is handled, so a refused batch has no effect. A message of a kind this agent does not know is
// ignored, as it is outside a batch.
func checkBatch(b *workerv1.RequestBatch) error {
	for _, m := range b.GetMessages() {
		switch m.GetMessage().(type) {
		case *workerv1.ConnectRequest_Hello:
			return errNestedHello
		case *workerv1.ConnectRequest_Batch:
			return errNestedBatch
		}
	}
	return nil
}
