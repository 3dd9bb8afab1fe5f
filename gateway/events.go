package gateway

import (
	"context"

	"google.golang.org/grpc/metadata"

	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// cursorHeader is the response metadata (REST: the Chorus-Cursor header) with the concrete cursor a
// watch starts after, so a client that asked for "$" (now) can resume from it without a gap.
const cursorHeader = "chorus-cursor"

// watchBatch is the most events one store read returns.
const watchBatch = 256

type eventService struct {
	*Server
	chorusv1.UnimplementedEventServiceServer
}

// WatchEvents streams a session's events after the request's cursor until the client goes away or the
// gateway shuts down. It blocks on the store (no polling); the store filters kinds and statuses and
// moves the cursor past the events it skips.
func (s eventService) WatchEvents(req *chorusv1.WatchEventsRequest, stream chorusv1.EventService_WatchEventsServer) error {
	ctx, cancel := s.stopCtx(stream.Context())
	defer cancel()
	sid, cursor := req.GetSessionId(), req.GetCursor()
	if cursor == "$" {
		c, err := s.store.EventCursor(ctx, sid)
		if err != nil {
			return s.watchFailed(ctx, stream.Context(), err)
		}
		cursor = c
	}
	// The first read does not block, so an unknown session fails before the stream starts (over REST:
	// a 404 rather than a 200 with an error line).
	q := store.EventQuery{SessionID: sid, Cursor: cursor, Max: watchBatch, Kinds: req.GetKinds(), TaskStatuses: req.GetTaskStatuses()}
	events, next, err := s.store.ReadEvents(ctx, q)
	if err != nil {
		return s.watchFailed(ctx, stream.Context(), err)
	}
	start := cursor
	if start == "" {
		start = "0-0" // before the first event
	}
	if err := stream.SendHeader(metadata.Pairs(cursorHeader, start)); err != nil {
		return err
	}
	q.Block = s.cfg.WatchBlock
	for {
		if err := sendEvents(stream, events, req.GetBatches()); err != nil {
			return err
		}
		q.Cursor = next
		events, next, err = s.blockingRead(ctx, q)
		if err != nil {
			if stream.Context().Err() == nil && ctx.Err() != nil {
				return s.watchInterrupted(stream, q.Cursor)
			}
			return s.watchFailed(ctx, stream.Context(), err)
		}
	}
}

// watchFailed says why a watch ends when a store call fails: the client went away (nothing to say),
// the gateway shuts down (UNAVAILABLE: resume from the last cursor, on this gateway once it is back
// or on another), or the store's error.
func (s eventService) watchFailed(ctx, clientCtx context.Context, err error) error {
	switch {
	case clientCtx.Err() != nil:
		return clientCtx.Err()
	case ctx.Err() != nil:
		return errShuttingDown
	}
	return err
}

// sendEvents sends the events of one read: one message for them all when the client asked for
// batches, else one message each.
func sendEvents(stream chorusv1.EventService_WatchEventsServer, events []*chorusv1.Event, batches bool) error {
	if batches {
		if len(events) == 0 {
			return nil
		}
		return stream.Send(&chorusv1.WatchEventsResponse{Events: events})
	}
	for _, ev := range events {
		if err := stream.Send(&chorusv1.WatchEventsResponse{Event: ev}); err != nil {
			return err
		}
	}
	return nil
}
