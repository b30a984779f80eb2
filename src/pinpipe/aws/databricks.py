"""Databricks: the batch and streaming notebooks and their job definitions (Jobs API 2.1).

The notebooks are Databricks "source" files (``# Databricks notebook source``; import them into
the workspace as notebooks). Each installs pinpipe from its wheel (``%pip install``), reads its
parameters from widgets (the jobs' ``base_parameters`` set them) and calls pinpipe's own entry
points, so Databricks runs the code the tests run:

* ``pinpipe_batch``: :func:`pinpipe.batch.run_batch` with the Spark engine on the notebook's
  ``spark`` session - raw JSON from ``s3://…/topics/`` → curated Delta tables → the eight
  queries' results, displayed; this is the notebook the MWAA DAG submits daily (SPEC §7.1);
* ``pinpipe_stream``: :func:`pinpipe.stream.databricks_streaming.start` - the three Kinesis
  streams → the cleaning models → ``<uid>_pin|geo|user_table`` (SPEC §7.2), run by a continuous
  job.

Needs a cluster on Databricks Runtime 17 or later (Spark 4: the engine hands tables over as
Arrow with ``DataFrame.toArrow``) whose instance profile carries
``iam/databricks-access-policy.json``; no access keys are read or stored (the course's
credentials table and S3 mount are not needed).
"""

from __future__ import annotations

from typing import Any

from pinpipe import __version__
from pinpipe.aws.target import AwsTarget

CELL = "\n\n# COMMAND ----------\n\n"
HEADER = "# Databricks notebook source\n"
#: What the notebooks install besides the wheel: the Spark engine's SQL transpiler (pyspark
#: itself is the runtime's; pinpipe's ``spark`` extra would install another one).
NOTEBOOK_REQUIREMENTS = ('"sqlglot>=26"',)


def _markdown(*lines: str) -> str:
    return "\n".join(f"# MAGIC {line}".rstrip() for line in ("%md", *lines))


def _pip(target: AwsTarget) -> str:
    packages = " ".join((f'"{target.wheel}[aws]"', *NOTEBOOK_REQUIREMENTS))
    return f"# MAGIC %pip install {packages}"


def _widgets(values: dict[str, str]) -> str:
    return "\n".join(f'dbutils.widgets.text("{k}", "{v}")' for k, v in values.items())


def batch_parameters(target: AwsTarget) -> dict[str, str]:
    return {"user_id": target.names.user_id, "lake_url": target.lake_url}


def stream_parameters(target: AwsTarget) -> dict[str, str]:
    return {
        "user_id": target.names.user_id,
        "region": target.region,
        "starting_position": "earliest",
    }


def batch_notebook(target: AwsTarget) -> str:
    code = """\
from pinpipe.batch import run_batch
from pinpipe.config import load_settings
from pinpipe.transform.spark_engine import SparkEngine

settings = load_settings(
    user_id=dbutils.widgets.get("user_id"),
    lake_url=dbutils.widgets.get("lake_url"),
    engine="spark",
    home="/tmp/pinpipe",
)
report = run_batch(settings, engine=SparkEngine(session=spark))
print(f"{report.engine}: rows read {report.rows_read}, dead letters {report.dead_letters}")
for kind, uri in report.curated.items():
    print(f"curated {kind}: {uri}")
for name, table in report.results.items():
    print(name)
    display(spark.createDataFrame(table))"""
    cells = [
        _markdown(
            f"# pinpipe batch job for {target.names.user_id}",
            "",
            "The course's batch notebooks (SPEC §5-6) as pinpipe's `run_batch` on this "
            "cluster's Spark: the lake's raw JSON, cleaned, curated Delta tables, the eight "
            f"queries. Written by `pinpipe aws export` (pinpipe {__version__}); the MWAA DAG "
            "and the batch job run it.",
        ),
        _pip(target),
        _widgets(batch_parameters(target)),
        code,
    ]
    return HEADER + CELL.join(cells) + "\n"


def stream_notebook(target: AwsTarget) -> str:
    code = """\
from pinpipe.stream.databricks_streaming import start

queries = start(
    spark,
    user_id=dbutils.widgets.get("user_id"),
    region=dbutils.widgets.get("region"),
    starting_position=dbutils.widgets.get("starting_position"),
)
for query in queries:
    print(f"{query.name}: {query.id}")
spark.streams.awaitAnyTermination()"""
    cells = [
        _markdown(
            f"# pinpipe streaming job for {target.names.user_id}",
            "",
            "The course's streaming notebook (SPEC §7.2): the Kinesis streams "
            f"{', '.join(target.names.streams)} → the batch job's cleaning → Delta tables "
            f"{', '.join(target.names.delta_tables)}, one checkpoint per table, idempotent "
            "writes. Credentials come from the cluster's instance profile.",
        ),
        _pip(target),
        _widgets(stream_parameters(target)),
        code,
    ]
    return HEADER + CELL.join(cells) + "\n"


def _job(target: AwsTarget, job: str, notebook: str, parameters: dict[str, str]) -> dict[str, Any]:
    return {
        "name": target.names.databricks_job("batch" if job == "batch" else "stream"),
        "description": f"pinpipe {job} job for user {target.names.user_id} (pinpipe aws export)",
        "tags": {"pinpipe": job, "user_id": target.names.user_id},
        "max_concurrent_runs": 1,
        "format": "MULTI_TASK",
        "tasks": [
            {
                "task_key": job,
                "description": f"Runs the {notebook} notebook.",
                "existing_cluster_id": target.cluster_id,
                "notebook_task": {
                    "notebook_path": notebook,
                    "source": "WORKSPACE",
                    "base_parameters": parameters,
                },
            }
        ],
    }


def batch_job(target: AwsTarget) -> dict[str, Any]:
    """The batch job: run on demand or by MWAA (``run_now`` with ``[dag] job_id``); retries
    are the DAG's (SPEC §7.1), so the job has none of its own."""
    job = _job(target, "batch", target.batch_notebook, batch_parameters(target))
    job["tasks"][0]["timeout_seconds"] = 3 * 3600
    return job


def stream_job(target: AwsTarget) -> dict[str, Any]:
    """The streaming job: continuous (Databricks restarts it if it stops)."""
    job = _job(target, "stream", target.stream_notebook, stream_parameters(target))
    job["continuous"] = {"pause_status": "UNPAUSED"}
    return job


__all__ = [
    "batch_job",
    "batch_notebook",
    "batch_parameters",
    "stream_job",
    "stream_notebook",
    "stream_parameters",
]
