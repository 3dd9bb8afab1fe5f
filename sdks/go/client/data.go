package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// CreateResults declares results without data (to be uploaded, or completed by tasks); empty ids let
// the server choose. It returns the results' ids in order.
func (s *Session) CreateResults(ctx context.Context, ids ...string) ([]string, error) {
	specs := make([]*chorusv1.ResultSpec, len(ids))
	for i, id := range ids {
		specs[i] = &chorusv1.ResultSpec{ResultId: id}
	}
	resp, err := s.c.results.CreateResults(ctx, &chorusv1.CreateResultsRequest{SessionId: s.ID, Results: specs})
	if err != nil {
		return nil, wrap("create results", err)
	}
	out := make([]string, len(resp.GetResults()))
	for i, r := range resp.GetResults() {
		out[i] = r.GetResultId()
	}
	return out, nil
}

// PutResult creates a result with data: inline when small, else declared then uploaded as a stream.
func (s *Session) PutResult(ctx context.Context, resultID string, data []byte) error {
	if len(data) <= s.c.inlineLimit {
		_, err := s.c.results.CreateResults(ctx, &chorusv1.CreateResultsRequest{
			SessionId: s.ID,
			Results:   []*chorusv1.ResultSpec{{ResultId: resultID, Data: data}},
		})
		return wrap("create result "+resultID, err)
	}
	if _, err := s.CreateResults(ctx, resultID); err != nil {
		return err
	}
	_, err := s.Upload(ctx, resultID, bytes.NewReader(data))
	return err
}

// Upload writes the data of a created result from r, in chunks, and returns the completed result. The
// data never sits whole in memory.
func (s *Session) Upload(ctx context.Context, resultID string, r io.Reader) (*chorusv1.Result, error) {
	op := "upload result " + resultID
	stream, err := s.c.results.UploadResultData(ctx)
	if err != nil {
		return nil, wrap(op, err)
	}
	buf := make([]byte, s.c.chunkSize)
	first := true
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 || first {
			msg := &chorusv1.UploadResultDataRequest{Data: buf[:n]}
			if first {
				msg.SessionId, msg.ResultId = s.ID, resultID
				first = false
			}
			if err := stream.Send(msg); err != nil {
				if errors.Is(err, io.EOF) {
					break // the server ended the stream: CloseAndRecv returns its status
				}
				return nil, wrap(op, err)
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			_ = stream.CloseSend()
			return nil, fmt.Errorf("chorus: %s: reading the data: %w", op, rerr)
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return nil, wrap(op, err)
	}
	return resp.GetResult(), nil
}

// Download writes a completed result's data to w as it arrives and returns its size.
func (s *Session) Download(ctx context.Context, resultID string, w io.Writer) (int64, error) {
	op := "download result " + resultID
	stream, err := s.c.results.DownloadResultData(ctx, &chorusv1.DownloadResultDataRequest{SessionId: s.ID, ResultId: resultID})
	if err != nil {
		return 0, wrap(op, err)
	}
	var n int64
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, wrap(op, err)
		}
		m, werr := w.Write(msg.GetData())
		n += int64(m)
		if werr != nil {
			return n, fmt.Errorf("chorus: %s: writing the data: %w", op, werr)
		}
	}
}

// DownloadBytes returns a completed result's data.
func (s *Session) DownloadBytes(ctx context.Context, resultID string) ([]byte, error) {
	var b bytes.Buffer
	if _, err := s.Download(ctx, resultID, &b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
