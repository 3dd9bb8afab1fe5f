package valkeystore

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valkey-io/valkey-go"
	"google.golang.org/protobuf/types/known/timestamppb"

	chorusv1 "github.com/chorus-hpc/chorus/gen/chorus/v1"
	"github.com/chorus-hpc/chorus/internal/store"
)

// ReadEvents reads a session's events after a cursor, blocking up to q.Block for the first one.
func (s *Store) ReadEvents(ctx context.Context, q store.EventQuery) ([]*chorusv1.Event, error) {
	if err := s.sessionExists(ctx, q.SessionID); err != nil {
		return nil, err
	}
	max := q.Max
	if max <= 0 {
		max = 100
	}
	cursor := q.Cursor
	if cursor == "" {
		cursor = "0-0"
	}
	key := s.k.events(q.SessionID)
	var out []*chorusv1.Event
	for {
		var cmd valkeyCmd
		if q.Block > 0 {
			cmd = s.c.B().Xread().Count(int64(max)).Block(max64(q.Block.Milliseconds(), 1)).Streams().Key(key).Id(cursor).Build()
		} else {
			cmd = s.c.B().Xread().Count(int64(max)).Streams().Key(key).Id(cursor).Build()
		}
		res, err := s.c.Do(ctx, cmd).AsXRead()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if valkeyNil(err) {
			return out, nil
		}
		if err != nil {
			return nil, storeErr("reading events", err)
		}
		entries := res[key]
		if len(entries) == 0 {
			return out, nil
		}
		for _, e := range entries {
			ev := toEvent(q.SessionID, e)
			if ev != nil && (len(q.Kinds) == 0 || slices.Contains(q.Kinds, kindOf(ev))) {
				out = append(out, ev)
			}
		}
		cursor = entries[len(entries)-1].ID
		if len(out) > 0 || len(entries) < max {
			return out, nil
		}
		q.Block = 0 // everything read was of other kinds: continue without blocking
	}
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// EventCursor returns the cursor of the session's newest event ("0-0" when it has none).
func (s *Store) EventCursor(ctx context.Context, sessionID string) (string, error) {
	if err := s.sessionExists(ctx, sessionID); err != nil {
		return "", err
	}
	es, err := s.c.Do(ctx, s.c.B().Xrevrange().Key(s.k.events(sessionID)).End("+").Start("-").Count(1).Build()).AsXRange()
	if err != nil {
		return "", storeErr("reading the newest event", err)
	}
	if len(es) == 0 {
		return "0-0", nil
	}
	return es[0].ID, nil
}

func (s *Store) sessionExists(ctx context.Context, id string) error {
	n, err := s.c.Do(ctx, s.c.B().Exists().Key(s.k.meta(id)).Build()).AsInt64()
	if err != nil {
		return storeErr("checking the session", err)
	}
	if n == 0 {
		return store.Errorf(store.CodeNotFound, "session %s does not exist", id)
	}
	return nil
}

func kindOf(e *chorusv1.Event) chorusv1.EventKind {
	switch e.Body.(type) {
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

func atoi32(s string) int32 { n, _ := strconv.Atoi(s); return int32(n) }

// toEvent maps a stream entry (fields written by lua/*.lua: k kind, i id, s status, a attempt,
// ek/em/er error, z size, ar abort reason, f/m progress) to an Event.
func toEvent(sessionID string, e valkey.XRangeEntry) *chorusv1.Event {
	f := e.FieldValues
	ms, _ := strconv.ParseInt(strings.SplitN(e.ID, "-", 2)[0], 10, 64)
	ev := &chorusv1.Event{Cursor: e.ID, SessionId: sessionID, Time: timestamppb.New(time.UnixMilli(ms))}
	switch f["k"] {
	case "1":
		b := &chorusv1.TaskStatusEvent{TaskId: f["i"], Status: chorusv1.TaskStatus(atoi32(f["s"])), Attempt: atoi32(f["a"])}
		if f["ek"] != "" {
			b.Error = &chorusv1.TaskError{Kind: chorusv1.ErrorKind(atoi32(f["ek"])), Message: f["em"], Retryable: f["er"] == "1"}
		}
		ev.Body = &chorusv1.Event_TaskStatus{TaskStatus: b}
	case "2":
		size, _ := strconv.ParseInt(f["z"], 10, 64)
		ev.Body = &chorusv1.Event_ResultStatus{ResultStatus: &chorusv1.ResultStatusEvent{ResultId: f["i"],
			Status: chorusv1.ResultStatus(atoi32(f["s"])), SizeBytes: size, AbortReason: f["ar"]}}
	case "3":
		ev.Body = &chorusv1.Event_SessionStatus{SessionStatus: &chorusv1.SessionStatusEvent{Status: chorusv1.SessionStatus(atoi32(f["s"]))}}
	case "4":
		frac, _ := strconv.ParseFloat(f["f"], 64)
		ev.Body = &chorusv1.Event_TaskProgress{TaskProgress: &chorusv1.TaskProgressEvent{TaskId: f["i"], Fraction: frac, Message: f["m"]}}
	default:
		return nil
	}
	return ev
}

// ReportProgress appends a progress event for a leased task.
func (s *Store) ReportProgress(ctx context.Context, l store.Lease, fraction float64, message string) error {
	return storeErr("reporting progress", s.run(ctx, s.s.progress, l.SessionID,
		[]string{l.TaskID, l.Token, strconv.FormatFloat(fraction, 'f', -1, 64), message}).Error())
}
