from buf.validate import validate_pb2 as _validate_pb2
from chorus.v1 import result_pb2 as _result_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateResultsRequest(_message.Message):
    __slots__ = ["results", "session_id"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ResultSpec]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ..., results: _Optional[_Iterable[_Union[ResultSpec, _Mapping]]] = ...) -> None: ...

class CreateResultsResponse(_message.Message):
    __slots__ = ["results"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[_result_pb2.Result]
    def __init__(self, results: _Optional[_Iterable[_Union[_result_pb2.Result, _Mapping]]] = ...) -> None: ...

class DownloadResultDataRequest(_message.Message):
    __slots__ = ["result_id", "session_id"]
    RESULT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    result_id: str
    session_id: str
    def __init__(self, session_id: _Optional[str] = ..., result_id: _Optional[str] = ...) -> None: ...

class DownloadResultDataResponse(_message.Message):
    __slots__ = ["data"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    def __init__(self, data: _Optional[bytes] = ...) -> None: ...

class GetResultRequest(_message.Message):
    __slots__ = ["result_id", "session_id"]
    RESULT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    result_id: str
    session_id: str
    def __init__(self, session_id: _Optional[str] = ..., result_id: _Optional[str] = ...) -> None: ...

class GetResultResponse(_message.Message):
    __slots__ = ["result"]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _result_pb2.Result
    def __init__(self, result: _Optional[_Union[_result_pb2.Result, _Mapping]] = ...) -> None: ...

class ListResultsRequest(_message.Message):
    __slots__ = ["page_size", "page_token", "session_id", "status"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    session_id: str
    status: _result_pb2.ResultStatus
    def __init__(self, session_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[_Union[_result_pb2.ResultStatus, str]] = ...) -> None: ...

class ListResultsResponse(_message.Message):
    __slots__ = ["next_page_token", "results"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    results: _containers.RepeatedCompositeFieldContainer[_result_pb2.Result]
    def __init__(self, results: _Optional[_Iterable[_Union[_result_pb2.Result, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ResultSpec(_message.Message):
    __slots__ = ["data", "result_id"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    RESULT_ID_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    result_id: str
    def __init__(self, result_id: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class UploadResultDataRequest(_message.Message):
    __slots__ = ["data", "result_id", "session_id"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    RESULT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    result_id: str
    session_id: str
    def __init__(self, session_id: _Optional[str] = ..., result_id: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class UploadResultDataResponse(_message.Message):
    __slots__ = ["result"]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _result_pb2.Result
    def __init__(self, result: _Optional[_Union[_result_pb2.Result, _Mapping]] = ...) -> None: ...
