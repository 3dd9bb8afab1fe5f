"""Exceptions of the worker SDK."""

from __future__ import annotations


class WorkerError(Exception):
    """The worker cannot start or keep serving: bad settings, an unreachable agent, a broken stream."""


class RetryableError(Exception):
    """Raised by a handler for a transient failure: the agent runs the task again (up to its max_retries).

    Every exception a handler raises is retryable unless it is a :class:`PermanentError`; this class only
    says so explicitly. The message reaches the client unchanged.
    """


class PermanentError(Exception):
    """Raised by a handler for a failure another attempt cannot fix (bad input): the task fails at once,
    without its remaining retries. The message reaches the client unchanged."""


class Cancelled(Exception):
    """Raised inside a handler (by ``ctx.sleep`` or ``ctx.check_cancelled``) once the task is cancelled:
    the agent cancelled it, its max duration ran out, or the worker is draining past its grace period."""


class AgentError(PermanentError):
    """The agent refused a request made from a handler (creating results or submitting subtasks), e.g.
    because the session is closed; left uncaught, it fails the task for good (a retry is refused too)."""
