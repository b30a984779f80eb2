"""REST Proxy v2 consumer instances: in memory, per API process, like the proxy's own.

An instance belongs to a consumer group and holds its subscription and its positions (the next
offset to return per partition). Positions start from the group's committed offsets, else from
``auto.offset.reset`` (earliest: the log start; latest: the end at subscription time). With
``auto.commit.enable`` (the default, as in Kafka) every fetch commits the new positions.
Instances expire after 5 idle minutes (the proxy's ``consumer.instance.timeout.ms``) and at
most ``max_instances`` live at once.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from pinpipe.api.errors import ApiError, Problem
from pinpipe.broker.base import Broker, LogRecord
from pinpipe.errors import OffsetOutOfRangeError

IDLE_TIMEOUT_S = 300.0
MAX_INSTANCES = 1000
MAX_POLL_RECORDS = 500

Partition = tuple[str, int]
Reset = Literal["earliest", "latest"]
Format = Literal["json", "binary"]


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    format: Format = "json"
    auto_offset_reset: Reset = "latest"
    auto_commit: bool = True
    request_timeout_ms: int = 1000


@dataclass(eq=False)
class ConsumerInstance:
    group: str
    name: str
    config: ConsumerConfig
    last_used: float
    topics: list[str] = field(default_factory=list)
    positions: dict[Partition, int] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    def order(self) -> list[Partition]:
        """Assigned partitions, starting one further each fetch (no partition starves)."""
        keys = sorted(self.positions)
        if not keys:
            return keys
        start = next(self._turn) % len(keys)
        return keys[start:] + keys[:start]


class ConsumerRegistry:
    """``(group, name) -> ConsumerInstance`` with idle expiry and a bound on the count."""

    def __init__(
        self,
        *,
        idle_timeout: float = IDLE_TIMEOUT_S,
        max_instances: int = MAX_INSTANCES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_timeout = idle_timeout
        self.max_instances = max_instances
        self.clock = clock
        self._instances: dict[tuple[str, str], ConsumerInstance] = {}

    def __len__(self) -> int:
        return len(self._instances)

    def expire(self) -> None:
        cutoff = self.clock() - self.idle_timeout
        for key in [k for k, i in self._instances.items() if i.last_used < cutoff]:
            del self._instances[key]

    def create(self, group: str, name: str, config: ConsumerConfig) -> ConsumerInstance:
        self.expire()
        if (group, name) in self._instances:
            msg = (
                "Consumer with specified consumer ID already exists in the specified consumer "
                f"group: {name!r} in {group!r}"
            )
            raise ApiError(Problem.CONSUMER_EXISTS, msg)
        if len(self._instances) >= self.max_instances:
            msg = f"{self.max_instances} consumer instances exist; delete some or wait 5 minutes"
            raise ApiError(Problem.TOO_MANY_CONSUMERS, msg, retry_after=60)
        instance = ConsumerInstance(group, name, config, self.clock())
        self._instances[(group, name)] = instance
        return instance

    def get(self, group: str, name: str) -> ConsumerInstance:
        self.expire()
        instance = self._instances.get((group, name))
        if instance is None:
            msg = f"Consumer instance not found: {name!r} in group {group!r} (expired or deleted)"
            raise ApiError(Problem.UNKNOWN_CONSUMER, msg)
        instance.last_used = self.clock()
        return instance

    def delete(self, group: str, name: str) -> None:
        self.get(group, name)
        del self._instances[(group, name)]


def initial_positions(
    broker: Broker, group: str, topics: list[str], reset: Reset
) -> dict[Partition, int]:
    """In a worker thread: where a new subscription starts reading, per partition."""
    positions: dict[Partition, int] = {}
    for topic in topics:
        info = broker.describe_topic(topic)
        committed = broker.committed(group, topic) if broker.supports_groups else {}
        for p, (start, end) in enumerate(zip(info.start_offsets, info.end_offsets, strict=True)):
            if p in committed:
                positions[(topic, p)] = min(max(committed[p], start), end)
            else:
                positions[(topic, p)] = start if reset == "earliest" else end
    return positions


def fetch(
    broker: Broker,
    order: list[Partition],
    positions: Mapping[Partition, int],
    *,
    max_bytes: int,
    reset: Reset,
) -> tuple[list[LogRecord], dict[Partition, int]]:
    """In a worker thread: up to 500 records and ``max_bytes`` (at least one record).

    Returns the records and the positions after them; the caller applies the positions only
    once the records are on their way to the client.
    """
    moved = dict(positions)
    records: list[LogRecord] = []
    size = 0
    for topic, partition in order:
        room = MAX_POLL_RECORDS - len(records)
        if room <= 0:
            break
        offset = moved[(topic, partition)]
        try:
            batch = broker.read(topic, partition, offset, room)
        except OffsetOutOfRangeError:
            info = broker.describe_topic(topic)
            edges = info.start_offsets if reset == "earliest" else info.end_offsets
            offset = moved[(topic, partition)] = edges[partition]
            batch = broker.read(topic, partition, offset, room)
        for record in batch:
            record_size = len(record.value) + len(record.key or b"")
            if records and size + record_size > max_bytes:
                return records, moved
            records.append(record)
            size += record_size
            moved[(topic, partition)] = record.offset + 1
    return records, moved
