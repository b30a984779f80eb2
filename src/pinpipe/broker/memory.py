"""An in-memory broker: the reference implementation of the contract, for tests and fakes.

It keeps everything in dicts under one lock; nothing is durable. Same partitioning as the
embedded log (Kafka's murmur2 for keyed records, round-robin for the rest).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Mapping, Sequence
from typing import ClassVar

from pinpipe.broker.base import (
    BackendName,
    Broker,
    LogRecord,
    OutRecord,
    Position,
    TopicInfo,
    validate_group_name,
    validate_topic_name,
)
from pinpipe.broker.partitioner import partition_for_key
from pinpipe.errors import (
    InvalidPartitionError,
    OffsetOutOfRangeError,
    TopicExistsError,
    UnknownTopicError,
)


def choose_partitions(
    records: Sequence[OutRecord], partitions: int, round_robin: itertools.count[int], topic: str
) -> list[int]:
    """The partition of each record: explicit, else by key hash, else round-robin."""
    chosen = []
    for record in records:
        if record.partition is not None:
            if not 0 <= record.partition < partitions:
                msg = f"topic {topic!r} has no partition {record.partition}"
                raise InvalidPartitionError(msg, hint=f"use 0..{partitions - 1}")
            chosen.append(record.partition)
        elif record.key is not None:
            chosen.append(partition_for_key(record.key, partitions))
        else:
            chosen.append(next(round_robin) % partitions)
    return chosen


class InMemoryBroker(Broker):
    backend: ClassVar[BackendName] = "memory"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._topics: dict[str, list[list[LogRecord]]] = {}
        self._groups: dict[tuple[str, str], dict[int, int]] = {}
        self._round_robin = itertools.count()

    def _partitions(self, name: str) -> list[list[LogRecord]]:
        try:
            return self._topics[name]
        except KeyError:
            raise UnknownTopicError(name) from None

    def create_topic(self, name: str, partitions: int = 1) -> None:
        validate_topic_name(name)
        if partitions < 1:
            msg = f"partitions={partitions} must be at least 1"
            raise InvalidPartitionError(msg, hint="pass a positive partition count")
        with self._lock:
            if name in self._topics:
                raise TopicExistsError(name)
            self._topics[name] = [[] for _ in range(partitions)]

    def delete_topic(self, name: str) -> None:
        with self._lock:
            self._partitions(name)
            del self._topics[name]
            for key in [k for k in self._groups if k[1] == name]:
                del self._groups[key]

    def list_topics(self) -> list[str]:
        with self._lock:
            return sorted(self._topics)

    def describe_topic(self, name: str) -> TopicInfo:
        with self._lock:
            parts = self._partitions(name)
            return TopicInfo(name, tuple(0 for _ in parts), tuple(len(p) for p in parts))

    def append(self, topic: str, records: Sequence[OutRecord]) -> list[Position]:
        now = int(time.time() * 1000)
        with self._lock:
            parts = self._partitions(topic)
            chosen = choose_partitions(records, len(parts), self._round_robin, topic)
            positions = []
            for record, p in zip(records, chosen, strict=True):
                offset = len(parts[p])
                parts[p].append(LogRecord(topic, p, offset, record.key, record.value, now))
                positions.append(Position(p, offset))
            return positions

    def read(
        self, topic: str, partition: int, offset: int, max_records: int = 500
    ) -> list[LogRecord]:
        with self._lock:
            parts = self._partitions(topic)
            if not 0 <= partition < len(parts):
                msg = f"topic {topic!r} has no partition {partition}"
                raise InvalidPartitionError(msg, hint=f"use 0..{len(parts) - 1}")
            log = parts[partition]
            if not 0 <= offset <= len(log):
                msg = f"offset {offset} is outside {topic!r}[{partition}] (0..{len(log)})"
                raise OffsetOutOfRangeError(msg, hint="read from the start or the end offset")
            return log[offset : offset + max_records]

    def commit(self, group: str, topic: str, offsets: Mapping[int, int]) -> None:
        validate_group_name(group)
        with self._lock:
            self._partitions(topic)
            self._groups.setdefault((group, topic), {}).update(offsets)

    def committed(self, group: str, topic: str) -> dict[int, int]:
        with self._lock:
            self._partitions(topic)
            return dict(self._groups.get((group, topic), {}))
