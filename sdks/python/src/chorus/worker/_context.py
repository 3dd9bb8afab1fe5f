"""What a handler sees of its task: the ``ctx`` argument, in a blocking flavour for ``def`` handlers and an
awaitable one for ``async def`` handlers."""

from __future__ import annotations

import asyncio
import datetime
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Awaitable, Iterable, Iterator, Optional, Protocol, Sequence, Union

from chorus.worker.errors import Cancelled
from chorus.worker.v1 import worker_pb2 as pb

Bytes = Union[bytes, bytearray, memoryview, str]


class _AgentLink(Protocol):
    """What a context needs of the worker's connection to its agent (the worker's _Connection)."""

    #: Outputs and subtask payloads larger than this go through files (0: no limit).
    inline_limit: int

    def send_threadsafe(self, msg: pb.ConnectRequest) -> None: ...

    def data_message(self, data: bytes, output_dir: str) -> pb.Data: ...

    def call_threadsafe(self, coro: Awaitable[Any]) -> Any: ...

    def create_results(self, task_id: str, results: list[pb.NewResult]) -> Awaitable[list[str]]: ...

    def submit_tasks(self, task_id: str, tasks: list[pb.Subtask]) -> Awaitable[list[str]]: ...


@dataclass
class TaskOptions:
    """Options of a subtask; what is left unset is taken from the parent task."""

    #: Partition that runs the subtask; empty means the parent's.
    partition: str = ""
    #: Priority 0-9; None means the parent's.
    priority: Optional[int] = None
    #: Retries allowed; None means the parent's.
    max_retries: Optional[int] = None
    #: Longest an attempt may run, in seconds or as a timedelta; None means the parent's.
    max_duration: Union[float, datetime.timedelta, None] = None
    #: Free-form key/values.
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Subtask:
    """One task submitted by a running task (see ``ctx.submit_many``)."""

    method: str
    payload: Bytes = b""
    #: Results it reads: results of the session or results this task created.
    data_dependencies: Sequence[str] = ()
    #: Results it completes. One of the parent's expected outputs listed here is handed to the subtask
    #: (the parent then must not return it); an id that does not exist yet is created.
    expected_output_ids: Sequence[str] = ()
    #: A TaskOptions, or a mapping of free-form options, or None for the parent's options.
    options: Union[TaskOptions, Mapping[str, str], None] = None


def as_bytes(value: Bytes, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be bytes or str, not {type(value).__name__}")


def _read_file(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise OSError(f"cannot read {what} from {path}: {e.strerror}") from e


class Inputs(Mapping):
    """The task's data dependencies: result id → bytes, in the order they were submitted.

    Large inputs arrive as files; they are read when first looked up (``path(result_id)`` gives the file
    to stream from instead).
    """

    __slots__ = ("_ids", "_inline", "_paths")

    def __init__(self, inputs: Iterable[pb.Input]):
        self._ids: list[str] = []
        self._inline: dict[str, bytes] = {}
        self._paths: dict[str, str] = {}
        for i in inputs:
            if i.result_id not in self._inline and i.result_id not in self._paths:
                self._ids.append(i.result_id)
            if i.data.WhichOneof("source") == "path":
                self._paths[i.result_id] = i.data.path
            else:
                self._inline[i.result_id] = i.data.inline

    def __getitem__(self, result_id: str) -> bytes:
        data = self._inline.get(result_id)
        if data is not None:
            return data
        path = self._paths.get(result_id)
        if path is None:
            raise KeyError(result_id)
        data = _read_file(path, f"input {result_id}")
        self._inline[result_id] = data
        return data

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def path(self, result_id: str) -> Optional[str]:
        """The file holding input ``result_id`` if it came as a file, else None."""
        if result_id not in self._paths and result_id not in self._inline:
            raise KeyError(result_id)
        return self._paths.get(result_id)

    def __repr__(self) -> str:
        return f"Inputs({self._ids!r})"


class _BaseContext:
    """Fields common to both flavours of ``ctx``."""

    def __init__(self, conn: _AgentLink, a: pb.AssignTask):
        self._conn = conn
        self._a = a
        #: Set once the task is cancelled (by the agent, by its max duration, or by a drain past its grace).
        self.cancelled = threading.Event()
        #: Why the task was cancelled, once it is.
        self.cancel_reason: Optional[str] = None
        self._payload: Optional[bytes] = None
        self._inputs: Optional[Inputs] = None

    # Task facts -------------------------------------------------------------------------------------
    @property
    def task_id(self) -> str:
        return self._a.task_id

    @property
    def session_id(self) -> str:
        return self._a.session_id

    @property
    def method(self) -> str:
        return self._a.method

    @property
    def partition(self) -> str:
        return self._a.partition

    @property
    def attempt(self) -> int:
        """Attempt number, 1 for the first."""
        return self._a.attempt

    @property
    def expected_output_ids(self) -> list[str]:
        return list(self._a.expected_output_ids)

    @property
    def options(self) -> dict[str, str]:
        """The task's free-form options."""
        return dict(self._a.options)

    @property
    def max_duration(self) -> Optional[float]:
        """Longest this attempt may run, in seconds; None when unlimited."""
        if not self._a.HasField("max_duration"):
            return None
        return self._a.max_duration.seconds + self._a.max_duration.nanos / 1e9

    @property
    def traceparent(self) -> str:
        """W3C trace context of the task: make your spans its children."""
        return self._a.traceparent

    @property
    def tracestate(self) -> str:
        return self._a.tracestate

    @property
    def output_dir(self) -> str:
        """Folder where this task's output files go (the SDK writes large outputs there for you)."""
        return self._a.output_dir

    @property
    def payload(self) -> bytes:
        """The payload; read from its file on first use when it came as a file."""
        if self._payload is None:
            p = self._a.payload
            if p.WhichOneof("source") == "path":
                self._payload = _read_file(p.path, "the task's payload")
            else:
                self._payload = p.inline
        return self._payload

    @property
    def payload_path(self) -> Optional[str]:
        """The file holding the payload when it came as a file, else None."""
        p = self._a.payload
        return p.path if p.WhichOneof("source") == "path" else None

    @property
    def inputs(self) -> Inputs:
        """Data dependencies: result id → bytes, in submission order (large ones read lazily)."""
        if self._inputs is None:
            self._inputs = Inputs(self._a.inputs)
        return self._inputs

    # Progress and cancellation ----------------------------------------------------------------------
    def progress(self, fraction: float, message: str = "") -> None:
        """Report how far the task is (0 to 1) with an optional message. Does not block."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"progress fraction must be between 0 and 1, got {fraction}")
        self._conn.send_threadsafe(pb.ConnectRequest(task_progress=pb.TaskProgress(
            task_id=self.task_id, fraction=fraction, message=message)))

    def check_cancelled(self) -> None:
        """Raise :class:`Cancelled` if the task has been cancelled."""
        if self.cancelled.is_set():
            raise Cancelled(self.cancel_reason or "cancelled")

    def _cancel(self, reason: str) -> None:
        if self.cancel_reason is None:
            self.cancel_reason = reason
        self.cancelled.set()

    # Request builders -------------------------------------------------------------------------------
    def _data(self, data: Bytes, what: str) -> pb.Data:
        return self._conn.data_message(as_bytes(data, what), self.output_dir)

    def _new_results(self, items: Sequence[tuple[Optional[str], Optional[Bytes]]]) -> list[pb.NewResult]:
        out = []
        for rid, data in items:
            r = pb.NewResult(result_id=rid or "")
            if data is not None:
                r.data.CopyFrom(self._data(data, "result data"))
            out.append(r)
        return out

    def _subtasks(self, subtasks: Iterable[Subtask]) -> list[pb.Subtask]:
        out = []
        for s in subtasks:
            if not s.method:
                raise ValueError("a subtask needs a method")
            m = pb.Subtask(method=s.method, payload=self._data(s.payload, "subtask payload"),
                           data_dependencies=list(s.data_dependencies),
                           expected_output_ids=list(s.expected_output_ids))
            _fill_options(m.options, s.options)
            out.append(m)
        return out


def _fill_options(msg: pb.SubtaskOptions, opts: Union[TaskOptions, Mapping[str, str], None]) -> None:
    if opts is None:
        return
    if not isinstance(opts, TaskOptions):
        opts = TaskOptions(options=opts)
    msg.partition = opts.partition
    if opts.priority is not None:
        msg.priority = opts.priority
    if opts.max_retries is not None:
        msg.max_retries = opts.max_retries
    if opts.max_duration is not None:
        d = opts.max_duration
        if isinstance(d, datetime.timedelta):
            msg.max_duration.FromTimedelta(d)
        else:
            msg.max_duration.FromNanoseconds(int(d * 1e9))
    for k, v in opts.options.items():
        msg.options[k] = v


class Context(_BaseContext):
    """The ``ctx`` of a ``def`` handler: its calls to the agent block until answered."""

    def create_result(self, data: Optional[Bytes] = None, result_id: Optional[str] = None) -> str:
        """Create a result in the task's session and return its id.

        With ``data`` it is complete at once; without, it stays open, to be an output of a subtask.
        ``result_id`` None lets the agent choose the id. Like subtasks, results are stored only if
        the task completes.
        """
        return self.create_results([(result_id, data)])[0]

    def create_results(self, items: Union[int, Sequence[tuple[Optional[str], Optional[Bytes]]]]) -> list[str]:
        """Create several results in one round trip: ``n`` open results with ids the agent chooses, or
        a sequence of ``(result_id or None, data or None)`` pairs."""
        msgs = self._new_results([(None, None)] * items if isinstance(items, int) else items)
        return self._conn.call_threadsafe(self._conn.create_results(self.task_id, msgs))

    def submit(self, method: str, payload: Bytes = b"", data_dependencies: Sequence[str] = (),
               expected_output_ids: Sequence[str] = (),
               options: Union[TaskOptions, Mapping[str, str], None] = None) -> str:
        """Submit one subtask into the task's session and return its task id (see :class:`Subtask`)."""
        return self.submit_many([Subtask(method, payload, data_dependencies, expected_output_ids, options)])[0]

    def submit_many(self, subtasks: Iterable[Subtask]) -> list[str]:
        """Submit several subtasks in one round trip; returns their task ids in order."""
        return self._conn.call_threadsafe(self._conn.submit_tasks(self.task_id, self._subtasks(subtasks)))

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or raise :class:`Cancelled` as soon as the task is cancelled."""
        if self.cancelled.wait(seconds):
            self.check_cancelled()


class AsyncContext(_BaseContext):
    """The ``ctx`` of an ``async def`` handler: its calls to the agent are awaited. Cancelling the task
    also cancels the handler's coroutine (``asyncio.CancelledError`` at its next ``await``)."""

    async def create_result(self, data: Optional[Bytes] = None, result_id: Optional[str] = None) -> str:
        """See :meth:`Context.create_result`."""
        return (await self.create_results([(result_id, data)]))[0]

    async def create_results(self, items: Union[int, Sequence[tuple[Optional[str], Optional[Bytes]]]]) -> list[str]:
        """See :meth:`Context.create_results`."""
        pairs = [(None, None)] * items if isinstance(items, int) else items
        msgs = await asyncio.to_thread(self._new_results, pairs) if self._large(pairs) else self._new_results(pairs)
        return await self._conn.create_results(self.task_id, msgs)

    async def submit(self, method: str, payload: Bytes = b"", data_dependencies: Sequence[str] = (),
                     expected_output_ids: Sequence[str] = (),
                     options: Union[TaskOptions, Mapping[str, str], None] = None) -> str:
        """See :meth:`Context.submit`."""
        return (await self.submit_many([Subtask(method, payload, data_dependencies, expected_output_ids, options)]))[0]

    async def submit_many(self, subtasks: Iterable[Subtask]) -> list[str]:
        """See :meth:`Context.submit_many`."""
        subtasks = list(subtasks)
        big = self._large([(None, s.payload) for s in subtasks])
        msgs = await asyncio.to_thread(self._subtasks, subtasks) if big else self._subtasks(subtasks)
        return await self._conn.submit_tasks(self.task_id, msgs)

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or raise :class:`Cancelled` as soon as the task is cancelled."""
        await asyncio.sleep(seconds)
        self.check_cancelled()

    def _large(self, pairs: Sequence[tuple[Optional[str], Optional[Bytes]]]) -> bool:
        limit = self._conn.inline_limit
        return limit > 0 and any(d is not None and len(d) > limit for _, d in pairs)
