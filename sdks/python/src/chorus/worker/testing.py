"""A local agent for testing workers: the real worker protocol over a real Unix socket, no Valkey.

:class:`LocalAgent` serves ``chorus.worker.v1.WorkerService`` on a socket in a temporary folder. A
worker (in this process via :meth:`LocalAgent.serve`, or a separate process given :meth:`LocalAgent.env`)
connects; the test then assigns tasks on its :class:`WorkerStream` and reads their outcomes. The agent
answers CreateResults and SubmitTasks itself (ids ``r-1``, ``t-1``, ...) and records them.

>>> from chorus.worker import Worker
>>> from chorus.worker.testing import LocalAgent
>>> worker = Worker(capacity=2)
>>> @worker.method("upper")
... def upper(ctx):
...     ctx.progress(1.0, "done")
...     return ctx.payload.upper()
>>> with LocalAgent() as agent, agent.serve(worker) as stream:
...     outcome = stream.run("upper", b"chorus")
>>> outcome.ok, outcome.output, outcome.progress
(True, b'CHORUS', [(1.0, 'done')])
>>> stream.hello.capacity, stream.hello.language, stream.ended
(2, 'python', True)
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import shutil
import tempfile
import threading
from concurrent import futures
from dataclasses import dataclass, field
from typing import Iterator, Optional, Sequence, Union

import grpc

from chorus.worker.v1 import worker_pb2 as pb
from chorus.worker.v1 import worker_service_pb2_grpc as pb_grpc

__all__ = ["LocalAgent", "WorkerStream", "Outcome"]


@dataclass
class Outcome:
    """How a task ended, as the agent saw it."""

    task_id: str
    ok: bool
    #: Outputs by result id (files already read).
    outputs: dict[str, bytes] = field(default_factory=dict)
    #: For outputs that came as files: result id → path.
    output_paths: dict[str, str] = field(default_factory=dict)
    message: str = ""
    retryable: bool = False
    #: Progress reports, in order: (fraction, message).
    progress: list[tuple[float, str]] = field(default_factory=list)
    #: Results the task created: (result id, data or None).
    created: list[tuple[str, Optional[bytes]]] = field(default_factory=list)
    #: Subtasks it submitted, with the ids the agent gave them.
    subtasks: list[tuple[str, pb.Subtask]] = field(default_factory=list)

    @property
    def output(self) -> bytes:
        """The single output (the task must have exactly one)."""
        if len(self.outputs) != 1:
            raise AssertionError(f"task {self.task_id} has {len(self.outputs)} outputs, not one "
                                 f"(ok={self.ok}, message={self.message!r})")
        return next(iter(self.outputs.values()))


def _read(d: pb.Data) -> tuple[bytes, Optional[str]]:
    if d.WhichOneof("source") == "path":
        with open(d.path, "rb") as f:
            return f.read(), d.path
    return d.inline, None


class WorkerStream:
    """The agent's side of one worker's stream."""

    def __init__(self, agent: "LocalAgent", hello: pb.Hello):
        self.agent = agent
        self.hello = hello
        self._out: "queue.Queue[Optional[pb.ConnectResponse]]" = queue.Queue()
        self._cond = threading.Condition()
        self._live: dict[str, Outcome] = {}
        self._done: dict[str, Outcome] = {}
        #: Task ids in the order they ended.
        self.finished: "queue.Queue[str]" = queue.Queue()
        self.pongs: "queue.Queue[int]" = queue.Queue()
        self.in_flight = 0
        self.max_in_flight = 0
        #: Set to refuse the next CreateResults/SubmitTasks with this error.
        self.refuse_calls: Optional[str] = None
        self.ended = False
        self._ids = itertools.count(1)
        self.protocol_errors: list[str] = []
        #: Messages the worker sent (those of its batches counted one by one), and how many stream
        #: messages carried them (a batch is one).
        self.messages_received = 0
        self.reads = 0
        self._held: Optional[list[pb.ConnectResponse]] = None

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Send what is assigned (cancelled, pinged, ...) inside the block as one ResponseBatch, as the
        agent does with the messages it has ready at once, if the worker accepts batches; else one by
        one when the block ends."""
        self._held = []
        try:
            yield
        finally:
            held, self._held = self._held, None
            if len(held) > 1 and self.hello.accepts_batches:
                self._out.put(pb.ConnectResponse(batch=pb.ResponseBatch(messages=held)))
            else:
                for m in held:
                    self._out.put(m)

    def _send(self, m: pb.ConnectResponse) -> None:
        if self._held is not None:
            self._held.append(m)
        else:
            self._out.put(m)

    # Agent → worker ---------------------------------------------------------------------------------
    def assign(self, method: str, payload: bytes = b"", *, task_id: Optional[str] = None, session_id: str = "s-1",
               inputs: Sequence[tuple[str, bytes]] = (), expected_output_ids: Optional[Sequence[str]] = None,
               options: Optional[dict[str, str]] = None, attempt: int = 1, max_duration: Optional[float] = None,
               traceparent: str = "", partition: str = "test") -> str:
        """Send AssignTask; returns the task id. Data above the inline limit travels as files, as the agent
        sends it. By default the task expects one output, ``<task_id>.out``."""
        task_id = task_id or f"task-{next(self._ids)}"
        out_dir = os.path.join(self.agent.work_dir, "tasks", task_id)
        os.makedirs(out_dir, exist_ok=True)
        a = pb.AssignTask(session_id=session_id, task_id=task_id, method=method,
                          payload=self.agent.data(payload, os.path.join(out_dir, "payload")),
                          expected_output_ids=[f"{task_id}.out"] if expected_output_ids is None else expected_output_ids,
                          options=options or {}, attempt=attempt, traceparent=traceparent,
                          output_dir=out_dir, partition=partition)
        for i, (rid, data) in enumerate(inputs):
            a.inputs.add(result_id=rid, data=self.agent.data(data, os.path.join(out_dir, f"input-{i}")))
        if max_duration is not None:
            a.max_duration.FromNanoseconds(int(max_duration * 1e9))
        with self._cond:
            self._live[task_id] = Outcome(task_id, ok=False)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self._send(pb.ConnectResponse(assign_task=a))
        return task_id

    def cancel(self, task_id: str, reason: str = "cancelled by the client") -> None:
        self._send(pb.ConnectResponse(cancel_task=pb.CancelTask(task_id=task_id, reason=reason)))

    def drain(self, grace: Optional[float] = None) -> None:
        d = pb.Drain()
        if grace is not None:
            d.grace.FromNanoseconds(int(grace * 1e9))
        self._send(pb.ConnectResponse(drain=d))

    def ping(self, nonce: int) -> None:
        self._send(pb.ConnectResponse(ping=pb.Ping(nonce=nonce)))

    def close(self) -> None:
        """End the stream from the agent's side."""
        self._out.put(None)

    # Worker → agent ---------------------------------------------------------------------------------
    def outcome(self, task_id: str, timeout: float = 30.0) -> Outcome:
        """Wait for the task to end and return its outcome."""
        with self._cond:
            if not self._cond.wait_for(lambda: task_id in self._done or self.ended, timeout):
                raise TimeoutError(f"task {task_id} did not end within {timeout}s")
            if task_id not in self._done:
                raise AssertionError(f"the stream ended before task {task_id} did")
            return self._done[task_id]

    def run(self, method: str, payload: bytes = b"", timeout: float = 30.0, **kw) -> Outcome:
        """Assign a task and wait for its outcome."""
        return self.outcome(self.assign(method, payload, **kw), timeout)

    def live(self, task_id: str) -> Outcome:
        """What is known so far of a running task (progress, created results, subtasks)."""
        with self._cond:
            return self._live.get(task_id) or self._done[task_id]

    def wait_for(self, predicate, timeout: float = 30.0) -> None:
        """Wait until ``predicate(self)`` holds; it is checked whenever the worker sends something."""
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self), timeout):
                raise TimeoutError(f"condition not met within {timeout}s")

    def wait_ended(self, timeout: float = 30.0) -> None:
        """Wait until the worker half-closes the stream (after a drain)."""
        self.wait_for(lambda s: s.ended, timeout)

    def _read(self, m: pb.ConnectRequest) -> None:
        """One stream message from the worker: a message, or a batch of them."""
        if m.WhichOneof("message") != "batch":
            with self._cond:
                self.reads += 1
                self.messages_received += 1
            self._handle(m)
            return
        kinds = [x.WhichOneof("message") for x in m.batch.messages]
        with self._cond:
            self.reads += 1
            self.messages_received += len(kinds)
            if not self.agent.batches:
                self.protocol_errors.append("a batch, which this agent did not accept")
            if "hello" in kinds or "batch" in kinds:
                self.protocol_errors.append(f"a batch holding a {'hello' if 'hello' in kinds else 'batch'}")
                self._cond.notify_all()
                return
        for x in m.batch.messages:
            self._handle(x)

    def _handle(self, m: pb.ConnectRequest) -> None:
        kind = m.WhichOneof("message")
        reply: Optional[pb.ConnectResponse] = None
        with self._cond:
            if kind in ("task_completed", "task_failed"):
                body = getattr(m, kind)
                o = self._live.pop(body.task_id, None)
                if o is None:
                    self.protocol_errors.append(f"{kind} for unknown or finished task {body.task_id}")
                else:
                    self.in_flight -= 1
                    if kind == "task_completed":
                        o.ok = True
                        for out in body.outputs:
                            o.outputs[out.result_id], path = _read(out.data)
                            if path:
                                o.output_paths[out.result_id] = path
                    else:
                        o.message, o.retryable = body.message, body.retryable
                    self._done[body.task_id] = o
                    self.finished.put(body.task_id)
            elif kind == "task_progress":
                p = m.task_progress
                o = self._live.get(p.task_id)
                if o is None:
                    self.protocol_errors.append(f"progress for unknown task {p.task_id}")
                else:
                    o.progress.append((p.fraction, p.message))
            elif kind == "create_results":
                c = m.create_results
                o = self._live.get(c.task_id)
                if self.refuse_calls or o is None:
                    reply = pb.ConnectResponse(create_results_reply=pb.CreateResultsReply(
                        call_id=c.call_id, error=self.refuse_calls or f"task {c.task_id} is not running"))
                    self.refuse_calls = None
                else:
                    ids = []
                    for r in c.results:
                        rid = r.result_id or f"r-{next(self._ids)}"
                        data = _read(r.data)[0] if r.HasField("data") else None
                        o.created.append((rid, data))
                        ids.append(rid)
                    reply = pb.ConnectResponse(create_results_reply=pb.CreateResultsReply(
                        call_id=c.call_id, result_ids=ids))
            elif kind == "submit_tasks":
                s = m.submit_tasks
                o = self._live.get(s.task_id)
                if self.refuse_calls or o is None:
                    reply = pb.ConnectResponse(submit_tasks_reply=pb.SubmitTasksReply(
                        call_id=s.call_id, error=self.refuse_calls or f"task {s.task_id} is not running"))
                    self.refuse_calls = None
                else:
                    ids = []
                    for t in s.tasks:
                        tid = f"t-{next(self._ids)}"
                        o.subtasks.append((tid, t))
                        ids.append(tid)
                    reply = pb.ConnectResponse(submit_tasks_reply=pb.SubmitTasksReply(call_id=s.call_id, task_ids=ids))
            elif kind == "pong":
                self.pongs.put(m.pong.nonce)
            else:
                self.protocol_errors.append(f"unexpected message {kind!r} after hello")
            self._cond.notify_all()
        if reply is not None:
            self._out.put(reply)

    def _ended(self) -> None:
        with self._cond:
            self.ended = True
            self._cond.notify_all()
        self._out.put(None)


class _Servicer(pb_grpc.WorkerServiceServicer):
    def __init__(self, agent: "LocalAgent"):
        self.agent = agent

    def Connect(self, request_iterator, context):
        try:
            first = next(request_iterator)
        except StopIteration:
            return
        if first.WhichOneof("message") != "hello":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the first message must be Hello")
        if first.hello.token != self.agent.token:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "wrong worker token")
        stream = WorkerStream(self.agent, first.hello)
        context.add_callback(stream._ended)

        def read() -> None:
            try:
                for m in request_iterator:
                    stream._read(m)
            except grpc.RpcError:
                pass
            stream._ended()

        yield pb.ConnectResponse(welcome=pb.Welcome(agent_id="local-agent", worker_id=f"w-{first.hello.pid}",
                                                    work_dir=self.agent.work_dir,
                                                    inline_limit_bytes=self.agent.inline_limit,
                                                    accepts_batches=self.agent.batches))
        threading.Thread(target=read, name="local-agent-reader", daemon=True).start()
        self.agent._streams.put(stream)
        while True:
            m = stream._out.get()
            if m is None:
                return
            yield m


class LocalAgent:
    """A minimal agent serving one or more workers on a Unix socket in a temporary folder."""

    def __init__(self, *, token: str = "local-token", inline_limit: int = 64 << 10, batches: bool = True):
        self.token = token
        self.inline_limit = inline_limit
        #: Whether the agent accepts batches from the worker (Welcome.accepts_batches).
        self.batches = batches
        self._tmp = tempfile.mkdtemp(prefix="chorus-agent-")
        self.socket_path = os.path.join(self._tmp, "agent.sock")
        self.work_dir = os.path.join(self._tmp, "work")
        os.makedirs(self.work_dir)
        self._streams: "queue.Queue[WorkerStream]" = queue.Queue()
        self._files = itertools.count(1)
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=[
            ("grpc.max_receive_message_length", 64 << 20), ("grpc.max_send_message_length", 64 << 20)])
        pb_grpc.add_WorkerServiceServicer_to_server(_Servicer(self), self._server)
        self._server.add_insecure_port("unix:" + self.socket_path)

    def __enter__(self) -> "LocalAgent":
        self._server.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._server.stop(grace=None).wait()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def env(self, capacity: Optional[int] = None) -> dict[str, str]:
        """Environment for a worker process (added to the current one)."""
        env = dict(os.environ, CHORUS_AGENT_SOCKET=self.socket_path, CHORUS_WORKER_TOKEN=self.token)
        if capacity is not None:
            env["CHORUS_WORKER_CAPACITY"] = str(capacity)
        return env

    def data(self, b: bytes, path: str) -> pb.Data:
        """Data as the agent sends it: inline up to the inline limit, else a file."""
        if self.inline_limit <= 0 or len(b) <= self.inline_limit:
            return pb.Data(inline=b)
        with open(path, "wb") as f:
            f.write(b)
        return pb.Data(path=path)

    def accept(self, timeout: float = 30.0) -> WorkerStream:
        """Wait for the next worker to connect and say hello."""
        try:
            return self._streams.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no worker connected to {self.socket_path} within {timeout}s") from None

    @contextlib.contextmanager
    def serve(self, worker, capacity: Optional[int] = None, timeout: float = 30.0) -> Iterator[WorkerStream]:
        """Run ``worker`` in a thread of this process, connected to this agent; on exit drain it and
        wait for it to leave. Raises what the worker raised, if anything."""
        error: list[BaseException] = []

        def target() -> None:
            try:
                worker.serve(self.socket_path, self.token, capacity=capacity)
            except BaseException as e:  # re-raised in the test's thread
                error.append(e)

        t = threading.Thread(target=target, name="chorus-worker", daemon=True)
        t.start()
        stream = None
        try:
            while stream is None:
                if not t.is_alive():
                    raise error[0] if error else AssertionError("the worker returned before connecting")
                try:
                    stream = self._streams.get(timeout=0.05)
                except queue.Empty:
                    continue
            yield stream
        finally:
            if stream is not None and not stream.ended:
                stream.drain()
            t.join(timeout)
        if t.is_alive():
            raise TimeoutError(f"the worker did not leave within {timeout}s of being drained")
        if error:
            raise error[0]
