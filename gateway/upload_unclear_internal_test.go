package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/chorus-hpc/chorus/internal/objstore/local"
	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
)

// After an upload's completion failed without a clear answer, the gateway deletes the upload's
// object only once the result is known to point elsewhere: the completion may have committed (the
// upload then succeeds) or may still run (the object stays).
func TestUnclearUploadOutcome(t *testing.T) {
	t.Parallel()
	srv := valkeytest.Start(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := valkeystore.New(valkeystore.Config{Client: srv.Client(t), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := local.New(local.Config{Dir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Logger: quiet}, st, objs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	sess, err := st.CreateSession(ctx, store.SessionSpec{})
	if err != nil {
		t.Fatal(err)
	}
	sid := sess.GetSessionId()
	if _, err := st.CreateResults(ctx, sid, []store.ResultSpec{{ResultID: "committed"}, {ResultID: "pending"}, {ResultID: "other"}}); err != nil {
		t.Fatal(err)
	}
	put := func(rid string) store.ResultData {
		key := objectKey(sid, rid)
		size, sum, err := objs.Put(ctx, key, strings.NewReader("data of "+rid), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		return store.ResultData{ObjectKey: key, Size: size, SHA256: sum}
	}
	exists := func(key string) bool {
		rc, err := objs.Get(ctx, key)
		if err != nil {
			return false
		}
		_ = rc.Close()
		return true
	}
	unclear := errors.New("Valkey call failed: i/o timeout")

	// The completion did commit: the upload succeeds and its object stays.
	d := put("committed")
	if _, err := st.CompleteResult(ctx, sid, "committed", d); err != nil {
		t.Fatal(err)
	}
	res, err := s.settleUnclearUpload(context.Background(), sid, "committed", d, unclear)
	if err != nil || res.GetResultId() != "committed" || !exists(d.ObjectKey) {
		t.Fatalf("committed completion: result %v, error %v, object kept %v; want the result, no error, the object kept", res, err, exists(d.ObjectKey))
	}
	// Nobody can tell yet (the completion may still run): the error stands and the object stays.
	d = put("pending")
	if _, err := s.settleUnclearUpload(context.Background(), sid, "pending", d, unclear); !errors.Is(err, unclear) || !exists(d.ObjectKey) {
		t.Fatalf("undecided completion: error %v, object kept %v; want the unclear error and the object kept", err, exists(d.ObjectKey))
	}
	// The result completed with other data: this upload's object is nobody's and goes.
	mine := put("other")
	if _, err := st.CompleteResult(ctx, sid, "other", put("other")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.settleUnclearUpload(context.Background(), sid, "other", mine, unclear); !errors.Is(err, unclear) || exists(mine.ObjectKey) {
		t.Fatalf("lost completion: error %v, object kept %v; want the unclear error and the object deleted", err, exists(mine.ObjectKey))
	}
}
