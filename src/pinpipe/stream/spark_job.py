"""The streaming job on Spark Structured Streaming (``pinpipe stream --engine spark``).

One streaming query per stream reads the broker through the Python data source of
:mod:`.spark_source`; ``foreachBatch`` hands each micro-batch to the same
:class:`~pinpipe.stream.job.StreamTable` logic as the native engine - decoding, the
de-duplication digests, the batch job's cleaning model (run by Spark, transpiled by SQLGlot)
and the Delta commit that carries the positions. Spark's own checkpoint is a throwaway
directory: a restart asks the source for its initial offset, which is what the table says, so
the table stays the only source of truth, as with the native engine. On Databricks, use the
notebook in ``pinpipe/stream/databricks_streaming.py`` instead (the built-in ``kinesis`` source,
``format("delta")``).
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any, Literal

from pinpipe.broker import Broker, LogRecord, open_broker
from pinpipe.config import Settings
from pinpipe.lake import Lake, lake_from_settings
from pinpipe.stream.job import StartingPosition, StreamInfo, StreamSummary, StreamTable
from pinpipe.stream.spark_source import SOURCE_NAME, BrokerDataSource, settings_option
from pinpipe.stream.tables import positions_json
from pinpipe.transform import CLEANING, DuckDBEngine
from pinpipe.transform.spark_engine import SparkEngine


def run_stream_spark(
    settings: Settings,
    *,
    once: bool = False,
    trigger_interval: float = 0.5,
    starting_position: StartingPosition = "earliest",
    max_batch_records: int = 50_000,
    broker: Broker | None = None,
    lake: Lake | None = None,
    stop: threading.Event | None = None,
    on_batch: Callable[[StreamSummary], None] | None = None,
    session: Any = None,
) -> StreamInfo:
    """Run the three streaming queries until ``stop`` is set (``once``: until they hold what
    the streams held at the start). ``broker``, ``lake`` and ``session`` may be passed in;
    they are then left open (running)."""
    started = time.perf_counter()
    stop = stop or threading.Event()
    lock = threading.Lock()  # the queries' batches share one DuckDB state and one engine
    with ExitStack() as stack:
        if broker is None:
            broker = stack.enter_context(open_broker(settings.streams_url, settings))
        if lake is None:
            lake = stack.enter_context(lake_from_settings(settings))
        state = stack.enter_context(DuckDBEngine())
        cleaner = stack.enter_context(
            SparkEngine(settings.spark) if session is None else SparkEngine(session=session)
        )
        spark = cleaner.spark
        spark.dataSource.register(BrokerDataSource)
        checkpoints = stack.enter_context(tempfile.TemporaryDirectory(prefix="pinpipe-spark-"))
        tables = {
            kind: StreamTable(settings, kind, lake, broker, state, starting_position, cleaner)
            for kind in CLEANING
        }
        queries = []
        for kind, table in tables.items():

            def each_batch(frame: Any, _batch_id: int, table: StreamTable = table) -> None:
                arrow = frame.toArrow()
                records = [
                    LogRecord(table.name, p, o, None, v, ts)
                    for p, o, v, ts in zip(
                        *(arrow.column(c).to_pylist() for c in arrow.column_names), strict=True
                    )
                ]
                with lock:
                    if table.process(records) and on_batch is not None:
                        on_batch(table.summary)

            reader = (
                spark.readStream.format(SOURCE_NAME)
                .option("settings", settings_option(settings))
                .option("stream", table.name)
                .option("start", positions_json(table.positions))
                .option("maxRecordsPerBatch", str(max_batch_records))
                .load()
            )
            writer = reader.writeStream.foreachBatch(each_batch).option(
                "checkpointLocation", f"{checkpoints}/{kind}"
            )
            writer = (
                writer.trigger(availableNow=True)
                if once
                else writer.trigger(processingTime=f"{max(trigger_interval, 0.1)} seconds")
            )
            queries.append(writer.queryName(f"pinpipe_{kind}").start())
        stopped: Literal["caught up", "stopped"] = "stopped"
        try:
            while not stop.is_set():
                if all(not q.isActive for q in queries):
                    stopped = "caught up"
                    break
                for query in queries:
                    if query.exception() is not None:
                        raise query.exception()
                stop.wait(0.2)
        finally:
            for query in queries:
                query.stop()
        return StreamInfo(
            {kind: t.summary for kind, t in tables.items()},
            time.perf_counter() - started,
            stopped,
        )
