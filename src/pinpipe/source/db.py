"""Opening the source database by URL and writing rows into it atomically."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import SQLAlchemyError

from pinpipe.config import mask_url
from pinpipe.errors import MissingExtraError, SourceConnectError, SourceError
from pinpipe.naming import RecordKindName
from pinpipe.records import RECORD_KINDS
from pinpipe.source.schema import TABLES, metadata

# SQLAlchemy driver name -> (importable module, pinpipe extra that installs it)
_DRIVERS: dict[str, tuple[str, str]] = {
    "pymysql": ("pymysql", "mysql"),
    "psycopg": ("psycopg", "postgres"),
}
_DEFAULT_DRIVER = {"mysql": "pymysql", "mariadb": "pymysql", "postgresql": "psycopg"}


def open_engine(url: str) -> Engine:
    """An Engine for ``url``; names the extra to install when its driver is missing."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        msg = f"source_url {mask_url(url)!r} is not a database URL"
        raise SourceError(msg, hint="use e.g. sqlite:///path/source.db") from exc
    backend = parsed.get_backend_name()
    driver = parsed.get_driver_name() if "+" in parsed.drivername else None
    if backend in _DEFAULT_DRIVER and driver is None:
        driver = _DEFAULT_DRIVER[backend]
        parsed = parsed.set(drivername=f"{backend}+{driver}")
    if driver in _DRIVERS:
        module, extra = _DRIVERS[driver]
        if importlib.util.find_spec(module) is None:
            msg = f"the {backend} source database"
            raise MissingExtraError(msg, extra, module)
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(parsed, pool_pre_ping=backend != "sqlite")


@contextmanager
def connect(engine: Engine) -> Iterator[Connection]:
    """A connection, with driver failures turned into one clear :class:`SourceConnectError`."""
    try:
        conn = engine.connect()
    except SQLAlchemyError as exc:
        url = engine.url.render_as_string(hide_password=True)
        msg = f"cannot open the source database {url}: {exc.__cause__ or exc}"
        raise SourceConnectError(
            msg, hint="check source_url, and that the server is running and reachable"
        ) from exc
    with conn:
        yield conn


def row_counts(conn: Connection) -> dict[RecordKindName, int | None]:
    """Rows per table; ``None`` where the table does not exist yet."""
    existing = set(sa.inspect(conn).get_table_names())
    counts: dict[RecordKindName, int | None] = {}
    for kind, table in TABLES.items():
        if table.name in existing:
            counts[kind] = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        else:
            counts[kind] = None
    return counts


def prepare_tables(conn: Connection, kinds: Iterable[RecordKindName], *, replace: bool) -> None:
    """Create missing tables; refuse to mix new rows into a filled table unless ``replace``.

    With ``replace`` the old rows are deleted inside the caller's transaction, so a failed load
    rolls back to the tables as they were.
    """
    metadata.create_all(conn, tables=list(TABLES.values()), checkfirst=True)
    for kind in kinds:
        table = TABLES[kind]
        count = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        if count and not replace:
            msg = f"table {table.name!r} already holds {count:,} rows"
            raise SourceError(msg, hint="pass --replace to overwrite them")
        if count:
            conn.execute(table.delete())


def insert_rows(conn: Connection, kind: RecordKindName, rows: Sequence[Sequence[Any]]) -> None:
    """Insert rows given as tuples in the table's column order.

    This is the bulk path of ``source init`` and ``source load`` (millions of rows), so it goes
    straight to the driver's ``executemany`` with positional parameters: building a dict per
    row for SQLAlchemy's typed insert made ``source init`` five times slower than the
    generator. Datetimes are bound as naive UTC text, which every supported dialect's
    DATETIME/TIMESTAMP column accepts (what :class:`UTCDateTime` would store).
    """
    if not rows:
        return
    statement, datetime_at = _insert_statement(conn.dialect, kind)
    if datetime_at:
        rows = [_with_text_datetimes(row, datetime_at) for row in rows]
    conn.exec_driver_sql(statement, list(map(tuple, rows)))


def _insert_statement(dialect: Dialect, kind: RecordKindName) -> tuple[str, tuple[int, ...]]:
    table = TABLES[kind]
    quote = dialect.identifier_preparer.quote
    marks = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
    if marks is None:  # numeric or named: no driver pinpipe supports uses them today
        msg = f"the database driver's paramstyle {dialect.paramstyle!r} is not supported"
        raise SourceError(msg, hint="use sqlite, mysql+pymysql or postgresql+psycopg")
    columns = ", ".join(quote(c.name) for c in table.columns)
    values = ", ".join([marks] * len(table.columns))
    datetime_at = tuple(i for i, c in enumerate(RECORD_KINDS[kind].columns) if c.type == "datetime")
    return f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({values})", datetime_at


def _with_text_datetimes(row: Sequence[Any], positions: tuple[int, ...]) -> tuple[Any, ...]:
    values = list(row)
    for i in positions:
        value = values[i]
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                value = value.astimezone(UTC)
            values[i] = value.strftime("%Y-%m-%d %H:%M:%S")
    return tuple(values)
