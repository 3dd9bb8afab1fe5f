package store

import (
	"errors"
	"fmt"
)

// Code classifies a store error; the gateway maps each to one gRPC code.
type Code int

const (
	// CodeUnknown is an unexpected failure (server unreachable, bug): gRPC INTERNAL/UNAVAILABLE.
	CodeUnknown Code = iota
	// CodeNotFound: a named session, task or result does not exist.
	CodeNotFound
	// CodeAlreadyExists: an id given by the client is taken.
	CodeAlreadyExists
	// CodeFailedPrecondition: the request is valid but the state forbids it (closed session, missing
	// dependency, result already completed, ...).
	CodeFailedPrecondition
	// CodeResourceExhausted: a limit was reached (queue depth, sizes).
	CodeResourceExhausted
	// CodeInvalidArgument: the request itself is wrong in a way only the store can see.
	CodeInvalidArgument
	// CodeLeaseLost: an agent's lease is no longer its own (expired, taken back, task finished).
	CodeLeaseLost
	// CodeUnavailable: the backing server did not answer (timeout, connection lost, failing over):
	// the operation may or may not have been applied; retrying an idempotent one is safe.
	CodeUnavailable
	// CodeMisconfigured: the backing server refused the call because of how it is set up (its ACL
	// does not let Chorus's user run a command or touch a key, or does not accept the user's
	// credentials). Retrying does not help until an operator fixes the setup; the message says what
	// was refused. A refusal inside a script may leave the script's earlier writes applied.
	CodeMisconfigured
)

var codeNames = map[Code]string{
	CodeUnknown:            "unknown",
	CodeNotFound:           "not found",
	CodeAlreadyExists:      "already exists",
	CodeFailedPrecondition: "failed precondition",
	CodeResourceExhausted:  "resource exhausted",
	CodeInvalidArgument:    "invalid argument",
	CodeLeaseLost:          "lease lost",
	CodeUnavailable:        "unavailable",
	CodeMisconfigured:      "misconfigured",
}

func (c Code) String() string { return codeNames[c] }

// Error is a store error with a code and a message a user can act on.
type Error struct {
	Code    Code
	Message string
	// Field names the request field at fault for CodeInvalidArgument, when there is one
	// (e.g. "page_token"); the gateway reports it as a field violation.
	Field string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code.
func Errorf(code Code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of err (CodeUnknown when err is not an *Error).
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeUnknown
}

// IsUnclear reports whether err leaves it unknown whether the operation was applied (no answer from
// the server, or an unexpected failure).
func IsUnclear(err error) bool {
	c := CodeOf(err)
	return err != nil && (c == CodeUnknown || c == CodeUnavailable)
}

// IsNotFound reports whether err has CodeNotFound.
func IsNotFound(err error) bool { return CodeOf(err) == CodeNotFound }

// IsLeaseLost reports whether err has CodeLeaseLost.
func IsLeaseLost(err error) bool { return CodeOf(err) == CodeLeaseLost }
