from chorus.v1 import task_pb2 as _task_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
SESSION_STATUS_CANCELLED: SessionStatus
SESSION_STATUS_CLOSED: SessionStatus
SESSION_STATUS_PAUSED: SessionStatus
SESSION_STATUS_PURGED: SessionStatus
SESSION_STATUS_RUNNING: SessionStatus
SESSION_STATUS_UNSPECIFIED: SessionStatus

class Session(_message.Message):
    __slots__ = ["create_time", "default_task_options", "labels", "session_id", "status", "task_counts", "tenant", "update_time", "weight"]
    class LabelsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_TASK_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TASK_COUNTS_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    create_time: _timestamp_pb2.Timestamp
    default_task_options: _task_pb2.TaskOptions
    labels: _containers.ScalarMap[str, str]
    session_id: str
    status: SessionStatus
    task_counts: TaskCounts
    tenant: str
    update_time: _timestamp_pb2.Timestamp
    weight: int
    def __init__(self, session_id: _Optional[str] = ..., status: _Optional[_Union[SessionStatus, str]] = ..., default_task_options: _Optional[_Union[_task_pb2.TaskOptions, _Mapping]] = ..., weight: _Optional[int] = ..., labels: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., task_counts: _Optional[_Union[TaskCounts, _Mapping]] = ..., tenant: _Optional[str] = ...) -> None: ...

class TaskCounts(_message.Message):
    __slots__ = ["cancelled", "completed", "dispatched", "failed", "pending", "queued", "running"]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    DISPATCHED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    cancelled: int
    completed: int
    dispatched: int
    failed: int
    pending: int
    queued: int
    running: int
    def __init__(self, pending: _Optional[int] = ..., queued: _Optional[int] = ..., dispatched: _Optional[int] = ..., running: _Optional[int] = ..., completed: _Optional[int] = ..., failed: _Optional[int] = ..., cancelled: _Optional[int] = ...) -> None: ...

class SessionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
