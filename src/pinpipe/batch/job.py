"""The batch job (SPEC §5–6): lake raw JSON → cleaned tables → curated Delta → queries → results.

Two stages, which the Airflow DAG runs as separate tasks (``clean_pin``, ``clean_geo``,
``clean_user`` in parallel, then ``queries``) and :func:`run_batch` runs in one process:

* **clean** one kind (:func:`run_clean`): read its raw objects, store the unreadable lines as
  dead letters, clean, and overwrite ``curated/<kind>`` in one Delta commit whose metadata
  carries that kind's data-quality counts - so the curated version and the numbers describing
  it can never disagree, and no side file is needed between the tasks;
* **queries** (:func:`run_queries`): answer the eight questions over the three curated tables
  and store the results with the quality summary gathered from the curated commits.

The order keeps the lake consistent when a run fails half-way: dead letters first (they describe
immutable raw objects), then each curated table (one commit each), then the results and the
quality summary together - a finished summary always describes the results beside it.
:func:`run_batch` keeps the cleaned tables in the engine between the stages instead of reading
them back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
import pyarrow as pa

from pinpipe.batch.quality import KindQuality, QualityReport, measure_kind
from pinpipe.batch.reader import RawRead, list_raw_objects, read_raw
from pinpipe.batch.writer import (
    BatchOutputError,
    CuratedTable,
    read_curated_table,
    write_curated,
    write_dead_letters,
    write_results,
)
from pinpipe.config import Settings
from pinpipe.lake import Lake, lake_from_settings
from pinpipe.naming import RecordKindName
from pinpipe.transform import CLEANING, QUERIES, Engine, open_engine

Stage = Literal["read", "engine", "clean", "curated", "queries", "results"]


@dataclass(frozen=True, slots=True)
class BatchProgress:
    """Where a run is: ``done`` of ``total`` units (raw objects for ``read``, else steps)."""

    stage: Stage
    done: int
    total: int
    detail: str = ""


@dataclass(frozen=True, slots=True)
class BatchReport:
    """What a batch run did: engine, timings, quality, result tables and where outputs are."""

    engine: str
    lake_url: str
    seconds: float
    stage_seconds: dict[str, float]
    quality: QualityReport
    results: dict[str, pa.Table]
    curated: dict[RecordKindName, str]
    dead_letter_objects: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> dict[RecordKindName, int]:
        return {kind: q.rows_read for kind, q in self.quality.kinds.items()}

    @property
    def dead_letters(self) -> int:
        return sum(q.dead_letters for q in self.quality.kinds.values())


@dataclass(frozen=True, slots=True)
class CleanReport:
    """What cleaning one kind did: its quality counts and the curated table it replaced."""

    kind: RecordKindName
    engine: str
    uri: str
    version: int
    quality: KindQuality
    dead_letter_objects: list[str]
    seconds: float


_ENGINE, _QUALITY, _DEAD_LETTERS = "pinpipe.engine", "pinpipe.quality", "pinpipe.dead_letters"


class _Clock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: Stage) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


class _Run:
    """One batch run's lake, engine, clock and progress reporting, shared by the stages."""

    def __init__(
        self,
        settings: Settings,
        stack: ExitStack,
        engine: str | Engine | None,
        lake: Lake | None,
        on_progress: Callable[[BatchProgress], None] | None,
    ) -> None:
        self.settings = settings
        self.started = time.perf_counter()
        self.clock = _Clock()
        self.on_progress = on_progress
        self.engine_name = engine.name if isinstance(engine, Engine) else engine or settings.engine
        self.lake = lake if lake is not None else stack.enter_context(lake_from_settings(settings))
        with self.clock.stage("engine"):
            self.report("engine", 0, 1, self.engine_name)
            self.engine = (
                engine
                if isinstance(engine, Engine)
                else stack.enter_context(open_engine(self.engine_name, settings))
            )
            self.report("engine", 1, 1, self.engine_name)

    def report(self, stage: Stage, done: int, total: int, detail: str = "") -> None:
        if self.on_progress is not None:
            self.on_progress(BatchProgress(stage, done, total, detail))

    def clean(self, kind: RecordKindName) -> CleanReport:
        """Read, clean and store one kind (the module doc's *clean* stage)."""
        started = time.perf_counter()
        with self.clock.stage("read"):
            raw = self._read(kind)
            dead_keys = write_dead_letters(self.lake, raw.dead_letters)
        with self.clock.stage("clean"):
            self.report("clean", 0, 1, kind)
            self.engine.load_raw(kind, raw.table)
            self.engine.clean([kind])
            quality = measure_kind(
                self.engine,
                kind,
                objects=raw.objects,
                bytes_read=raw.bytes,
                dead_letters=len(raw.dead_letters),
            )
            self.report("clean", 1, 1, kind)
        with self.clock.stage("curated"):
            self.report("curated", 0, 1, kind)
            metadata = {  # Delta commit metadata values are strings
                _ENGINE: self.engine_name,
                _QUALITY: orjson.dumps(quality.to_dict()).decode(),
                _DEAD_LETTERS: orjson.dumps(dead_keys).decode(),
            }
            uri, version = write_curated(self.lake, kind, self.engine.cleaned_arrow(kind), metadata)
            self.report("curated", 1, 1, kind)
        seconds = time.perf_counter() - started
        return CleanReport(kind, self.engine_name, uri, version, quality, dead_keys, seconds)

    def answer(self, cleaned: dict[RecordKindName, CleanReport]) -> BatchReport:
        """Run the queries over the engine's cleaned tables and store them with the quality
        summary of ``cleaned`` (the module doc's *queries* stage)."""
        with self.clock.stage("queries"):
            results: dict[str, pa.Table] = {}
            for done, name in enumerate(QUERIES):
                self.report("queries", done, len(QUERIES), name)
                results[name] = self.engine.query_arrow(name)
            self.report("queries", len(QUERIES), len(QUERIES))
        quality = QualityReport({kind: c.quality for kind, c in cleaned.items()})
        dead_keys = [key for c in cleaned.values() for key in c.dead_letter_objects]
        with self.clock.stage("results"):
            seconds = time.perf_counter() - self.started
            summary: dict[str, Any] = {
                "engine": self.engine_name,
                "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "seconds": round(seconds, 3),
                "kinds": quality.to_dict(),
                "dead_letter_objects": dead_keys,
                "curated": {
                    kind: {"engine": c.engine, "version": c.version} for kind, c in cleaned.items()
                },
            }
            write_results(self.lake, results, summary)
        return BatchReport(
            engine=self.engine_name,
            lake_url=self.lake.url,
            seconds=time.perf_counter() - self.started,
            stage_seconds=dict(self.clock.seconds),
            quality=quality,
            results=results,
            curated={kind: c.uri for kind, c in cleaned.items()},
            dead_letter_objects=dead_keys,
        )

    def _read(self, kind: RecordKindName) -> RawRead:
        keys = list_raw_objects(self.lake, self.settings.names, kind)
        done = 0
        lock = threading.Lock()
        self.report("read", 0, len(keys), kind)

        def one_object(_size: int) -> None:
            nonlocal done
            with lock:  # called from the reader's threads
                done += 1
                self.report("read", done, len(keys), kind)

        return read_raw(self.lake, kind, keys, on_object=one_object)


@contextmanager
def _run(
    settings: Settings,
    engine: str | Engine | None,
    lake: Lake | None,
    on_progress: Callable[[BatchProgress], None] | None,
) -> Iterator[_Run]:
    with ExitStack() as stack:
        yield _Run(settings, stack, engine, lake, on_progress)


def run_batch(
    settings: Settings,
    *,
    engine: str | Engine | None = None,
    lake: Lake | None = None,
    on_progress: Callable[[BatchProgress], None] | None = None,
) -> BatchReport:
    """Run the whole batch job on ``engine`` (default ``settings.engine``): both stages of the
    module doc in one process.

    ``engine`` and ``lake`` may be passed in as objects (tests, notebooks with a session of
    their own); they are then left open.
    """
    with _run(settings, engine, lake, on_progress) as run:
        cleaned = {kind: run.clean(kind) for kind in CLEANING}
        run.engine.create_views()
        return run.answer(cleaned)


def run_clean(
    settings: Settings,
    kind: RecordKindName,
    *,
    engine: str | Engine | None = None,
    lake: Lake | None = None,
    on_progress: Callable[[BatchProgress], None] | None = None,
) -> CleanReport:
    """Clean one kind into ``curated/<kind>`` (the DAG's ``clean_<kind>`` task)."""
    with _run(settings, engine, lake, on_progress) as run:
        return run.clean(kind)


def run_queries(
    settings: Settings,
    *,
    engine: str | Engine | None = None,
    lake: Lake | None = None,
    on_progress: Callable[[BatchProgress], None] | None = None,
) -> BatchReport:
    """Answer the eight questions over the stored curated tables (the DAG's ``queries`` task)."""
    with _run(settings, engine, lake, on_progress) as run:
        cleaned: dict[RecordKindName, CleanReport] = {}
        with run.clock.stage("read"):
            for done, kind in enumerate(CLEANING):
                run.report("read", done, len(CLEANING), f"curated {kind}")
                stored = read_curated_table(run.lake, kind)
                cleaned[kind] = _stored_report(stored)
                run.engine.load_cleaned(kind, stored.table)
            run.engine.create_views()
        return run.answer(cleaned)


def _stored_report(stored: CuratedTable) -> CleanReport:
    """The :class:`CleanReport` a curated table's commit metadata records."""
    metadata = stored.metadata
    try:
        quality = KindQuality.from_dict(orjson.loads(metadata[_QUALITY]))
        dead_keys = list(orjson.loads(metadata.get(_DEAD_LETTERS, "[]")))
    except (KeyError, TypeError, orjson.JSONDecodeError) as exc:
        msg = f"the curated {stored.kind} table at {stored.uri!r} has no pinpipe quality counts"
        hint = f"run `pinpipe batch` (or the clean_{stored.kind} task) again"
        raise BatchOutputError(msg, hint=hint) from exc
    engine = str(metadata.get(_ENGINE, ""))
    return CleanReport(
        stored.kind, engine, stored.uri, stored.version, quality, dead_keys, seconds=0.0
    )
