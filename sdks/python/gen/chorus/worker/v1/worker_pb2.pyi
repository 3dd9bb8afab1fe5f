from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AssignTask(_message.Message):
    __slots__ = ["attempt", "expected_output_ids", "inputs", "max_duration", "method", "options", "output_dir", "partition", "payload", "session_id", "task_id", "traceparent", "tracestate"]
    class OptionsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_OUTPUT_IDS_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    MAX_DURATION_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_DIR_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    TRACEPARENT_FIELD_NUMBER: _ClassVar[int]
    TRACESTATE_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    expected_output_ids: _containers.RepeatedScalarFieldContainer[str]
    inputs: _containers.RepeatedCompositeFieldContainer[Input]
    max_duration: _duration_pb2.Duration
    method: str
    options: _containers.ScalarMap[str, str]
    output_dir: str
    partition: str
    payload: Data
    session_id: str
    task_id: str
    traceparent: str
    tracestate: str
    def __init__(self, session_id: _Optional[str] = ..., task_id: _Optional[str] = ..., method: _Optional[str] = ..., payload: _Optional[_Union[Data, _Mapping]] = ..., inputs: _Optional[_Iterable[_Union[Input, _Mapping]]] = ..., expected_output_ids: _Optional[_Iterable[str]] = ..., options: _Optional[_Mapping[str, str]] = ..., max_duration: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., attempt: _Optional[int] = ..., traceparent: _Optional[str] = ..., tracestate: _Optional[str] = ..., output_dir: _Optional[str] = ..., partition: _Optional[str] = ...) -> None: ...

class CancelTask(_message.Message):
    __slots__ = ["reason", "task_id"]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    reason: str
    task_id: str
    def __init__(self, task_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ConnectRequest(_message.Message):
    __slots__ = ["batch", "create_results", "hello", "pong", "submit_tasks", "task_completed", "task_failed", "task_progress"]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    CREATE_RESULTS_FIELD_NUMBER: _ClassVar[int]
    HELLO_FIELD_NUMBER: _ClassVar[int]
    PONG_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_TASKS_FIELD_NUMBER: _ClassVar[int]
    TASK_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    TASK_FAILED_FIELD_NUMBER: _ClassVar[int]
    TASK_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    batch: RequestBatch
    create_results: CreateResults
    hello: Hello
    pong: Pong
    submit_tasks: SubmitTasks
    task_completed: TaskCompleted
    task_failed: TaskFailed
    task_progress: TaskProgress
    def __init__(self, hello: _Optional[_Union[Hello, _Mapping]] = ..., task_completed: _Optional[_Union[TaskCompleted, _Mapping]] = ..., task_failed: _Optional[_Union[TaskFailed, _Mapping]] = ..., task_progress: _Optional[_Union[TaskProgress, _Mapping]] = ..., create_results: _Optional[_Union[CreateResults, _Mapping]] = ..., submit_tasks: _Optional[_Union[SubmitTasks, _Mapping]] = ..., pong: _Optional[_Union[Pong, _Mapping]] = ..., batch: _Optional[_Union[RequestBatch, _Mapping]] = ...) -> None: ...

class ConnectResponse(_message.Message):
    __slots__ = ["assign_task", "batch", "cancel_task", "create_results_reply", "drain", "ping", "submit_tasks_reply", "welcome"]
    ASSIGN_TASK_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    CANCEL_TASK_FIELD_NUMBER: _ClassVar[int]
    CREATE_RESULTS_REPLY_FIELD_NUMBER: _ClassVar[int]
    DRAIN_FIELD_NUMBER: _ClassVar[int]
    PING_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_TASKS_REPLY_FIELD_NUMBER: _ClassVar[int]
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    assign_task: AssignTask
    batch: ResponseBatch
    cancel_task: CancelTask
    create_results_reply: CreateResultsReply
    drain: Drain
    ping: Ping
    submit_tasks_reply: SubmitTasksReply
    welcome: Welcome
    def __init__(self, welcome: _Optional[_Union[Welcome, _Mapping]] = ..., assign_task: _Optional[_Union[AssignTask, _Mapping]] = ..., cancel_task: _Optional[_Union[CancelTask, _Mapping]] = ..., drain: _Optional[_Union[Drain, _Mapping]] = ..., create_results_reply: _Optional[_Union[CreateResultsReply, _Mapping]] = ..., submit_tasks_reply: _Optional[_Union[SubmitTasksReply, _Mapping]] = ..., ping: _Optional[_Union[Ping, _Mapping]] = ..., batch: _Optional[_Union[ResponseBatch, _Mapping]] = ...) -> None: ...

class CreateResults(_message.Message):
    __slots__ = ["call_id", "results", "task_id"]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    results: _containers.RepeatedCompositeFieldContainer[NewResult]
    task_id: str
    def __init__(self, call_id: _Optional[str] = ..., task_id: _Optional[str] = ..., results: _Optional[_Iterable[_Union[NewResult, _Mapping]]] = ...) -> None: ...

class CreateResultsReply(_message.Message):
    __slots__ = ["call_id", "error", "result_ids"]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RESULT_IDS_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    error: str
    result_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, call_id: _Optional[str] = ..., result_ids: _Optional[_Iterable[str]] = ..., error: _Optional[str] = ...) -> None: ...

class Data(_message.Message):
    __slots__ = ["inline", "path"]
    INLINE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    inline: bytes
    path: str
    def __init__(self, inline: _Optional[bytes] = ..., path: _Optional[str] = ...) -> None: ...

class Drain(_message.Message):
    __slots__ = ["grace"]
    GRACE_FIELD_NUMBER: _ClassVar[int]
    grace: _duration_pb2.Duration
    def __init__(self, grace: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ["accepts_batches", "capacity", "language", "methods", "pid", "sdk_version", "token"]
    ACCEPTS_BATCHES_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    METHODS_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    SDK_VERSION_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    accepts_batches: bool
    capacity: int
    language: str
    methods: _containers.RepeatedScalarFieldContainer[str]
    pid: int
    sdk_version: str
    token: str
    def __init__(self, token: _Optional[str] = ..., language: _Optional[str] = ..., sdk_version: _Optional[str] = ..., methods: _Optional[_Iterable[str]] = ..., capacity: _Optional[int] = ..., pid: _Optional[int] = ..., accepts_batches: bool = ...) -> None: ...

class Input(_message.Message):
    __slots__ = ["data", "result_id"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    RESULT_ID_FIELD_NUMBER: _ClassVar[int]
    data: Data
    result_id: str
    def __init__(self, result_id: _Optional[str] = ..., data: _Optional[_Union[Data, _Mapping]] = ...) -> None: ...

class NewResult(_message.Message):
    __slots__ = ["data", "result_id"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    RESULT_ID_FIELD_NUMBER: _ClassVar[int]
    data: Data
    result_id: str
    def __init__(self, result_id: _Optional[str] = ..., data: _Optional[_Union[Data, _Mapping]] = ...) -> None: ...

class Output(_message.Message):
    __slots__ = ["data", "result_id"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    RESULT_ID_FIELD_NUMBER: _ClassVar[int]
    data: Data
    result_id: str
    def __init__(self, result_id: _Optional[str] = ..., data: _Optional[_Union[Data, _Mapping]] = ...) -> None: ...

class Ping(_message.Message):
    __slots__ = ["nonce"]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    nonce: int
    def __init__(self, nonce: _Optional[int] = ...) -> None: ...

class Pong(_message.Message):
    __slots__ = ["nonce"]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    nonce: int
    def __init__(self, nonce: _Optional[int] = ...) -> None: ...

class RequestBatch(_message.Message):
    __slots__ = ["messages"]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[ConnectRequest]
    def __init__(self, messages: _Optional[_Iterable[_Union[ConnectRequest, _Mapping]]] = ...) -> None: ...

class ResponseBatch(_message.Message):
    __slots__ = ["messages"]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[ConnectResponse]
    def __init__(self, messages: _Optional[_Iterable[_Union[ConnectResponse, _Mapping]]] = ...) -> None: ...

class SubmitTasks(_message.Message):
    __slots__ = ["call_id", "task_id", "tasks"]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    task_id: str
    tasks: _containers.RepeatedCompositeFieldContainer[Subtask]
    def __init__(self, call_id: _Optional[str] = ..., task_id: _Optional[str] = ..., tasks: _Optional[_Iterable[_Union[Subtask, _Mapping]]] = ...) -> None: ...

class SubmitTasksReply(_message.Message):
    __slots__ = ["call_id", "error", "task_ids"]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    TASK_IDS_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    error: str
    task_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, call_id: _Optional[str] = ..., task_ids: _Optional[_Iterable[str]] = ..., error: _Optional[str] = ...) -> None: ...

class Subtask(_message.Message):
    __slots__ = ["data_dependencies", "expected_output_ids", "method", "options", "payload"]
    DATA_DEPENDENCIES_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_OUTPUT_IDS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    data_dependencies: _containers.RepeatedScalarFieldContainer[str]
    expected_output_ids: _containers.RepeatedScalarFieldContainer[str]
    method: str
    options: SubtaskOptions
    payload: Data
    def __init__(self, method: _Optional[str] = ..., payload: _Optional[_Union[Data, _Mapping]] = ..., data_dependencies: _Optional[_Iterable[str]] = ..., expected_output_ids: _Optional[_Iterable[str]] = ..., options: _Optional[_Union[SubtaskOptions, _Mapping]] = ...) -> None: ...

class SubtaskOptions(_message.Message):
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

class TaskCompleted(_message.Message):
    __slots__ = ["outputs", "task_id"]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    outputs: _containers.RepeatedCompositeFieldContainer[Output]
    task_id: str
    def __init__(self, task_id: _Optional[str] = ..., outputs: _Optional[_Iterable[_Union[Output, _Mapping]]] = ...) -> None: ...

class TaskFailed(_message.Message):
    __slots__ = ["message", "retryable", "task_id"]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    message: str
    retryable: bool
    task_id: str
    def __init__(self, task_id: _Optional[str] = ..., message: _Optional[str] = ..., retryable: bool = ...) -> None: ...

class TaskProgress(_message.Message):
    __slots__ = ["fraction", "message", "task_id"]
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    fraction: float
    message: str
    task_id: str
    def __init__(self, task_id: _Optional[str] = ..., fraction: _Optional[float] = ..., message: _Optional[str] = ...) -> None: ...

class Welcome(_message.Message):
    __slots__ = ["accepts_batches", "agent_id", "inline_limit_bytes", "work_dir", "worker_id"]
    ACCEPTS_BATCHES_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    INLINE_LIMIT_BYTES_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    WORK_DIR_FIELD_NUMBER: _ClassVar[int]
    accepts_batches: bool
    agent_id: str
    inline_limit_bytes: int
    work_dir: str
    worker_id: str
    def __init__(self, agent_id: _Optional[str] = ..., worker_id: _Optional[str] = ..., work_dir: _Optional[str] = ..., inline_limit_bytes: _Optional[int] = ..., accepts_batches: bool = ...) -> None: ...
