package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/chorus-hpc/chorus/internal/objstore"
	"github.com/chorus-hpc/chorus/internal/store"
)

// This file is the one place where errors become gRPC statuses. Handlers return store and object-store
// errors as they are (or statuses built by the helpers below); the outermost interceptor passes every
// error through toStatus.

// toStatus maps err to the status the client sees. Unexpected errors are logged with the request id
// and answered INTERNAL without their text; a store misconfiguration is INTERNAL with its text.
func toStatus(ctx context.Context, log *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "the call was cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		log.WarnContext(ctx, "call deadline passed", "request_id", requestIDFrom(ctx), "method", method, "error", err)
		return status.Errorf(codes.DeadlineExceeded, "the call's deadline passed before the gateway could answer (request id %s)", requestIDFrom(ctx))
	case errors.Is(err, objstore.ErrTooLarge):
		return withDetails(codes.ResourceExhausted, err.Error(),
			&errdetails.QuotaFailure{Violations: []*errdetails.QuotaFailure_Violation{{Subject: "MaxResultSize", Description: err.Error()}}})
	case errors.Is(err, objstore.ErrCorrupt):
		var ce *objstore.CorruptError
		if errors.As(err, &ce) {
			return status.Error(codes.DataLoss, ce.Error())
		}
		return status.Error(codes.DataLoss, err.Error())
	}
	var se *store.Error
	if errors.As(err, &se) {
		switch se.Code {
		case store.CodeNotFound:
			return status.Error(codes.NotFound, se.Message)
		case store.CodeAlreadyExists:
			return status.Error(codes.AlreadyExists, se.Message)
		case store.CodeFailedPrecondition:
			return status.Error(codes.FailedPrecondition, se.Message)
		case store.CodeResourceExhausted:
			return status.Error(codes.ResourceExhausted, se.Message)
		case store.CodeInvalidArgument:
			if se.Field != "" {
				return withDetails(codes.InvalidArgument, "invalid request: "+se.Message,
					&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: se.Field, Description: se.Message}}})
			}
			return status.Error(codes.InvalidArgument, se.Message)
		case store.CodeUnavailable:
			id := requestIDFrom(ctx)
			log.WarnContext(ctx, "the store did not answer", "request_id", id, "method", method, "error", err)
			return status.Errorf(codes.Unavailable, "the store did not answer in time (request id %s): retry the call; a submission retried with the same request_id is stored once", id)
		case store.CodeMisconfigured:
			// INTERNAL: the client did nothing wrong and cannot fix it, and retrying fails the same way
			// until an operator does (UNAVAILABLE would be retried forever; FAILED_PRECONDITION means a
			// state the client can change, like a session's). Unlike other internal errors the message
			// is kept: it says what Valkey refused and where the ACL is documented, for the client to
			// pass on; it names a command and a Valkey user, no secret.
			id := requestIDFrom(ctx)
			log.ErrorContext(ctx, "the store's setup refused the call", "request_id", id, "method", method, "error", err)
			return status.Errorf(codes.Internal, "%s (request id %s)", se.Message, id)
		}
	}
	id := requestIDFrom(ctx)
	log.ErrorContext(ctx, "internal error", "request_id", id, "method", method, "error", err)
	return status.Errorf(codes.Internal, "internal error (request id %s)", id)
}

// invalidArgument answers a request that breaks the contract's rules, naming every violated field.
func invalidArgument(verr *protovalidate.ValidationError) error {
	br := &errdetails.BadRequest{}
	msg := "invalid request:"
	for i, v := range verr.Violations {
		field := protovalidate.FieldPathString(v.Proto.GetField())
		desc := v.Proto.GetMessage()
		if desc == "" {
			desc = v.Proto.GetRuleId()
		}
		if field == "" {
			field = "(request)"
		}
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: field, Description: desc})
		if i > 0 {
			msg += ";"
		}
		msg += " " + field + ": " + desc
	}
	return withDetails(codes.InvalidArgument, msg, br)
}

// badField answers INVALID_ARGUMENT for one field the gateway itself checks.
func badField(field, desc string) error {
	return withDetails(codes.InvalidArgument, "invalid request: "+field+": "+desc,
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: desc}}})
}

// overLimit answers RESOURCE_EXHAUSTED for a configured limit, naming it and its value.
func overLimit(limit string, value int64, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return withDetails(codes.ResourceExhausted, msg,
		&errdetails.QuotaFailure{Violations: []*errdetails.QuotaFailure_Violation{{Subject: fmt.Sprintf("%s=%d", limit, value), Description: msg}}})
}

func withDetails(code codes.Code, msg string, details ...protoadapt.MessageV1) error {
	st, err := status.New(code, msg).WithDetails(details...)
	if err != nil {
		return status.Error(code, msg)
	}
	return st.Err()
}

// errShuttingDown ends long-lived streams when the gateway stops; clients reconnect (and resume).
var errShuttingDown = status.Error(codes.Unavailable, "the gateway is shutting down; reconnect (an event watch resumes from the cursor of the last event received)")

// reply ends a handler whose answer is what a store call returned: resp, or the call's error as it is
// (resp is then dropped).
func reply[R any](resp *R, err error) (*R, error) {
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// pageRequest is a List request: a page of resources, filtered by status.
type pageRequest[S ~int32] interface {
	GetPageSize() int32
	GetPageToken() string
	GetStatus() S
}

// listQuery is the store query of a List request.
func listQuery[S ~int32](req pageRequest[S]) store.ListQuery[S] {
	return store.ListQuery[S]{PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(), Status: req.GetStatus()}
}
