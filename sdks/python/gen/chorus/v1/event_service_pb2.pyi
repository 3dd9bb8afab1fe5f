from buf.validate import validate_pb2 as _validate_pb2
from chorus.v1 import event_pb2 as _event_pb2
from chorus.v1 import task_pb2 as _task_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WatchEventsRequest(_message.Message):
    __slots__ = ["batches", "cursor", "kinds", "session_id", "task_statuses"]
    BATCHES_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_STATUSES_FIELD_NUMBER: _ClassVar[int]
    batches: bool
    cursor: str
    kinds: _containers.RepeatedScalarFieldContainer[_event_pb2.EventKind]
    session_id: str
    task_statuses: _containers.RepeatedScalarFieldContainer[_task_pb2.TaskStatus]
    def __init__(self, session_id: _Optional[str] = ..., cursor: _Optional[str] = ..., kinds: _Optional[_Iterable[_Union[_event_pb2.EventKind, str]]] = ..., task_statuses: _Optional[_Iterable[_Union[_task_pb2.TaskStatus, str]]] = ..., batches: bool = ...) -> None: ...

class WatchEventsResponse(_message.Message):
    __slots__ = ["event", "events"]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _event_pb2.Event
    events: _containers.RepeatedCompositeFieldContainer[_event_pb2.Event]
    def __init__(self, event: _Optional[_Union[_event_pb2.Event, _Mapping]] = ..., events: _Optional[_Iterable[_Union[_event_pb2.Event, _Mapping]]] = ...) -> None: ...
