"""The Worker: handler registry, and the connection that serves one stream to the agent."""

from __future__ import annotations

import asyncio
import inspect
import collections
import itertools
import logging
import os
import queue
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

import grpc

from chorus import __version__
from chorus.worker._context import AsyncContext, Context, _BaseContext, as_bytes
from chorus.worker._tracing import Tracing
from chorus.worker.errors import AgentError, Cancelled, PermanentError, RetryableError, WorkerError
from chorus.worker.v1 import worker_pb2 as pb
from chorus.worker.v1 import worker_service_pb2_grpc as pb_grpc

ENV_SOCKET = "CHORUS_AGENT_SOCKET"
ENV_TOKEN = "CHORUS_WORKER_TOKEN"
ENV_CAPACITY = "CHORUS_WORKER_CAPACITY"

#: Largest message on the stream (inline data is far smaller; files carry the rest).
MAX_MESSAGE_BYTES = 64 << 20
#: TaskFailed messages are cut to this many bytes (the agent keeps no more).
MAX_ERROR_BYTES = 4096
#: Part of a Drain's grace period kept to report the tasks cancelled when it runs out.
DRAIN_MARGIN = 0.2
#: How long a drained worker waits for the agent to close the stream.
DRAIN_CLOSE_WAIT = 10.0
#: Bounds of one RequestBatch (what is queued beyond them goes in the next write).
MAX_BATCH_MESSAGES = 512
MAX_BATCH_BYTES = 4 << 20

log = logging.getLogger("chorus.worker")

Handler = Callable[[Any], Any]


@dataclass
class _Method:
    fn: Handler
    is_async: bool


class Worker:
    """A Chorus worker: register a handler per method, then :meth:`run`.

    A handler takes one argument, ``ctx`` (:class:`~chorus.worker.Context` for ``def`` handlers,
    :class:`~chorus.worker.AsyncContext` for ``async def`` ones) and returns the task's output: bytes
    (or str, sent as UTF-8) for a task with one expected output, a dict result id → bytes for several,
    or None when it completes no output itself (e.g. it handed its output to a subtask). A value may
    also be an ``os.PathLike`` naming a file the handler wrote under ``ctx.output_dir``.

    ``capacity`` is how many tasks run at once; None reads ``CHORUS_WORKER_CAPACITY`` (default 1).
    ``async def`` handlers run concurrently on one event loop, ``def`` handlers on a pool of
    ``capacity`` threads. With an agent that accepts batches, the outcomes ready at the same moment
    travel as one message, and so do the tasks the agent has ready: short tasks are best served with
    a capacity of several per process.
    """

    def __init__(self, capacity: Optional[int] = None, *, language: str = "python"):
        if capacity is not None and capacity < 1:
            raise ValueError(f"worker capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.language = language
        self._methods: dict[str, _Method] = {}

    def method(self, name: Optional[str] = None) -> Callable[[Handler], Handler]:
        """Decorator registering a handler for method ``name`` (default: the function's name)."""

        def register(fn: Handler) -> Handler:
            self.add_method(name or fn.__name__, fn)
            return fn

        return register

    def add_method(self, name: str, fn: Handler) -> None:
        """Register ``fn`` as the handler of method ``name``."""
        if not name:
            raise ValueError("a method needs a name")
        if name in self._methods:
            raise ValueError(f"method {name!r} is already registered")
        self._methods[name] = _Method(fn, inspect.iscoroutinefunction(fn))

    @property
    def methods(self) -> list[str]:
        return sorted(self._methods)

    def run(self) -> None:
        """Serve the agent that launched this process, as a program's main loop.

        Reads ``CHORUS_AGENT_SOCKET`` and ``CHORUS_WORKER_TOKEN`` (and ``CHORUS_WORKER_CAPACITY``),
        connects, serves until the agent drains the worker or ends the stream, and returns. On an error
        it prints what went wrong to stderr and exits with status 2 (cannot start) or 1 (stream broke).
        SIGTERM and SIGINT cancel running tasks (reported as retryable), then the worker leaves.
        """
        if not logging.getLogger().handlers:
            logging.basicConfig(level=os.environ.get("CHORUS_LOG_LEVEL", "INFO").upper(), stream=sys.stderr,
                                format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        try:
            socket_path, token, capacity = settings_from_env(self.capacity)
            asyncio.run(self.serve_async(socket_path, token, capacity=capacity, handle_signals=True))
        except _StartError as e:
            print(f"chorus worker: {e}", file=sys.stderr)
            sys.exit(2)
        except WorkerError as e:
            print(f"chorus worker: {e}", file=sys.stderr)
            sys.exit(1)

    def serve(self, socket_path: str, token: str, *, capacity: Optional[int] = None) -> None:
        """Blocking form of :meth:`serve_async`."""
        asyncio.run(self.serve_async(socket_path, token, capacity=capacity))

    async def serve_async(self, socket_path: str, token: str, *, capacity: Optional[int] = None,
                          handle_signals: bool = False, stop: Optional[asyncio.Event] = None) -> None:
        """Connect to the agent on Unix socket ``socket_path``, say hello with ``token``, serve tasks.

        Returns once the agent drained the worker or ended the stream, or ``stop`` is set (running
        tasks are then cancelled). Raises :class:`WorkerError` if the agent cannot be reached, refuses
        the worker, or the stream breaks.
        """
        cap = capacity or self.capacity or 1
        if cap < 1:
            raise _StartError(f"worker capacity must be at least 1, got {cap}")
        if not self._methods:
            raise _StartError("no method is registered: add handlers with @worker.method(...) before serving")
        if not os.path.exists(socket_path):
            raise _StartError(f"the agent's socket {socket_path} does not exist: is the agent running, and is "
                              f"{ENV_SOCKET} the path it gave this worker?")
        opts = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)]
        tracing = Tracing()
        async with grpc.aio.insecure_channel("unix:" + socket_path, options=opts) as channel:
            conn = _Connection(self, pb_grpc.WorkerServiceStub(channel), socket_path, token, cap)
            conn.tracing = tracing
            loop = asyncio.get_running_loop()
            if handle_signals:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(sig, conn.stop, f"the worker received {signal.Signals(sig).name}")
            watcher = None
            if stop is not None:
                async def watch() -> None:
                    await stop.wait()
                    conn.stop("the worker was stopped")
                watcher = loop.create_task(watch())
            try:
                await conn.run()
            finally:
                tracing.shutdown()
                if watcher is not None:
                    watcher.cancel()
                if handle_signals:
                    for sig in (signal.SIGTERM, signal.SIGINT):
                        loop.remove_signal_handler(sig)


class _StartError(WorkerError):
    """The worker cannot start (settings, socket)."""


def settings_from_env(capacity: Optional[int] = None, env: Optional[Mapping[str, str]] = None) -> tuple[str, str, int]:
    """Read the socket path, token and capacity the agent put in the environment."""
    env = os.environ if env is None else env
    socket_path = env.get(ENV_SOCKET, "")
    token = env.get(ENV_TOKEN, "")
    missing = [n for n, v in ((ENV_SOCKET, socket_path), (ENV_TOKEN, token)) if not v]
    if missing:
        raise _StartError(f"{' and '.join(missing)} not set: a Chorus worker is started by the agent, which "
                          f"sets them (to run one by hand, set {ENV_SOCKET} to the agent's worker socket and "
                          f"{ENV_TOKEN} to the token it expects)")
    if capacity is None:
        raw = env.get(ENV_CAPACITY, "1") or "1"
        try:
            capacity = int(raw)
        except ValueError:
            raise _StartError(f"{ENV_CAPACITY}={raw!r} is not a whole number of tasks") from None
    if capacity < 1:
        raise _StartError(f"{ENV_CAPACITY} must be at least 1, got {capacity}")
    return socket_path, token, capacity


@dataclass
class _Running:
    ctx: Optional[_BaseContext] = None
    #: The coroutine running an ``async def`` handler's task.
    task: Optional[asyncio.Task] = None
    #: Done once a ``def`` handler's task has been reported.
    done: Optional[asyncio.Future] = None
    cancel_reason: Optional[str] = None
    in_handler_async: bool = False
    span: Any = None

    def waitable(self) -> Optional[asyncio.Future]:
        return self.task if self.task is not None else self.done


def _failed(task_id: str, message: str, retryable: bool) -> pb.ConnectRequest:
    raw = message.encode("utf-8")
    if len(raw) > MAX_ERROR_BYTES:
        message = raw[:MAX_ERROR_BYTES].decode("utf-8", errors="ignore")
    return pb.ConnectRequest(task_failed=pb.TaskFailed(task_id=task_id, message=message, retryable=retryable))


def _message(e: BaseException) -> str:
    return str(e) or type(e).__name__


class _Connection:
    """One stream to the agent: the reader loop, the single writer, the running tasks."""

    def __init__(self, worker: Worker, stub: pb_grpc.WorkerServiceStub, socket_path: str, token: str, capacity: int):
        self.worker = worker
        self.stub = stub
        self.socket_path = socket_path
        self.token = token
        self.capacity = capacity
        self.loop = asyncio.get_running_loop()
        # Messages for the agent, written by one coroutine; None half-closes the stream.
        self.out: collections.deque[Optional[pb.ConnectRequest]] = collections.deque()
        self._out_waiter: Optional[asyncio.Future] = None
        #: The agent accepts batches (Welcome.accepts_batches).
        self.batches = False
        self.sem = asyncio.Semaphore(capacity)
        self.handlers = _HandlerThreads(self, capacity)
        self.running: dict[str, _Running] = {}
        self.calls: dict[str, asyncio.Future] = {}
        self.call_seq = itertools.count(1)
        self.inline_limit = 0
        self.work_dir = ""
        self.draining = False
        self.closing = False
        self.call: Any = None
        self._drain_task: Optional[asyncio.Task] = None
        self._loop_thread = threading.get_ident()
        self.tracing: Optional[Tracing] = None

    # Sending ----------------------------------------------------------------------------------------
    def send(self, msg: Optional[pb.ConnectRequest]) -> None:
        """Queue a message for the agent (on the loop's thread); None half-closes the stream after it."""
        self.out.append(msg)
        w = self._out_waiter
        if w is not None:
            self._out_waiter = None
            if not w.done():
                w.set_result(None)

    def send_threadsafe(self, msg: pb.ConnectRequest) -> None:
        if threading.get_ident() == self._loop_thread:
            self.send(msg)
        else:
            self.loop.call_soon_threadsafe(self.send, msg)

    async def _writer(self) -> None:
        """Writes queued messages in order. With batches, everything queued when the writer gets to it
        goes in one RequestBatch: it never waits for more."""
        out = self.out
        while True:
            if not out:
                self._out_waiter = self.loop.create_future()
                await self._out_waiter
                continue
            msg = out.popleft()
            if msg is None:
                await self.call.done_writing()
                return
            if self.batches and out and out[0] is not None:
                msgs = [msg]
                size = msg.ByteSize()
                while out and out[0] is not None and len(msgs) < MAX_BATCH_MESSAGES:
                    size += out[0].ByteSize()
                    if size > MAX_BATCH_BYTES:
                        break
                    msgs.append(out.popleft())
                if len(msgs) > 1:
                    msg = pb.ConnectRequest(batch=pb.RequestBatch(messages=msgs))
            await self.call.write(msg)

    def data_message(self, data: bytes, output_dir: str) -> pb.Data:
        """Inline data up to the agent's inline limit, else a file in the task's output folder."""
        if self.inline_limit <= 0 or len(data) <= self.inline_limit:
            return pb.Data(inline=data)
        folder = output_dir or self.work_dir or None
        fd, path = tempfile.mkstemp(prefix="out-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        except OSError as e:
            raise OSError(f"cannot write {len(data)} bytes of output to {path}: {e.strerror}") from e
        return pb.Data(path=path)

    # Calls to the agent -----------------------------------------------------------------------------
    async def _call(self, build: Callable[[str], pb.ConnectRequest]) -> pb.ConnectResponse:
        if self.closing:
            raise AgentError("the worker's stream to the agent is closing; it takes no more requests")
        call_id = str(next(self.call_seq))
        fut = self.loop.create_future()
        self.calls[call_id] = fut
        try:
            self.send(build(call_id))
            return await fut
        finally:
            self.calls.pop(call_id, None)

    async def create_results(self, task_id: str, results: list[pb.NewResult]) -> list[str]:
        r = await self._call(lambda cid: pb.ConnectRequest(create_results=pb.CreateResults(
            call_id=cid, task_id=task_id, results=results)))
        reply = r.create_results_reply
        if reply.error:
            raise AgentError(f"the agent refused to create results: {reply.error}")
        return list(reply.result_ids)

    async def submit_tasks(self, task_id: str, tasks: list[pb.Subtask]) -> list[str]:
        r = await self._call(lambda cid: pb.ConnectRequest(submit_tasks=pb.SubmitTasks(
            call_id=cid, task_id=task_id, tasks=tasks)))
        reply = r.submit_tasks_reply
        if reply.error:
            raise AgentError(f"the agent refused to submit subtasks: {reply.error}")
        return list(reply.task_ids)

    def call_threadsafe(self, coro: Any) -> Any:
        """Run a call coroutine on the connection's loop from a handler thread and wait for its answer."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    # Main loop --------------------------------------------------------------------------------------
    async def run(self) -> None:
        where = f"the agent at unix:{self.socket_path}"
        self.call = self.stub.Connect()
        writer: Optional[asyncio.Task] = None
        try:
            await self.call.write(pb.ConnectRequest(hello=pb.Hello(
                token=self.token, language=self.worker.language, sdk_version=__version__,
                methods=self.worker.methods, capacity=self.capacity, pid=os.getpid(), accepts_batches=True)))
            first = await self.call.read()
        except grpc.aio.AioRpcError as e:
            raise self._refused(where, e) from None
        except asyncio.InvalidStateError:
            raise self._refused(where, None) from None
        if first is grpc.aio.EOF:
            raise WorkerError(f"{where} closed the stream without welcoming this worker")
        if first.WhichOneof("message") != "welcome":
            raise WorkerError(f"{where} answered hello with {first.WhichOneof('message')!r}, not welcome: "
                              "is it a Chorus agent of a compatible version?")
        self.inline_limit = first.welcome.inline_limit_bytes
        self.work_dir = first.welcome.work_dir
        self.batches = first.welcome.accepts_batches
        log.debug("connected to agent %s as worker %s (capacity %d)", first.welcome.agent_id,
                  first.welcome.worker_id, self.capacity)
        writer = self.loop.create_task(self._writer())
        error: Optional[BaseException] = None
        try:
            await self._read_loop()
        except grpc.aio.AioRpcError as e:
            if not (self.draining or self.closing):
                error = WorkerError(f"the stream to {where} broke: {e.code().name}: {e.details()}")
        except asyncio.CancelledError:
            if not (self.draining or self.closing):
                raise
        finally:
            self.closing = True
            await self._shutdown(writer)
        if error is not None:
            raise error

    def _refused(self, where: str, e: Optional[grpc.aio.AioRpcError]) -> WorkerError:
        if e is None:
            return WorkerError(f"cannot open a stream to {where}")
        code = e.code()
        if code == grpc.StatusCode.UNAVAILABLE:
            return _StartError(f"cannot reach {where}: {e.details()}")
        if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
            return _StartError(f"{where} refused this worker ({e.details()}): check {ENV_TOKEN}")
        return _StartError(f"{where} refused this worker: {code.name}: {e.details()}")

    async def _read_loop(self) -> None:
        while True:
            msg = await self.call.read()
            if msg is grpc.aio.EOF:
                if not self.draining:
                    log.info("the agent ended the stream; the worker stops")
                return
            if msg.WhichOneof("message") == "batch":
                for m in msg.batch.messages:
                    self._handle(m)
                self.handlers.flush()
            else:
                self._handle(msg)
                self.handlers.flush()

    def _handle(self, msg: pb.ConnectResponse) -> None:
        kind = msg.WhichOneof("message")
        if kind == "assign_task":
            self._assign(msg.assign_task)
        elif kind == "cancel_task":
            self._cancel(msg.cancel_task.task_id, msg.cancel_task.reason or "cancelled by the agent")
        elif kind == "create_results_reply":
            self._reply(msg.create_results_reply.call_id, msg)
        elif kind == "submit_tasks_reply":
            self._reply(msg.submit_tasks_reply.call_id, msg)
        elif kind == "ping":
            self.send(pb.ConnectRequest(pong=pb.Pong(nonce=msg.ping.nonce)))
        elif kind == "drain":
            grace = msg.drain.grace.ToTimedelta().total_seconds() if msg.drain.HasField("grace") else None
            self._drain(grace)
        else:
            log.warning("ignoring a message of kind %r from the agent", kind)

    def _reply(self, call_id: str, msg: pb.ConnectResponse) -> None:
        fut = self.calls.pop(call_id, None)
        if fut is not None and not fut.done():
            fut.set_result(msg)

    def stop(self, reason: str) -> None:
        """Stop locally (signal or caller): cancel running tasks, report them, leave the stream."""
        if self.closing:
            return
        log.info("%s: cancelling %d running task(s) and leaving", reason, len(self.running))
        self._drain(0.0, reason)

    # Drain ------------------------------------------------------------------------------------------
    def _drain(self, grace: Optional[float], reason: Optional[str] = None) -> None:
        if self.draining and grace != 0.0:
            return
        first = not self.draining
        self.draining = True
        if first:
            log.info("draining: finishing %d running task(s)%s", len(self.running),
                     "" if grace is None else f" within {grace:.1f}s")
        if grace == 0.0:
            for tid in list(self.running):
                self._cancel(tid, reason or "the worker is stopping")
        if first:
            self._drain_task = self.loop.create_task(self._finish_drain(grace))

    async def _finish_drain(self, grace: Optional[float]) -> None:
        tasks = [w for r in self.running.values() if (w := r.waitable()) is not None]
        if tasks:
            timeout = None if grace is None else max(grace * (1 - DRAIN_MARGIN), grace - 1.0, 0.0)
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            if pending:
                for tid in list(self.running):
                    self._cancel(tid, f"the worker is draining and its grace period of {grace:.1f}s ran out")
                await asyncio.wait(pending)
        # Everything is reported: half-close the stream; the agent answers by closing its side. An
        # agent that does not (it died) is left after a while.
        self.send(None)
        await asyncio.sleep(DRAIN_CLOSE_WAIT)
        if self.call is not None and not self.call.done():
            log.warning("the agent did not close the stream %.0fs after the worker drained; leaving", DRAIN_CLOSE_WAIT)
            self.call.cancel()

    # Tasks ------------------------------------------------------------------------------------------
    def _assign(self, a: pb.AssignTask) -> None:
        if a.task_id in self.running:
            log.warning("the agent assigned task %s twice; ignoring the second", a.task_id)
            return
        r = _Running()
        self.running[a.task_id] = r
        m = self.worker._methods.get(a.method)
        if m is None or m.is_async:
            r.task = self.loop.create_task(self._run_task(a, r))
            return
        # A def handler runs on a handler thread, without a coroutine of its own: the thread hands the
        # outcome back through _finish_sync.
        r.span = self.tracing.start(a) if self.tracing is not None else None
        r.done = self.loop.create_future()
        ctx = Context(self, a)
        r.ctx = ctx
        self.handlers.submit(m.fn, a, ctx, r)

    def _finish_sync(self, a: pb.AssignTask, r: _Running, msg: pb.ConnectRequest) -> None:
        """Report a def handler's outcome (on the loop's thread)."""
        if r.span is not None:
            self.tracing.end(r.span, msg.task_failed.message if msg.WhichOneof("message") == "task_failed" else None)
        self.running.pop(a.task_id, None)
        self.send(msg)
        if r.done is not None and not r.done.done():
            r.done.set_result(None)

    def _cancel(self, task_id: str, reason: str) -> None:
        r = self.running.get(task_id)
        if r is None:
            return
        if r.cancel_reason is None:
            r.cancel_reason = reason
        if r.ctx is not None:
            r.ctx._cancel(reason)
        if r.in_handler_async and r.task is not None:
            r.task.cancel()

    async def _run_task(self, a: pb.AssignTask, r: _Running) -> None:
        span = self.tracing.start(a) if self.tracing is not None else None
        try:
            async with self.sem:
                msg = await self._execute(a, r)
        except Exception as e:  # a bug of the SDK: report it rather than hang the agent
            log.exception("internal error running task %s", a.task_id)
            msg = _failed(a.task_id, f"worker SDK error: {_message(e)}", True)
        if span is not None:
            self.tracing.end(span, msg.task_failed.message if msg.WhichOneof("message") == "task_failed" else None)
        del self.running[a.task_id]
        self.send(msg)

    async def _execute(self, a: pb.AssignTask, r: _Running) -> pb.ConnectRequest:
        m = self.worker._methods.get(a.method)
        if m is None:
            return _failed(a.task_id, f"this worker does not serve method {a.method!r} (it serves: "
                                      f"{', '.join(self.worker.methods)})", False)
        if r.cancel_reason is not None:
            return _failed(a.task_id, "cancelled: " + r.cancel_reason, True)
        if m.is_async:
            ctx: _BaseContext = AsyncContext(self, a)
            r.ctx = ctx
            r.in_handler_async = True
            try:
                result = await m.fn(ctx)
            except asyncio.CancelledError:
                if r.cancel_reason is None:
                    raise
                task = asyncio.current_task()
                if hasattr(task, "uncancel"):  # Python 3.11+
                    task.uncancel()
                return _failed(a.task_id, "cancelled: " + r.cancel_reason, True)
            except BaseException as e:
                return self._from_exception(a, ctx, e)
            finally:
                r.in_handler_async = False
            if ctx.cancelled.is_set():
                return _failed(a.task_id, "cancelled: " + (ctx.cancel_reason or ""), True)
            if self.inline_limit > 0 and _size(result) > self.inline_limit:
                return await asyncio.to_thread(self._completed, a, ctx, result)
            return self._completed(a, ctx, result)
        raise AssertionError("def handlers run on the handler threads")  # pragma: no cover

    def _run_sync(self, fn: Handler, a: pb.AssignTask, ctx: Context) -> pb.ConnectRequest:
        if ctx.cancelled.is_set():
            return _failed(a.task_id, "cancelled: " + (ctx.cancel_reason or ""), True)
        try:
            result = fn(ctx)
        except BaseException as e:
            return self._from_exception(a, ctx, e)
        if ctx.cancelled.is_set():
            return _failed(a.task_id, "cancelled: " + (ctx.cancel_reason or ""), True)
        return self._completed(a, ctx, result)

    def _from_exception(self, a: pb.AssignTask, ctx: _BaseContext, e: BaseException) -> pb.ConnectRequest:
        if ctx.cancelled.is_set():
            return _failed(a.task_id, "cancelled: " + (ctx.cancel_reason or ""), True)
        if isinstance(e, Cancelled):
            return _failed(a.task_id, "cancelled: " + _message(e), True)
        if isinstance(e, RetryableError):
            return _failed(a.task_id, _message(e), True)
        if not isinstance(e, Exception):  # SystemExit, KeyboardInterrupt: not the task's fault
            return _failed(a.task_id, f"the handler of {a.method} stopped the worker: {type(e).__name__}", True)
        log.debug("task %s (%s) failed", a.task_id, a.method, exc_info=e)
        # Any exception is retried (up to the task's max_retries) unless marked permanent.
        return _failed(a.task_id, _message(e), not isinstance(e, PermanentError))

    def _completed(self, a: pb.AssignTask, ctx: _BaseContext, result: Any) -> pb.ConnectRequest:
        try:
            outputs = self._outputs(a, result)
        except (TypeError, ValueError) as e:
            return _failed(a.task_id, f"the handler of {a.method} returned {e}", False)
        except OSError as e:
            return _failed(a.task_id, str(e), True)
        return pb.ConnectRequest(task_completed=pb.TaskCompleted(task_id=a.task_id, outputs=outputs))

    def _outputs(self, a: pb.AssignTask, result: Any) -> list[pb.Output]:
        if result is None:
            return []
        expected = a.expected_output_ids
        if not isinstance(result, Mapping):
            if len(expected) != 1:
                raise ValueError(f"one value but the task expects {len(expected)} outputs ({', '.join(expected)}): "
                                 "return a dict result_id -> bytes, or None")
            result = {expected[0]: result}
        outs = []
        for rid, value in result.items():
            if rid not in expected:
                raise ValueError(f"output {rid!r}, which is not an expected output of the task "
                                 f"(expected: {', '.join(expected) or 'none'})")
            if isinstance(value, os.PathLike):
                data = pb.Data(path=os.path.abspath(os.fspath(value)))
            else:
                data = self.data_message(as_bytes(value, f"output {rid!r}"), a.output_dir)
            outs.append(pb.Output(result_id=rid, data=data))
        return outs

    # Shutdown ---------------------------------------------------------------------------------------
    async def _shutdown(self, writer: Optional[asyncio.Task]) -> None:
        for tid in list(self.running):
            self._cancel(tid, "the stream to the agent ended")
        for fut in list(self.calls.values()):
            if not fut.done():
                fut.set_exception(AgentError("the stream to the agent ended before it answered"))
        tasks = [w for r in self.running.values() if (w := r.waitable()) is not None]
        if tasks:
            await asyncio.wait(tasks)
        if writer is not None and not writer.done():
            writer.cancel()
            try:
                await writer
            except (asyncio.CancelledError, grpc.aio.AioRpcError, asyncio.InvalidStateError):
                pass
        if self._drain_task is not None:
            self._drain_task.cancel()
        self.call.cancel()
        self.handlers.shutdown()


class _HandlerThreads:
    """Runs ``def`` handlers on up to ``capacity`` threads, started as needed.

    Tasks assigned while the reader handles one message (or one batch) are handed over together by
    :meth:`flush`; outcomes go back to the loop in a deque, and the loop is woken once for all the
    outcomes that are ready, not once per task.
    """

    def __init__(self, conn: _Connection, capacity: int):
        self.conn = conn
        self.capacity = capacity
        self.jobs: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        self.pending: list[Any] = []
        self.idle = threading.Semaphore(0)
        self.threads: list[threading.Thread] = []
        self.results: collections.deque = collections.deque()
        self.wake_pending = False
        self.closed = False

    def submit(self, fn: Handler, a: pb.AssignTask, ctx: Context, r: _Running) -> None:
        self.pending.append((fn, a, ctx, r))

    def flush(self) -> None:
        """Hand the tasks submitted since the last flush to the threads."""
        if not self.pending:
            return
        jobs, self.pending = self.pending, []
        for job in jobs:
            if not self.idle.acquire(blocking=False) and len(self.threads) < self.capacity:
                t = threading.Thread(target=self._work, name=f"chorus-handler-{len(self.threads)}", daemon=True)
                self.threads.append(t)
                t.start()
            self.jobs.put(job)

    def _work(self) -> None:
        conn, jobs, results = self.conn, self.jobs, self.results
        while True:
            job = jobs.get()
            if job is None:
                return
            fn, a, ctx, r = job
            try:
                msg = conn._run_sync(fn, a, ctx)
            except BaseException as e:  # a bug of the SDK: report it rather than hang the agent
                log.exception("internal error running task %s", a.task_id)
                msg = _failed(a.task_id, f"worker SDK error: {_message(e)}", True)
            results.append((a, r, msg))
            # The outcome is in the deque before the flag is read: the loop clears the flag before it
            # empties the deque, so no outcome is left behind.
            if not self.wake_pending:
                self.wake_pending = True
                try:
                    conn.loop.call_soon_threadsafe(self._deliver)
                except RuntimeError:  # the loop is closed: the worker is gone
                    return
            self.idle.release()

    def _deliver(self) -> None:
        self.wake_pending = False
        results, finish = self.results, self.conn._finish_sync
        while results:
            a, r, msg = results.popleft()
            finish(a, r, msg)

    def shutdown(self) -> None:
        self.closed = True
        for _ in self.threads:
            self.jobs.put(None)


def _size(result: Any) -> int:
    if result is None or isinstance(result, os.PathLike):
        return 0
    if isinstance(result, Mapping):
        return sum(_size(v) for v in result.values())
    try:
        return len(result)
    except TypeError:
        return 0
