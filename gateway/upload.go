package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// UploadResultData writes a client result's data from a stream of chunks: up to InlineLimit bytes are
// kept in memory and stored inline; past that the data streams through a pipe into the object store.
// The result is then completed with the data's size and SHA-256.
func (s resultService) UploadResultData(stream chorusv1.ResultService_UploadResultDataServer) error {
	ctx := stream.Context()
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return badField("session_id", "the upload stream ended before its first message; the first message must name the session and the result")
	}
	if err != nil {
		return err
	}
	sid, rid := first.GetSessionId(), first.GetResultId()
	if sid == "" {
		return badField("session_id", "required on the first message of an upload")
	}
	if rid == "" {
		return badField("result_id", "required on the first message of an upload")
	}
	// Fail before reading any data when the result cannot take it.
	r, err := s.store.GetResult(ctx, sid, rid)
	if err != nil {
		return err
	}
	if r.GetStatus() != chorusv1.ResultStatus_RESULT_STATUS_CREATED {
		return status.Errorf(codes.FailedPrecondition, "result %s of session %s is %s; only a CREATED result can be uploaded (results are written once)",
			rid, sid, r.GetStatus())
	}
	if owner := r.GetOwnerTaskId(); owner != "" {
		return status.Errorf(codes.FailedPrecondition, "result %s of session %s is an expected output of task %s; only that task can complete it", rid, sid, owner)
	}

	u := &upload{s: s.Server, ctx: ctx, key: objectKey(sid, rid)}
	defer u.abort()
	for msg := first; ; {
		if err := u.write(msg.GetData()); err != nil {
			return err
		}
		msg, err = stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if v := msg.GetSessionId(); v != "" && v != sid {
			return badField("session_id", fmt.Sprintf("must be empty or repeat the first message's session_id %q, got %q", sid, v))
		}
		if v := msg.GetResultId(); v != "" && v != rid {
			return badField("result_id", fmt.Sprintf("must be empty or repeat the first message's result_id %q, got %q", rid, v))
		}
	}
	data, err := u.finish()
	if err != nil {
		return err
	}
	res, err := s.store.CompleteResult(ctx, sid, rid, data)
	if err != nil && data.ObjectKey != "" && store.IsUnclear(err) {
		if res, err = s.settleUnclearUpload(ctx, sid, rid, data, err); err == nil {
			return stream.SendAndClose(&chorusv1.UploadResultDataResponse{Result: res})
		}
		return err
	}
	if err != nil {
		if data.ObjectKey != "" {
			// A clear refusal: nobody references the object, whose key is this upload's own.
			if derr := s.objects.Delete(context.WithoutCancel(ctx), data.ObjectKey); derr != nil {
				s.log.Warn("could not delete the object of a refused upload", "key", data.ObjectKey, "error", derr)
			}
		}
		return err
	}
	return stream.SendAndClose(&chorusv1.UploadResultDataResponse{Result: res})
}

// objectKey returns a fresh object key for an upload of a result: under the result's documented key
// "sessions/<session>/results/<result>", with a suffix unique to this upload, so that two racing
// uploads of one result never write the same object (the loser deletes its own).
func objectKey(sid, rid string) string {
	return "sessions/" + sid + "/results/" + rid + ".u" + store.NewID()
}

// upload holds the first InlineLimit bytes in memory; past that it streams into the object store.
type upload struct {
	s    *Server
	ctx  context.Context
	key  string
	buf  []byte
	size int64
	pw   *io.PipeWriter
	done chan putResult
	over bool // finished or aborted
}

type putResult struct {
	size   int64
	sha256 string
	err    error
}

var (
	errUploadAborted = errors.New("upload aborted")
	errPutEnded      = errors.New("the object store stopped reading before the upload ended")
)

func (u *upload) write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	u.size += int64(len(p))
	if u.size > u.s.cfg.MaxResultSize {
		return overLimit("MaxResultSize", u.s.cfg.MaxResultSize,
			"result data is over the limit of %d bytes per result (MaxResultSize)", u.s.cfg.MaxResultSize)
	}
	if u.pw == nil {
		if int64(len(u.buf)+len(p)) <= u.s.cfg.InlineLimit {
			u.buf = append(u.buf, p...)
			return nil
		}
		u.startPut()
		if len(u.buf) > 0 {
			if _, err := u.pw.Write(u.buf); err != nil {
				return u.putFailed(err)
			}
		}
		u.buf = nil
	}
	if _, err := u.pw.Write(p); err != nil {
		return u.putFailed(err)
	}
	return nil
}

func (u *upload) startPut() {
	pr, pw := io.Pipe()
	u.pw, u.done = pw, make(chan putResult, 1)
	go func() {
		size, sum, err := u.s.objects.Put(u.ctx, u.key, pr, u.s.cfg.MaxResultSize)
		closeErr := err
		if closeErr == nil {
			closeErr = errPutEnded
		}
		pr.CloseWithError(closeErr) // a writer still writing learns that Put is over
		u.done <- putResult{size: size, sha256: sum, err: err}
	}()
}

// putFailed returns why the object store stopped reading.
func (u *upload) putFailed(writeErr error) error {
	u.over = true
	r := <-u.done
	if r.err != nil {
		return fmt.Errorf("writing result data to the object store: %w", r.err)
	}
	return fmt.Errorf("writing result data to the object store at %s: %w", u.key, writeErr)
}

// finish returns where the data is: inline, or in the object store once Put has ended.
func (u *upload) finish() (store.ResultData, error) {
	u.over = true
	if u.pw == nil {
		data := u.buf
		if data == nil {
			data = []byte{}
		}
		return store.InlineData(data), nil
	}
	_ = u.pw.Close()
	r := <-u.done
	if r.err != nil {
		return store.ResultData{}, fmt.Errorf("writing result data to the object store: %w", r.err)
	}
	if r.size != u.size {
		_ = u.s.objects.Delete(context.WithoutCancel(u.ctx), u.key)
		return store.ResultData{}, fmt.Errorf("object store wrote %d bytes of a %d-byte upload to %s", r.size, u.size, u.key)
	}
	return store.ResultData{ObjectKey: u.key, Size: r.size, SHA256: r.sha256}, nil
}

// abort stops a Put still running (a failed upload); a failed Put leaves no object.
func (u *upload) abort() {
	if u.over || u.pw == nil {
		return
	}
	u.over = true
	u.pw.CloseWithError(errUploadAborted)
	<-u.done
}
