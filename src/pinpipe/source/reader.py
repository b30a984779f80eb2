"""Reading the source tables the way the emulators do: row ``n`` of each table, or batches.

The course runs ``SELECT * FROM t LIMIT n, 1``, which returns row ``n`` only because the ids are
dense and in order; this reader looks rows up by key, which gives the same row on the course's
data and stays correct (and fast) on partial dumps and other databases.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from pinpipe.closing import Closing
from pinpipe.errors import SourceNotReadyError
from pinpipe.naming import RecordKindName
from pinpipe.records import RECORD_KINDS
from pinpipe.source.db import connect, open_engine
from pinpipe.source.schema import TABLES

Record = dict[str, Any]


class SourceReader(Closing):
    """Read access to the three source tables; use as a context manager."""

    def __init__(self, url: str) -> None:
        self._engine = open_engine(url)
        self._conn_cm = connect(self._engine)
        self._conn = self._conn_cm.__enter__()
        existing = set(sa.inspect(self._conn).get_table_names())
        missing = [t.name for t in TABLES.values() if t.name not in existing]
        if missing:
            self.close()
            msg = f"the source database has no table {', '.join(missing)}"
            raise SourceNotReadyError(msg, hint="run `pinpipe source init` or `source load`")

    def close(self) -> None:
        self._conn_cm.__exit__(None, None, None)
        self._engine.dispose()

    def count(self, kind: RecordKindName) -> int:
        table = TABLES[kind]
        return int(self._conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())

    def key_range(self, kind: RecordKindName) -> tuple[int, int] | None:
        """The smallest and largest key of a table, or None when it is empty."""
        table = TABLES[kind]
        key = table.primary_key.columns[0]
        low, high = self._conn.execute(sa.select(sa.func.min(key), sa.func.max(key))).one()
        return None if low is None else (int(low), int(high))

    def row(self, kind: RecordKindName, n: int) -> Record | None:
        """Row with key ``n`` as a dict in column order, or None if the table lacks it."""
        return self.rows(kind, [n]).get(n)

    def rows(self, kind: RecordKindName, keys: Iterable[int]) -> dict[int, Record]:
        """The rows with these keys (missing keys are simply absent from the result)."""
        table = TABLES[kind]
        key = table.primary_key.columns[0]
        wanted = sorted(set(keys))
        found: dict[int, Record] = {}
        for start in range(0, len(wanted), 500):  # stay under every driver's parameter limit
            chunk = wanted[start : start + 500]
            for record in self._records(kind, sa.select(table).where(key.in_(chunk))):
                found[record[RECORD_KINDS[kind].key]] = record
        return found

    def scan(
        self,
        kind: RecordKindName,
        *,
        start: int = 0,
        stop: int | None = None,
        batch_size: int = 1_000,
    ) -> Iterator[list[Record]]:
        """Rows with start <= key < stop in key order, ``batch_size`` at a time (keyset paging)."""
        table = TABLES[kind]
        key = table.primary_key.columns[0]
        low = start
        while True:
            query = sa.select(table).where(key >= low).order_by(key).limit(batch_size)
            if stop is not None:
                query = query.where(key < stop)
            batch = self._records(kind, query)
            if not batch:
                return
            yield batch
            low = batch[-1][key.name] + 1

    def _records(self, kind: RecordKindName, query: sa.Select[Any]) -> list[Record]:
        """Rows as dicts keyed by plain ``str`` column names in column order (SQLAlchemy's
        keys are a ``str`` subclass that orjson refuses as dict keys)."""
        names = RECORD_KINDS[kind].column_names
        return [dict(zip(names, row, strict=True)) for row in self._execute(query)]

    def _execute(self, query: sa.Select[Any]) -> sa.CursorResult[Any]:
        try:
            return self._conn.execute(query)
        except SQLAlchemyError as exc:
            msg = f"reading the source database failed: {exc.__cause__ or exc}"
            raise SourceNotReadyError(msg, hint="check that the tables are intact") from exc
