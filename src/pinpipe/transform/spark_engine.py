"""The engine users grow into: the same SQL models on Apache Spark, transpiled by SQLGlot.

The models are written once, in DuckDB's dialect; SQLGlot turns each into Spark SQL (the
transpiled text is cached per model). Raw frames enter as Arrow tables, the cleaned tables are
cached temp views, and results leave through ``DataFrame.toArrow()``, so both engines hand
the same Arrow tables to the writers. The session runs on ``local[*]`` by default, on a
cluster's master URL, or on Spark Connect / Databricks Connect (``spark.remote``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa

from pinpipe.errors import MissingExtraError
from pinpipe.naming import RecordKindName
from pinpipe.transform.base import Engine, RawFrame, TransformError, check_query, to_raw_arrow
from pinpipe.transform.models import CLEANING, VIEWS, load_sql, raw_table

if TYPE_CHECKING:
    from pinpipe.config import SparkSettings

FEATURE = "the Spark engine"
LOG4J2_CONFIG = files("pinpipe.transform").joinpath("spark-log4j2.properties")
#: Session settings pinpipe always applies (before the user's own ``spark.conf``).
BASE_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",  # timestamps are UTC instants, as on DuckDB
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}


def _import_pyspark() -> Any:
    try:
        import pyspark.sql
    except ImportError as exc:
        raise MissingExtraError(FEATURE, "spark", "pyspark") from exc
    return pyspark.sql


@cache
def transpile(sql: str) -> str:
    """``sql`` (DuckDB dialect) as Spark SQL."""
    try:
        import sqlglot
        import sqlglot.errors
    except ImportError as exc:
        raise MissingExtraError(FEATURE, "spark", "sqlglot") from exc
    try:
        return str(sqlglot.transpile(sql, read="duckdb", write="spark")[0])
    except sqlglot.errors.SqlglotError as exc:
        msg = f"SQLGlot cannot turn this model into Spark SQL: {exc}"
        raise TransformError(msg, hint="write the model in SQL both engines share") from exc


def build_session(settings: SparkSettings) -> Any:
    """A Spark session from ``settings``: ``remote`` (Spark/Databricks Connect) when set,
    else ``master`` (``local[*]`` by default)."""
    sql = _import_pyspark()
    builder = sql.SparkSession.builder.appName("pinpipe")
    if settings.remote:
        builder = builder.remote(settings.remote)
    else:
        # A local driver binds to loopback (Spark otherwise picks the first interface, and
        # warns about it), and logs only errors: pinpipe prints its own progress.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = builder.master(settings.master)
        builder = builder.config("spark.driver.host", "127.0.0.1")
        builder = builder.config(
            "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={LOG4J2_CONFIG}"
        )
        # Python workers (if Spark ever starts one) use this interpreter, not whatever is on PATH.
        builder = builder.config("spark.pyspark.python", sys.executable)
        builder = builder.config("spark.driver.memory", settings.driver_memory)
        builder = builder.config("spark.sql.shuffle.partitions", str(settings.shuffle_partitions))
    for key, value in {**BASE_CONF, **settings.conf}.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # py4j/JVM start-up failures have no common base class
        msg = f"cannot start a Spark session ({settings.remote or settings.master}): {exc}"
        raise TransformError(
            msg, hint="Spark needs Java 17 or 21 on PATH (or JAVA_HOME), or a reachable remote"
        ) from exc
    if not settings.remote:
        session.sparkContext.setLogLevel("ERROR")
    return session


class SparkEngine(Engine):
    """Raw frames, cleaned tables and shared views as temp views of one Spark session.

    Pass a ``session`` to share one (tests, notebooks); otherwise the engine builds one from
    ``settings`` and stops it on :meth:`close`.
    """

    name: ClassVar[str] = "spark"

    def __init__(self, settings: SparkSettings | None = None, *, session: Any = None) -> None:
        if session is None:
            from pinpipe.config import SparkSettings

            session = build_session(settings or SparkSettings())
            self._owns_session = True
        else:
            self._owns_session = False
        self.spark = session
        self._cached: dict[RecordKindName, Any] = {}

    def close(self) -> None:
        for frame in self._cached.values():
            frame.unpersist()
        self._cached.clear()
        if self._owns_session:
            self.spark.stop()

    def load_raw(self, kind: RecordKindName, frame: RawFrame) -> int:
        table = to_raw_arrow(kind, frame)
        # createDataFrame needs at least one batch to carry the schema.
        source = table if table.num_rows else _empty_with_schema(table)
        self.spark.createDataFrame(source).createOrReplaceTempView(raw_table(kind))
        return table.num_rows

    def clean(self, kinds: Sequence[RecordKindName] = CLEANING) -> None:
        for kind in kinds:
            previous = self._cached.pop(kind, None)
            if previous is not None:
                previous.unpersist()
        try:
            for kind in kinds:
                cleaned = self.spark.sql(transpile(load_sql(f"clean_{kind}"))).cache()
                self._cached[kind] = cleaned
                cleaned.createOrReplaceTempView(kind)
        except Exception as exc:
            raise _spark_error(exc) from exc
        if set(kinds) == set(CLEANING):
            self.create_views()

    def load_cleaned(self, kind: RecordKindName, table: pa.Table) -> int:
        previous = self._cached.pop(kind, None)
        if previous is not None:
            previous.unpersist()
        try:
            source = table if table.num_rows else _empty_with_schema(table)
            frame = self.spark.createDataFrame(source).cache()
            self._cached[kind] = frame
            frame.createOrReplaceTempView(kind)
        except Exception as exc:
            raise _spark_error(exc) from exc
        return table.num_rows

    def create_views(self) -> None:
        try:
            for view in VIEWS:
                self.spark.sql(transpile(load_sql(view))).createOrReplaceTempView(view)
        except Exception as exc:
            raise _spark_error(exc) from exc

    def cleaned_arrow(self, kind: RecordKindName) -> pa.Table:
        return self._arrow(lambda: self.spark.table(kind))

    def query_arrow(self, name: str) -> pa.Table:
        check_query(name)
        return self._arrow(lambda: self.spark.sql(transpile(load_sql(name))))

    def fetch(self, sql: str) -> pa.Table:
        return self._arrow(lambda: self.spark.sql(transpile(sql)))

    def _arrow(self, frame: Any) -> pa.Table:
        try:
            table: pa.Table = frame().toArrow()
        except Exception as exc:
            raise _spark_error(exc) from exc
        return table


def _empty_with_schema(table: pa.Table) -> pa.Table:
    return pa.Table.from_batches([pa.RecordBatch.from_pylist([], schema=table.schema)])


def _spark_error(exc: Exception) -> TransformError:
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, TransformError):
        return exc
    return TransformError(
        f"Spark could not run a model: {first_line}",
        hint="run with --debug for Spark's full error; load all three raw frames first",
    )
