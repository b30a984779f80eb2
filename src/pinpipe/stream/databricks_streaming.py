"""The streaming job on Databricks (SPEC §7.2), for a cluster with pinpipe installed
(``%pip install pinpipe[spark]``): the built-in ``kinesis`` source, the same SQL cleaning
models (transpiled by SQLGlot) in ``foreachBatch``, and ``format("delta")`` tables
``<uid>_pin_table``, ``<uid>_geo_table``, ``<uid>_user_table`` with a checkpoint per table.

Each batch is written with Delta's idempotent-write options (``txnAppId``/``txnVersion`` =
Spark's batch id), so a batch Spark replays after a failure is skipped by Delta - the same
exactly-once rule as pinpipe's local engines. In a notebook cell::

    from pinpipe.stream.databricks_streaming import start
    queries = start(spark, user_id="1232252d77df", region="us-east-1",
                    access_key=ACCESS_KEY, secret_key=SECRET_KEY)

Not run in pinpipe's CI (it needs Databricks' Kinesis connector); the cleaning SQL it runs is
the one both local engines are tested on.
"""

from __future__ import annotations

from typing import Any

from pinpipe.naming import Names, RecordKindName
from pinpipe.transform.models import CLEANING, load_sql, raw_table
from pinpipe.transform.spark_engine import transpile

#: The payload schemas of SPEC §7.2 (RegnixS' DDL): follower_count and datetimes stay strings.
PAYLOAD_SCHEMAS: dict[RecordKindName, str] = {
    "pin": "index long, unique_id string, title string, description string, poster_name "
    "string, follower_count string, tag_list string, is_image_or_video string, image_src "
    "string, downloaded long, save_location string, category string",
    "geo": "ind long, timestamp string, latitude double, longitude double, country string",
    "user": "ind long, first_name string, last_name string, age long, date_joined string",
}


def start(
    spark: Any,
    *,
    user_id: str,
    region: str = "us-east-1",
    access_key: str | None = None,
    secret_key: str | None = None,
    starting_position: str = "earliest",
    checkpoint_root: str = "/tmp/kinesis",  # noqa: S108 - the course's DBFS path, not local
) -> list[Any]:
    """Start one streaming query per stream; returns the queries."""
    from pyspark.sql.functions import col, from_json

    names = Names(user_id)
    queries = []
    for kind in CLEANING:
        reader = (
            spark.readStream.format("kinesis")
            .option("streamName", names.stream(kind))
            .option("initialPosition", starting_position)
            .option("region", region)
        )
        if access_key and secret_key:
            reader = reader.option("awsAccessKey", access_key).option("awsSecretKey", secret_key)
        frame = (
            reader.load()
            .selectExpr("CAST(data AS STRING) AS json")
            .select(from_json(col("json"), PAYLOAD_SCHEMAS[kind]).alias("record"))
            .select("record.*")
        )
        table = names.delta_table(kind)
        queries.append(
            frame.writeStream.foreachBatch(_writer(kind, table))
            .option("checkpointLocation", f"{checkpoint_root}/{table}_checkpoints/")
            .queryName(table)
            .start()
        )
    return queries


def _writer(kind: RecordKindName, table: str) -> Any:
    sql = transpile(load_sql(f"clean_{kind}"))

    def write(batch: Any, batch_id: int) -> None:
        batch.createOrReplaceTempView(raw_table(kind))
        cleaned = batch.sparkSession.sql(sql)
        (
            cleaned.write.format("delta")
            .mode("append")
            .option("txnAppId", f"pinpipe-{table}")
            .option("txnVersion", batch_id)
            .saveAsTable(table)
        )

    return write
