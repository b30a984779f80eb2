"""Run the SQL models on DuckDB: raw frames in, cleaned tables and query results out.

The raw frames have the Databricks-inferred schema of the lake's JSON objects (SPEC §5.1):
every source column by name, ``index``/``ind``/``downloaded``/``age`` BIGINT, ``latitude`` and
``longitude`` DOUBLE, everything else (datetimes and ``follower_count`` included) VARCHAR.
A frame is an Arrow table (anything with ``__arrow_c_stream__``) or an iterable of mappings;
keys outside the source columns (``_sources`` …) are ignored and missing keys become NULL.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import duckdb
import orjson

from pinpipe.closing import Closing
from pinpipe.errors import PinpipeError
from pinpipe.naming import RecordKindName
from pinpipe.records import RECORD_KINDS, ColumnType, format_datetime
from pinpipe.transform.models import CLEANING, QUERIES, VIEWS, load_sql, raw_table

#: DuckDB type of each raw column type (datetimes arrive as strings, as Databricks infers them).
RAW_SQL_TYPES: dict[ColumnType, str] = {
    "int": "BIGINT",
    "str": "VARCHAR",
    "float": "DOUBLE",
    "datetime": "VARCHAR",
}
_INSERT_CHUNK = 1000  # rows per multi-row INSERT when pyarrow is not installed


class TransformError(PinpipeError):
    """A batch transformation could not run (bad raw frame, unknown model, invalid input file)."""


@runtime_checkable
class ArrowStream(Protocol):
    """An Arrow table or stream (PyCapsule interface), e.g. ``pyarrow.Table``."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...


RawFrame = ArrowStream | Iterable[Mapping[str, Any]]
Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class BatchResult:
    """The cleaned tables (by kind) and the query results (by model name), as lists of rows."""

    cleaned: dict[RecordKindName, list[Row]] = field(default_factory=dict)
    queries: dict[str, list[Row]] = field(default_factory=dict)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _raw_value(value: Any) -> Any:
    return format_datetime(value) if isinstance(value, datetime) else value


def _python_value(value: Any) -> Any:
    # DuckDB TIMESTAMP is naive; inside the program every datetime is aware UTC.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class DuckDBEngine(Closing):
    """One DuckDB database holding ``raw_<kind>``, the cleaned ``pin``/``geo``/``user`` tables,
    and the queries run on them.

    >>> with DuckDBEngine() as engine:  # doctest: +SKIP
    ...     result = engine.run(raw_pin_rows, raw_geo_rows, raw_user_rows)
    """

    def __init__(self, connection: duckdb.DuckDBPyConnection | None = None) -> None:
        self._owns_connection = connection is None
        self.connection = connection if connection is not None else duckdb.connect(":memory:")

    def close(self) -> None:
        if self._owns_connection:
            self.connection.close()

    # -- raw frames -------------------------------------------------------------------------

    def load_raw(self, kind: RecordKindName, frame: RawFrame) -> int:
        """Replace ``raw_<kind>`` with ``frame`` in the raw schema; returns its row count."""
        columns = RECORD_KINDS[kind].columns
        table = _quote(raw_table(kind))
        ddl = ", ".join(f"{_quote(c.name)} {RAW_SQL_TYPES[c.type]}" for c in columns)
        self.connection.execute(f"CREATE OR REPLACE TABLE {table} ({ddl})")
        if isinstance(frame, ArrowStream):
            self._insert_arrow(kind, frame)
        else:
            names = [c.name for c in columns]
            values = [[_raw_value(row.get(name)) for name in names] for row in frame]
            self._insert_values(kind, values)
        count = self.connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        return int(count[0]) if count is not None else 0

    def _insert_arrow(self, kind: RecordKindName, frame: object) -> None:
        columns = RECORD_KINDS[kind].columns
        view = f"_incoming_{kind}"
        select = ", ".join(
            f"CAST({_quote(c.name)} AS {RAW_SQL_TYPES[c.type]})"
            if c.type != "datetime"
            else f"CAST({_quote(c.name)} AS VARCHAR)"
            for c in columns
        )
        self.connection.register(view, frame)
        try:
            self.connection.execute(
                f"INSERT INTO {_quote(raw_table(kind))} SELECT {select} FROM {_quote(view)}"
            )
        except duckdb.Error as exc:
            msg = f"cannot load the raw {kind} frame: {exc}"
            raise TransformError(
                msg, hint=f"the frame needs the columns {', '.join(c.name for c in columns)}"
            ) from exc
        finally:
            self.connection.unregister(view)

    def _insert_values(self, kind: RecordKindName, values: Sequence[Sequence[Any]]) -> None:
        if not values:
            return
        columns = RECORD_KINDS[kind].columns
        if importlib.util.find_spec("pyarrow") is not None:
            import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

            arrow_types = {"int": pa.int64(), "str": pa.string(), "float": pa.float64()}
            arrays = {
                c.name: pa.array(
                    [row[i] for row in values], type=arrow_types.get(c.type, pa.string())
                )
                for i, c in enumerate(columns)
            }
            self._insert_arrow(kind, pa.table(arrays))
            return
        placeholders = "(" + ", ".join("?" * len(columns)) + ")"
        table = _quote(raw_table(kind))
        for start in range(0, len(values), _INSERT_CHUNK):
            chunk = values[start : start + _INSERT_CHUNK]
            sql = f"INSERT INTO {table} VALUES " + ", ".join([placeholders] * len(chunk))
            self.connection.execute(sql, [value for row in chunk for value in row])

    # -- models -----------------------------------------------------------------------------

    def clean(self) -> None:
        """Run the cleaning models (``raw_<kind>`` → tables ``pin``, ``geo``, ``user``), then
        create the shared views."""
        for kind in CLEANING:
            sql = load_sql(f"clean_{kind}")
            self.connection.execute(f"CREATE OR REPLACE TABLE {_quote(kind)} AS {sql}")
        for view in VIEWS:
            self.connection.execute(f"CREATE OR REPLACE VIEW {_quote(view)} AS {load_sql(view)}")

    def table(self, kind: RecordKindName) -> list[Row]:
        """The rows of a cleaned table, ordered by ``ind`` (then every column, for duplicates)."""
        return self._fetch(f"SELECT * FROM {_quote(kind)} ORDER BY ALL")

    def query(self, name: str) -> list[Row]:
        """The rows of query model ``name`` (in the model's own ORDER BY)."""
        if name not in QUERIES:
            msg = f"unknown query {name!r}"
            raise TransformError(msg, hint=f"the queries are: {', '.join(QUERIES)}")
        return self._fetch(load_sql(name))

    def _fetch(self, sql: str) -> list[Row]:
        cursor = self.connection.execute(sql)
        names = [d[0] for d in cursor.description or ()]
        return [
            {n: _python_value(v) for n, v in zip(names, row, strict=True)}
            for row in cursor.fetchall()
        ]

    def run(self, raw_pin: RawFrame, raw_geo: RawFrame, raw_user: RawFrame) -> BatchResult:
        """Load the three raw frames, clean them and run every query."""
        for kind, frame in zip(CLEANING, (raw_pin, raw_geo, raw_user), strict=True):
            self.load_raw(kind, frame)
        self.clean()
        return BatchResult(
            cleaned={kind: self.table(kind) for kind in CLEANING},
            queries={name: self.query(name) for name in QUERIES},
        )


def clean_and_query(raw_pin: RawFrame, raw_geo: RawFrame, raw_user: RawFrame) -> BatchResult:
    """Clean the three raw frames and run every query in a throwaway in-memory DuckDB."""
    with DuckDBEngine() as engine:
        return engine.run(raw_pin, raw_geo, raw_user)


def _iter_jsonl(path: Path) -> Iterator[Row]:
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                msg = f"{path}:{number}: not JSON ({exc})"
                raise TransformError(msg, hint="every line must be one JSON object") from exc
            if not isinstance(value, dict):
                msg = f"{path}:{number}: a JSON {type(value).__name__}, not an object"
                raise TransformError(msg, hint="every line must be one JSON object")
            yield value


def raw_from_jsonl_files(paths: Iterable[str | Path]) -> list[Row]:
    """The records of JSON-lines files (the sink's objects), in file then line order."""
    return [row for path in paths for row in _iter_jsonl(Path(path))]
