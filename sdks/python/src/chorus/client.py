"""Chorus client: sessions, task graphs, result data, and waiting for results on the event stream.

Example, against a running Chorus (``chorus dev`` serves gRPC on ``ADDRESS`` = ``"127.0.0.1:7070"``;
the tests check this example against a real one)::

    >>> from chorus.client import Client, Graph
    >>> with Client(ADDRESS) as client:
    ...     session = client.create_session(partition="go")
    ...     graph = Graph()
    ...     hello = graph.task("sha256", b"hello")
    ...     world = graph.task("sha256", b"world")
    ...     both = graph.task("concat", depends_on=[hello.output, world.output])
    ...     _ = session.submit(graph)
    ...     data = session.wait_and_download(both.output)
    >>> data[:16], data[64:80]
    (b'2cf24dba5fb0a30e', b'486ea46224d1bb4f')
"""

from __future__ import annotations

import base64
import collections
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, Iterable, Iterator, Optional, Sequence

import grpc
from google.protobuf import duration_pb2

from chorus.v1 import (
    event_pb2,
    event_service_pb2,
    event_service_pb2_grpc,
    partition_service_pb2,
    partition_service_pb2_grpc,
    result_pb2,
    result_service_pb2,
    result_service_pb2_grpc,
    session_service_pb2,
    session_service_pb2_grpc,
    task_pb2,
    task_service_pb2,
    task_service_pb2_grpc,
)

__all__ = ["Client", "Session", "Graph", "TaskHandle", "Outcome", "ChorusError", "AbortedError", "new_id"]

DEFAULT_INLINE_LIMIT = 64 << 10
DEFAULT_CHUNK_SIZE = 1 << 20
CURSOR_HEADER = "chorus-cursor"
_MAX_BATCH = 5000
_MAX_BATCH_BYTES = 2 << 20


class ChorusError(Exception):
    """An error answered by the gateway: the operation, the gRPC code and the server's message."""

    def __init__(self, op: str, code: grpc.StatusCode, message: str):
        super().__init__(f"chorus: {op}: {message}")
        self.op, self.code, self.message = op, code, message


class AbortedError(ChorusError):
    """A result will never be written; ``reason`` says why."""

    def __init__(self, result_id: str, reason: str):
        super().__init__(f"wait for result {result_id}", grpc.StatusCode.ABORTED, f"result {result_id} was aborted: {reason}")
        self.result_id, self.reason = result_id, reason


def _wrap(op: str, err: grpc.RpcError) -> ChorusError:
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    msg = err.details() if hasattr(err, "details") else str(err)
    if code == grpc.StatusCode.UNAVAILABLE:
        msg = f"gateway unreachable or unavailable ({msg})"
    return ChorusError(op, code, msg or str(code))


def new_id(prefix: str) -> str:
    """A new random id for a result or a request: prefix and 80 random bits (16 base32 characters).

    A session would need about a trillion of them before two are likely to be equal, and the store
    refuses an output or result id that is taken; longer ids cost Valkey memory (an output id is kept
    three times per task)."""
    return prefix + base64.b32encode(secrets.token_bytes(10)).decode().lower()


def _options(partition="", priority=None, max_retries=None, max_duration=None, options=None) -> task_pb2.TaskOptions:
    o = task_pb2.TaskOptions(partition=partition or "")
    if priority is not None:
        o.priority = priority
    if max_retries is not None:
        o.max_retries = max_retries
    if max_duration:
        d = duration_pb2.Duration()
        d.FromNanoseconds(int(max_duration * 1e9))
        o.max_duration.CopyFrom(d)
    if options:
        o.options.update(options)
    return o


@dataclass
class Outcome:
    """How a result ended: status is "completed" or "aborted"."""

    result_id: str
    status: str = ""
    reason: str = ""


@dataclass
class TaskHandle:
    """A task of a Graph; ``task_id`` is set once the graph is submitted."""

    spec: task_pb2.TaskSpec
    task_id: str = ""

    @property
    def output(self) -> str:
        """The task's first expected output id."""
        return self.spec.expected_output_ids[0] if self.spec.expected_output_ids else ""

    @property
    def outputs(self) -> list:
        return list(self.spec.expected_output_ids)


@dataclass
class Graph:
    """Tasks linked by data, submitted together (atomically when the graph fits in one batch)."""

    tasks: list = field(default_factory=list)
    inputs: list = field(default_factory=list)

    def input(self, data: bytes) -> str:
        """Adds data tasks can depend on; returns its result id (uploaded at submission)."""
        rid = new_id("in-")
        self.inputs.append((rid, bytes(data)))
        return rid

    def task(self, method: str, payload: bytes = b"", *, depends_on: Sequence[str] = (), outputs: Optional[Sequence[str]] = None,
             num_outputs: int = 1, partition: str = "", priority: Optional[int] = None, max_retries: Optional[int] = None,
             max_duration: Optional[float] = None, options: Optional[dict] = None) -> TaskHandle:
        """Adds a task; by default it has one expected output with a new id (``handle.output``)."""
        outs = list(outputs) if outputs is not None else [new_id("out-") for _ in range(num_outputs)]
        spec = task_pb2.TaskSpec(method=method, payload=bytes(payload), data_dependencies=list(depends_on), expected_output_ids=outs)
        if partition or priority is not None or max_retries is not None or max_duration or options:
            spec.options.CopyFrom(_options(partition, priority, max_retries, max_duration, options))
        h = TaskHandle(spec)
        self.tasks.append(h)
        return h


class _CallDetails(collections.namedtuple("_CallDetails", ("method", "timeout", "metadata", "credentials",
                                                             "wait_for_ready", "compression")),
                   grpc.ClientCallDetails):
    pass


class _BearerToken(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                   grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Adds "authorization: Bearer <token>" to every call (over TLS, or plaintext on loopback)."""

    def __init__(self, token: str):
        self._md = ("authorization", "Bearer " + token)

    def _details(self, d):
        md = list(d.metadata or []) + [self._md]
        return _CallDetails(d.method, d.timeout, md, d.credentials, getattr(d, "wait_for_ready", None),
                            getattr(d, "compression", None))

    def intercept_unary_unary(self, continuation, d, request):
        return continuation(self._details(d), request)

    def intercept_unary_stream(self, continuation, d, request):
        return continuation(self._details(d), request)

    def intercept_stream_unary(self, continuation, d, requests):
        return continuation(self._details(d), requests)

    def intercept_stream_stream(self, continuation, d, requests):
        return continuation(self._details(d), requests)


# Calls that repeat harmlessly (SubmitTasks carries its request id): retried on another gateway.
_IDEMPOTENT = frozenset({
    "GetSession", "ListSessions", "PauseSession", "ResumeSession", "CloseSession", "CancelSession",
    "SubmitTasks", "GetTask", "ListTasks", "CancelTasks", "GetResult", "ListResults",
    "ListPartitions", "GetPartition",
})
# Errors after which another gateway is tried: this one is gone, frozen or stopping.
_FAILOVER_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
DEFAULT_CALL_TIMEOUT = 30.0
# Keepalive pings find a frozen gateway within seconds; the gateway accepts one every 2s.
_KEEPALIVE = [("grpc.keepalive_time_ms", 5000), ("grpc.keepalive_timeout_ms", 5000),
              ("grpc.keepalive_permit_without_calls", 1), ("grpc.http2.max_pings_without_data", 0)]
# How long a broken watch keeps reconnecting (from its cursor, to any gateway) before giving up.
RECONNECT_WINDOW = 60.0


class _Gateways:
    """The channels to the gateways a client knows, and which one it uses now."""

    def __init__(self, addresses, credentials, opts, token):
        self.raw = [grpc.secure_channel(a, credentials, opts) if credentials else grpc.insecure_channel(a, opts)
                    for a in addresses]
        self.channels = [grpc.intercept_channel(ch, _BearerToken(token)) if token else ch for ch in self.raw]
        self.addresses = list(addresses)
        self.current = 0
        self.lock = threading.Lock()

    def channel(self):
        with self.lock:
            return self.current, self.channels[self.current]

    def failed(self, index: int) -> None:
        """Moves to the next gateway after the one at index failed (unless another call already did)."""
        with self.lock:
            if self.current == index:
                self.current = (index + 1) % len(self.channels)


def _never_sent(err: grpc.RpcError) -> bool:
    """Whether a call failed before it reached a gateway (its connection could not be made)."""
    details = (err.details() or "").lower() if hasattr(err, "details") else ""
    return err.code() == grpc.StatusCode.UNAVAILABLE and ("failed to connect" in details or "connection refused" in details)


class _Service:
    """A service stub over the client's gateways: every unary call gets a deadline, and an idempotent
    call that finds its gateway unavailable (gone, frozen) is retried on the next, with backoff."""

    def __init__(self, client: "Client", stub_class):
        self._client, self._stub_class, self._stubs = client, stub_class, {}

    def _stub(self):
        i, ch = self._client._gateways.channel()
        if i not in self._stubs:
            self._stubs[i] = self._stub_class(ch)
        return i, self._stubs[i]

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)

        def call(request, *args, **kwargs):
            i, stub = self._stub()
            method = getattr(stub, name)
            if not isinstance(method, grpc.UnaryUnaryMultiCallable):
                return method(request, *args, **kwargs)  # streams: keepalives bound them
            kwargs.setdefault("timeout", self._client.call_timeout)
            attempts = len(self._client._gateways.channels) + 2 if name in _IDEMPOTENT else 1
            delay, attempt = 0.05, 0
            while True:
                try:
                    return getattr(stub, name)(request, *args, **kwargs)
                except grpc.RpcError as e:
                    if e.code() not in _FAILOVER_CODES:
                        raise
                    self._client._gateways.failed(i)
                    if _never_sent(e):  # the gateway could not be reached: any call may go to the next
                        attempts = max(attempts, min(attempt + 2, len(self._client._gateways.channels) + 2))
                    attempt += 1
                    if attempt >= attempts:
                        raise
                time.sleep(delay)
                delay = min(2 * delay, 1.0)
                i, stub = self._stub()
        return call


def _security(credentials: Optional[grpc.ChannelCredentials], token: Optional[str], ca_file: Optional[str], tls: bool,
              cert_file: Optional[str], key_file: Optional[str]) -> tuple:
    """The channel credentials (None: plaintext) and bearer token ("" for none) that a client's
    arguments ask for, with ``CHORUS_TOKEN`` and ``CHORUS_CA_FILE`` as the defaults of token and ca_file."""
    token = os.environ.get("CHORUS_TOKEN", "") if token is None else token
    ca_file = os.environ.get("CHORUS_CA_FILE", "") if ca_file is None else ca_file
    if credentials is None and (tls or ca_file or cert_file):
        def read(path):
            if not path:
                return None
            with open(path, "rb") as f:
                return f.read()
        credentials = grpc.ssl_channel_credentials(root_certificates=read(ca_file), private_key=read(key_file),
                                                   certificate_chain=read(cert_file))
    return credentials, token


class Client:
    """A connection to a Chorus gateway (gRPC address "host:port"), or to several gateways of one
    installation ("host1:port,host2:port", or a list): calls go to one of them and move to the next
    when it is gone or frozen; idempotent calls (SubmitTasks with its request id) are retried there,
    and waits resume from their cursor. Every unary call has a deadline (``call_timeout`` seconds) and
    every connection keepalive pings.

    ``token`` is a bearer token (a JWT or an API token) sent with every call; it defaults to the
    ``CHORUS_TOKEN`` environment variable. ``ca_file`` (default ``CHORUS_CA_FILE``) connects with TLS,
    trusting the CA certificates in that PEM file; ``tls=True`` connects with TLS trusting the system's
    CAs; ``cert_file``/``key_file`` present a client certificate (mutual TLS). ``credentials`` gives
    ready-made channel credentials instead.
    """

    def __init__(self, address="127.0.0.1:7070", *, credentials: Optional[grpc.ChannelCredentials] = None,
                 inline_limit: int = DEFAULT_INLINE_LIMIT, chunk_size: int = DEFAULT_CHUNK_SIZE,
                 call_timeout: Optional[float] = DEFAULT_CALL_TIMEOUT, token: Optional[str] = None,
                 ca_file: Optional[str] = None, tls: bool = False, cert_file: Optional[str] = None,
                 key_file: Optional[str] = None):
        addresses = [a.strip() for a in (address.split(",") if isinstance(address, str) else address) if a.strip()]
        if not addresses:
            raise ValueError(f"chorus: no gateway address in {address!r}: give host:port, or several separated by commas")
        opts = [("grpc.max_receive_message_length", 64 << 20)] + _KEEPALIVE
        credentials, token = _security(credentials, token, ca_file, tls, cert_file, key_file)
        self._gateways = _Gateways(addresses, credentials, opts, token)
        self._channel = self._gateways.channels[0]
        self._raw_channel = self._gateways.raw[0]
        self.call_timeout = call_timeout
        self.sessions = _Service(self, session_service_pb2_grpc.SessionServiceStub)
        self.tasks = _Service(self, task_service_pb2_grpc.TaskServiceStub)
        self.results = _Service(self, result_service_pb2_grpc.ResultServiceStub)
        self.events = _Service(self, event_service_pb2_grpc.EventServiceStub)
        self.partitions_stub = _Service(self, partition_service_pb2_grpc.PartitionServiceStub)
        self.inline_limit, self.chunk_size = inline_limit, chunk_size

    def close(self) -> None:
        for ch in self._gateways.raw:
            ch.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, op: str, fn, req):
        try:
            return fn(req)
        except grpc.RpcError as e:
            raise _wrap(op, e) from None

    def create_session(self, *, partition: str = "", priority: Optional[int] = None, max_retries: Optional[int] = None,
                       max_duration: Optional[float] = None, weight: int = 0, labels: Optional[dict] = None) -> "Session":
        req = session_service_pb2.CreateSessionRequest(
            default_task_options=_options(partition, priority, max_retries, max_duration), weight=weight, labels=labels or {})
        resp = self._call("create session", self.sessions.CreateSession, req)
        return Session(self, resp.session.session_id)

    def session(self, session_id: str) -> "Session":
        return Session(self, session_id)

    def _listing(self, op: str, fn, request: Callable[[str], object], items: str) -> list:
        """Every item of a paged listing: request(page_token) is a page's request, items the field of
        its reply that lists them."""
        out, token = [], ""
        while True:
            resp = self._call(op, fn, request(token))
            out.extend(getattr(resp, items))
            token = resp.next_page_token
            if not token:
                return out

    def list_sessions(self, status: int = 0) -> list:
        return self._listing("list sessions", self.sessions.ListSessions, lambda token: session_service_pb2.ListSessionsRequest(
            page_size=1000, page_token=token, status=status), "sessions")

    def partitions(self) -> list:
        return list(self._call("list partitions", self.partitions_stub.ListPartitions,
                               partition_service_pb2.ListPartitionsRequest()).partitions)


class Session:
    """A handle on one session."""

    def __init__(self, client: Client, session_id: str):
        self.client, self.id = client, session_id

    def _call(self, op, fn, req):
        return self.client._call(op, fn, req)

    def get(self):
        return self._call(f"get session {self.id}", self.client.sessions.GetSession,
                          session_service_pb2.GetSessionRequest(session_id=self.id)).session

    def pause(self):
        return self._call(f"pause session {self.id}", self.client.sessions.PauseSession, session_service_pb2.PauseSessionRequest(session_id=self.id)).session

    def resume(self):
        return self._call(f"resume session {self.id}", self.client.sessions.ResumeSession, session_service_pb2.ResumeSessionRequest(session_id=self.id)).session

    def close(self):
        return self._call(f"close session {self.id}", self.client.sessions.CloseSession, session_service_pb2.CloseSessionRequest(session_id=self.id)).session

    def cancel(self):
        return self._call(f"cancel session {self.id}", self.client.sessions.CancelSession, session_service_pb2.CancelSessionRequest(session_id=self.id)).session

    def purge(self):
        return self._call(f"purge session {self.id}", self.client.sessions.PurgeSession, session_service_pb2.PurgeSessionRequest(session_id=self.id)).session

    # --- tasks ---

    def submit(self, graph: Graph) -> list:
        """Uploads the graph's inputs and large payloads, submits its tasks, sets each handle's task_id."""
        if not graph.tasks:
            raise ValueError("chorus: submit: the graph has no task")
        for rid, data in graph.inputs:
            self.put_result(rid, data)
        for h in graph.tasks:
            if len(h.spec.payload) > self.client.inline_limit:
                pid = new_id("payload-")
                self.put_result(pid, h.spec.payload)
                h.spec.payload, h.spec.payload_id = b"", pid
        out, start = [], 0
        while start < len(graph.tasks):
            end, size = start, 0
            while end < len(graph.tasks) and end - start < _MAX_BATCH and (end == start or size + len(graph.tasks[end].spec.payload) <= _MAX_BATCH_BYTES):
                size += len(graph.tasks[end].spec.payload) + 64
                end += 1
            req = task_service_pb2.SubmitTasksRequest(session_id=self.id, request_id=new_id("req-"),
                                                      tasks=[h.spec for h in graph.tasks[start:end]])
            resp = self._call("submit tasks", self.client.tasks.SubmitTasks, req)
            for h, t in zip(graph.tasks[start:end], resp.tasks):
                h.task_id = t.task_id
            out.extend(resp.tasks)
            start = end
        return out

    def task(self, task_id: str):
        return self._call(f"get task {task_id}", self.client.tasks.GetTask, task_service_pb2.GetTaskRequest(session_id=self.id, task_id=task_id)).task

    def list_tasks(self, status: int = 0) -> list:
        return self.client._listing("list tasks", self.client.tasks.ListTasks, lambda token: task_service_pb2.ListTasksRequest(
            session_id=self.id, page_size=1000, page_token=token, status=status), "tasks")

    def cancel_tasks(self, *task_ids: str) -> int:
        return self._call("cancel tasks", self.client.tasks.CancelTasks,
                          task_service_pb2.CancelTasksRequest(session_id=self.id, task_ids=list(task_ids))).cancelled_count

    # --- results ---

    def result(self, result_id: str):
        return self._call(f"get result {result_id}", self.client.results.GetResult,
                          result_service_pb2.GetResultRequest(session_id=self.id, result_id=result_id)).result

    def list_results(self, status: int = 0) -> list:
        return self.client._listing("list results", self.client.results.ListResults, lambda token: result_service_pb2.ListResultsRequest(
            session_id=self.id, page_size=1000, page_token=token, status=status), "results")

    def create_results(self, *result_ids: str) -> list:
        """Declares results without data; empty ids let the server choose. Returns the ids."""
        req = result_service_pb2.CreateResultsRequest(session_id=self.id, results=[result_service_pb2.ResultSpec(result_id=r) for r in result_ids])
        return [r.result_id for r in self._call("create results", self.client.results.CreateResults, req).results]

    def put_result(self, result_id: str, data: bytes) -> None:
        """Creates a result with data: inline when small, else declared then uploaded as a stream."""
        if len(data) <= self.client.inline_limit:
            req = result_service_pb2.CreateResultsRequest(session_id=self.id, results=[result_service_pb2.ResultSpec(result_id=result_id, data=bytes(data))])
            self._call(f"create result {result_id}", self.client.results.CreateResults, req)
            return
        self.create_results(result_id)
        self.upload(result_id, _chunks_of(data, self.client.chunk_size))

    def upload(self, result_id: str, chunks: Iterable[bytes] | BinaryIO):
        """Writes a created result's data from an iterable of chunks or a binary file; returns the result."""
        if hasattr(chunks, "read"):
            chunks = _read_chunks(chunks, self.client.chunk_size)

        def messages() -> Iterator[result_service_pb2.UploadResultDataRequest]:
            first = True
            for c in chunks:
                if first:
                    yield result_service_pb2.UploadResultDataRequest(session_id=self.id, result_id=result_id, data=c)
                    first = False
                else:
                    yield result_service_pb2.UploadResultDataRequest(data=c)
            if first:
                yield result_service_pb2.UploadResultDataRequest(session_id=self.id, result_id=result_id)

        try:
            return self.client.results.UploadResultData(messages()).result
        except grpc.RpcError as e:
            raise _wrap(f"upload result {result_id}", e) from None

    def download(self, result_id: str) -> Iterator[bytes]:
        """Yields a completed result's data in chunks."""
        try:
            for msg in self.client.results.DownloadResultData(result_service_pb2.DownloadResultDataRequest(session_id=self.id, result_id=result_id)):
                yield msg.data
        except grpc.RpcError as e:
            raise _wrap(f"download result {result_id}", e) from None

    def download_bytes(self, result_id: str) -> bytes:
        return b"".join(self.download(result_id))

    # --- events ---

    def watch(self, cursor: str = "", kinds: Sequence[int] = ()) -> Iterator:
        """Yields the session's events after cursor ("" = from the first, "$" = from now). A stream
        broken by a gateway that stopped, died or froze resumes from the last cursor on another."""
        f = _Follow(self, cursor, kinds)
        try:
            yield from f
        finally:
            f.cancel()

    def wait(self, result_ids: Sequence[str], on_outcome: Optional[Callable[[Outcome], None]] = None) -> list:
        """Blocks until every result is completed or aborted; returns their Outcomes in order.

        It starts watching the event stream "from now", then reads the results' current states, then
        follows the events: nothing in between is missed, and nothing is polled. A broken stream
        resumes from its cursor, on another gateway when the client knows several.
        """
        outs = [Outcome(r) for r in result_ids]
        pending: dict = {}
        for i, r in enumerate(result_ids):
            pending.setdefault(r, []).append(i)
        names = {result_pb2.RESULT_STATUS_COMPLETED: "completed", result_pb2.RESULT_STATUS_ABORTED: "aborted"}

        def settle(rid, status, reason):
            if rid not in pending or status not in names:
                return
            for i in pending.pop(rid):
                outs[i].status, outs[i].reason = names[status], reason
                if on_outcome:
                    on_outcome(outs[i])

        f = _Follow(self, "$", [event_pb2.EVENT_KIND_RESULT_STATUS])
        try:
            if len(pending) <= 64:
                for rid in list(pending):
                    r = self.result(rid)
                    settle(rid, r.status, r.abort_reason)
            else:
                for st in (result_pb2.RESULT_STATUS_COMPLETED, result_pb2.RESULT_STATUS_ABORTED):
                    for r in self.list_results(st):
                        settle(r.result_id, r.status, r.abort_reason)
            if pending:
                for ev in f:
                    rs = ev.result_status
                    settle(rs.result_id, rs.status, rs.abort_reason)
                    if not pending:
                        break
        finally:
            f.cancel()
        return outs

    def wait_and_download(self, result_id: str) -> bytes:
        """Waits for one result and returns its data; raises AbortedError if it was aborted."""
        (o,) = self.wait([result_id])
        if o.status == "aborted":
            raise AbortedError(result_id, o.reason)
        return self.download_bytes(result_id)


class _Follow:
    """A session's event stream that survives its gateway: after the stream breaks (the gateway
    stopped, died, or froze and its keepalive failed) it reopens from the last cursor, on the next
    gateway, with backoff, for up to RECONNECT_WINDOW seconds of failures in a row."""

    def __init__(self, session: "Session", cursor: str, kinds: Sequence[int]):
        self.s, self.cursor, self.kinds = session, cursor, list(kinds)
        self.call, self.index = None, 0
        self._open(time.monotonic() + RECONNECT_WINDOW)

    def _open(self, deadline: float) -> None:
        gws, delay = self.s.client._gateways, 0.05
        while True:
            self.index, _ = gws.channel()
            req = event_service_pb2.WatchEventsRequest(session_id=self.s.id, cursor=self.cursor, kinds=self.kinds, batches=True)
            call = self.s.client.events.WatchEvents(req)
            if self.cursor != "$":
                self.call = call
                return
            # The gateway resolves "$" to the newest event's cursor in its headers; from then on the
            # stream resumes from a concrete cursor.
            md = call.initial_metadata()
            c = dict(md or ()).get(CURSOR_HEADER)
            if c:
                self.cursor, self.call = c, call
                return
            if md:  # an old gateway that does not resolve "$": replay the stream from its start
                call.cancel()
                self.cursor = ""
                continue
            code = call.code()
            if code not in _FAILOVER_CODES or time.monotonic() > deadline:
                raise ChorusError(f"watch session {self.s.id}", code, call.details() or str(code))
            gws.failed(self.index)
            time.sleep(delay)
            delay = min(2 * delay, 1.0)

    def __iter__(self):
        deadline, delay = None, 0.05
        while True:
            try:
                for resp in self.call:
                    deadline, delay = None, 0.05
                    # a batch (events), or one event from a gateway that does not batch
                    for ev in resp.events if len(resp.events) else (resp.event,):
                        self.cursor = ev.cursor
                        yield ev
            except grpc.RpcError as e:
                if e.code() == grpc.StatusCode.CANCELLED:
                    return
                if e.code() not in _FAILOVER_CODES:
                    raise _wrap(f"watch session {self.s.id}", e) from None
                # A gateway that shuts down says where to resume (past events of other kinds too).
                c = dict(e.trailing_metadata() or ()).get(CURSOR_HEADER)
                if c:
                    self.cursor = c
                self.s.client._gateways.failed(self.index)
                if deadline is None:
                    deadline = time.monotonic() + RECONNECT_WINDOW
                elif time.monotonic() > deadline:
                    raise _wrap(f"watch session {self.s.id} (no gateway answered for {RECONNECT_WINDOW:.0f}s)", e) from None
            time.sleep(delay)
            delay = min(2 * delay, 2.0)
            self._open(deadline or time.monotonic() + RECONNECT_WINDOW)

    def cancel(self) -> None:
        if self.call is not None:
            self.call.cancel()


def _chunks_of(data: bytes, size: int) -> Iterator[bytes]:
    view = memoryview(data)
    for i in range(0, len(data), size):
        yield bytes(view[i:i + size])


def _read_chunks(f: BinaryIO, size: int) -> Iterator[bytes]:
    while True:
        b = f.read(size)
        if not b:
            return
        yield b
