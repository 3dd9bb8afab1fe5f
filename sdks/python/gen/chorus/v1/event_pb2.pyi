from chorus.v1 import result_pb2 as _result_pb2
from chorus.v1 import session_pb2 as _session_pb2
from chorus.v1 import task_pb2 as _task_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
EVENT_KIND_RESULT_STATUS: EventKind
EVENT_KIND_SESSION_STATUS: EventKind
EVENT_KIND_TASK_PROGRESS: EventKind
EVENT_KIND_TASK_STATUS: EventKind
EVENT_KIND_UNSPECIFIED: EventKind

class Event(_message.Message):
    __slots__ = ["cursor", "result_status", "session_id", "session_status", "task_progress", "task_status", "time"]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    RESULT_STATUS_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_STATUS_FIELD_NUMBER: _ClassVar[int]
    TASK_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    TASK_STATUS_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    result_status: ResultStatusEvent
    session_id: str
    session_status: SessionStatusEvent
    task_progress: TaskProgressEvent
    task_status: TaskStatusEvent
    time: _timestamp_pb2.Timestamp
    def __init__(self, cursor: _Optional[str] = ..., session_id: _Optional[str] = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., task_status: _Optional[_Union[TaskStatusEvent, _Mapping]] = ..., result_status: _Optional[_Union[ResultStatusEvent, _Mapping]] = ..., session_status: _Optional[_Union[SessionStatusEvent, _Mapping]] = ..., task_progress: _Optional[_Union[TaskProgressEvent, _Mapping]] = ...) -> None: ...

class ResultStatusEvent(_message.Message):
    __slots__ = ["abort_reason", "result_id", "size_bytes", "status"]
    ABORT_REASON_FIELD_NUMBER: _ClassVar[int]
    RESULT_ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    abort_reason: str
    result_id: str
    size_bytes: int
    status: _result_pb2.ResultStatus
    def __init__(self, result_id: _Optional[str] = ..., status: _Optional[_Union[_result_pb2.ResultStatus, str]] = ..., size_bytes: _Optional[int] = ..., abort_reason: _Optional[str] = ...) -> None: ...

class SessionStatusEvent(_message.Message):
    __slots__ = ["status"]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: _session_pb2.SessionStatus
    def __init__(self, status: _Optional[_Union[_session_pb2.SessionStatus, str]] = ...) -> None: ...

class TaskProgressEvent(_message.Message):
    __slots__ = ["fraction", "message", "task_id"]
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    fraction: float
    message: str
    task_id: str
    def __init__(self, task_id: _Optional[str] = ..., fraction: _Optional[float] = ..., message: _Optional[str] = ...) -> None: ...

class TaskStatusEvent(_message.Message):
    __slots__ = ["attempt", "error", "status", "task_id"]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    error: _task_pb2.TaskError
    status: _task_pb2.TaskStatus
    task_id: str
    def __init__(self, task_id: _Optional[str] = ..., status: _Optional[_Union[_task_pb2.TaskStatus, str]] = ..., attempt: _Optional[int] = ..., error: _Optional[_Union[_task_pb2.TaskError, _Mapping]] = ...) -> None: ...

class EventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
