"""The engine contract: raw frames in, cleaned tables and query results out, as Arrow tables.

The raw frames have the schema Databricks infers for the lake's JSON objects (SPEC §5.1): every
source column by name, ``index``/``ind``/``downloaded``/``age`` int64, ``latitude`` and
``longitude`` float64, everything else (datetimes and ``follower_count`` included) string.
A frame is an Arrow table (anything with ``__arrow_c_stream__``) or an iterable of mappings;
keys outside the source columns are ignored and missing ones become NULL.

An engine runs the SQL models of :mod:`pinpipe.transform.models` as they are (DuckDB) or
transpiled (Spark); both must give the same rows, which ``tests/transform`` checks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

import pyarrow as pa

from pinpipe.closing import Closing
from pinpipe.errors import PinpipeError
from pinpipe.naming import RecordKindName
from pinpipe.records import RECORD_KINDS, ColumnType, format_datetime
from pinpipe.transform.models import CLEANING, QUERIES

#: Arrow type of each raw column type (datetimes arrive as strings, as Databricks infers them).
RAW_ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    "int": pa.int64(),
    "str": pa.string(),
    "float": pa.float64(),
    "datetime": pa.string(),
}

Row = dict[str, Any]


class TransformError(PinpipeError):
    """A batch transformation could not run (bad raw frame, unknown model, engine failure)."""


@runtime_checkable
class ArrowStream(Protocol):
    """An Arrow table or stream (PyCapsule interface), e.g. ``pyarrow.Table``."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...


RawFrame = ArrowStream | Iterable[Mapping[str, Any]]


def raw_schema(kind: RecordKindName) -> pa.Schema:
    """The Arrow schema of a raw frame of ``kind``, columns in the source table's order."""
    return pa.schema(
        [pa.field(c.name, RAW_ARROW_TYPES[c.type]) for c in RECORD_KINDS[kind].columns]
    )


def _raw_value(value: Any) -> Any:
    return format_datetime(value) if isinstance(value, datetime) else value


def to_raw_arrow(kind: RecordKindName, frame: RawFrame) -> pa.Table:
    """``frame`` as an Arrow table with exactly :func:`raw_schema` (extra columns dropped,
    missing ones NULL, compatible types cast)."""
    schema = raw_schema(kind)
    try:
        if isinstance(frame, ArrowStream):
            table = pa.table(frame)
            columns = [
                table.column(f.name).cast(f.type)
                if f.name in table.column_names
                else pa.nulls(table.num_rows, f.type)
                for f in schema
            ]
            return pa.Table.from_arrays(columns, schema=schema)
        names = schema.names
        rows = [{n: _raw_value(row.get(n)) for n in names} for row in frame]
        return pa.Table.from_pylist(rows, schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        msg = f"cannot read the raw {kind} frame: {exc}"
        raise TransformError(
            msg, hint=f"the frame needs the columns {', '.join(schema.names)} ({schema.types})"
        ) from exc


def _python_value(value: Any) -> Any:
    # Arrow gives zoneinfo's UTC (or naive values); inside the program it is datetime.UTC.
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def rows_of(table: pa.Table) -> list[Row]:
    """The rows of an Arrow table as dicts (timestamps as aware datetimes in ``datetime.UTC``)."""
    return [{k: _python_value(v) for k, v in row.items()} for row in table.to_pylist()]


def sorted_rows(table: pa.Table) -> list[Row]:
    """The rows of ``table`` in a deterministic order: by every column, NULLs first."""

    def key(row: Row) -> tuple[Any, ...]:
        return tuple((v is not None, v if v is not None else 0) for v in row.values())

    return sorted(rows_of(table), key=key)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """The cleaned tables (by kind) and the query results (by model name), as lists of rows."""

    cleaned: dict[RecordKindName, list[Row]] = field(default_factory=dict)
    queries: dict[str, list[Row]] = field(default_factory=dict)


class Engine(Closing, ABC):
    """Holds the raw frames ``raw_<kind>``, the cleaned tables ``pin``/``geo``/``user`` and the
    shared views, and answers the query models over them."""

    #: The engine's name in config (``engine = "duckdb" | "spark"``).
    name: ClassVar[str]

    @abstractmethod
    def load_raw(self, kind: RecordKindName, frame: RawFrame) -> int:
        """Replace ``raw_<kind>`` with ``frame``; returns its row count."""

    @abstractmethod
    def clean(self, kinds: Sequence[RecordKindName] = CLEANING) -> None:
        """Run the cleaning models of ``kinds`` (``raw_<kind>`` → ``pin``, ``geo``, ``user``);
        with all three, create the shared views too (the streaming job cleans one kind)."""

    @abstractmethod
    def load_cleaned(self, kind: RecordKindName, table: pa.Table) -> int:
        """Replace the cleaned table ``kind`` with ``table`` (a stored curated table, with the
        columns of ``clean_<kind>``), so the queries can run without the raw frames; returns
        its row count. Call :meth:`create_views` once all three are there."""

    @abstractmethod
    def create_views(self) -> None:
        """Create the shared views over the three cleaned tables (done by :meth:`clean` when it
        cleans all three)."""

    @abstractmethod
    def cleaned_arrow(self, kind: RecordKindName) -> pa.Table:
        """A cleaned table, columns in the course's order (row order unspecified)."""

    @abstractmethod
    def query_arrow(self, name: str) -> pa.Table:
        """The result of query model ``name``, in the model's own ORDER BY."""

    @abstractmethod
    def fetch(self, sql: str) -> pa.Table:
        """The result of ``sql``, a query in the models' dialect (DuckDB's), over the raw
        frames, cleaned tables and views."""

    def count(self, relation: str) -> int:
        """Rows in a raw frame or a cleaned table (``raw_pin``, ``pin`` …)."""
        return int(self.fetch(f"SELECT COUNT(*) AS n FROM {relation}").column(0)[0].as_py())

    # -- conveniences built on the contract ----------------------------------------------------

    def table(self, kind: RecordKindName) -> list[Row]:
        """The rows of a cleaned table, sorted by every column (``ind`` first)."""
        return sorted_rows(self.cleaned_arrow(kind))

    def query(self, name: str) -> list[Row]:
        """The rows of query model ``name`` (in the model's own ORDER BY)."""
        check_query(name)
        return rows_of(self.query_arrow(name))

    def run(self, raw_pin: RawFrame, raw_geo: RawFrame, raw_user: RawFrame) -> BatchResult:
        """Load the three raw frames, clean them and run every query."""
        for kind, frame in zip(CLEANING, (raw_pin, raw_geo, raw_user), strict=True):
            self.load_raw(kind, frame)
        self.clean()
        return BatchResult(
            cleaned={kind: self.table(kind) for kind in CLEANING},
            queries={name: self.query(name) for name in QUERIES},
        )


def check_query(name: str) -> None:
    """Raise :class:`TransformError` unless ``name`` is one of the query models."""
    if name not in QUERIES:
        msg = f"unknown query {name!r}"
        raise TransformError(msg, hint=f"the queries are: {', '.join(QUERIES)}")
