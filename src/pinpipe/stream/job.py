"""The streaming job (SPEC §7.2), native engine: the three streams → the batch job's cleaning
models → three Delta tables, in micro-batches, exactly once.

One micro-batch of a stream, in this order (see :mod:`.tables` for why it is exactly-once):

1. read from the positions the table recorded (per partition/shard, at most
   ``max_batch_records`` in all);
2. decode the payloads into a raw frame (bad payloads are set aside);
3. drop raw rows already appended (digest of the raw row, as the batch job's ``SELECT
   DISTINCT`` does over the whole lake), then run the kind's cleaning model on DuckDB;
4. commit the dead letters, then the new digests, then the cleaned rows together with the
   batch number and the next positions (the last commit is the one that counts);
5. before committing, a batch the table already holds (another streamer got there first) is
   skipped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa

from pinpipe.broker import Broker, LogRecord, open_broker
from pinpipe.config import Settings
from pinpipe.lake import Lake, lake_from_settings
from pinpipe.naming import RecordKindName
from pinpipe.stream.decode import BadPayload, decode
from pinpipe.stream.tables import (
    DEAD_LETTER_SCHEMA,
    DeltaTarget,
    load_seen,
    positions_metadata,
)
from pinpipe.transform import CLEANING, DuckDBEngine, Engine

StartingPosition = Literal["earliest", "latest"]
StreamEngine = Literal["native", "spark"]


def table_key(settings: Settings, kind: RecordKindName) -> str:
    return f"delta/{settings.names.delta_table(kind)}"


def dead_letter_key(settings: Settings) -> str:
    return f"delta/{settings.user_id}_dead_letters"


def seen_key(settings: Settings, kind: RecordKindName) -> str:
    return f"delta/_pinpipe_seen/{settings.names.delta_table(kind)}"


@dataclass
class StreamSummary:
    """What the job did to one stream's table in this run."""

    stream: str
    table: str
    batches: int = 0
    records: int = 0
    rows_appended: int = 0
    duplicates_dropped: int = 0
    dead_letters: int = 0
    replays_skipped: int = 0
    positions: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """The run's summaries (one per stream), its length and why it stopped."""

    summaries: dict[RecordKindName, StreamSummary]
    seconds: float
    stopped: Literal["caught up", "stopped"]

    @property
    def records(self) -> int:
        return sum(s.records for s in self.summaries.values())


class StreamTable:
    """One stream, its tables and where it is."""

    def __init__(
        self,
        settings: Settings,
        kind: RecordKindName,
        lake: Lake,
        broker: Broker,
        engine: DuckDBEngine,
        starting_position: StartingPosition,
        cleaner: Engine | None = None,
    ) -> None:
        self.kind = kind
        self.name = settings.names.stream(kind)
        self.main = DeltaTarget(lake, table_key(settings, kind))
        self.seen = DeltaTarget(lake, seen_key(settings, kind))
        self.dead = DeltaTarget(lake, dead_letter_key(settings))
        # ``engine`` keeps the de-duplication state (DuckDB, whatever runs the models, so the
        # digests are the same on both engines); ``cleaner`` runs the cleaning model.
        self.broker, self.engine, self.cleaner = broker, engine, cleaner or engine
        self.summary = StreamSummary(self.name, self.main.uri)
        info = broker.describe_topic(self.name)
        resume = self.main.resume(self.name)
        if resume is None:
            # Batch 0 creates the (empty) table and fixes where the stream starts, so that
            # "latest" means the end at the first start, not at every restart.
            start = info.end_offsets if starting_position == "latest" else info.start_offsets
            self.batch, self.positions = 0, dict(enumerate(start))
            engine.load_raw(kind, [])
            engine.clean([kind])
            empty = engine.cleaned_arrow(kind)
            self.main.append(empty, self.name, 0, positions_metadata(self.positions))
        else:
            self.batch, self.positions = resume.batch, dict(resume.positions)
        for partition, start_offset in enumerate(info.start_offsets):  # new shards/partitions
            self.positions.setdefault(partition, start_offset)
        self.summary.positions = dict(self.positions)
        # The digests as 128-bit ints in a set: a lookup per row, whatever the set's size
        # (a SQL anti-join would scan every digest on every batch).
        seen = load_seen(self.seen, resume.batch if resume else None)
        self.seen_digests: set[int] = set()
        self._remember(seen)

    def caught_up(self, ends: dict[int, int]) -> bool:
        return all(self.positions.get(p, 0) >= end for p, end in ends.items())

    def run_batch(self, max_records: int) -> int:
        """Read, clean and commit one micro-batch; the number of records read."""
        per_partition = max(1, max_records // max(1, len(self.positions)))
        records = [
            record
            for partition, offset in sorted(self.positions.items())
            for record in self.broker.read(self.name, partition, offset, per_partition)
        ]
        self.process(records)
        return len(records)

    def process(self, records: Sequence[LogRecord]) -> int:
        """Clean and commit ``records`` as the next micro-batch; records before the positions
        (a batch replayed by the engine that reads) are left out. Records committed."""
        records = [r for r in records if r.offset >= self.positions.get(r.partition, 0)]
        if not records:
            return 0
        positions = dict(self.positions)
        for record in records:
            positions[record.partition] = max(positions.get(record.partition, 0), record.offset + 1)
        raw, bad = decode(self.kind, self.name, records)
        new_raw, digests = self._new_rows(raw)
        self.cleaner.load_raw(self.kind, new_raw)
        self.cleaner.clean([self.kind])
        cleaned = self.cleaner.cleaned_arrow(self.kind)
        batch = self.batch + 1
        committed = self.main.committed_batch(self.name)
        if committed is not None and committed >= batch:
            self.summary.replays_skipped += 1  # another streamer committed it first
            resume = self.main.resume(self.name)
            if resume is not None:
                self.batch, self.positions = resume.batch, dict(resume.positions)
            return 0
        if bad and (self.dead.committed_batch(self.name) or 0) < batch:
            self.dead.append(_dead_letters(self.name, bad, batch), self.name, batch)
        if digests.num_rows:
            self.seen.append(
                digests.append_column("batch", pa.array([batch] * digests.num_rows, pa.int64())),
                self.name,
                batch,
            )
        self.main.append(cleaned, self.name, batch, positions_metadata(positions))
        self._remember(digests)
        self.batch, self.positions = batch, positions
        summary = self.summary
        summary.batches += 1
        summary.records += len(records)
        summary.rows_appended += cleaned.num_rows
        summary.dead_letters += len(bad)
        summary.duplicates_dropped += raw.num_rows - cleaned.num_rows
        summary.positions = dict(positions)
        return len(records)

    def _new_rows(self, raw: pa.Table) -> tuple[pa.Table, pa.Table]:
        """The raw rows not appended before (one of each), and their digests."""
        connection = self.engine.connection
        connection.register("_batch_raw", raw)
        try:
            hashed = connection.sql(
                "SELECT md5(to_json(r)) AS digest FROM _batch_raw AS r"
            ).to_arrow_table()
        finally:
            connection.unregister("_batch_raw")
        keep: list[bool] = []
        fresh: dict[int, str] = {}
        for value in hashed.column("digest").to_pylist():
            text = str(value)
            digest = int(text, 16)
            new = digest not in self.seen_digests and digest not in fresh
            keep.append(new)
            if new:
                fresh[digest] = text
        digests = pa.table({"digest": pa.array(list(fresh.values()), pa.string())})
        return raw.filter(pa.array(keep, pa.bool_())), digests

    def _remember(self, digests: pa.Table) -> None:
        self.seen_digests.update(int(str(t), 16) for t in digests.column("digest").to_pylist())


def _dead_letters(stream: str, bad: list[BadPayload], batch: int) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "stream": stream,
                "partition": b.partition,
                "offset": b.offset,
                "reason": b.reason,
                "payload": b.payload,
                "batch": batch,
            }
            for b in bad
        ],
        schema=DEAD_LETTER_SCHEMA,
    )


def run_stream(
    settings: Settings,
    *,
    engine: StreamEngine = "native",
    once: bool = False,
    trigger_interval: float = 0.5,
    starting_position: StartingPosition = "earliest",
    max_batch_records: int = 50_000,
    broker: Broker | None = None,
    lake: Lake | None = None,
    stop: threading.Event | None = None,
    on_batch: Callable[[StreamSummary], None] | None = None,
) -> StreamInfo:
    """Run the streaming job until ``stop`` is set (or, with ``once``, until it has what the
    streams held at its start); see the module docstring. ``broker`` and ``lake`` may be
    passed in; they are then left open. ``engine="spark"`` runs it on Spark Structured
    Streaming (:mod:`.spark_job`) with the same table logic."""
    if engine == "spark":
        from pinpipe.stream.spark_job import run_stream_spark

        return run_stream_spark(
            settings,
            once=once,
            trigger_interval=trigger_interval,
            starting_position=starting_position,
            max_batch_records=max_batch_records,
            broker=broker,
            lake=lake,
            stop=stop,
            on_batch=on_batch,
        )
    started = time.perf_counter()
    stop = stop or threading.Event()
    with ExitStack() as stack:
        if broker is None:
            broker = stack.enter_context(open_broker(settings.streams_url, settings))
        if lake is None:
            lake = stack.enter_context(lake_from_settings(settings))
        state = stack.enter_context(DuckDBEngine())
        streams = [
            StreamTable(settings, kind, lake, broker, state, starting_position) for kind in CLEANING
        ]
        ends = {s.name: broker.end_offsets(s.name) for s in streams} if once else {}
        stopped: Literal["caught up", "stopped"] = "stopped"
        while not stop.is_set():
            cycle = time.perf_counter()
            read = 0
            for stream in streams:
                if once and stream.caught_up(ends[stream.name]):
                    continue
                count = stream.run_batch(max_batch_records)
                read += count
                if count and on_batch is not None:
                    on_batch(stream.summary)
            if once and (not read or all(s.caught_up(ends[s.name]) for s in streams)):
                stopped = "caught up"
                break
            if not read:
                stop.wait(max(0.0, trigger_interval - (time.perf_counter() - cycle)))
        return StreamInfo(
            {s.kind: s.summary for s in streams}, time.perf_counter() - started, stopped
        )
