package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/chorus-hpc/chorus/internal/objstore"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// Response metadata of DownloadResultData (REST: the Chorus-Size and Chorus-Sha256 headers).
const (
	sizeHeader   = "chorus-size"
	sha256Header = "chorus-sha256"
)

// DownloadResultData streams a completed result's data in ChunkSize chunks, from the store (inline)
// or the object store, and checks at the end that what it read has the recorded size and SHA-256.
func (s resultService) DownloadResultData(req *chorusv1.DownloadResultDataRequest, stream chorusv1.ResultService_DownloadResultDataServer) error {
	ctx := stream.Context()
	sid, rid := req.GetSessionId(), req.GetResultId()
	found, err := s.store.GetResultData(ctx, sid, []string{rid})
	if err != nil {
		return err
	}
	if len(found) != 1 {
		return fmt.Errorf("store returned %d data locations for one result", len(found))
	}
	data := found[0]
	var r io.Reader
	if data.ObjectKey == "" {
		r = bytes.NewReader(data.Inline)
	} else {
		rc, err := s.objects.Get(ctx, data.ObjectKey)
		if errors.Is(err, objstore.ErrNotFound) {
			return status.Errorf(codes.DataLoss, "result %s of session %s is completed but its data is missing from the object store (key %s)", rid, sid, data.ObjectKey)
		}
		if err != nil {
			return fmt.Errorf("opening object %s: %w", data.ObjectKey, err)
		}
		defer rc.Close()
		r = rc
	}
	if err := stream.SendHeader(metadata.Pairs(sizeHeader, strconv.FormatInt(data.Size, 10), sha256Header, data.SHA256)); err != nil {
		return err
	}
	sha := data.SHA256
	v := objstore.NewVerifier(r, fmt.Sprintf("result %q of session %q", rid, sid), data.Size, sha)
	for {
		buf := make([]byte, s.cfg.ChunkSize) // a fresh chunk each time: gRPC may use a sent message later
		k, err := io.ReadFull(v, buf)
		if k > 0 {
			if serr := stream.Send(&chorusv1.DownloadResultDataResponse{Data: buf[:k]}); serr != nil {
				return serr
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			if errors.Is(err, objstore.ErrCorrupt) {
				s.log.Error("stored result data does not match its record", "session_id", sid, "result_id", rid, "key", data.ObjectKey, "error", err)
			}
			return fmt.Errorf("reading the data of result %s of session %s: %w", rid, sid, err)
		}
	}
}
