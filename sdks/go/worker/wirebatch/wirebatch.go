// Package wirebatch holds what the agent and the Go worker SDK share about batches of worker
// protocol messages (chorus.worker.v1 RequestBatch and ResponseBatch): their bounds and how much
// of a queue goes in the next write.
package wirebatch

import (
	"slices"

	"google.golang.org/protobuf/proto"
)

// MaxMessages and MaxBytes bound one batch: what is queued beyond them travels in the next write.
const (
	MaxMessages = 512
	MaxBytes    = 4 << 20
)

// Len is how many messages at the head of q go in the next write: at least one (when q is not
// empty), at most MaxMessages and, beyond the first, MaxBytes in all.
func Len[M proto.Message](q []M) int {
	return LenBy(q, func(m M) int { return proto.Size(m) })
}

// Next takes the next write off the head of *q (which must not be empty): its first message alone,
// or the first Len(*q) messages wrapped by batch. It returns the write and how many messages it
// carries; *q keeps its array, with the taken slots cleared.
func Next[M proto.Message](q *[]M, batch func([]M) M) (M, int) {
	n := Len(*q)
	m := (*q)[0]
	if n > 1 {
		m = batch(slices.Clone((*q)[:n]))
	}
	rest := copy(*q, (*q)[n:])
	clear((*q)[rest:])
	*q = (*q)[:rest]
	return m, n
}

// LenBy is Len for items of the given encoded sizes (e.g. lines of JSON).
func LenBy[T any](q []T, sizeOf func(T) int) int {
	n, size := 0, 0
	for n < len(q) && n < MaxMessages {
		size += sizeOf(q[n])
		if n > 0 && size > MaxBytes {
			break
		}
		n++
	}
	return n
}
