package agent

import (
	"errors"
	"sync/atomic"

	workerv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/worker/v1"
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
