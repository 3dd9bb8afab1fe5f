from buf.validate import validate_pb2 as _validate_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
ERROR_KIND_CANCELLED: ErrorKind
ERROR_KIND_DATA_ERROR: ErrorKind
ERROR_KIND_DEPENDENCY_FAILED: ErrorKind
ERROR_KIND_LEASE_EXPIRED: ErrorKind
ERROR_KIND_TIMEOUT: ErrorKind
ERROR_KIND_UNKNOWN_METHOD: ErrorKind
ERROR_KIND_UNSPECIFIED: ErrorKind
ERROR_KIND_WORKER_CRASHED: ErrorKind
ERROR_KIND_WORKER_ERROR: ErrorKind
TASK_STATUS_CANCELLED: TaskStatus
TASK_STATUS_COMPLETED: TaskStatus
TASK_STATUS_DISPATCHED: TaskStatus
TASK_STATUS_FAILED: TaskStatus
TASK_STATUS_PENDING: TaskStatus
TASK_STATUS_QUEUED: TaskStatus
TASK_STATUS_RUNNING: TaskStatus
TASK_STATUS_UNSPECIFIED: TaskStatus

class Task(_message.Message):
    __slots__ = ["attempts", "create_time", "data_dependencies", "end_time", "error", "expected_output_ids", "method", "options", "parent_task_id", "payload_id", "payload_size", "queue_time", "session_id", "status", "task_id"]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DATA_DEPENDENCIES_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_OUTPUT_IDS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    PARENT_TASK_ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_SIZE_FIELD_NUMBER: _ClassVar[int]
    QUEUE_TIME_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    attempts: _containers.RepeatedCompositeFieldContainer[TaskAttempt]
    create_time: _timestamp_pb2.Timestamp
    data_dependencies: _containers.RepeatedScalarFieldContainer[str]
    end_time: _timestamp_pb2.Timestamp
    error: TaskError
    expected_output_ids: _containers.RepeatedScalarFieldContainer[str]
    method: str
    options: TaskOptions
    parent_task_id: str
    payload_id: str
    payload_size: int
    queue_time: _timestamp_pb2.Timestamp
    session_id: str
    status: TaskStatus
    task_id: str
    def __init__(self, session_id: _Optional[str] = ..., task_id: _Optional[str] = ..., method: _Optional[str] = ..., status: _Optional[_Union[TaskStatus, str]] = ..., options: _Optional[_Union[TaskOptions, _Mapping]] = ..., data_dependencies: _Optional[_Iterable[str]] = ..., expected_output_ids: _Optional[_Iterable[str]] = ..., payload_size: _Optional[int] = ..., parent_task_id: _Optional[str] = ..., attempts: _Optional[_Iterable[_Union[TaskAttempt, _Mapping]]] = ..., error: _Optional[_Union[TaskError, _Mapping]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., queue_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., payload_id: _Optional[str] = ...) -> None: ...

class TaskAttempt(_message.Message):
    __slots__ = ["agent_id", "dispatch_time", "end_time", "error", "number", "start_time"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    DISPATCH_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    dispatch_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    error: TaskError
    number: int
    start_time: _timestamp_pb2.Timestamp
    def __init__(self, number: _Optional[int] = ..., agent_id: _Optional[str] = ..., dispatch_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[_Union[TaskError, _Mapping]] = ...) -> None: ...

class TaskError(_message.Message):
    __slots__ = ["kind", "message", "retryable"]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    kind: ErrorKind
    message: str
    retryable: bool
    def __init__(self, kind: _Optional[_Union[ErrorKind, str]] = ..., message: _Optional[str] = ..., retryable: bool = ...) -> None: ...

class TaskOptions(_message.Message):
    __slots__ = ["max_duration", "max_retries", "options", "partition", "priority"]
    class OptionsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MAX_DURATION_FIELD_NUMBER: _ClassVar[int]
    MAX_RETRIES_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    max_duration: _duration_pb2.Duration
    max_retries: int
    options: _containers.ScalarMap[str, str]
    partition: str
    priority: int
    def __init__(self, partition: _Optional[str] = ..., priority: _Optional[int] = ..., max_retries: _Optional[int] = ..., max_duration: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., options: _Optional[_Mapping[str, str]] = ...) -> None: ...

class TaskSpec(_message.Message):
    __slots__ = ["data_dependencies", "expected_output_ids", "method", "options", "payload", "payload_id"]
    DATA_DEPENDENCIES_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_OUTPUT_IDS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    data_dependencies: _containers.RepeatedScalarFieldContainer[str]
    expected_output_ids: _containers.RepeatedScalarFieldContainer[str]
    method: str
    options: TaskOptions
    payload: bytes
    payload_id: str
    def __init__(self, method: _Optional[str] = ..., payload: _Optional[bytes] = ..., payload_id: _Optional[str] = ..., data_dependencies: _Optional[_Iterable[str]] = ..., expected_output_ids: _Optional[_Iterable[str]] = ..., options: _Optional[_Union[TaskOptions, _Mapping]] = ...) -> None: ...

class TaskStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ErrorKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
