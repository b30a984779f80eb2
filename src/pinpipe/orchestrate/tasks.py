"""The task bodies of the local DAG: plain functions over pinpipe's library.

The DAG file stays a thin declaration (what runs after what, retries, schedule) that Airflow
parses often and cheaply; the work and its imports happen here, inside the task. Each function
takes the DAG's :class:`TaskConfig` (where pinpipe's config and home are) and returns a small
JSON-able summary, which Airflow keeps as the task's XCom.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

from pinpipe.config import Settings, load_settings
from pinpipe.naming import RecordKindName


class TaskConfig(TypedDict):
    """Where the tasks find pinpipe's settings: a TOML file and/or a home (both optional)."""

    config_file: str | None
    home: str | None


def settings_of(config: TaskConfig) -> Settings:
    """The Settings the tasks run with (``PINPIPE_*`` variables of the worker apply too)."""
    config_file, home = config.get("config_file"), config.get("home")
    return load_settings(Path(config_file) if config_file else None, home=home or None)


def sink_catch_up(config: TaskConfig) -> dict[str, Any]:
    """Land everything the topics hold that the lake does not yet (the S3 sink, ``--once``)."""
    from pinpipe.sink import run_sink

    info = run_sink(settings_of(config), once=True)
    return {
        "records": info.records,
        "objects": info.objects,
        "bytes": info.bytes,
        "dead_letters": info.dead_letters,
        "topics": {t.topic: t.records for t in info.topics},
    }


def clean(config: TaskConfig, kind: RecordKindName) -> dict[str, Any]:
    """Clean one kind's raw objects into ``curated/<kind>`` (one Delta commit)."""
    from pinpipe.batch import run_clean

    report = run_clean(settings_of(config), kind)
    return {
        "kind": kind,
        "engine": report.engine,
        "table": report.uri,
        "version": report.version,
        "rows_read": report.quality.rows_read,
        "rows_cleaned": report.quality.rows_cleaned,
        "dead_letters": report.quality.dead_letters,
        "seconds": round(report.seconds, 3),
    }


def queries(config: TaskConfig) -> dict[str, Any]:
    """Answer the eight questions over the curated tables; store results and quality."""
    from pinpipe.batch import run_queries

    report = run_queries(settings_of(config))
    return {
        "engine": report.engine,
        "rows": {name: table.num_rows for name, table in report.results.items()},
        "seconds": round(report.seconds, 3),
    }


def report(config: TaskConfig) -> dict[str, Any]:
    """Write the HTML report of the pipeline and its results."""
    from pinpipe.report import write_report

    path = write_report(settings_of(config))
    return {"report": str(path), "bytes": path.stat().st_size}
