package valkeystore

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valkey-io/valkey-go"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// ReadEvents reads a session's events after a cursor, blocking up to q.Block for the first one. It
// also returns the cursor to read on from: past the events it skipped as not asked for.
//
// One stream entry may hold the same change of many tasks or results (lua/lib.lua groups them); it is
// returned as one event each. The last event of an entry has the entry's id as its cursor; the others
// have "<id>/<n>" (n events of the entry already read), so a watcher that stops inside an entry
// resumes at the next event of it.
//
// Whether the session exists is read on a first read (no cursor) and when a read finds no new event:
// a watcher reading on from its cursor while events come costs one round trip per read, not two. A
// session's events are deleted with it, so events read are those of a session that exists.
func (s *Store) ReadEvents(ctx context.Context, q store.EventQuery) ([]*chorusv1.Event, string, error) {
	checked := q.Cursor == ""
	if checked {
		if err := s.sessionExists(ctx, q.SessionID); err != nil {
			return nil, "", err
		}
	}
	none := func(out []*chorusv1.Event, next string) ([]*chorusv1.Event, string, error) {
		if len(out) == 0 && !checked {
			if err := s.sessionExists(ctx, q.SessionID); err != nil {
				return nil, "", err
			}
		}
		return out, next, nil
	}
	max := q.Max
	if max <= 0 {
		max = 100
	}
	cursor, skip, err := parseCursor(q.Cursor)
	if err != nil {
		return nil, "", err
	}
	next := q.Cursor
	key := s.keys.events(q.SessionID)
	var out []*chorusv1.Event
	f := eventFilter{kinds: q.Kinds, statuses: q.TaskStatuses}
	if skip > 0 {
		// finish the entry the cursor points into, then go on after it
		es, err := s.client.Do(ctx, s.client.B().Xrange().Key(key).Start(cursor).End(cursor).Build()).AsXRange()
		if err != nil {
			return nil, "", storeErr("reading events", err)
		}
		if len(es) == 1 {
			checked = true
			out, next = appendEvents(out, q.SessionID, es[0], skip, max, f)
			if len(out) >= max {
				return out, next, nil
			}
		}
		next = cursor
	}
	for {
		var cmd valkeyCmd
		if q.Block > 0 && len(out) == 0 {
			cmd = s.client.B().Xread().Count(int64(max)).Block(max64(q.Block.Milliseconds(), 1)).Streams().Key(key).Id(cursor).Build()
		} else {
			cmd = s.client.B().Xread().Count(int64(max)).Streams().Key(key).Id(cursor).Build()
		}
		res, err := s.client.Do(ctx, cmd).AsXRead()
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		if valkeyNil(err) {
			return none(out, next)
		}
		if err != nil {
			return nil, "", storeErr("reading events", err)
		}
		entries := res[key]
		if len(entries) == 0 {
			return none(out, next)
		}
		checked = true
		for _, e := range entries {
			out, next = appendEvents(out, q.SessionID, e, 0, max, f)
			if len(out) >= max {
				return out, next, nil
			}
		}
		cursor = entries[len(entries)-1].ID
		if len(out) > 0 || len(entries) < max {
			return none(out, next)
		}
		q.Block = 0 // everything read was of other kinds: continue without blocking
	}
}

// parseCursor splits "<stream id>[/<events of the entry already read>]".
func parseCursor(c string) (id string, skip int, err error) {
	if c == "" {
		return "0-0", 0, nil
	}
	id, n, ok := strings.Cut(c, "/")
	if !ok {
		return c, 0, nil
	}
	skip, err = strconv.Atoi(n)
	if err != nil || skip < 0 || id == "" {
		return "", 0, store.Errorf(store.CodeInvalidArgument, "cursor %q is not a cursor of this session's events: give back the cursor of the last event received", c)
	}
	return id, skip, nil
}

// eventFilter keeps the events a watcher asked for.
type eventFilter struct {
	kinds    []chorusv1.EventKind
	statuses []chorusv1.TaskStatus // task status events: only these statuses (empty: all)
}

// keep reports whether events of kind (with task status st, for task status events) pass the
// filter: a stream entry's events share both, so the filter decides for the whole entry.
func (f eventFilter) keep(kind chorusv1.EventKind, st chorusv1.TaskStatus) bool {
	if len(f.kinds) > 0 && !slices.Contains(f.kinds, kind) {
		return false
	}
	return kind != chorusv1.EventKind_EVENT_KIND_TASK_STATUS || len(f.statuses) == 0 || slices.Contains(f.statuses, st)
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
	es, err := s.client.Do(ctx, s.client.B().Xrevrange().Key(s.keys.events(sessionID)).End("+").Start("-").Count(1).Build()).AsXRange()
	if err != nil {
		return "", storeErr("reading the newest event", err)
	}
	if len(es) == 0 {
		return "0-0", nil
	}
	return es[0].ID, nil
}

func (s *Store) sessionExists(ctx context.Context, id string) error {
	n, err := s.client.Do(ctx, s.client.B().Exists().Key(s.keys.meta(id)).Build()).AsInt64()
	if err != nil {
		return storeErr("checking the session", err)
	}
	if n == 0 {
		return store.Errorf(store.CodeNotFound, "session %s does not exist", id)
	}
	return nil
}

func atoi32(s string) int32 { n, _ := strconv.Atoi(s); return int32(n) }

// appendEvents appends the events of one stream entry (fields written by lua/lib.lua: kind, status,
// tasks/results with attempts/sizes, error_kind, error, retryable, reason, fraction, message), from
// its skip-th on, up to max events in out, with their cursors. It returns out and the cursor after
// the last event it read (kept or filtered out).
func appendEvents(out []*chorusv1.Event, sessionID string, e valkey.XRangeEntry, skip, max int, f eventFilter) ([]*chorusv1.Event, string) {
	fv := e.FieldValues
	ms, _ := strconv.ParseInt(strings.SplitN(e.ID, "-", 2)[0], 10, 64)
	at := timestamppb.New(time.UnixMilli(ms))
	var ids, extra []string
	kind := chorusv1.EventKind(atoi32(fv["kind"]))
	switch kind {
	case chorusv1.EventKind_EVENT_KIND_TASK_STATUS, chorusv1.EventKind_EVENT_KIND_TASK_PROGRESS:
		ids = strings.Split(fv["tasks"], ",")
		extra = strings.Split(fv["attempts"], ",")
	case chorusv1.EventKind_EVENT_KIND_RESULT_STATUS:
		ids = strings.Split(fv["results"], ",")
		extra = strings.Split(fv["sizes"], ",")
	case chorusv1.EventKind_EVENT_KIND_SESSION_STATUS:
		ids = []string{""}
	default:
		return out, e.ID
	}
	status := atoi32(fv["status"])
	if !f.keep(kind, chorusv1.TaskStatus(status)) {
		return out, e.ID // the entry's events share its kind and status: none is kept
	}
	next := e.ID
	if skip > 0 {
		next = e.ID + "/" + strconv.Itoa(skip)
	}
	for j := skip; j < len(ids); j++ {
		if len(out) >= max {
			return out, next
		}
		ev := &chorusv1.Event{Cursor: e.ID, SessionId: sessionID, Time: at}
		if j < len(ids)-1 {
			ev.Cursor = e.ID + "/" + strconv.Itoa(j+1)
		}
		x := ""
		if j < len(extra) {
			x = extra[j]
		}
		switch kind {
		case chorusv1.EventKind_EVENT_KIND_TASK_STATUS:
			b := &chorusv1.TaskStatusEvent{TaskId: extID(sessionID, ids[j]), Status: chorusv1.TaskStatus(status), Attempt: atoi32(x)}
			if fv["error_kind"] != "" {
				b.Error = &chorusv1.TaskError{Kind: chorusv1.ErrorKind(atoi32(fv["error_kind"])), Message: fv["error"], Retryable: fv["retryable"] == "1"}
			}
			ev.Body = &chorusv1.Event_TaskStatus{TaskStatus: b}
		case chorusv1.EventKind_EVENT_KIND_RESULT_STATUS:
			size, _ := strconv.ParseInt(x, 10, 64)
			ev.Body = &chorusv1.Event_ResultStatus{ResultStatus: &chorusv1.ResultStatusEvent{ResultId: ids[j],
				Status: chorusv1.ResultStatus(status), SizeBytes: size, AbortReason: fv["reason"]}}
		case chorusv1.EventKind_EVENT_KIND_SESSION_STATUS:
			ev.Body = &chorusv1.Event_SessionStatus{SessionStatus: &chorusv1.SessionStatusEvent{Status: chorusv1.SessionStatus(status)}}
		case chorusv1.EventKind_EVENT_KIND_TASK_PROGRESS:
			frac, _ := strconv.ParseFloat(fv["fraction"], 64)
			ev.Body = &chorusv1.Event_TaskProgress{TaskProgress: &chorusv1.TaskProgressEvent{TaskId: extID(sessionID, ids[j]), Fraction: frac, Message: fv["message"]}}
		}
		next = ev.Cursor
		out = append(out, ev)
	}
	return out, next
}
