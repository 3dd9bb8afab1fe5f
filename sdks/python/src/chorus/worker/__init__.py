"""Chorus worker SDK: serve methods to a Chorus agent.

A worker is a program the agent launches; it registers a handler per method and calls
:meth:`Worker.run`, which dials the agent's Unix socket (``CHORUS_AGENT_SOCKET``), says hello and runs the
tasks it is given::

    from chorus.worker import Worker

    worker = Worker()

    @worker.method("upper")
    def upper(ctx):
        ctx.progress(0.5, "halfway")
        return ctx.payload.upper()

    if __name__ == "__main__":
        worker.run()

Handlers may be ``async def``; they then get an :class:`AsyncContext` whose agent calls are awaited.
See :class:`Context` for what ``ctx`` offers, and :mod:`chorus.worker.testing` to run handlers against
a local agent in tests.
"""

from chorus.worker._context import AsyncContext, Context, Inputs, Subtask, TaskOptions
from chorus.worker._worker import ENV_CAPACITY, ENV_SOCKET, ENV_TOKEN, Worker, settings_from_env
from chorus.worker.errors import AgentError, Cancelled, PermanentError, RetryableError, WorkerError

__all__ = [
    "Worker", "Context", "AsyncContext", "Inputs", "Subtask", "TaskOptions",
    "RetryableError", "PermanentError", "Cancelled", "AgentError", "WorkerError",
    "ENV_SOCKET", "ENV_TOKEN", "ENV_CAPACITY", "settings_from_env",
]
