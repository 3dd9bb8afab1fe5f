package wirebatch

import (
	"strings"
	"testing"

	workerv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/worker/v1"
)

func TestLen(t *testing.T) {
	small := func(n int) []*workerv1.ConnectRequest {
		q := make([]*workerv1.ConnectRequest, n)
		for i := range q {
			q[i] = &workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_Pong{Pong: &workerv1.Pong{Nonce: int64(i)}}}
		}
		return q
	}
	big := func() *workerv1.ConnectRequest {
		return &workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_TaskFailed{TaskFailed: &workerv1.TaskFailed{Message: strings.Repeat("x", MaxBytes/2+1)}}}
	}
	for _, c := range []struct {
		name string
		q    []*workerv1.ConnectRequest
		want int
	}{
		{"empty", nil, 0},
		{"one", small(1), 1},
		{"all of a few", small(10), 10},
		{"at most MaxMessages", small(MaxMessages + 5), MaxMessages},
		{"a first message over the bytes goes alone", []*workerv1.ConnectRequest{big(), big(), big()}, 1},
		{"bytes stop the batch", append(small(3), big(), big()), 4},
	} {
		if got := Len(c.q); got != c.want {
			t.Errorf("%s: Len = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestNext(t *testing.T) {
	q := make([]*workerv1.ConnectRequest, MaxMessages+2)
	for i := range q {
		q[i] = &workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_Pong{Pong: &workerv1.Pong{Nonce: int64(i)}}}
	}
	batch := func(ms []*workerv1.ConnectRequest) *workerv1.ConnectRequest {
		return &workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_Batch{Batch: &workerv1.RequestBatch{Messages: ms}}}
	}
	full := q[:cap(q)]
	m, n := Next(&q, batch)
	if n != MaxMessages || len(m.GetBatch().GetMessages()) != MaxMessages || len(q) != 2 || q[0].GetPong().GetNonce() != MaxMessages {
		t.Fatalf("first Next = %d messages, queue left %d; want a batch of %d and 2 left", n, len(q), MaxMessages)
	}
	if full[2] != nil || full[len(full)-1] != nil {
		t.Error("the taken slots are not cleared")
	}
	m, n = Next(&q, batch)
	if n != 2 || len(m.GetBatch().GetMessages()) != 2 || len(q) != 0 {
		t.Fatalf("second Next = %d messages, queue left %d; want a batch of 2 and none left", n, len(q))
	}
	q = append(q, &workerv1.ConnectRequest{Message: &workerv1.ConnectRequest_Pong{Pong: &workerv1.Pong{Nonce: 7}}})
	if m, n = Next(&q, batch); n != 1 || m.GetPong().GetNonce() != 7 || len(q) != 0 {
		t.Fatalf("Next of one = %v (%d); want the message itself", m, n)
	}
}
