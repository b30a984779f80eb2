"""Filling the source database: the synthetic dataset (``source init``) or real dumps
(``source load``). Each fill is one transaction: it lands whole or not at all."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from pinpipe.errors import LoadError, SourceError
from pinpipe.naming import KINDS, RecordKindName
from pinpipe.records import RECORD_KINDS
from pinpipe.source.db import connect, insert_rows, open_engine, prepare_tables
from pinpipe.source.dumps import Row, read_dump
from pinpipe.source.synthetic import DEFAULT_ROWS, generate

Progress = Callable[[int], None]
INSERT_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class FillInfo:
    """What a fill wrote: rows per table, where, and how long it took."""

    url: str
    rows: Mapping[RecordKindName, int]
    seconds: float
    files: Mapping[RecordKindName, str] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return max(self.rows.values(), default=0) / self.seconds if self.seconds else 0.0


def _no_progress(_: int) -> None:
    return None


def init_source(
    url: str,
    *,
    rows: int = DEFAULT_ROWS,
    seed: int = 0,
    replace: bool = False,
    on_progress: Progress = _no_progress,
) -> FillInfo:
    """Write the faithful synthetic dataset (``rows`` posts, deterministic per ``seed``)."""
    if rows < 1:
        msg = f"rows={rows} must be at least 1"
        raise SourceError(msg, hint="pass --rows with a positive number")
    engine = open_engine(url)
    started = time.perf_counter()
    try:
        with connect(engine) as conn, conn.begin():
            prepare_tables(conn, KINDS, replace=replace)
            for batch in generate(rows, seed=seed, batch_size=INSERT_BATCH):
                insert_rows(conn, "pin", batch.pins)
                insert_rows(conn, "geo", batch.geos)
                insert_rows(conn, "user", batch.users)
                on_progress(len(batch.pins))
    except SQLAlchemyError as exc:
        msg = f"writing the source database failed: {exc.__cause__ or exc}"
        raise SourceError(msg, hint="nothing was written; check the database") from exc
    finally:
        engine.dispose()
    shown = engine.url.render_as_string(hide_password=True)
    return FillInfo(shown, dict.fromkeys(KINDS, rows), time.perf_counter() - started)


def _batches(rows: Iterable[Row], size: int) -> Iterable[list[Row]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def load_source(
    url: str,
    files: Mapping[RecordKindName, Path],
    *,
    replace: bool = False,
    on_progress: Progress = _no_progress,
) -> FillInfo:
    """Load real dumps of some or all tables, in one transaction.

    A malformed file raises :class:`LoadError` naming file, line and column, and the
    transaction is rolled back: the tables stay as they were.
    """
    if not files:
        msg = "no file to load"
        raise SourceError(msg, hint="pass --pin, --geo and/or --user")
    engine = open_engine(url)
    started = time.perf_counter()
    counts: dict[RecordKindName, int] = {}
    try:
        with connect(engine) as conn, conn.begin():
            prepare_tables(conn, files, replace=replace)
            for kind, path in files.items():
                counts[kind] = 0
                for batch in _batches(read_dump(path, RECORD_KINDS[kind]), INSERT_BATCH):
                    insert_rows(conn, kind, batch)
                    counts[kind] += len(batch)
                    on_progress(len(batch))
                if not counts[kind]:
                    msg = "the file holds no rows"
                    raise LoadError(msg, file=str(path))
    except SQLAlchemyError as exc:
        msg = f"loading failed: {exc.__cause__ or exc}"
        raise SourceError(msg, hint="nothing was loaded; check the files and the database") from exc
    finally:
        engine.dispose()
    shown = engine.url.render_as_string(hide_password=True)
    return FillInfo(
        shown, counts, time.perf_counter() - started, {k: str(p) for k, p in files.items()}
    )
