package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// CursorHeader is the response header in which the gateway sends the concrete cursor a watch started
// from when it was asked to start at "$" (now).
const CursorHeader = "chorus-cursor"

// Watcher reads a session's events in order. After a broken stream it reconnects from the last cursor
// it delivered, so no event is lost or repeated.
type Watcher struct {
	s        *Session
	kinds    []chorusv1.EventKind
	statuses []chorusv1.TaskStatus
	cursor   string
	stream   chorusv1.EventService_WatchEventsClient
	cancel   context.CancelFunc
	// pending are the events of the last message not yet returned (the watch asks for batches).
	pending []*chorusv1.Event
}

// WatchTasks starts reading the session's task status events with the given statuses after cursor
// (e.g. only COMPLETED, FAILED and CANCELLED for a client that waits for outcomes: the gateway sends
// nothing else, so following a session costs little).
func (s *Session) WatchTasks(ctx context.Context, cursor string, statuses ...chorusv1.TaskStatus) (*Watcher, error) {
	w := &Watcher{s: s, kinds: []chorusv1.EventKind{chorusv1.EventKind_EVENT_KIND_TASK_STATUS}, statuses: statuses, cursor: cursor}
	if err := w.open(ctx); err != nil {
		return nil, err
	}
	return w, nil
}

// Watch starts reading the session's events after cursor ("" = from the first event, "$" = from now)
// of the given kinds (none = all).
func (s *Session) Watch(ctx context.Context, cursor string, kinds ...chorusv1.EventKind) (*Watcher, error) {
	w := &Watcher{s: s, kinds: kinds, cursor: cursor}
	if err := w.open(ctx); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Watcher) open(ctx context.Context) error {
	sctx, cancel := context.WithCancel(ctx)
	stream, err := w.s.c.events.WatchEvents(sctx, &chorusv1.WatchEventsRequest{SessionId: w.s.ID, Cursor: w.cursor, Kinds: w.kinds, TaskStatuses: w.statuses,
		Batches: true})
	if err != nil {
		cancel()
		return wrap("watch session "+w.s.ID, err)
	}
	if w.cursor == "$" {
		// The gateway resolves "$" to the newest event's cursor and says so in the header; from then on
		// the watch resumes from a concrete cursor.
		md, err := stream.Header()
		if err != nil {
			cancel()
			return wrap("watch session "+w.s.ID, err)
		}
		if v := md.Get(CursorHeader); len(v) > 0 {
			w.cursor = v[0]
		}
	}
	w.stream, w.cancel = stream, cancel
	return nil
}

// Cursor returns the cursor of the last event delivered (or the one the watch started from).
func (w *Watcher) Cursor() string { return w.cursor }

// Next returns the next event, blocking until one happens or ctx ends. A stream broken by a gateway
// that stopped, died or froze is reopened from the last cursor, on another gateway when the client
// knows several, with backoff, for up to ReconnectWindow of failures in a row.
func (w *Watcher) Next(ctx context.Context) (*chorusv1.Event, error) {
	var failingSince time.Time
	backoff := 50 * time.Millisecond
	for {
		if len(w.pending) > 0 {
			ev := w.pending[0]
			w.pending = w.pending[1:]
			w.cursor = ev.GetCursor()
			return ev, nil
		}
		resp, err := w.stream.Recv()
		if err == nil {
			if ev := resp.GetEvent(); ev != nil { // a gateway that does not batch
				w.cursor = ev.GetCursor()
				return ev, nil
			}
			w.pending = resp.GetEvents()
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !errors.Is(err, io.EOF) && !isTransient(err) {
			return nil, wrap("watch session "+w.s.ID, err)
		}
		// A gateway that shuts down says where to resume (past events of kinds not asked for too).
		if c := w.stream.Trailer().Get(CursorHeader); len(c) > 0 && c[0] != "" && w.cursor != "$" {
			w.cursor = c[0]
		}
		if failingSince.IsZero() {
			failingSince = time.Now() // the first reconnection is at once
		} else if time.Since(failingSince) > ReconnectWindow {
			return nil, wrap("watch session "+w.s.ID+" (no gateway answered for "+ReconnectWindow.String()+")", err)
		} else {
			if err := sleepCtx(ctx, backoff); err != nil {
				return nil, err
			}
			backoff = min(2*backoff, 2*time.Second)
		}
		w.cancel()
		for {
			if err := w.open(ctx); err == nil {
				break
			} else if ctx.Err() != nil || !isTransient(err) || time.Since(failingSince) > ReconnectWindow {
				return nil, err
			}
			if err := sleepCtx(ctx, backoff); err != nil {
				return nil, err
			}
			backoff = min(2*backoff, 2*time.Second)
		}
	}
}

// ReconnectWindow is how long a watch keeps reconnecting after its stream broke before it gives up.
const ReconnectWindow = time.Minute

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the watch.
func (w *Watcher) Close() { w.cancel() }

// Outcome is how a result ended.
type Outcome struct {
	ResultID string
	Status   chorusv1.ResultStatus
	Reason   string // abort reason
}

// Wait blocks until every result is completed or aborted and returns their outcomes in order. It
// watches the session's event stream (no polling): it starts the watch at "now", then reads the
// results' current states, then follows the events, so nothing that happens in between is missed.
// onOutcome, if not nil, is called as each result ends (e.g. for a progress bar).
func (s *Session) Wait(ctx context.Context, resultIDs []string, onOutcome func(Outcome)) ([]Outcome, error) {
	out := make([]Outcome, len(resultIDs))
	pending := make(map[string][]int, len(resultIDs))
	for i, id := range resultIDs {
		out[i].ResultID = id
		pending[id] = append(pending[id], i)
	}
	settle := func(id string, st chorusv1.ResultStatus, reason string) {
		idx, ok := pending[id]
		if !ok || (st != chorusv1.ResultStatus_RESULT_STATUS_COMPLETED && st != chorusv1.ResultStatus_RESULT_STATUS_ABORTED) {
			return
		}
		delete(pending, id)
		for _, i := range idx {
			out[i].Status, out[i].Reason = st, reason
			if onOutcome != nil {
				onOutcome(out[i])
			}
		}
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.Watch(wctx, "$", chorusv1.EventKind_EVENT_KIND_RESULT_STATUS)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	if w.Cursor() == "$" {
		// An old gateway that does not resolve "$": replay the whole stream instead (slower, but exact).
		w.Close()
		if w, err = s.Watch(wctx, "", chorusv1.EventKind_EVENT_KIND_RESULT_STATUS); err != nil {
			return nil, err
		}
	}
	if err := s.settleCurrent(ctx, pending, settle); err != nil {
		return nil, err
	}
	for len(pending) > 0 {
		ev, err := w.Next(wctx)
		if err != nil {
			return out, err
		}
		if rs := ev.GetResultStatus(); rs != nil {
			settle(rs.GetResultId(), rs.GetStatus(), rs.GetAbortReason())
		}
	}
	return out, nil
}

// settleCurrent reads the current state of pending results: one by one for a few, by listing the
// session's finished results for many.
func (s *Session) settleCurrent(ctx context.Context, pending map[string][]int, settle func(string, chorusv1.ResultStatus, string)) error {
	if len(pending) <= 64 {
		ids := make([]string, 0, len(pending))
		for id := range pending {
			ids = append(ids, id)
		}
		for _, id := range ids {
			r, err := s.Result(ctx, id)
			if err != nil {
				return err
			}
			settle(id, r.GetStatus(), r.GetAbortReason())
		}
		return nil
	}
	for _, st := range []chorusv1.ResultStatus{chorusv1.ResultStatus_RESULT_STATUS_COMPLETED, chorusv1.ResultStatus_RESULT_STATUS_ABORTED} {
		rs, err := s.Results(ctx, st)
		if err != nil {
			return err
		}
		for _, r := range rs {
			settle(r.GetResultId(), r.GetStatus(), r.GetAbortReason())
		}
	}
	return nil
}

// AbortedError says a result will never be written, and why.
type AbortedError struct {
	ResultID string
	Reason   string
}

func (e *AbortedError) Error() string {
	return fmt.Sprintf("chorus: result %s was aborted: %s", e.ResultID, e.Reason)
}

// WaitAndDownload waits for one result and returns its data; an aborted result is an *AbortedError.
func (s *Session) WaitAndDownload(ctx context.Context, resultID string) ([]byte, error) {
	outs, err := s.Wait(ctx, []string{resultID}, nil)
	if err != nil {
		return nil, err
	}
	if outs[0].Status == chorusv1.ResultStatus_RESULT_STATUS_ABORTED {
		return nil, &AbortedError{ResultID: resultID, Reason: outs[0].Reason}
	}
	return s.DownloadBytes(ctx, resultID)
}

func isTransient(err error) bool { return status.Code(err) == codes.Unavailable }
