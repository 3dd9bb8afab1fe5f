package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"buf.build/go/protovalidate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/validate"
)

// requestIDHeader is the metadata key (and, over REST, the X-Request-Id header) carrying a call's
// request id: taken from the client when it sends a sane one, otherwise made up, and sent back.
const requestIDHeader = "x-request-id"

type requestIDKey struct{}

func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// incomingRequestID returns the client's request id when it is short and plain, else a new one.
func incomingRequestID(ctx context.Context) string {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get(requestIDHeader); len(v) > 0 && validate.Token(v[0], 64) {
			return v[0]
		}
	}
	return store.NewID()
}

// entryUnary gives every call a request id, turns panics into INTERNAL, maps errors to statuses (the
// one place, errors.go) and logs the outcome.
func (s *Server) entryUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	id := incomingRequestID(ctx)
	ctx = context.WithValue(ctx, requestIDKey{}, id)
	_ = grpc.SetHeader(ctx, metadata.Pairs(requestIDHeader, id))
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout) // an earlier client deadline still wins
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
		err = toStatus(ctx, s.log, info.FullMethod, err)
		s.logCall(ctx, info.FullMethod, start, err)
	}()
	return handler(ctx, req)
}

// entryStream is entryUnary for streams.
func (s *Server) entryStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	id := incomingRequestID(ss.Context())
	ctx := context.WithValue(ss.Context(), requestIDKey{}, id)
	_ = ss.SetHeader(metadata.Pairs(requestIDHeader, id))
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
		err = toStatus(ctx, s.log, info.FullMethod, err)
		s.logCall(ctx, info.FullMethod, start, err)
	}()
	return handler(srv, &ctxStream{ServerStream: ss, ctx: ctx})
}

func (s *Server) logCall(ctx context.Context, method string, start time.Time, err error) {
	code := status.Code(err)
	level := slog.LevelDebug
	if code != codes.OK {
		level = slog.LevelInfo
	}
	s.log.Log(ctx, level, "rpc", "method", method, "code", code.String(), "duration", time.Since(start),
		"request_id", requestIDFrom(ctx), "error", errText(err))
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return status.Convert(err).Message()
}

// validateUnary checks a request against the contract's protovalidate rules before any handler runs.
func (s *Server) validateUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// validateStream checks every message a stream receives.
func (s *Server) validateStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, &validatingStream{ServerStream: ss, s: s})
}

func (s *Server) validate(msg any) error {
	m, ok := msg.(proto.Message)
	if !ok {
		return nil
	}
	return validationStatus(s.validator, m)
}

// validationStatus returns nil for a valid message, INVALID_ARGUMENT naming every violated field
// otherwise.
func validationStatus(v protovalidate.Validator, m proto.Message) error {
	err := v.Validate(m)
	if err == nil {
		return nil
	}
	var verr *protovalidate.ValidationError
	if errors.As(err, &verr) {
		return invalidArgument(verr)
	}
	// A rule that cannot run (a bug in the contract) is unexpected: INTERNAL via toStatus.
	return fmt.Errorf("validating %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
}

type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (c *ctxStream) Context() context.Context { return c.ctx }

type validatingStream struct {
	grpc.ServerStream
	s *Server
}

func (v *validatingStream) RecvMsg(m any) error {
	if err := v.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return v.s.validate(m)
}
