package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	chorusgw "github.com/chorus-hpc/chorus/gen/chorus/v1"
)

// Routes the generated grpc-gateway code cannot express: raw bytes in and out of a result.
const resultDataPath = "/v1/sessions/{session_id}/results/{result_id}/data"

// restMarshaler is the JSON codec of every REST route: proto3 JSON (lowerCamel names), unknown
// fields refused so that a misspelt field is an error rather than silently ignored.
// A body that does not decode is explained: which field, what it expects, what came (jsonerr.go).
func restMarshaler() restJSON {
	return restJSON{&runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
	}}
}

// incomingHeader forwards the trace context and request id as they are, and the rest as grpc-gateway
// does by default.
func incomingHeader(key string) (string, bool) {
	switch k := strings.ToLower(key); k {
	case "traceparent", "tracestate", requestIDHeader:
		return k, true
	}
	k, ok := runtime.DefaultHeaderMatcher(key)
	if strings.EqualFold(k, restCertKey) {
		return "", false // set by the gateway itself only (restClientCert)
	}
	return k, ok
}

// outgoingHeader sends the gateway's own response metadata as plain headers.
func outgoingHeader(key string) (string, bool) {
	switch key {
	case requestIDHeader, cursorHeader, sizeHeader, sha256Header:
		return textproto.CanonicalMIMEHeaderKey(key), true
	}
	return runtime.MetadataHeaderPrefix + key, true
}

func (s *Server) buildREST() error {
	routes, err := newRouteTable(openAPIDocument)
	if err != nil {
		return err
	}
	s.routes = routes
	s.gwmux = runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, restMarshaler()),
		runtime.WithRoutingErrorHandler(s.routingError),
		runtime.WithErrorHandler(restError),
		runtime.WithIncomingHeaderMatcher(incomingHeader),
		runtime.WithOutgoingHeaderMatcher(outgoingHeader),
		runtime.WithForwardResponseOption(flushStreamStart),
		runtime.WithMetadata(restClientCert),
	)
	ctx := context.Background()
	for _, register := range []func() error{
		func() error { return chorusgw.RegisterSessionServiceHandler(ctx, s.gwmux, s.conn) },
		func() error { return chorusgw.RegisterTaskServiceHandler(ctx, s.gwmux, s.conn) },
		func() error { return chorusgw.RegisterResultServiceHandler(ctx, s.gwmux, s.conn) },
		func() error { return chorusgw.RegisterEventServiceHandler(ctx, s.gwmux, s.conn) },
		func() error { return chorusgw.RegisterPartitionServiceHandler(ctx, s.gwmux, s.conn) },
		// Registered after the generated routes, so these win for the same path.
		func() error { return s.gwmux.HandlePath(http.MethodPut, resultDataPath, s.putResultData) },
		func() error { return s.gwmux.HandlePath(http.MethodGet, resultDataPath, s.getResultData) },
	} {
		if err := register(); err != nil {
			return err
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.cfg.MetricsHandler != nil {
		mux.Handle("GET /metrics", s.cfg.MetricsHandler)
	}
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPIDocument)
	})
	s.handleDashboard(mux, s.limitBody(s.gwmux))
	s.httpServer = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	return nil
}

// flushStreamStart sends the status line and headers of a streamed REST answer (an event watch) as
// soon as the gRPC stream has started, so a client sees its watch is open before the first event.
// grpc-gateway calls forward-response options with a nil message only at the start of a stream; a
// watch that failed before it started (unknown session) sent no cursor header and is answered with
// its error status instead.
func flushStreamStart(ctx context.Context, w http.ResponseWriter, m proto.Message) error {
	if m != nil {
		return nil
	}
	if md, ok := runtime.ServerMetadataFromContext(ctx); !ok || len(md.HeaderMD.Get(cursorHeader)) == 0 {
		return nil
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	return http.NewResponseController(w).Flush()
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("readiness check failed: the store does not answer", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintf(w, "not ready: the store (Valkey) does not answer: %v\n", err)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// limitBody refuses REST bodies over MaxMessageSize with 413, except on the streamed upload routes
// whose size the upload itself limits (MaxResultSize). The body is read here whole (it is at most
// MaxMessageSize), so that a body sent without Content-Length is measured the same way.
func (s *Server) limitBody(next http.Handler) http.Handler {
	limit := int64(s.cfg.MaxMessageSize)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		streamed := r.URL.Path == "/v1/results:upload" ||
			(r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/data"))
		if !streamed && r.Body != nil && r.Body != http.NoBody {
			size := r.ContentLength
			if size <= limit {
				b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
				if err != nil {
					runtime.HTTPError(r.Context(), s.gwmux, restMarshaler(), w, r,
						status.Errorf(codes.InvalidArgument, "reading the request body failed: %v", err))
					return
				}
				size = int64(len(b))
				r.Body = io.NopCloser(bytes.NewReader(b))
			}
			if size > limit {
				what := fmt.Sprintf("%d bytes", size)
				if r.ContentLength < 0 {
					what = fmt.Sprintf("more than %d bytes", limit) // sent without Content-Length: read up to the limit
				}
				err := overLimit("MaxMessageSize", limit, "request body is %s, over the limit of %d bytes (MaxMessageSize)", what, limit)
				runtime.HTTPError(r.Context(), s.gwmux, restMarshaler(), w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
