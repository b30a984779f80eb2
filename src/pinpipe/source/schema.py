"""The source tables with the course's exact names and columns (SPEC §1.2–1.4).

The database stores naive UTC datetimes (MySQL ``DATETIME``, as on the course's RDS);
:class:`UTCDateTime` converts at the boundary so the program only ever sees aware UTC values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from pinpipe.naming import RecordKindName
from pinpipe.records import GEO, PIN, USER, ColumnType, RecordKind


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A ``DATETIME`` column holding UTC: aware in Python, naive in the database."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def _sql_type(kind: RecordKind, name: str, type_: ColumnType) -> sa.types.TypeEngine[Any]:
    if name == "unique_id":
        return sa.String(36)
    types: dict[ColumnType, sa.types.TypeEngine[Any]] = {
        "int": sa.Integer(),
        "str": sa.Text(),
        "float": sa.Double(),
        "datetime": UTCDateTime(),
    }
    return types[type_]


metadata = sa.MetaData()


def _table(kind: RecordKind) -> sa.Table:
    columns = [
        sa.Column(
            c.name,
            _sql_type(kind, c.name, c.type),
            primary_key=c.name == kind.key,
            autoincrement=False,
            nullable=c.name != kind.key,
        )
        for c in kind.columns
    ]
    # utf8mb4 so MySQL/MariaDB keep the emoji in titles (their default charset may not).
    return sa.Table(kind.table, metadata, *columns, mysql_charset="utf8mb4")


TABLES: dict[RecordKindName, sa.Table] = {
    "pin": _table(PIN),
    "geo": _table(GEO),
    "user": _table(USER),
}
