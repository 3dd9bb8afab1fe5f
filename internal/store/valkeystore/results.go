package valkeystore

import (
	"context"
	"strconv"

	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/validate"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// CreateResults creates results, all or none.
func (s *Store) CreateResults(ctx context.Context, sessionID string, specs []store.ResultSpec) ([]*chorusv1.Result, error) {
	args := make([]string, 0, 2+6*len(specs))
	args = append(args, itoa(s.nowMS()), strconv.Itoa(len(specs)))
	ids := make([]string, len(specs))
	for i, sp := range specs {
		ids[i] = sp.ResultID
		if ids[i] == "" {
			ids[i] = store.NewResultID()
		} else if err := validate.ID("result id", ids[i]); err != nil {
			return nil, store.Errorf(store.CodeInvalidArgument, "result %d: %v", i, err)
		}
		if sp.Data == nil {
			args = append(args, ids[i], "0", "0", "", "0", "")
			continue
		}
		if err := checkData(*sp.Data, s.cfg.MaxInlineSize, ids[i]); err != nil {
			return nil, err
		}
		args = append(args, ids[i], "1")
		args = append(args, dataArgs(*sp.Data)...)
	}
	res := s.run(ctx, s.scripts.resultsCreate, sessionID, args)
	if err := res.Error(); err != nil {
		return nil, storeErr("creating results", err)
	}
	// Nothing waits on brand-new results, so no task became ready.
	return s.getResults(ctx, sessionID, ids)
}

func (s *Store) getResults(ctx context.Context, sessionID string, ids []string) ([]*chorusv1.Result, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	vals, err := s.client.Do(ctx, s.client.B().Hmget().Key(s.keys.results(sessionID)).Field(ids...).Build()).ToArray()
	if err != nil {
		return nil, storeErr("reading results", err)
	}
	out := make([]*chorusv1.Result, len(ids))
	for i, v := range vals {
		str, err := v.ToString()
		if err != nil {
			return nil, s.notFound(ctx, sessionID, "result %s does not exist in session %s", ids[i], sessionID)
		}
		out[i] = decodeResult(sessionID, ids[i], str)
	}
	return out, nil
}

// GetResult returns a result's metadata.
func (s *Store) GetResult(ctx context.Context, sessionID, resultID string) (*chorusv1.Result, error) {
	rs, err := s.getResults(ctx, sessionID, []string{resultID})
	if err != nil {
		return nil, err
	}
	return rs[0], nil
}

// GetResultData returns where the data of completed results is, in one round trip.
func (s *Store) GetResultData(ctx context.Context, sessionID string, ids []string) ([]store.ResultData, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	res := s.hmgets(ctx, ids, s.keys.results(sessionID), s.keys.resultData(sessionID), s.keys.resultTrace(sessionID))
	var err error
	heads := decode(&err, res[0].ToArray, "reading results")
	datas := decode(&err, res[1].ToArray, "reading result data")
	if err != nil {
		return nil, err
	}
	tps, _ := res[2].ToArray() // producers' traceparents: best effort, for span links only
	out := make([]store.ResultData, len(ids))
	for i := range ids {
		h, err := heads[i].ToString()
		if err != nil {
			return nil, s.notFound(ctx, sessionID, "result %s does not exist in session %s", ids[i], sessionID)
		}
		r := decodeResult(sessionID, ids[i], h)
		if r.Status != chorusv1.ResultStatus_RESULT_STATUS_COMPLETED {
			return nil, store.Errorf(store.CodeFailedPrecondition, "result %s is %s, not completed: wait for it", ids[i], r.Status)
		}
		d, _ := datas[i].ToString()
		out[i] = store.ResultData{Size: r.SizeBytes, SHA256: r.Sha256}
		if i < len(tps) {
			out[i].TraceParent, _ = tps[i].ToString()
		}
		if r.Location == chorusv1.ResultLocation_RESULT_LOCATION_OBJECT {
			out[i].ObjectKey = d
		} else {
			out[i].Inline = []byte(d)
		}
	}
	return out, nil
}

// CompleteResult writes the data of a CREATED result no task owns.
func (s *Store) CompleteResult(ctx context.Context, sessionID, resultID string, data store.ResultData) (*chorusv1.Result, error) {
	if err := checkData(data, s.cfg.MaxInlineSize, resultID); err != nil {
		return nil, err
	}
	args := append([]string{resultID}, dataArgs(data)...)
	args = append(args, itoa(s.nowMS()))
	parts, err := s.run(ctx, s.scripts.resultComplete, sessionID, args).AsStrSlice()
	if err != nil {
		return nil, storeErr("completing the result", err)
	}
	if err := s.markReady(ctx, sessionID, parts...); err != nil {
		return nil, err
	}
	return s.GetResult(ctx, sessionID, resultID)
}

// ListResults returns a page of a session's results in creation order.
func (s *Store) ListResults(ctx context.Context, sessionID string, q store.ListQuery[chorusv1.ResultStatus]) ([]*chorusv1.Result, string, error) {
	if _, err := s.defaultsOf(ctx, sessionID); err != nil {
		return nil, "", err
	}
	var out []*chorusv1.Result
	next, err := s.page(ctx, s.keys.resultList(sessionID), store.PageResults, q.PageSize, q.PageToken, nil, func(ids []string) (int, error) {
		rs, err := s.getResults(ctx, sessionID, ids)
		if err != nil {
			return 0, err
		}
		return s.take(len(out), q.PageSize, len(rs), func(i int) bool {
			if q.Status != 0 && rs[i].Status != q.Status {
				return false
			}
			out = append(out, rs[i])
			return true
		}), nil
	})
	return out, next, err
}

// page walks a list key (append-only, in insertion order) from the position in token, calling visit
// with chunks of ids; visit returns how many of the chunk it consumed (it stops early when the page is
// full). It returns the next token: the position after the last item consumed and that item's id,
// which is checked against the list when the token comes back (a token of another list is refused).
// The token holds the item's id as named returns it (the id users see; nil: as listed).
func (s *Store) page(ctx context.Context, key string, kind store.PageKind, size int, token string, named func(string) string, visit func(ids []string) (int, error)) (string, error) {
	if named == nil {
		named = func(id string) string { return id }
	}
	if size <= 0 {
		size = 100
	}
	var off int64
	last := ""
	if token != "" {
		c, err := store.DecodePageToken(token, kind)
		if err != nil {
			return "", err
		}
		if c.Position > 0 {
			at, err := s.client.Do(ctx, s.client.B().Lindex().Key(key).Index(c.Position-1).Build()).ToString()
			if err != nil && !valkeyNil(err) {
				return "", storeErr("checking the page token", err)
			}
			if named(at) != c.Key {
				return "", store.BadPageToken("it does not belong to this listing; pass the next_page_token this listing returned")
			}
		}
		off, last = c.Position, c.Key
	}
	for {
		ids, err := s.client.Do(ctx, s.client.B().Lrange().Key(key).Start(off).Stop(off+int64(size)-1).Build()).AsStrSlice()
		if err != nil {
			return "", storeErr("listing", err)
		}
		if len(ids) == 0 {
			return "", nil
		}
		used, err := visit(ids)
		if err != nil {
			return "", err
		}
		off += int64(used)
		if used > 0 {
			last = named(ids[used-1])
		}
		if used < len(ids) {
			return store.EncodePageToken(store.PageCursor{Kind: kind, Position: off, Key: last}), nil // page full
		}
		if len(ids) < size {
			return "", nil
		}
	}
}

// take feeds items 0..n-1 to add until the page (have + added) reaches size; it returns how many
// items it looked at.
func (s *Store) take(have, size, n int, add func(i int) bool) int {
	if size <= 0 {
		size = 100
	}
	for i := 0; i < n; i++ {
		if have >= size {
			return i
		}
		if add(i) {
			have++
		}
	}
	return n
}
