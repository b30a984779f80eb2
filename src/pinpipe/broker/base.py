"""The contract of the log behind topics and streams.

One abstraction serves Kafka topics and Kinesis streams: a topic has partitions (Kinesis:
shards), each an append-only sequence of records addressed by offset (Kinesis: sequence
number, a decimal string of an int). Guarantees every backend gives:

* ``append`` is all-or-nothing per call and durable when it returns; it returns the partition
  and offset of every record, in order.
* ``read`` returns records of one partition with offset >= the given one, in offset order.
* A consumer group's committed offset is the *next* offset to read (Kafka's convention).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol, runtime_checkable

from pinpipe.closing import Closing
from pinpipe.errors import InvalidNameError

BackendName = Literal["embedded", "memory", "kafka", "kinesis"]

#: Kafka's topic name rule (``Topic.validate``): at most 249 of ``[a-zA-Z0-9._-]``.
KAFKA_TOPIC = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")
#: Kinesis' stream name rule (``StreamName`` pattern): 1-128 of ``[a-zA-Z0-9_.-]``.
KINESIS_STREAM = re.compile(r"^[a-zA-Z0-9_.-]{1,128}$")
#: Consumer group names pinpipe accepts (Kafka allows more; these are safe in URLs and files).
GROUP_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")


def validate_topic_name(name: str) -> str:
    if not KAFKA_TOPIC.fullmatch(name) or name in (".", ".."):
        msg = f"invalid topic name {name!r}: use 1-249 characters of a-z A-Z 0-9 . _ -"
        raise InvalidNameError(msg, hint="Kafka's topic naming rules apply")
    return name


def validate_stream_name(name: str) -> str:
    if not KINESIS_STREAM.fullmatch(name):
        msg = f"invalid stream name {name!r}: use 1-128 characters of a-z A-Z 0-9 . _ -"
        raise InvalidNameError(msg, hint="Kinesis' stream naming rules apply")
    return name


def validate_group_name(name: str) -> str:
    if not GROUP_NAME.fullmatch(name):
        msg = f"invalid consumer group {name!r}: use 1-249 characters of a-z A-Z 0-9 . _ -"
        raise InvalidNameError(msg, hint="pick a simpler group name")
    return name


@dataclass(frozen=True, slots=True)
class OutRecord:
    """A record to append. ``partition`` pins it; otherwise the key chooses (see partitioner)."""

    value: bytes
    key: bytes | None = None
    partition: int | None = None


@dataclass(frozen=True, slots=True)
class Position:
    """Where an appended record landed."""

    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class LogRecord:
    """A record read back from the log."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class TopicInfo:
    """A topic's (stream's) partitions with their first and next offsets."""

    name: str
    start_offsets: tuple[int, ...]
    end_offsets: tuple[int, ...]

    @property
    def partitions(self) -> int:
        return len(self.end_offsets)

    @property
    def records(self) -> int:
        """Records currently held (exact for the embedded log and Kafka)."""
        return sum(e - s for s, e in zip(self.start_offsets, self.end_offsets, strict=True))


@dataclass(frozen=True, slots=True)
class KeyedSpan:
    """An idempotency key covering ``count`` records from ``start`` of one append call."""

    key: str
    start: int
    count: int


@runtime_checkable
class IdempotentAppender(Protocol):
    """A broker that stores idempotency keys in the same transaction as the records.

    The API coalesces concurrent produce requests into one append; each request's
    ``Idempotency-Key`` becomes a :class:`KeyedSpan`. A key seen before is not written again:
    ``append_keyed`` raises nothing for it and ``lookup_keys`` returns its original positions.
    Brokers without this capability get a best-effort store in the API instead.
    """

    def append_keyed(
        self, topic: str, records: Sequence[OutRecord], spans: Sequence[KeyedSpan]
    ) -> list[Position]:
        """Like ``append``, recording each span's positions under its key, atomically."""
        ...

    def lookup_keys(self, topic: str, keys: Sequence[str]) -> dict[str, list[Position]]:
        """Positions stored for those keys of this topic (absent keys are left out)."""
        ...


class Broker(Closing, ABC):
    """A log of topics; see the module docstring for the guarantees."""

    backend: ClassVar[BackendName]
    #: Whether the backend stores consumer-group offsets itself (Kinesis does not).
    supports_groups: ClassVar[bool] = True

    @abstractmethod
    def create_topic(self, name: str, partitions: int = 1) -> None:
        """Create a topic; TopicExistsError if it exists, InvalidNameError if the name is bad."""

    @abstractmethod
    def delete_topic(self, name: str) -> None:
        """Delete a topic and its records; UnknownTopicError if absent."""

    @abstractmethod
    def list_topics(self) -> list[str]:
        """Names of all topics, sorted."""

    @abstractmethod
    def describe_topic(self, name: str) -> TopicInfo:
        """Partitions and offsets; UnknownTopicError if absent."""

    @abstractmethod
    def append(self, topic: str, records: Sequence[OutRecord]) -> list[Position]:
        """Append all records or none; durable when it returns."""

    @abstractmethod
    def read(
        self, topic: str, partition: int, offset: int, max_records: int = 500
    ) -> list[LogRecord]:
        """Up to ``max_records`` records of one partition with offset >= ``offset``."""

    @abstractmethod
    def commit(self, group: str, topic: str, offsets: Mapping[int, int]) -> None:
        """Store the group's next offset to read per partition."""

    @abstractmethod
    def committed(self, group: str, topic: str) -> dict[int, int]:
        """The group's committed next offsets (partitions never committed are absent)."""

    def end_offsets(self, topic: str) -> dict[int, int]:
        """Next offset to be written, per partition."""
        return dict(enumerate(self.describe_topic(topic).end_offsets))

    def lag(self, group: str, topic: str) -> dict[int, int]:
        """Records not yet committed by the group, per partition."""
        info = self.describe_topic(topic)
        done = self.committed(group, topic)
        return {
            p: end - done.get(p, start)
            for p, (start, end) in enumerate(zip(info.start_offsets, info.end_offsets, strict=True))
        }
