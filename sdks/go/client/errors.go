package client

import (
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error is an error from the gateway: the operation that failed, the gRPC code and the server's
// message. status.Code(err) works on it.
type Error struct {
	Op      string
	Code    codes.Code
	Message string
	st      *status.Status
}

func (e *Error) Error() string {
	return fmt.Sprintf("chorus: %s: %s", e.Op, e.Message)
}

// GRPCStatus lets status.FromError and status.Code see the gateway's status.
func (e *Error) GRPCStatus() *status.Status { return e.st }

// IsNotFound reports whether err says a session, task or result does not exist.
func IsNotFound(err error) bool { return status.Code(err) == codes.NotFound }

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("chorus: %s: %w", op, err)
	}
	msg := st.Message()
	switch st.Code() {
	case codes.Unavailable:
		msg = "gateway unreachable or unavailable (" + msg + ")"
	case codes.DeadlineExceeded:
		msg = "deadline exceeded (" + msg + ")"
	}
	return &Error{Op: op, Code: st.Code(), Message: msg, st: st}
}
