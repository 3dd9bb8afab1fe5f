from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
RESULT_LOCATION_INLINE: ResultLocation
RESULT_LOCATION_OBJECT: ResultLocation
RESULT_LOCATION_UNSPECIFIED: ResultLocation
RESULT_STATUS_ABORTED: ResultStatus
RESULT_STATUS_COMPLETED: ResultStatus
RESULT_STATUS_CREATED: ResultStatus
RESULT_STATUS_UNSPECIFIED: ResultStatus

class Result(_message.Message):
    __slots__ = ["abort_reason", "create_time", "end_time", "location", "owner_task_id", "result_id", "session_id", "sha256", "size_bytes", "status"]
    ABORT_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    OWNER_TASK_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    abort_reason: str
    create_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    location: ResultLocation
    owner_task_id: str
    result_id: str
    session_id: str
    sha256: str
    size_bytes: int
    status: ResultStatus
    def __init__(self, session_id: _Optional[str] = ..., result_id: _Optional[str] = ..., status: _Optional[_Union[ResultStatus, str]] = ..., owner_task_id: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., location: _Optional[_Union[ResultLocation, str]] = ..., abort_reason: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ResultStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ResultLocation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
