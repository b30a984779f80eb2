"""The batch job (SPEC §5–6): lake raw JSON → cleaned tables → curated Delta → queries → results.

One run reads every raw object of the three topics, cleans them and answers the eight
questions on the configured engine, then replaces the outputs (see :mod:`.writer`). The order
keeps the lake consistent when a run fails half-way: dead letters first (they describe
immutable raw objects), then the three curated tables (each one Delta commit), then the
results and the quality summary together - a finished summary always describes the results
beside it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import pyarrow as pa

from pinpipe.batch.quality import QualityReport, measure_quality
from pinpipe.batch.reader import RawRead, list_raw_objects, read_raw
from pinpipe.batch.writer import write_curated, write_dead_letters, write_results
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


def run_batch(
    settings: Settings,
    *,
    engine: str | Engine | None = None,
    lake: Lake | None = None,
    on_progress: Callable[[BatchProgress], None] | None = None,
) -> BatchReport:
    """Run the whole batch job on ``engine`` (default ``settings.engine``); see the module doc.

    ``engine`` and ``lake`` may be passed in as objects (tests, notebooks with a session of
    their own); they are then left open.
    """
    started = time.perf_counter()
    clock = _Clock()
    engine_name = engine.name if isinstance(engine, Engine) else engine or settings.engine

    def report(stage: Stage, done: int, total: int, detail: str = "") -> None:
        if on_progress is not None:
            on_progress(BatchProgress(stage, done, total, detail))

    with ExitStack() as stack:
        if lake is None:
            lake = stack.enter_context(lake_from_settings(settings))
        with clock.stage("read"):
            raw = _read_all(lake, settings, report)
            dead_keys = write_dead_letters(
                lake, (d for read in raw.values() for d in read.dead_letters)
            )
        with clock.stage("engine"):
            report("engine", 0, 1, engine_name)
            runner = (
                engine
                if isinstance(engine, Engine)
                else stack.enter_context(open_engine(engine_name, settings))
            )
            report("engine", 1, 1, engine_name)
        with clock.stage("clean"):
            for done, kind in enumerate(CLEANING):
                report("clean", done, len(CLEANING) + 1, kind)
                runner.load_raw(kind, raw[kind].table)
            runner.clean()
            quality = measure_quality(
                runner,
                objects={k: r.objects for k, r in raw.items()},
                bytes_read={k: r.bytes for k, r in raw.items()},
                dead_letters={k: len(r.dead_letters) for k, r in raw.items()},
            )
            report("clean", len(CLEANING) + 1, len(CLEANING) + 1)
        del raw  # the engine holds its own copy; free the Arrow buffers before the writes
        with clock.stage("curated"):
            curated: dict[RecordKindName, str] = {}
            for done, kind in enumerate(CLEANING):
                report("curated", done, len(CLEANING), kind)
                curated[kind] = write_curated(lake, kind, runner.cleaned_arrow(kind))
            report("curated", len(CLEANING), len(CLEANING))
        with clock.stage("queries"):
            results: dict[str, pa.Table] = {}
            for done, name in enumerate(QUERIES):
                report("queries", done, len(QUERIES), name)
                results[name] = runner.query_arrow(name)
            report("queries", len(QUERIES), len(QUERIES))
        with clock.stage("results"):
            seconds = time.perf_counter() - started
            summary = {
                "engine": engine_name,
                "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "seconds": round(seconds, 3),
                "kinds": quality.to_dict(),
                "dead_letter_objects": dead_keys,
            }
            write_results(lake, results, summary)
        return BatchReport(
            engine=engine_name,
            lake_url=lake.url,
            seconds=time.perf_counter() - started,
            stage_seconds=dict(clock.seconds),
            quality=quality,
            results=results,
            curated=curated,
            dead_letter_objects=dead_keys,
        )


def _read_all(
    lake: Lake, settings: Settings, report: Callable[[Stage, int, int, str], None]
) -> dict[RecordKindName, RawRead]:
    keys = {kind: list_raw_objects(lake, settings.names, kind) for kind in CLEANING}
    total = len([k for ks in keys.values() for k in ks])
    done = 0
    lock = threading.Lock()

    def one_object(_size: int) -> None:
        nonlocal done
        with lock:  # called from the reader's threads
            done += 1
            report("read", done, total, "")

    return {kind: read_raw(lake, kind, keys[kind], on_object=one_object) for kind in CLEANING}
