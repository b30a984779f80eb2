"""The embedded engine: the SQL models run as written on an in-process DuckDB.

Raw frames are registered zero-copy from Arrow and scanned in place; the cleaned tables are
DuckDB tables, so the nine queries read them without re-parsing anything.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import ClassVar

import duckdb
import pyarrow as pa

from pinpipe.naming import RecordKindName
from pinpipe.transform.base import Engine, RawFrame, TransformError, check_query, to_raw_arrow
from pinpipe.transform.models import CLEANING, VIEWS, load_sql, raw_table


def quote(identifier: str) -> str:
    """``identifier`` as a quoted SQL identifier (DuckDB and Spark after transpiling)."""
    return '"' + identifier.replace('"', '""') + '"'


class DuckDBEngine(Engine):
    """One DuckDB database holding ``raw_<kind>``, the cleaned ``pin``/``geo``/``user`` tables
    and the shared views.

    >>> with DuckDBEngine() as engine:  # doctest: +SKIP
    ...     result = engine.run(raw_pin_rows, raw_geo_rows, raw_user_rows)
    """

    name: ClassVar[str] = "duckdb"

    def __init__(self, connection: duckdb.DuckDBPyConnection | None = None) -> None:
        self._owns_connection = connection is None
        self.connection = connection if connection is not None else duckdb.connect(":memory:")
        # Timestamps are instants in UTC (Spark's session time zone is set to match).
        self.connection.execute("SET TimeZone = 'UTC'")

    def close(self) -> None:
        if self._owns_connection:
            self.connection.close()

    def load_raw(self, kind: RecordKindName, frame: RawFrame) -> int:
        table = to_raw_arrow(kind, frame)
        # Registered, not copied: the models scan the Arrow buffers in place (the connection
        # keeps a reference), which saves a copy of the largest data in the run.
        with contextlib.suppress(duckdb.Error):
            self.connection.unregister(raw_table(kind))
        self.connection.register(raw_table(kind), table)
        return table.num_rows

    def clean(self, kinds: Sequence[RecordKindName] = CLEANING) -> None:
        try:
            for kind in kinds:
                sql = load_sql(f"clean_{kind}")
                self.connection.execute(f"CREATE OR REPLACE TABLE {quote(kind)} AS {sql}")
        except duckdb.Error as exc:
            msg = f"the cleaning models failed on DuckDB: {exc}"
            raise TransformError(msg, hint="load all three raw frames first") from exc
        if set(kinds) == set(CLEANING):
            self.create_views()

    def load_cleaned(self, kind: RecordKindName, table: pa.Table) -> int:
        staging = f"_stored_{kind}"
        self.connection.register(staging, table)
        try:
            self.connection.execute(f"CREATE OR REPLACE TABLE {quote(kind)} AS FROM {staging}")
        except duckdb.Error as exc:
            msg = f"cannot load the cleaned {kind} table into DuckDB: {exc}"
            raise TransformError(msg, hint="the table needs the columns of clean_" + kind) from exc
        finally:
            self.connection.unregister(staging)
        return table.num_rows

    def create_views(self) -> None:
        try:
            for view in VIEWS:
                self.connection.execute(f"CREATE OR REPLACE VIEW {quote(view)} AS {load_sql(view)}")
        except duckdb.Error as exc:
            msg = f"the shared views failed on DuckDB: {exc}"
            raise TransformError(msg, hint="clean or load all three tables first") from exc

    def cleaned_arrow(self, kind: RecordKindName) -> pa.Table:
        return self._arrow(f"SELECT * FROM {quote(kind)}")

    def query_arrow(self, name: str) -> pa.Table:
        check_query(name)
        return self._arrow(load_sql(name))

    def fetch(self, sql: str) -> pa.Table:
        return self._arrow(sql)

    def _arrow(self, sql: str) -> pa.Table:
        try:
            table: pa.Table = self.connection.sql(sql).to_arrow_table()
        except duckdb.Error as exc:
            msg = f"DuckDB could not run a model: {exc}"
            raise TransformError(msg, hint="run clean() after loading the raw frames") from exc
        return table
