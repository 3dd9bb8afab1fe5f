"""Exceptions of the worker SDK."""

from __future__ import annotations


class WorkerError(Exception):
    """The worker cannot start or keep serving: bad settings, an unreachable agent, a broken stream."""


class RetryableError(Exception):
    """Raised by a handler for a transient failure: the agent runs the task again (up to its max_retries).

    Any other exception fails the task for good; its message reaches the client unchanged.
    """


class Cancelled(Exception):
    """Raised inside a handler (by ``ctx.sleep`` or ``ctx.check_cancelled``) once the task is cancelled:
    the agent cancelled it, its max duration ran out, or the worker is draining past its grace period."""


class AgentError(Exception):
    """The agent refused a request made from a handler (creating results or submitting subtasks)."""
