"""The facts the HTML report shows, collected once from the broker and the lake.

Collecting is kept cheap, because a report is something one opens often: topic and stream sizes
come from the broker's offsets (no record is read), lake objects from one listing per topic,
Delta row counts from the row counts each commit's add actions carry (the data files are only
opened for a table written without statistics), and the results from their small parquet
objects. Parts of the pipeline that have not run yet (no streams, no topics, an embedded log
that does not exist) are facts too, shown as "not run yet"; only a lake without any batch
result is an error, because then there is nothing to report.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import pyarrow as pa

import pinpipe
from pinpipe.batch.writer import BatchOutputError, curated_key, read_quality, read_result
from pinpipe.broker import Broker, open_broker
from pinpipe.config import Settings, mask_url
from pinpipe.errors import PinpipeError, UnknownTopicError
from pinpipe.lake import Lake, LakeError, lake_from_settings
from pinpipe.naming import KINDS, RecordKindName
from pinpipe.stream.job import dead_letter_key, table_key
from pinpipe.transform.base import rows_of
from pinpipe.transform.models import QUERIES

if TYPE_CHECKING:
    from deltalake import DeltaTable

Cell = str | int | float | bool | datetime | None


class ReportError(PinpipeError):
    """The report cannot be built or written."""


@dataclass(frozen=True, slots=True)
class DeltaFacts:
    """A Delta table at its latest version."""

    key: str
    uri: str
    version: int
    rows: int
    files: int
    size_bytes: int
    last_commit: datetime | None
    operation: str | None


@dataclass(frozen=True, slots=True)
class TopicFacts:
    """A batch topic: records the broker holds, and the raw objects the sink wrote for it."""

    kind: RecordKindName
    name: str
    records: int | None  # None: the topic does not exist (or the broker is unreachable)
    partitions: int | None
    lake_objects: int


@dataclass(frozen=True, slots=True)
class StreamFacts:
    """A stream, its streaming Delta table and the stream's rows in the dead-letter table."""

    kind: RecordKindName
    name: str
    records: int | None
    partitions: int | None
    table: DeltaFacts | None
    dead_letters: int


@dataclass(frozen=True, slots=True)
class CuratedFacts:
    kind: RecordKindName
    table: DeltaFacts | None


@dataclass(frozen=True, slots=True)
class KindQualityFacts:
    """One kind's line of the last batch run's data-quality summary."""

    kind: str
    objects: int
    bytes: int
    lines: int
    rows_read: int
    dead_letters: int
    duplicates_dropped: int
    rows_cleaned: int
    nulled: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class ResultFacts:
    """A stored query result: its columns (and which are numeric) and every row."""

    name: str
    columns: tuple[str, ...]
    numeric: tuple[bool, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def column(self, name: str) -> list[Cell]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]


class Results(Protocol):
    """Anything that holds the stored query results by name (the report's data, the live
    dashboard's last batch run): what the charts are drawn from."""

    def result(self, name: str) -> ResultFacts: ...


@dataclass(frozen=True, slots=True)
class ResultSet:
    """The stored results of one batch run, by name."""

    results: tuple[ResultFacts, ...]

    def result(self, name: str) -> ResultFacts:
        return _find_result(self.results, name)


def _find_result(results: tuple[ResultFacts, ...], name: str) -> ResultFacts:
    for result in results:
        if result.name == name:
            return result
    msg = f"no stored result {name!r}"
    raise KeyError(msg)


@dataclass(frozen=True, slots=True)
class BatchRunFacts:
    """What the last batch run recorded about itself (absent keys stay None)."""

    engine: str | None
    finished_at: datetime | None
    seconds: float | None


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything the report shows; :func:`pinpipe.report.render_report` only formats it."""

    generated_at: datetime
    version: str
    user_id: str
    lake_url: str
    broker_url: str
    streams_url: str
    batch: BatchRunFacts
    topics: tuple[TopicFacts, ...]
    curated: tuple[CuratedFacts, ...]
    streams: tuple[StreamFacts, ...]
    dead_letter_table: DeltaFacts | None
    quality: tuple[KindQualityFacts, ...]
    results: tuple[ResultFacts, ...]
    notes: tuple[str, ...] = ()

    def result(self, name: str) -> ResultFacts:
        return _find_result(self.results, name)


def build_report(settings: Settings) -> ReportData:
    """Collect the report's facts (see the module docstring); ReportError without results."""
    notes: list[str] = []
    with lake_from_settings(settings) as lake:
        results = read_results(lake)
        quality = read_batch_run(lake, notes)
        topics = _topics(settings, lake, notes)
        curated = tuple(
            CuratedFacts(kind, _table(lake, curated_key(kind), notes)) for kind in KINDS
        )
        streams, dead = _streams(settings, lake, notes)
    return ReportData(
        generated_at=datetime.now(UTC),
        version=pinpipe.__version__,
        user_id=settings.user_id,
        lake_url=mask_url(settings.lake_url),
        broker_url=mask_url(settings.broker_url),
        streams_url=mask_url(settings.streams_url),
        batch=quality[0],
        topics=topics,
        curated=curated,
        streams=streams,
        dead_letter_table=dead,
        quality=quality[1],
        results=results,
        notes=tuple(dict.fromkeys(notes)),
    )


# -- results and quality ---------------------------------------------------------------------


def read_results(lake: Lake) -> tuple[ResultFacts, ...]:
    """Every stored query result; ReportError when there is none or some are missing."""
    found: list[ResultFacts] = []
    missing: list[str] = []
    for name in QUERIES:
        try:
            table = read_result(lake, name)
        except BatchOutputError:
            missing.append(name)
            continue
        found.append(_result_facts(name, table))
    if not found:
        msg = f"no batch result in the lake {mask_url(lake.url)!r}, so nothing to report"
        raise ReportError(msg, hint="run `pinpipe batch` first")
    if missing:
        msg = f"the lake {mask_url(lake.url)!r} lacks the results {', '.join(missing)}"
        raise ReportError(msg, hint="run `pinpipe batch` again to store every result")
    return tuple(found)


def _result_facts(name: str, table: pa.Table) -> ResultFacts:
    numeric = tuple(
        bool(pa.types.is_integer(f.type) or pa.types.is_floating(f.type)) for f in table.schema
    )
    rows = tuple(tuple(row.values()) for row in rows_of(table))
    return ResultFacts(name, tuple(table.column_names), numeric, rows)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def read_batch_run(
    lake: Lake, notes: list[str]
) -> tuple[BatchRunFacts, tuple[KindQualityFacts, ...]]:
    """The last batch run's facts and data-quality summary (what cannot be read is a note)."""
    try:
        summary = read_quality(lake)
    except (BatchOutputError, ValueError) as exc:  # ValueError: not JSON
        notes.append(f"no data-quality summary: {exc}")
        return BatchRunFacts(None, None, None), ()
    if not isinstance(summary, Mapping):
        notes.append("the data-quality summary is not a JSON object; run `pinpipe batch` again")
        return BatchRunFacts(None, None, None), ()
    engine = summary.get("engine")
    finished = summary.get("finished_at")
    seconds = summary.get("seconds")
    run = BatchRunFacts(
        engine=str(engine) if engine is not None else None,
        finished_at=_parse_time(finished),
        seconds=float(seconds) if isinstance(seconds, int | float) else None,
    )
    kinds = summary.get("kinds")
    facts: list[KindQualityFacts] = []
    for kind, values in kinds.items() if isinstance(kinds, Mapping) else ():
        if not isinstance(values, Mapping):
            continue
        nulled = values.get("nulled")
        rows_read, dead = _int(values.get("rows_read")), _int(values.get("dead_letters"))
        facts.append(
            KindQualityFacts(
                kind=str(kind),
                objects=_int(values.get("objects")),
                bytes=_int(values.get("bytes")),
                lines=_int(values.get("lines")) or rows_read + dead,
                rows_read=rows_read,
                dead_letters=dead,
                duplicates_dropped=_int(values.get("duplicates_dropped")),
                rows_cleaned=_int(values.get("rows_cleaned")),
                nulled=tuple(
                    (str(c), _int(n))
                    for c, n in (nulled.items() if isinstance(nulled, Mapping) else ())
                ),
            )
        )
    return run, tuple(facts)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# -- Delta tables -----------------------------------------------------------------------------


def delta_facts(lake: Lake, key: str) -> DeltaFacts | None:
    """The latest version of the Delta table under ``key``, or None before its first commit."""
    from deltalake import DeltaTable
    from deltalake.exceptions import DeltaError, TableNotFoundError

    uri = lake.table_uri(key)
    try:
        table = DeltaTable(uri, storage_options=lake.storage_options() or None)
    except TableNotFoundError:
        return None
    except (DeltaError, OSError) as exc:
        msg = f"cannot read the Delta table {uri!r}: {exc}"
        raise ReportError(msg, hint="check the lake (permissions, endpoint)") from exc
    return table_facts(table, key, uri)


def table_facts(table: DeltaTable, key: str, uri: str) -> DeltaFacts:
    """The facts of an open Delta table at the version it is loaded at.

    Rows are summed from the add actions' ``num_records`` statistics (delta-rs and Spark write
    them); only a table with a file lacking them is counted from its files' parquet footers."""
    from deltalake.exceptions import DeltaError

    try:
        actions = pa.table(table.get_add_actions(flatten=True))
        history = table.history(1)
        rows = _stats_rows(actions)
        if rows is None:
            rows = table.to_pyarrow_dataset().count_rows()
    except (DeltaError, OSError) as exc:
        msg = f"cannot read the Delta table {uri!r}: {exc}"
        raise ReportError(msg, hint="check the lake (permissions, endpoint)") from exc
    commit = history[0] if history else {}
    stamp = commit.get("timestamp")
    operation = commit.get("operation")
    return DeltaFacts(
        key=key,
        uri=uri,
        version=table.version(),
        rows=rows,
        files=actions.num_rows,
        size_bytes=_column_sum(actions, "size_bytes") or 0,
        last_commit=(
            datetime.fromtimestamp(stamp / 1000, UTC) if isinstance(stamp, int | float) else None
        ),
        operation=str(operation) if operation is not None else None,
    )


def _column_sum(actions: pa.Table, column: str) -> int | None:
    if column not in actions.column_names:
        return None
    values: list[Any] = actions.column(column).to_pylist()
    if any(v is None for v in values):
        return None
    return sum(int(v) for v in values)


def _stats_rows(actions: pa.Table) -> int | None:
    return 0 if actions.num_rows == 0 else _column_sum(actions, "num_records")


def dead_letters_per_stream(lake: Lake, key: str) -> dict[str, int]:
    """Rows of the streaming dead-letter table per stream (reads one column)."""
    from deltalake import DeltaTable
    from deltalake.exceptions import DeltaError

    uri = lake.table_uri(key)
    try:
        table = DeltaTable(uri, storage_options=lake.storage_options() or None)
    except (DeltaError, OSError) as exc:
        msg = f"cannot read the Delta table {uri!r}: {exc}"
        raise ReportError(msg, hint="check the lake (permissions, endpoint)") from exc
    return count_per_stream(table, uri)


def count_per_stream(table: DeltaTable, uri: str) -> dict[str, int]:
    """Rows of an open dead-letter table per stream."""
    from deltalake.exceptions import DeltaError

    try:
        column = table.to_pyarrow_table(columns=["stream"]).column("stream")
    except (DeltaError, OSError) as exc:
        msg = f"cannot read the Delta table {uri!r}: {exc}"
        raise ReportError(msg, hint="check the lake (permissions, endpoint)") from exc
    counts: dict[str, int] = {}
    for name in column.to_pylist():
        counts[str(name)] = counts.get(str(name), 0) + 1
    return counts


# -- broker and lake -------------------------------------------------------------------------


def _table(lake: Lake, key: str, notes: list[str]) -> DeltaFacts | None:
    try:
        return delta_facts(lake, key)
    except (LakeError, ReportError) as exc:
        notes.append(str(exc))
        return None


@contextmanager
def _open(url: str, settings: Settings, notes: list[str]) -> Iterator[Broker | None]:
    """The broker behind ``url``, closed on the way out, or None: an embedded log that does not
    exist is not created (a report never leaves files behind), and an unreachable broker is a
    note, not a failure."""
    parts = urlsplit(url)
    if parts.scheme == "embedded" and not Path(parts.netloc + parts.path).expanduser().exists():
        yield None
        return
    try:
        broker = open_broker(url, settings)
    except PinpipeError as exc:
        notes.append(f"cannot open the broker {mask_url(url)!r}: {exc}")
        yield None
        return
    with broker:
        yield broker


def _describe(broker: Broker | None, name: str, notes: list[str]) -> tuple[int | None, int | None]:
    if broker is None:
        return None, None
    try:
        info = broker.describe_topic(name)
    except UnknownTopicError:
        return None, None
    except PinpipeError as exc:
        notes.append(f"cannot describe {name!r}: {exc}")
        return None, None
    return info.records, info.partitions


def _topics(settings: Settings, lake: Lake, notes: list[str]) -> tuple[TopicFacts, ...]:
    with _open(settings.broker_url, settings, notes) as broker:
        facts = []
        for kind in KINDS:
            name = settings.names.topic(kind)
            records, partitions = _describe(broker, name, notes)
            objects = len(lake.list(f"topics/{name}/"))
            facts.append(TopicFacts(kind, name, records, partitions, objects))
        return tuple(facts)


def _streams(
    settings: Settings, lake: Lake, notes: list[str]
) -> tuple[tuple[StreamFacts, ...], DeltaFacts | None]:
    dead_key = dead_letter_key(settings)
    dead = _table(lake, dead_key, notes)
    per_stream: dict[str, int] = {}
    if dead is not None:
        try:
            per_stream = dead_letters_per_stream(lake, dead_key)
        except ReportError as exc:
            notes.append(str(exc))
    with _open(settings.streams_url, settings, notes) as broker:
        facts = []
        for kind in KINDS:
            name = settings.names.stream(kind)
            records, partitions = _describe(broker, name, notes)
            table = _table(lake, table_key(settings, kind), notes)
            facts.append(
                StreamFacts(kind, name, records, partitions, table, per_stream.get(name, 0))
            )
        return tuple(facts), dead
