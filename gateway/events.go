package gateway

import (
	"context"
	"slices"

	"google.golang.org/grpc/metadata"

	chorusv1 "github.com/chorus-hpc/chorus/gen/chorus/v1"
	"github.com/chorus-hpc/chorus/internal/store"
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
// gateway shuts down. It blocks on the store (no polling) and filters kinds itself, so its cursor moves
// past events of other kinds too.
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
	events, err := s.store.ReadEvents(ctx, store.EventQuery{SessionID: sid, Cursor: cursor, Max: watchBatch})
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
	kinds := req.GetKinds()
	for {
		for _, ev := range events {
			cursor = ev.GetCursor()
			if len(kinds) > 0 && !slices.Contains(kinds, eventKind(ev)) {
				continue
			}
			if err := stream.Send(&chorusv1.WatchEventsResponse{Event: ev}); err != nil {
				return err
			}
		}
		events, err = s.blockingRead(ctx, store.EventQuery{SessionID: sid, Cursor: cursor, Max: watchBatch, Block: s.cfg.WatchBlock})
		if err != nil {
			if stream.Context().Err() == nil && ctx.Err() != nil {
				return s.watchInterrupted(stream, cursor)
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

func eventKind(ev *chorusv1.Event) chorusv1.EventKind {
	switch ev.GetBody().(type) {
	case *chorusv1.Event_TaskStatus:
		return chorusv1.EventKind_EVENT_KIND_TASK_STATUS
	case *chorusv1.Event_ResultStatus:
		return chorusv1.EventKind_EVENT_KIND_RESULT_STATUS
	case *chorusv1.Event_SessionStatus:
		return chorusv1.EventKind_EVENT_KIND_SESSION_STATUS
	case *chorusv1.Event_TaskProgress:
		return chorusv1.EventKind_EVENT_KIND_TASK_PROGRESS
	}
	return chorusv1.EventKind_EVENT_KIND_UNSPECIFIED
}
