"""The S3 sink connector: topics matching a regex, from the broker into the lake.

:func:`run_sink` consumes, as the consumer group ``connect-<name>`` (Kafka Connect's naming; the
course's connector is ``<uid>-connector``), every topic matching ``topics_regex`` - except
dead-letter topics - and writes the objects of :mod:`pinpipe.sink.base` to the lake.

* ``once=True`` (``pinpipe sink --once``): reads each partition up to the end offset it had at
  the start (or until a read returns nothing), then drains - cuts the open groups, so the lake
  holds every record that was there at the start - commits and returns. For batch orchestration
  and tests.
* otherwise it polls until ``stop`` is set (the CLI sets it on SIGINT/SIGTERM), then commits what
  is cut and returns. Like the connector, it does **not** write a partly filled group on
  shutdown: those records are read again after the restart, so objects stay cut by count and
  record time only. New topics matching the regex are picked up every ``discover_interval`` s.

The loop, per round: read up to ``max_records`` from each partition and add them; commit (write
objects, dead letters, offsets) when the round found nothing new (caught up), or the objects
waiting reach ``COMMIT_OBJECTS`` / ``COMMIT_BYTES``, or ``COMMIT_INTERVAL_S`` passed since the last
commit; sleep ``poll_interval`` when a round found nothing. When to commit only decides how much
one commit covers (one durability barrier per commit), never where objects are cut. Those
commits run in a worker thread while the next round is read (the lake's I/O overlaps the
encoding); the final one, at the end or on stop, runs in the loop's thread.
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Literal

from pinpipe.broker.base import Broker, IdempotentAppender, KeyedSpan, OutRecord
from pinpipe.broker.factory import open_broker
from pinpipe.config import Settings
from pinpipe.errors import TopicExistsError, UnknownTopicError
from pinpipe.lake import Lake, lake_from_settings
from pinpipe.sink.base import BatchingSink, DeadLetter, LakeObject
from pinpipe.sink.exceptions import SinkConfigError, SinkError
from pinpipe.sink.formats import Format, FormatName, resolve_format
from pinpipe.sink.jackson import FieldOrder
from pinpipe.sink.keys import TOPICS_DIR, Partitioner, PartitionerName, resolve_partitioner

#: The dead-letter topic of each topic; ``{topic}`` is replaced by the topic's name.
DEFAULT_DLQ = "{topic}.dlq"
#: While catching up, commit once this many objects or bytes wait, or after this long.
COMMIT_OBJECTS = 5_000
COMMIT_BYTES = 32 * 2**20
COMMIT_INTERVAL_S = 1.0
StopReason = Literal["drained", "stopped"]


@dataclass(frozen=True, slots=True)
class TopicSummary:
    """One topic's part of a run: records written, objects, bytes, dead letters, busy seconds."""

    topic: str
    records: int
    objects: int
    bytes: int
    dead_letters: int
    seconds: float
    offsets: Mapping[int, int]


@dataclass(frozen=True, slots=True)
class SinkInfo:
    """What a run of the sink did; ``seconds`` is wall time, a topic's is its busy time."""

    name: str
    group: str
    lake_url: str
    format: str
    topics: tuple[TopicSummary, ...]
    seconds: float
    stopped: StopReason

    @property
    def records(self) -> int:
        return sum(t.records for t in self.topics)

    @property
    def objects(self) -> int:
        return sum(t.objects for t in self.topics)

    @property
    def bytes(self) -> int:
        return sum(t.bytes for t in self.topics)

    @property
    def dead_letters(self) -> int:
        return sum(t.dead_letters for t in self.topics)


@dataclass(frozen=True, slots=True)
class SinkProgress:
    """Reported after every round: records taken so far (of ``total`` for ``--once``)."""

    records: int
    total: int | None
    objects: int
    bytes: int


@dataclass(slots=True)
class _Timer:
    seconds: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def time(self, topic: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[topic] = self.seconds.get(topic, 0.0) + time.perf_counter() - started


class LakeSink(BatchingSink):
    """A BatchingSink writing objects to a Lake and dead letters and offsets to a Broker."""

    def __init__(
        self,
        broker: Broker,
        lake: Lake,
        group: str,
        fmt: Format,
        partitioner: Partitioner,
        *,
        flush_size: int = 1,
        rotate_interval_ms: int | None = None,
        topics_dir: str = TOPICS_DIR,
        dlq_topic: str = DEFAULT_DLQ,
    ) -> None:
        super().__init__(
            fmt,
            partitioner,
            flush_size=flush_size,
            rotate_interval_ms=rotate_interval_ms,
            topics_dir=topics_dir,
        )
        self.broker, self.lake, self.group, self.dlq_topic = broker, lake, group, dlq_topic
        self.timer = _Timer()  # reading and encoding (the loop's thread)
        self.write_timer = _Timer()  # writing objects (the commit's thread)
        self._dlq_ready: set[str] = set()

    def seconds(self, topic: str) -> float:
        """Time spent on ``topic``: reading, encoding and writing it."""
        return self.timer.seconds.get(topic, 0.0) + self.write_timer.seconds.get(topic, 0.0)

    def write_objects(self, topic: str, objects: Sequence[LakeObject]) -> None:
        with self.write_timer.time(topic):
            self.lake.put_many([(o.key, o.data) for o in objects])

    def write_dead_letters(self, topic: str, letters: Sequence[DeadLetter]) -> None:
        dlq = self.dlq_topic.replace("{topic}", topic)
        if dlq not in self._dlq_ready:
            with contextlib.suppress(TopicExistsError):
                self.broker.create_topic(dlq)
            self._dlq_ready.add(dlq)
        records = [OutRecord(d.value(), d.record.key) for d in letters]
        if isinstance(self.broker, IdempotentAppender):
            # One key per dead letter: a replay after a crash between this and the commit
            # appends nothing twice.
            spans = [
                KeyedSpan(
                    f"pinpipe-sink/{self.group}/{d.record.topic}/{d.record.partition}/"
                    f"{d.record.offset}",
                    i,
                    1,
                )
                for i, d in enumerate(letters)
            ]
            self.broker.append_keyed(dlq, records, spans)
        else:
            self.broker.append(dlq, records)

    def commit_offsets(self, topic: str, offsets: Mapping[int, int]) -> None:
        with contextlib.suppress(UnknownTopicError):  # deleted while the sink ran
            self.broker.commit(self.group, topic, offsets)


def dead_letter_pattern(dlq_topic: str) -> re.Pattern[str]:
    """Matches the dead-letter topics ``dlq_topic`` names (never consumed by the sink)."""
    before, found, after = dlq_topic.partition("{topic}")
    body = re.escape(before) + (".+" if found else "") + re.escape(after)
    return re.compile(body)


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set ``stop`` on the first SIGINT/SIGTERM (a second one interrupts at once)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()
        for s in previous:  # a second signal: the default behaviour
            signal.signal(s, signal.default_int_handler if s == signal.SIGINT else signal.SIG_DFL)

    for s in previous:
        signal.signal(s, handler)
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def run_sink(
    settings: Settings,
    *,
    once: bool = False,
    flush_size: int = 1,
    rotate_interval_ms: int | None = None,
    format: FormatName | Format = "json",
    topics_regex: str | None = None,
    name: str | None = None,
    partitioner: PartitionerName | Partitioner = "default",
    field_order: FieldOrder = "received",
    dlq_topic: str = DEFAULT_DLQ,
    topics_dir: str = TOPICS_DIR,
    s3_endpoint_url: str | None = None,
    max_records: int = 5000,
    poll_interval: float = 0.2,
    discover_interval: float = 5.0,
    stop: threading.Event | None = None,
    on_progress: Callable[[SinkProgress], None] | None = None,
    broker: Broker | None = None,
    lake: Lake | None = None,
) -> SinkInfo:
    """Run the sink from ``settings.broker_url`` to ``settings.lake_url``; see the module doc.

    ``broker`` and ``lake`` may be passed in (tests, embedding); they are then left open.
    """
    name = name or settings.names.connector
    group = f"connect-{name}"
    try:
        pattern = re.compile(topics_regex or settings.names.topics_regex)
    except re.error as exc:
        msg = f"topics regex {topics_regex!r} does not compile: {exc}"
        raise SinkConfigError(msg, hint="pass a Java/Python regex, e.g. '<uid>\\..*'") from exc
    fmt = resolve_format(format, field_order=field_order)
    chosen = resolve_partitioner(partitioner)
    stop = stop or threading.Event()
    with contextlib.ExitStack() as stack:
        if broker is None:
            broker = stack.enter_context(open_broker(settings.broker_url, settings))
        if not broker.supports_groups:
            msg = f"the broker {settings.broker_url!r} keeps no consumer-group offsets"
            raise SinkError(msg, hint="run the sink on topics: broker_url embedded:// or kafka://")
        if lake is None:
            lake = stack.enter_context(
                lake_from_settings(settings, s3_endpoint_url=s3_endpoint_url)
            )
        sink = LakeSink(
            broker,
            lake,
            group,
            fmt,
            chosen,
            flush_size=flush_size,
            rotate_interval_ms=rotate_interval_ms,
            topics_dir=topics_dir,
            dlq_topic=dlq_topic,
        )
        stack.callback(sink.close)
        loop = _Loop(sink, pattern, dead_letter_pattern(dlq_topic), once=once)
        started = time.perf_counter()
        stopped = loop.run(
            stop,
            max_records=max_records,
            poll_interval=poll_interval,
            discover_interval=discover_interval,
            on_progress=on_progress,
        )
        seconds = time.perf_counter() - started
    summaries = tuple(
        TopicSummary(
            topic,
            c.records,
            c.objects,
            c.bytes,
            c.dead_letters,
            round(sink.seconds(topic), 6),
            {s.partition: s.committed for s in sink.partitions.values() if s.topic == topic},
        )
        for topic, c in sorted(sink.counters.items())
    )
    return SinkInfo(name, group, lake.url, fmt.name, summaries, seconds, stopped)


class _Loop:
    """Rounds of read → add → commit over the assigned partitions."""

    def __init__(
        self, sink: LakeSink, pattern: re.Pattern[str], dlq: re.Pattern[str], *, once: bool
    ) -> None:
        self.sink, self.pattern, self.dlq, self.once = sink, pattern, dlq, once
        self.ends: dict[tuple[str, int], int] = {}  # --once: where each partition stops
        self.total = 0

    def discover(self) -> None:
        """Assign the partitions of every matching topic not seen yet, at committed offsets."""
        broker, sink = self.sink.broker, self.sink
        for topic in broker.list_topics():
            if not self.pattern.fullmatch(topic) or self.dlq.fullmatch(topic):
                continue
            if any(t == topic for t, _ in sink.partitions):
                continue
            try:
                info = broker.describe_topic(topic)
                committed = broker.committed(sink.group, topic)
            except UnknownTopicError:
                continue  # deleted meanwhile
            for p in range(info.partitions):
                start = max(committed.get(p, info.start_offsets[p]), info.start_offsets[p])
                state = sink.assign(topic, p, start)
                if self.once:
                    self.ends[(topic, p)] = info.end_offsets[p]
                    self.total += max(info.end_offsets[p] - state.position, 0)

    def run(
        self,
        stop: threading.Event,
        *,
        max_records: int,
        poll_interval: float,
        discover_interval: float,
        on_progress: Callable[[SinkProgress], None] | None,
    ) -> StopReason:
        sink = self.sink
        self.discover()
        discovered = committed = time.monotonic()
        done: set[tuple[str, int]] = set()
        while not stop.is_set():
            if not self.once and time.monotonic() - discovered >= discover_interval:
                self.discover()
                discovered = time.monotonic()
            found = 0
            for key, state in list(sink.partitions.items()):
                if key in done:
                    continue
                limit = max_records
                if self.once:
                    limit = min(limit, self.ends[key] - state.position)
                    if limit <= 0:
                        done.add(key)
                        continue
                with sink.timer.time(state.topic):
                    try:
                        records = sink.broker.read(
                            state.topic, state.partition, state.position, limit
                        )
                    except UnknownTopicError:  # deleted while the sink runs: leave it
                        done.add(key)
                        continue
                    sink.add_many(records)
                if self.once and not records:
                    done.add(key)  # nothing where the end offset promised more (gaps)
                found += len(records)
            if self.once and len(done) == len(sink.partitions):
                sink.drain()
                sink.commit()
                self._report(on_progress)
                return "drained"
            if (
                not found
                or sink.pending >= COMMIT_OBJECTS
                or sink.pending_bytes >= COMMIT_BYTES
                or time.monotonic() - committed >= COMMIT_INTERVAL_S
            ):
                sink.commit_in_background()  # the next round is read meanwhile
                committed = time.monotonic()
            self._report(on_progress)
            if not found:
                stop.wait(poll_interval)
        sink.commit()
        return "stopped"

    def _report(self, on_progress: Callable[[SinkProgress], None] | None) -> None:
        if on_progress is None:
            return
        counters = self.sink.counters.values()
        on_progress(
            SinkProgress(
                sum(c.read for c in counters),
                self.total if self.once else None,
                sum(c.objects for c in counters),
                sum(c.bytes for c in counters),
            )
        )
