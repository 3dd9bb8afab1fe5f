package gateway

import (
	"context"
	"time"

	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// settleTimeout bounds the read-back after an unclear outcome.
const settleTimeout = 5 * time.Second

// settleUnclearUpload handles an upload whose CompleteResult failed without a clear answer (a
// timeout, a reset connection): the script may have committed, or may still run, and then the result
// points at this upload's object. It reads the result back: completed with this upload's object, the
// upload succeeded after all; completed with other data, the object is nobody's and is deleted;
// otherwise nobody can tell yet, and the object is left in place (an orphan at worst, never a result
// pointing at a deleted object). It returns the result when the upload did complete, else err.
func (s *Server) settleUnclearUpload(ctx context.Context, sid, rid string, data store.ResultData, err error) (*chorusv1.Result, error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	res, gerr := s.store.GetResult(rctx, sid, rid)
	if gerr == nil && res.GetStatus() == chorusv1.ResultStatus_RESULT_STATUS_COMPLETED {
		ds, derr := s.store.GetResultData(rctx, sid, []string{rid})
		switch {
		case derr == nil && len(ds) == 1 && ds[0].ObjectKey == data.ObjectKey:
			s.log.Info("an upload whose completion failed unclearly had completed", "session_id", sid, "result_id", rid, "error", err)
			return res, nil
		case derr == nil && len(ds) == 1:
			if xerr := s.objects.Delete(rctx, data.ObjectKey); xerr != nil {
				s.log.Warn("could not delete the object of an upload that lost to another", "key", data.ObjectKey, "error", xerr)
			}
			return nil, err
		}
	}
	s.log.Warn("the completion of an upload failed without a clear answer; its object is left in place, since the result may point at it",
		"session_id", sid, "result_id", rid, "key", data.ObjectKey, "error", err)
	return nil, err
}
