from chorus.v1 import session_pb2 as _session_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AgentInfo(_message.Message):
    __slots__ = ["agent_id", "capacity", "hostname", "in_flight", "last_seen_time"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_TIME_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    capacity: int
    hostname: str
    in_flight: int
    last_seen_time: _timestamp_pb2.Timestamp
    def __init__(self, agent_id: _Optional[str] = ..., hostname: _Optional[str] = ..., capacity: _Optional[int] = ..., in_flight: _Optional[int] = ..., last_seen_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Partition(_message.Message):
    __slots__ = ["agents", "declared", "partition_id", "queue_depth", "task_counts", "total_capacity"]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    DECLARED_FIELD_NUMBER: _ClassVar[int]
    PARTITION_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_DEPTH_FIELD_NUMBER: _ClassVar[int]
    TASK_COUNTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    agents: _containers.RepeatedCompositeFieldContainer[AgentInfo]
    declared: bool
    partition_id: str
    queue_depth: int
    task_counts: _session_pb2.TaskCounts
    total_capacity: int
    def __init__(self, partition_id: _Optional[str] = ..., queue_depth: _Optional[int] = ..., task_counts: _Optional[_Union[_session_pb2.TaskCounts, _Mapping]] = ..., agents: _Optional[_Iterable[_Union[AgentInfo, _Mapping]]] = ..., total_capacity: _Optional[int] = ..., declared: bool = ...) -> None: ...
