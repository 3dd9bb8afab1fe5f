package gateway

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// blockingRead is ReadEvents that returns as soon as ctx ends, even while the store's blocking read
// still waits on the server (a blocking read is not always cut short by its context): a gateway
// shutting down ends its watches at once instead of after WatchBlock.
func (s eventService) blockingRead(ctx context.Context, q store.EventQuery) ([]*chorusv1.Event, string, error) {
	type answer struct {
		events []*chorusv1.Event
		next   string
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		evs, next, err := s.store.ReadEvents(ctx, q)
		done <- answer{evs, next, err}
	}()
	select {
	case a := <-done:
		return a.events, a.next, a.err
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
}

// watchInterrupted ends a watch cut by the gateway's shutdown with UNAVAILABLE, carrying the cursor
// to resume from (the last event the watch went past) in the chorus-cursor trailer and the message,
// so the client resumes on another gateway without missing or repeating an event.
func (s eventService) watchInterrupted(stream grpc.ServerStream, cursor string) error {
	if cursor == "" {
		cursor = "0-0"
	}
	stream.SetTrailer(metadata.Pairs(cursorHeader, cursor))
	return status.Errorf(codes.Unavailable, "the gateway is shutting down; resume the watch from cursor %s on another gateway (or this one once it is back)", cursor)
}
