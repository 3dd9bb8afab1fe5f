package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// The raw-bytes REST routes of result data. Both go through the in-process gRPC connection, so the
// same interceptors (validation, limits, errors, logging) run as for gRPC clients.

// rawDataContext prepares a raw-bytes route's call of the gRPC method: the call's context (with the
// request's metadata, cancelled by cancel) and the marshaler of errors and answers. When the request
// cannot be annotated it answers the error and returns ok false.
func (s *Server) rawDataContext(w http.ResponseWriter, r *http.Request, method string) (ctx context.Context, cancel context.CancelFunc, outbound runtime.Marshaler, ok bool) {
	_, outbound = runtime.MarshalerForRequest(s.gwmux, r)
	ctx, err := runtime.AnnotateContext(r.Context(), s.gwmux, r, method, runtime.WithHTTPPathPattern(resultDataPath))
	if err != nil {
		runtime.HTTPError(r.Context(), s.gwmux, outbound, w, r, err)
		return nil, nil, nil, false
	}
	ctx, cancel = context.WithCancel(ctx)
	return ctx, cancel, outbound, true
}

// putResultData streams a raw request body, ChunkSize bytes at a time, into UploadResultData.
func (s *Server) putResultData(w http.ResponseWriter, r *http.Request, params map[string]string) {
	ctx, cancel, outbound, ok := s.rawDataContext(w, r, chorusv1.ResultService_UploadResultData_FullMethodName)
	if !ok {
		return
	}
	defer cancel()
	var header, trailer metadata.MD
	stream, err := chorusv1.NewResultServiceClient(s.conn).UploadResultData(ctx, grpc.Header(&header), grpc.Trailer(&trailer))
	if err != nil {
		runtime.HTTPError(ctx, s.gwmux, outbound, w, r, err)
		return
	}
	msg := &chorusv1.UploadResultDataRequest{SessionId: params["session_id"], ResultId: params["result_id"]}
	for {
		buf := make([]byte, s.cfg.ChunkSize) // a fresh chunk each time: gRPC may use a sent message later
		n, rerr := fill(r.Body, buf)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			cancel() // the upload must not complete with part of the data
			_, _ = stream.CloseAndRecv()
			err := status.Errorf(codes.InvalidArgument, "reading the request body failed after part of the data: %v", rerr)
			runtime.HTTPError(ctx, s.gwmux, outbound, w, r, err)
			return
		}
		if n > 0 || msg.SessionId != "" {
			msg.Data = buf[:n]
			if err := stream.Send(msg); err != nil {
				break // the server ended the call; CloseAndRecv returns its status
			}
			msg = &chorusv1.UploadResultDataRequest{}
		}
		if rerr != nil {
			break
		}
	}
	resp, err := stream.CloseAndRecv()
	ctx = runtime.NewServerMetadataContext(ctx, runtime.ServerMetadata{HeaderMD: header, TrailerMD: trailer})
	if err != nil {
		runtime.HTTPError(ctx, s.gwmux, outbound, w, r, err)
		return
	}
	runtime.ForwardResponseMessage(ctx, s.gwmux, outbound, w, r, resp)
}

// fill reads into buf until it is full or the reader ends (io.EOF) or fails.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// getResultData answers the raw bytes of a result (application/octet-stream) from DownloadResultData,
// with Content-Length and Chorus-Sha256 headers. It holds back one chunk, so that when the gateway
// finds the data corrupt at the end the response is cut short of its Content-Length and the client
// sees a broken transfer rather than complete-looking bad data.
func (s *Server) getResultData(w http.ResponseWriter, r *http.Request, params map[string]string) {
	ctx, cancel, outbound, ok := s.rawDataContext(w, r, chorusv1.ResultService_DownloadResultData_FullMethodName)
	if !ok {
		return
	}
	defer cancel()
	stream, err := chorusv1.NewResultServiceClient(s.conn).DownloadResultData(ctx,
		&chorusv1.DownloadResultDataRequest{SessionId: params["session_id"], ResultId: params["result_id"]})
	if err != nil {
		runtime.HTTPError(ctx, s.gwmux, outbound, w, r, err)
		return
	}
	first, err := stream.Recv()
	header, _ := stream.Header()
	if err != nil && !errors.Is(err, io.EOF) {
		ctx = runtime.NewServerMetadataContext(ctx, runtime.ServerMetadata{HeaderMD: header, TrailerMD: stream.Trailer()})
		runtime.HTTPError(ctx, s.gwmux, outbound, w, r, err)
		return
	}
	for k, vs := range header {
		if name, ok := outgoingHeader(k); ok && k != sizeHeader {
			for _, v := range vs {
				w.Header().Add(name, v)
			}
		}
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	sized := false
	if v := header.Get(sizeHeader); len(v) > 0 {
		if _, perr := strconv.ParseInt(v[0], 10, 64); perr == nil {
			w.Header().Set("Content-Length", v[0])
			sized = true
		}
	}
	w.WriteHeader(http.StatusOK)
	if errors.Is(err, io.EOF) {
		return
	}
	pending := first.GetData()
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			_, _ = w.Write(pending)
			return
		}
		if err != nil {
			s.log.Warn("result download over REST failed after the status was sent; cutting the response short",
				"session_id", params["session_id"], "result_id", params["result_id"], "error", errText(err))
			if !sized {
				panic(http.ErrAbortHandler) // no Content-Length: abort so the client sees a broken transfer
			}
			return
		}
		if _, werr := w.Write(pending); werr != nil {
			return // the client went away
		}
		pending = msg.GetData()
	}
}
