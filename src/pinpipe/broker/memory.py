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
    KeyedSpan,
    LogRecord,
    OutRecord,
    Position,
    TopicInfo,
    validate_group_name,
    validate_topic_name,
)
from pinpipe.broker.partitioner import choose_partitions
from pinpipe.errors import (
    InvalidPartitionError,
    OffsetOutOfRangeError,
    TopicExistsError,
    UnknownTopicError,
)


class InMemoryBroker(Broker):
    backend: ClassVar[BackendName] = "memory"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._topics: dict[str, list[list[LogRecord]]] = {}
        self._groups: dict[tuple[str, str], dict[int, int]] = {}
        self._round_robin = itertools.count()
        self._keys: dict[tuple[str, str], list[Position]] = {}

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
            for idem in [k for k in self._keys if k[0] == name]:
                del self._keys[idem]

    def list_topics(self) -> list[str]:
        with self._lock:
            return sorted(self._topics)

    def describe_topic(self, name: str) -> TopicInfo:
        with self._lock:
            parts = self._partitions(name)
            return TopicInfo(name, tuple(0 for _ in parts), tuple(len(p) for p in parts))

    def append(self, topic: str, records: Sequence[OutRecord]) -> list[Position]:
        with self._lock:
            return self._append(topic, records)

    def append_keyed(
        self, topic: str, records: Sequence[OutRecord], spans: Sequence[KeyedSpan]
    ) -> list[Position]:
        with self._lock:
            seen = {
                s.key: self._keys[(topic, s.key)] for s in spans if (topic, s.key) in self._keys
            }
            skip = {i for s in spans if s.key in seen for i in range(s.start, s.start + s.count)}
            keep = [i for i in range(len(records)) if i not in skip]
            fresh = iter(self._append(topic, [records[i] for i in keep]))
            positions = [None if i in skip else next(fresh) for i in range(len(records))]
            for span in spans:
                if span.key in seen:
                    positions[span.start : span.start + span.count] = seen[span.key]
                else:
                    self._keys[(topic, span.key)] = [
                        p for p in positions[span.start : span.start + span.count] if p
                    ]
            return [p for p in positions if p is not None]

    def lookup_keys(self, topic: str, keys: Sequence[str]) -> dict[str, list[Position]]:
        with self._lock:
            return {k: self._keys[(topic, k)] for k in keys if (topic, k) in self._keys}

    def _append(self, topic: str, records: Sequence[OutRecord]) -> list[Position]:
        """Caller holds the lock."""
        now = int(time.time() * 1000)
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
