package worker

import "errors"

type retryableError struct{ err error }

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Retryable marks err as transient: the agent retries the task (up to its max_retries). Every error a
// handler returns is retryable unless marked with Permanent, so Retryable only says so explicitly (it
// overrides a Permanent mark inside it). Retryable(nil) is nil.
func Retryable(err error) error {
	if err == nil {
		return nil
	}
	return &retryableError{err: err}
}

// Permanent marks err as final: the task fails at once, without its remaining retries (bad input,
// a bug that another attempt cannot fix). Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsRetryable reports whether the agent retries a task that failed with err: true unless err was
// marked with Permanent (and not wrapped again with Retryable).
func IsRetryable(err error) bool {
	for err != nil {
		switch err.(type) {
		case *retryableError:
			return true
		case *permanentError:
			return false
		}
		err = errors.Unwrap(err)
	}
	return true
}
