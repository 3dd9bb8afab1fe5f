"""Chorus asyncio client: submissions return awaitables for their results.

Example, against a running Chorus (``chorus dev`` serves gRPC on ``ADDRESS``; the tests run it)::

    >>> import asyncio
    >>> from chorus.aio import Client
    >>> async def main():
    ...     async with Client(ADDRESS) as client:
    ...         session = await client.create_session(partition="go")
    ...         hello = await session.submit("sha256", b"hello")
    ...         world = await session.submit("sha256", b"world")
    ...         both = await session.submit("concat", depends_on=[hello, world])
    ...         return await both
    >>> data = asyncio.run(main())
    >>> data[:16], data[64:80]
    (b'2cf24dba5fb0a30e', b'486ea46224d1bb4f')

Each ``submit`` returns a ``TaskResult`` once the gateway has accepted the task; awaiting it waits for
the task's output and returns its bytes (``AbortedError`` when the output will never be written). A
``TaskResult`` can be a dependency of later tasks. One event stream per session, opened before the
first submission, settles every pending result: nothing is polled.
"""

from __future__ import annotations

import asyncio
from typing import AsyncIterator, Dict, List, Optional, Sequence, Union

import grpc

from chorus.client import (
    CURSOR_HEADER,
    DEFAULT_CHUNK_SIZE,
    DEFAULT_INLINE_LIMIT,
    AbortedError,
    ChorusError,
    Graph,
    Outcome,
    _MAX_BATCH,
    _MAX_BATCH_BYTES,
    _chunks_of,
    _options,
    _security,
    _wrap,
    new_id,
)
from chorus.v1 import (
    event_pb2,
    event_service_pb2,
    event_service_pb2_grpc,
    result_pb2,
    result_service_pb2,
    result_service_pb2_grpc,
    session_service_pb2,
    session_service_pb2_grpc,
    task_service_pb2,
    task_service_pb2_grpc,
)

__all__ = ["Client", "Session", "TaskResult", "AbortedError", "ChorusError", "Outcome"]

_STATUS = {result_pb2.RESULT_STATUS_COMPLETED: "completed", result_pb2.RESULT_STATUS_ABORTED: "aborted"}


class TaskResult:
    """An output of a submitted task; ``await`` it for the data (bytes)."""

    def __init__(self, session: "Session", task_id: str, result_id: str):
        self.session, self.task_id, self.result_id = session, task_id, result_id

    def __repr__(self) -> str:
        return f"TaskResult(task_id={self.task_id!r}, result_id={self.result_id!r})"

    async def outcome(self) -> Outcome:
        """Waits until the result is completed or aborted, without downloading it."""
        return await self.session._outcome(self.result_id)

    async def data(self) -> bytes:
        """Waits for the result and returns its data; raises AbortedError if it was aborted."""
        o = await self.outcome()
        if o.status == "aborted":
            raise AbortedError(self.result_id, o.reason)
        return await self.session.download_bytes(self.result_id)

    def __await__(self):
        return self.data().__await__()


Dependency = Union[str, TaskResult]


class Client:
    """An asyncio connection to a Chorus gateway (gRPC address "host:port"). Use ``async with``.

    ``token``, ``ca_file``, ``tls``, ``cert_file``/``key_file`` and ``credentials`` mean what they mean
    for ``chorus.client.Client`` (defaults from ``CHORUS_TOKEN`` and ``CHORUS_CA_FILE``).
    """

    def __init__(self, address: str = "127.0.0.1:7070", *, credentials: Optional[grpc.ChannelCredentials] = None,
                 inline_limit: int = DEFAULT_INLINE_LIMIT, chunk_size: int = DEFAULT_CHUNK_SIZE,
                 token: Optional[str] = None, ca_file: Optional[str] = None, tls: bool = False,
                 cert_file: Optional[str] = None, key_file: Optional[str] = None):
        opts = [("grpc.max_receive_message_length", 64 << 20)]
        credentials, token = _security(credentials, token, ca_file, tls, cert_file, key_file)
        self._md = (("authorization", "Bearer " + token),) if token else None
        self._channel = (grpc.aio.secure_channel(address, credentials, opts) if credentials
                         else grpc.aio.insecure_channel(address, opts))
        self.sessions = session_service_pb2_grpc.SessionServiceStub(self._channel)
        self.tasks = task_service_pb2_grpc.TaskServiceStub(self._channel)
        self.results = result_service_pb2_grpc.ResultServiceStub(self._channel)
        self.events = event_service_pb2_grpc.EventServiceStub(self._channel)
        self.inline_limit, self.chunk_size = inline_limit, chunk_size
        self._open: List[Session] = []

    async def close(self) -> None:
        for s in self._open:
            await s._stop_watching()
        await self._channel.close()

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def _call(self, op: str, fn, req):
        try:
            return await fn(req, metadata=self._md)
        except grpc.RpcError as e:
            raise _wrap(op, e) from None

    async def create_session(self, *, partition: str = "", priority: Optional[int] = None, max_retries: Optional[int] = None,
                             max_duration: Optional[float] = None, weight: int = 0, labels: Optional[dict] = None) -> "Session":
        req = session_service_pb2.CreateSessionRequest(
            default_task_options=_options(partition, priority, max_retries, max_duration), weight=weight, labels=labels or {})
        resp = await self._call("create session", self.sessions.CreateSession, req)
        return self.session(resp.session.session_id)

    def session(self, session_id: str) -> "Session":
        s = Session(self, session_id)
        self._open.append(s)
        return s


class Session:
    """A handle on one session, whose submissions return awaitable TaskResults."""

    def __init__(self, client: Client, session_id: str):
        self.client, self.id = client, session_id
        self._outcomes: Dict[str, Outcome] = {}
        self._waiters: Dict[str, List[asyncio.Future]] = {}
        self._watcher: Optional[asyncio.Task] = None
        self._watch_ready: Optional[asyncio.Future] = None
        self._watch_error: Optional[BaseException] = None

    async def _call(self, op, fn, req):
        return await self.client._call(op, fn, req)

    async def get(self):
        return (await self._call(f"get session {self.id}", self.client.sessions.GetSession,
                                 session_service_pb2.GetSessionRequest(session_id=self.id))).session

    async def close(self):
        return (await self._call(f"close session {self.id}", self.client.sessions.CloseSession,
                                 session_service_pb2.CloseSessionRequest(session_id=self.id))).session

    async def cancel(self):
        return (await self._call(f"cancel session {self.id}", self.client.sessions.CancelSession,
                                 session_service_pb2.CancelSessionRequest(session_id=self.id))).session

    # --- submitting ---

    async def submit(self, method: str, payload: bytes = b"", *, depends_on: Sequence[Dependency] = (),
                     partition: str = "", priority: Optional[int] = None, max_retries: Optional[int] = None,
                     max_duration: Optional[float] = None, options: Optional[dict] = None) -> TaskResult:
        """Submits one task (its dependencies: result ids or TaskResults); returns its awaitable output."""
        g = Graph()
        g.task(method, payload, depends_on=[_rid(d) for d in depends_on], partition=partition, priority=priority,
                   max_retries=max_retries, max_duration=max_duration, options=options)
        (r,) = await self.submit_graph(g)
        return r

    async def submit_graph(self, graph: Graph) -> List[TaskResult]:
        """Submits a Graph of chorus.client (inputs uploaded first); returns each task's first output, in order."""
        if not graph.tasks:
            raise ValueError("chorus: submit: the graph has no task")
        await self._watch()
        for rid, data in graph.inputs:
            await self.put_result(rid, data)
        for h in graph.tasks:
            if len(h.spec.payload) > self.client.inline_limit:
                pid = new_id("payload-")
                await self.put_result(pid, h.spec.payload)
                h.spec.payload, h.spec.payload_id = b"", pid
        start = 0
        while start < len(graph.tasks):
            end, size = start, 0
            while end < len(graph.tasks) and end - start < _MAX_BATCH and (
                    end == start or size + len(graph.tasks[end].spec.payload) <= _MAX_BATCH_BYTES):
                size += len(graph.tasks[end].spec.payload) + 64
                end += 1
            req = task_service_pb2.SubmitTasksRequest(session_id=self.id, request_id=new_id("req-"),
                                                      tasks=[h.spec for h in graph.tasks[start:end]])
            resp = await self._call("submit tasks", self.client.tasks.SubmitTasks, req)
            for h, t in zip(graph.tasks[start:end], resp.tasks):
                h.task_id = t.task_id
            start = end
        return [TaskResult(self, h.task_id, h.output) for h in graph.tasks]

    # --- results ---

    async def put_result(self, result_id: str, data: bytes) -> None:
        """Creates a result with data: inline when small, else declared then uploaded as a stream."""
        if len(data) <= self.client.inline_limit:
            req = result_service_pb2.CreateResultsRequest(
                session_id=self.id, results=[result_service_pb2.ResultSpec(result_id=result_id, data=bytes(data))])
            await self._call(f"create result {result_id}", self.client.results.CreateResults, req)
            return
        req = result_service_pb2.CreateResultsRequest(session_id=self.id, results=[result_service_pb2.ResultSpec(result_id=result_id)])
        await self._call(f"create result {result_id}", self.client.results.CreateResults, req)

        async def messages():
            first = True
            for c in _chunks_of(data, self.client.chunk_size):
                if first:
                    yield result_service_pb2.UploadResultDataRequest(session_id=self.id, result_id=result_id, data=c)
                    first = False
                else:
                    yield result_service_pb2.UploadResultDataRequest(data=c)

        try:
            await self.client.results.UploadResultData(messages(), metadata=self.client._md)
        except grpc.RpcError as e:
            raise _wrap(f"upload result {result_id}", e) from None

    async def download(self, result_id: str) -> AsyncIterator[bytes]:
        """Yields a completed result's data in chunks."""
        call = self.client.results.DownloadResultData(
            result_service_pb2.DownloadResultDataRequest(session_id=self.id, result_id=result_id), metadata=self.client._md)
        try:
            async for msg in call:
                yield msg.data
        except grpc.RpcError as e:
            raise _wrap(f"download result {result_id}", e) from None

    async def download_bytes(self, result_id: str) -> bytes:
        return b"".join([c async for c in self.download(result_id)])

    async def wait(self, results: Sequence[Dependency]) -> List[Outcome]:
        """Waits until every result is completed or aborted; returns their Outcomes in order."""
        return list(await asyncio.gather(*(self._outcome(_rid(r)) for r in results)))

    # --- the session's event stream ---

    async def _outcome(self, result_id: str) -> Outcome:
        if result_id in self._outcomes:
            return self._outcomes[result_id]
        await self._watch()
        fut = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(result_id, []).append(fut)
        # A result settled before the stream was opened (an upload, or an older task) has no event to come.
        r = (await self._call(f"get result {result_id}", self.client.results.GetResult,
                              result_service_pb2.GetResultRequest(session_id=self.id, result_id=result_id))).result
        self._settle(result_id, r.status, r.abort_reason)
        if self._watch_error is not None and not fut.done():
            raise self._watch_error
        return await fut

    def _settle(self, result_id: str, status: int, reason: str) -> None:
        if status not in _STATUS or result_id in self._outcomes:
            return
        o = Outcome(result_id, _STATUS[status], reason)
        self._outcomes[result_id] = o
        for fut in self._waiters.pop(result_id, []):
            if not fut.done():
                fut.set_result(o)

    async def _watch(self) -> None:
        """Opens the session's result events "from now" once; returns when the stream is subscribed."""
        if self._watcher is None:
            self._watch_ready = asyncio.get_running_loop().create_future()
            self._watcher = asyncio.ensure_future(self._follow())
        await asyncio.shield(self._watch_ready)

    async def _follow(self) -> None:
        req = event_service_pb2.WatchEventsRequest(session_id=self.id, cursor="$", kinds=[event_pb2.EVENT_KIND_RESULT_STATUS], batches=True)
        while True:
            call = self.client.events.WatchEvents(req, metadata=self.client._md)
            try:
                md = await call.initial_metadata()
                cursor = md.get(CURSOR_HEADER) if md is not None else None
                if cursor is not None and req.cursor == "$":
                    req.cursor = cursor
                if not self._watch_ready.done():
                    self._watch_ready.set_result(None)
                async for resp in call:
                    # a batch (events), or one event from a gateway that does not batch
                    for ev in resp.events if len(resp.events) else (resp.event,):
                        req.cursor = ev.cursor or req.cursor
                        rs = ev.result_status
                        self._settle(rs.result_id, rs.status, rs.abort_reason)
                self._fail(ChorusError(f"watch session {self.id}", grpc.StatusCode.UNAVAILABLE, "the event stream ended"))
                return
            except asyncio.CancelledError:
                call.cancel()
                raise
            except grpc.RpcError as e:
                if e.code() == grpc.StatusCode.UNAVAILABLE and req.cursor != "$":
                    await asyncio.sleep(0.5)  # the gateway went away: resume after the last event seen
                    continue
                self._fail(_wrap(f"watch session {self.id}", e))
                return
            except Exception as e:  # a bug here must not leave the waiters waiting forever
                self._fail(ChorusError(f"watch session {self.id}", grpc.StatusCode.UNKNOWN, repr(e)))
                raise

    def _fail(self, err: ChorusError) -> None:
        """The event stream is gone for good: every waiter gets err rather than waiting forever."""
        self._watch_error = err
        if not self._watch_ready.done():
            self._watch_ready.set_exception(err)
        for futs in self._waiters.values():
            for fut in futs:
                if not fut.done():
                    fut.set_exception(err)
        self._waiters.clear()

    async def _stop_watching(self) -> None:
        if self._watcher is not None and not self._watcher.done():
            self._watcher.cancel()
            try:
                await self._watcher
            except (asyncio.CancelledError, Exception):
                pass


def _rid(d: Dependency) -> str:
    return d.result_id if isinstance(d, TaskResult) else d
