"""The live dashboard's facts: one JSON snapshot of the running pipeline, cheap enough to take
every second on a home with millions of records.

A snapshot holds, per topic and stream, the end offset, records/s now and over the last five
minutes (:mod:`.rates`), and the lag of the stage that consumes it - the sink's consumer group
(committed offsets in the broker) for topics, the streamer's positions (recorded in its Delta
table's commits) for streams; then the lake's raw objects, every Delta table's version and
rows, the last batch run and its data-quality counts. What each part costs per poll:

* broker: one describe (and for topics one committed-offsets read) per topic and stream;
* Delta: one lookup of the next commit's log file per table; the table's log is read again,
  and its rows and positions recomputed, only when a version moved (:class:`~.watch.DeltaWatch`);
* lake listings: in a background thread, at most every ``max(5 s, 10 × their cost)``
  (:class:`~.watch.Refreshing`); a poll never waits for one;
* the batch run: its small quality summary, read every few seconds; the eight results and their
  charts only when the run changed, and only for :meth:`LiveDashboard.batch`
  (:mod:`.lastrun`).

Snapshots are cached for ``ttl`` seconds, so any number of viewers cost one gathering per
second per process. Measured on a home of 2.4 million topic records, 120,000 raw objects and
streaming tables of 1,000+ commits (embedded log, local lake, 2 shared cores): ~1 ms per
snapshot when nothing moved, ~45 ms when all three streaming tables committed since the last
poll, 0.4 s per background listing of the lake. A process's first snapshot also pays the
imports of deltalake and its dependencies (~2 s). Nothing here fails a snapshot: what cannot
be read becomes a note and a null.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pinpipe
from pinpipe.batch.writer import curated_key
from pinpipe.broker import Broker, TopicInfo
from pinpipe.config import Settings, mask_url
from pinpipe.errors import PinpipeError, UnknownTopicError
from pinpipe.lake import Lake, lake_from_settings
from pinpipe.naming import KINDS, RecordKindName
from pinpipe.report.data import DeltaFacts
from pinpipe.report.lastrun import RUN_TTL_S, LastRun
from pinpipe.report.rates import RateHistory
from pinpipe.report.tail import MAX_RECORDS, record_json, tail
from pinpipe.report.watch import DeltaWatch, Refreshing, TableState
from pinpipe.stream.job import dead_letter_key, table_key

SNAPSHOT_TTL_S = 0.8
REFRESH_MS = 1000
#: How often what changes only with a batch run (or a bad payload) is looked at again.
SLOW_S = RUN_TTL_S


class LiveDashboard:
    """One process's view of the pipeline for the dashboard (see the module docstring).

    ``topics`` and ``streams`` are brokers the caller owns (the API's); the lake is opened from
    the settings unless given. Thread-safe: callers in several threads share one gathering."""

    def __init__(
        self,
        settings: Settings,
        topics: Broker,
        streams: Broker,
        *,
        lake: Lake | None = None,
        ttl: float = SNAPSHOT_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings, self.topics, self.streams = settings, topics, streams
        self.ttl, self.clock = ttl, clock
        self.group = f"connect-{settings.names.connector}"  # the sink's consumer group
        self.history = RateHistory()
        self._lake = lake
        self._lock = threading.Lock()
        self._cached: tuple[float, dict[str, Any]] | None = None
        self._watches: dict[str, DeltaWatch] = {}
        self._objects: Refreshing[dict[str, int]] | None = None
        self._last_run = LastRun(clock=clock)

    # -- the snapshot ---------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The pipeline now (at most ``ttl`` seconds old), as JSON-ready values."""
        with self._lock:
            if self._cached is not None and self.clock() - self._cached[0] < self.ttl:
                return self._cached[1]
            started = self.clock()
            snapshot = self._gather()
            snapshot["cost_ms"] = round((self.clock() - started) * 1000, 2)
            self._cached = (started, snapshot)
            return snapshot

    def _gather(self) -> dict[str, Any]:
        notes: list[str] = []
        lake = self._open_lake(notes)
        names = self.settings.names
        topics = {k: _describe(self.topics, names.topic(k), notes) for k in KINDS}
        streams = {k: _describe(self.streams, names.stream(k), notes) for k in KINDS}
        now = self.clock()
        self.history.add(
            now,
            {i.name: sum(i.end_offsets) for i in (*topics.values(), *streams.values()) if i},
        )
        objects = self._lake_objects(lake, notes)
        # The streaming tables move with every micro-batch: each poll looks. The others move
        # with a batch run or a bad payload: every few seconds is enough.
        dead = self._table(
            lake, dead_letter_key(self.settings), notes, count_streams=True, refresh_every=SLOW_S
        )
        per_stream = (dead.per_stream if dead else None) or {}
        run, quality = self._last_run.summary(lake, notes) if lake else (None, [])
        return {
            "generated_at": datetime.now(UTC),
            "version": pinpipe.__version__,
            "user_id": self.settings.user_id,
            "refresh_ms": REFRESH_MS,
            "backends": {"topics": self.topics.backend, "streams": self.streams.backend},
            "lake_url": mask_url(self.settings.lake_url),
            "topics": [
                {
                    **self._log(names.topic(k), topics[k], now),
                    "kind": k,
                    "consumer": self._sink_lag(names.topic(k), topics[k], notes),
                    "lake_objects": None if objects is None else objects.get(names.topic(k), 0),
                }
                for k in KINDS
            ],
            "streams": [
                self._stream(k, names.stream(k), streams[k], lake, per_stream, now, notes)
                for k in KINDS
            ],
            "lake": {"objects": None if objects is None else sum(objects.values())},
            "curated": [
                {
                    "kind": k,
                    "table": _table_json(
                        self._table(lake, curated_key(k), notes, refresh_every=SLOW_S)
                    ),
                }
                for k in KINDS
            ],
            "dead_letters": _table_json(dead),
            "batch": run,
            "quality": quality,
            "notes": list(dict.fromkeys(notes)),
        }

    def _log(self, name: str, info: TopicInfo | None, now: float) -> dict[str, Any]:
        rate = self.history.rate(name, now)
        return {
            "name": name,
            "exists": info is not None,
            "partitions": None if info is None else info.partitions,
            "end_offsets": None if info is None else list(info.end_offsets),
            "end_offset": None if info is None else sum(info.end_offsets),
            "records": None if info is None else info.records,
            "rate": None if rate is None else round(rate, 3),
            "spark": self.history.series(name, now),
        }

    def _sink_lag(self, name: str, info: TopicInfo | None, notes: list[str]) -> dict[str, Any]:
        lag: dict[str, Any] = {"name": "sink", "group": self.group, "committed": None, "lag": None}
        if info is None or not self.topics.supports_groups:
            return lag
        try:
            done = self.topics.committed(self.group, name)
        except PinpipeError as exc:
            notes.append(f"cannot read the sink's offsets of {name!r}: {exc}")
            return lag
        if done:  # a group that never committed has no lag yet: the sink has not started
            lag["committed"] = sum(done.values())
            lag["lag"] = _behind(info, done)
        return lag

    def _stream(
        self,
        kind: RecordKindName,
        name: str,
        info: TopicInfo | None,
        lake: Lake | None,
        dead: dict[str, int],
        now: float,
        notes: list[str],
    ) -> dict[str, Any]:
        state = self._table(lake, table_key(self.settings, kind), notes, stream=name)
        positions = state.positions if state else None
        consumer: dict[str, Any] = {"name": "streamer", "position": None, "lag": None}
        if info is not None and positions is not None:
            consumer["position"] = sum(positions.values())
            # Kinesis sequence numbers are not dense: only "caught up or not" means something.
            if self.streams.backend == "kinesis":
                consumer["caught_up"] = _behind(info, positions) == 0
            else:
                consumer["lag"] = _behind(info, positions)
        return {
            **self._log(name, info, now),
            "kind": kind,
            "consumer": consumer,
            "table": _table_json(state),
            "dead_letters": dead.get(name, 0),
        }

    # -- the lake -------------------------------------------------------------------------

    def _open_lake(self, notes: list[str]) -> Lake | None:
        if self._lake is None:
            try:
                self._lake = lake_from_settings(self.settings)
            except PinpipeError as exc:
                notes.append(str(exc))
        return self._lake

    def _table(
        self,
        lake: Lake | None,
        key: str,
        notes: list[str],
        *,
        stream: str | None = None,
        count_streams: bool = False,
        refresh_every: float = 0.0,
    ) -> TableState | None:
        if lake is None:
            return None
        watch = self._watches.get(key)
        if watch is None:
            watch = DeltaWatch(
                lake,
                key,
                stream=stream,
                count_streams=count_streams,
                refresh_every=refresh_every,
                clock=self.clock,
            )
            self._watches[key] = watch
        try:
            return watch.state()
        except PinpipeError as exc:
            notes.append(str(exc))
            return None

    def _lake_objects(self, lake: Lake | None, notes: list[str]) -> dict[str, int] | None:
        if lake is None:
            return None
        if self._objects is None:
            names = self.settings.names.topics
            self._objects = Refreshing(
                lambda: {n: len(lake.list(f"topics/{n}/")) for n in names},
                name="pinpipe-ui-lake-listing",
                clock=self.clock,
            )
        reading = self._objects.get()
        if reading.error:
            notes.append(f"cannot list the lake: {reading.error}")
        return reading.value

    def wait_for_lake(self, timeout: float = 30.0) -> None:
        """Wait for a lake listing under way (tests; a first snapshot shows objects as null)."""
        if self._objects is not None:
            self._objects.wait(timeout)

    # -- the batch run and the records --------------------------------------------------

    def batch(self) -> dict[str, Any]:
        """The last batch run's eight questions with their charts and tables (built once per
        run); ``id`` null and no questions before the first run."""
        with self._lock:
            notes: list[str] = []
            lake = self._open_lake(notes)
            if lake is None:
                return {"id": None, "run": None, "questions": [], "notes": notes}
            return self._last_run.view(lake)

    def records(self, name: str, limit: int) -> dict[str, Any]:
        """The last ``limit`` records (at most MAX_RECORDS) of a topic or stream, newest first,
        values parsed as JSON where they are JSON. UnknownTopicError when neither broker has
        it."""
        limit = max(1, min(limit, MAX_RECORDS))
        broker = self.streams if name in self.settings.names.streams else self.topics
        try:
            records = tail(broker, name, limit)
        except UnknownTopicError:
            if broker is self.streams or self.streams is self.topics:
                raise
            records = tail(self.streams, name, limit)
        return {"name": name, "limit": limit, "records": [record_json(r) for r in records]}


def _describe(broker: Broker, name: str, notes: list[str]) -> TopicInfo | None:
    try:
        return broker.describe_topic(name)
    except UnknownTopicError:
        return None
    except PinpipeError as exc:
        notes.append(f"cannot describe {name!r}: {exc}")
        return None


def _behind(info: TopicInfo, done: dict[int, int]) -> int:
    """Records of ``info`` past the consumer's next offsets (a partition it never reached
    counts from the partition's start)."""
    return sum(
        max(0, end - done.get(p, start))
        for p, (start, end) in enumerate(zip(info.start_offsets, info.end_offsets, strict=True))
    )


def _table_json(state: TableState | None) -> dict[str, Any] | None:
    if state is None:
        return None
    facts: DeltaFacts = state.facts
    return {
        "key": facts.key,
        "version": facts.version,
        "rows": facts.rows,
        "files": facts.files,
        "size_bytes": facts.size_bytes,
        "last_commit": facts.last_commit,
        "operation": facts.operation,
    }
