"""The batching sink: records are added, cut into objects, flushed, then their offsets committed.

Each topic partition has one *open group* of records (several files when the partitioner spreads
one partition over several directories). Groups are cut only by what the records hold, never by
the clock, so replaying the same records makes the same cuts:

* by count - the group holds ``flush_size`` records (``flush.size``);
* by record time - the next record's broker timestamp is ``rotate_interval_ms`` or more after
  the group's first (``rotate.interval.ms`` with the Record timestamp extractor); that record
  starts the next group;
* by :meth:`BatchingSink.drain` - only at the end of a ``--once`` run, which drains the topic.

A cut group becomes objects (one per file: key from its first record's offset) that wait for the
next :meth:`BatchingSink.commit`. A record that cannot be encoded becomes a dead letter; it does
not count towards ``flush_size`` and its offset still advances.

Commit order (each step finishes before the next starts; see :meth:`BatchingSink.commit`):

1. **Write** every cut object to the lake, each atomically, all durable when the call returns.
2. **Dead-letter** the records that could not be encoded, up to the commit point (step 3's
   offset), to the dead-letter topic; durable when the append returns.
3. **Commit** each partition's *safe offset*: the first offset of its open group, or, with no
   open group, the next offset to read. Everything below it is in the lake or the DLQ.

What a commit covers is fixed when it is taken (its checkpoint: the objects cut so far, the
safe offsets at that moment). It may run in a worker thread (``commit_in_background``) while
the next records are read and encoded - which touches nothing durable; commits run one at a
time, in order, and a failed one stops the sink at the next commit.

What a crash does, at each point:

* before 1 completes: nothing was committed; the restart reads from the last committed offset,
  rebuilds the same groups from the same records and writes the same keys with the same bytes
  (an object written before the crash is overwritten by an identical one: harmless);
* between 1 and 3: the same, for objects already complete in the lake; dead letters may be
  appended twice, unless the broker stores idempotency keys (the embedded log does, so the
  replayed append is dropped; on Kafka the DLQ is at-least-once);
* an open group is never written: its records are simply read again after the restart.

So every offset ends up in exactly one object (or the DLQ). One caveat: a ``--once`` drain cuts
the open groups at the end of the data; if that run dies between 1 and 3, the replay may find
more records and cut later - the same keys, now holding more records (a superset); still each
offset in exactly one object. Changing ``flush_size``, ``rotate_interval_ms``, the partitioner
or the format while uncommitted objects exist breaks the guarantee (as with the connector).
"""

from __future__ import annotations

import base64
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson

from pinpipe.broker.base import LogRecord
from pinpipe.sink.exceptions import EncodeError, SinkConfigError
from pinpipe.sink.formats import Format
from pinpipe.sink.keys import TOPICS_DIR, Partitioner, object_key


@dataclass(frozen=True, slots=True)
class LakeObject:
    """One object to write: its key and bytes, and the records it holds."""

    key: str
    data: bytes
    topic: str
    partition: int
    start_offset: int
    last_offset: int
    records: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record that cannot be encoded, and why."""

    record: LogRecord
    reason: str

    def value(self) -> bytes:
        """The dead-letter record: ``{"topic","partition","offset","reason","value_b64"}``."""
        r = self.record
        return orjson.dumps(
            {
                "topic": r.topic,
                "partition": r.partition,
                "offset": r.offset,
                "reason": self.reason,
                "value_b64": base64.b64encode(r.value).decode("ascii"),
            }
        )


@dataclass(slots=True)
class _File:
    start: int
    last: int
    items: list[Any]


@dataclass(slots=True)
class PartitionState:
    """Where one topic partition stands: next offset, committed offset, open group."""

    topic: str
    partition: int
    position: int
    committed: int
    requested: int = -1  # the offset the latest commit (maybe still running) stores
    files: dict[str, _File] = field(default_factory=dict)
    count: int = 0
    start: int = 0
    base_timestamp_ms: int = 0
    letters: list[DeadLetter] = field(default_factory=list)

    @property
    def safe_offset(self) -> int:
        """The offset to commit: everything below it is written (the open group's start)."""
        return self.start if self.count else self.position


@dataclass(slots=True)
class TopicCounters:
    """What the sink did for one topic (this run)."""

    read: int = 0
    records: int = 0
    objects: int = 0
    bytes: int = 0
    dead_letters: int = 0


class BatchingSink(ABC):
    """The template: :meth:`add` records, :meth:`commit` them; subclasses do the I/O."""

    def __init__(
        self,
        fmt: Format,
        partitioner: Partitioner,
        *,
        flush_size: int = 1,
        rotate_interval_ms: int | None = None,
        topics_dir: str = TOPICS_DIR,
    ) -> None:
        if flush_size < 1:
            msg = f"flush_size={flush_size} must be at least 1"
            raise SinkConfigError(msg, hint="pass --flush-size 1 or more (the course uses 1)")
        if rotate_interval_ms is not None and rotate_interval_ms < 1:
            msg = f"rotate_interval_ms={rotate_interval_ms} must be at least 1"
            raise SinkConfigError(msg, hint="pass a positive --rotate-interval-ms, or none")
        self.format = fmt
        self.partitioner = partitioner
        self.flush_size = flush_size
        self.rotate_interval_ms = rotate_interval_ms
        self.topics_dir = topics_dir
        self.partitions: dict[tuple[str, int], PartitionState] = {}
        self.counters: dict[str, TopicCounters] = {}
        self._ready: list[LakeObject] = []
        self._ready_bytes = 0
        self._executor: ThreadPoolExecutor | None = None
        self._inflight: Future[None] | None = None

    # -- the I/O a subclass provides -------------------------------------------------------

    @abstractmethod
    def write_objects(self, topic: str, objects: Sequence[LakeObject]) -> None:
        """Store the objects, each atomically; all durable when this returns."""

    @abstractmethod
    def write_dead_letters(self, topic: str, letters: Sequence[DeadLetter]) -> None:
        """Append the dead letters to the dead-letter topic; durable when this returns."""

    @abstractmethod
    def commit_offsets(self, topic: str, offsets: Mapping[int, int]) -> None:
        """Store the consumer group's next offsets of ``topic``."""

    # -- records ---------------------------------------------------------------------------

    def assign(self, topic: str, partition: int, offset: int) -> PartitionState:
        """Start (or keep) reading ``topic[partition]`` at ``offset``, its committed offset."""
        key = (topic, partition)
        if key not in self.partitions:
            self.partitions[key] = PartitionState(topic, partition, offset, offset, offset)
            self.counters.setdefault(topic, TopicCounters())
        return self.partitions[key]

    def add(self, record: LogRecord) -> None:
        """Take the next record of its partition; cut the open group when a rule says so."""
        self.add_many([record])

    def add_many(self, records: Sequence[LogRecord]) -> None:
        """Take records of one partition, in offset order (what one ``Broker.read`` returns)."""
        if not records:
            return
        state = self.partitions[(records[0].topic, records[0].partition)]
        # Locals: this loop runs for every record (see benchmarks/bench_sink.py).
        encode, parsed = self.format.encoder(), self.format.parsed
        fixed = self.partitioner.directory(state.partition)
        partition_of = self.partitioner.encode
        needs_value = self.partitioner.needs_value
        rotate, flush_size = self.rotate_interval_ms, self.flush_size
        taken = 0
        for record in records:
            offset = record.offset
            if offset < state.position:
                continue  # already taken (a broker re-delivering)
            state.position = offset + 1
            taken += 1
            try:
                item = encode(record.value)
            except EncodeError as exc:
                state.letters.append(DeadLetter(record, exc.reason))
                continue
            if fixed is None:
                directory = partition_of(record, parsed(item) if needs_value else None)
            else:
                directory = fixed
            if (
                rotate is not None
                and state.count
                and record.timestamp_ms - state.base_timestamp_ms >= rotate
            ):
                self._cut(state)
            if not state.count:
                state.start, state.base_timestamp_ms = offset, record.timestamp_ms
            file = state.files.get(directory)
            if file is None:
                state.files[directory] = _File(offset, offset, [item])
            else:
                file.items.append(item)
                file.last = offset
            state.count += 1
            if state.count >= flush_size:
                self._cut(state)
        self.counters[state.topic].read += taken

    def _cut(self, state: PartitionState) -> None:
        """Turn the open group into objects waiting for the next commit."""
        for directory, file in state.files.items():
            key = object_key(
                state.topic,
                state.partition,
                file.start,
                encoded_partition=directory,
                extension=self.format.extension,
                topics_dir=self.topics_dir,
            )
            data = self.format.serialize(file.items)
            self._ready_bytes += len(data)
            self._ready.append(
                LakeObject(
                    key, data, state.topic, state.partition, file.start, file.last, len(file.items)
                )
            )
        state.files, state.count = {}, 0

    def drain(self) -> None:
        """Cut every open group now (the end of a ``--once`` run)."""
        for state in self.partitions.values():
            if state.count:
                self._cut(state)

    @property
    def pending(self) -> int:
        """Objects cut and not yet written."""
        return len(self._ready)

    @property
    def pending_bytes(self) -> int:
        """Bytes of the objects cut and not yet written."""
        return self._ready_bytes

    # -- the commit ------------------------------------------------------------------------

    def commit(self) -> None:
        """Write what is cut, then dead letters, then offsets - in this order (module doc).

        Waits for a background commit first, so commits always happen one at a time, in order.
        """
        self.wait()
        self._run(self._checkpoint())

    def commit_in_background(self) -> None:
        """The same commit, in a worker thread, while the caller reads and encodes the next
        records. What it covers is fixed now (the objects cut so far, the safe offsets now).
        Waits for the previous background commit first and raises its error, if it failed."""
        self.wait()
        checkpoint = self._checkpoint()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="pinpipe-sink-commit")
        self._inflight = self._executor.submit(self._run, checkpoint)

    def wait(self) -> None:
        """Wait for the background commit, if one runs; raise its error, if it failed."""
        inflight, self._inflight = self._inflight, None
        if inflight is not None:
            inflight.result()

    def close(self) -> None:
        """Stop the worker thread (after the commit in flight, if any; call commit() first)."""
        try:
            self.wait()
        finally:
            if self._executor is not None:
                self._executor.shutdown()
                self._executor = None

    def _checkpoint(self) -> _Checkpoint:
        """What the next commit covers: the cut objects, the dead letters and the offsets below
        each partition's safe offset, as of now."""
        ready, self._ready, self._ready_bytes = self._ready, [], 0
        checkpoint = _Checkpoint(_by_topic(ready))
        for state in self.partitions.values():
            safe = state.safe_offset
            if state.letters and state.letters[0].record.offset < safe:
                due = [d for d in state.letters if d.record.offset < safe]
                state.letters = state.letters[len(due) :]
                checkpoint.letters.setdefault(state.topic, []).extend(due)
            if safe != state.requested:
                checkpoint.offsets.setdefault(state.topic, {})[state.partition] = safe
                state.requested = safe
        return checkpoint

    def _run(self, checkpoint: _Checkpoint) -> None:
        # 1. Write: every cut object, each atomic, all durable when write_objects returns.
        #    A failure raises here and commits nothing: the restart rewrites the same keys.
        for topic, objects in checkpoint.objects.items():
            self.write_objects(topic, objects)
            counters = self.counters[topic]
            counters.objects += len(objects)
            counters.records += sum(o.records for o in objects)
            counters.bytes += sum(len(o.data) for o in objects)
        # 2. Dead-letter the records below each partition's safe offset (durable on return).
        for topic, due in checkpoint.letters.items():
            self.write_dead_letters(topic, due)
            self.counters[topic].dead_letters += len(due)
        # 3. Commit each partition's safe offset: everything below it is in the lake or the DLQ.
        for topic, moved in checkpoint.offsets.items():
            self.commit_offsets(topic, moved)
            for partition, offset in moved.items():
                self.partitions[(topic, partition)].committed = offset


@dataclass(slots=True)
class _Checkpoint:
    """One commit's work, fixed when it is taken (see BatchingSink._checkpoint)."""

    objects: dict[str, list[LakeObject]]
    letters: dict[str, list[DeadLetter]] = field(default_factory=dict)
    offsets: dict[str, dict[int, int]] = field(default_factory=dict)


def _by_topic(objects: list[LakeObject]) -> dict[str, list[LakeObject]]:
    grouped: dict[str, list[LakeObject]] = {}
    for obj in objects:
        grouped.setdefault(obj.topic, []).append(obj)
    return grouped
