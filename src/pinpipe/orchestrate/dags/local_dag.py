"""pinpipe's daily batch pipeline (SPEC §7.1), run by a local Airflow with pinpipe installed.

sink_catch_up ─► clean_pin ─┐
              ├► clean_geo ─┼─► queries ─► report
              └► clean_user ┘

* ``sink_catch_up``: the S3 sink lands what the topics hold and the lake does not yet;
* ``clean_<kind>``: one kind's raw JSON → ``curated/<kind>`` (Delta; its commit carries the
  kind's data-quality counts), the three in parallel;
* ``queries``: the eight questions over the curated tables → ``results/``;
* ``report``: the HTML report.

Written by ``pinpipe dag export --target local``; the tasks call pinpipe's library
(``pinpipe.orchestrate.tasks``) with the settings named in CONFIG below. Works on Airflow 2.10+
and 3.x.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

try:  # Airflow 3
    from airflow.sdk import DAG, task
except ImportError:  # Airflow 2.10+
    from airflow import DAG
    from airflow.decorators import task  # type: ignore[attr-defined,no-redef]

# pinpipe:config-begin
CONFIG: dict[str, Any] = {
    "dag_id": "1232252d77df_dag",
    "owner": "pinpipe",
    "schedule": "@daily",
    "start_date": [2026, 1, 1],
    "retries": 1,
    "retry_delay_minutes": 2.0,
    "pinpipe": {"config_file": None, "home": None},
}
# pinpipe:config-end

KINDS = ("pin", "geo", "user")

YEAR, MONTH, DAY = CONFIG["start_date"]

default_args = {
    "owner": CONFIG["owner"],
    "depends_on_past": False,
    "email_on_failure": False,
    "email_on_retry": False,
    "retries": CONFIG["retries"],
    "retry_delay": timedelta(minutes=CONFIG["retry_delay_minutes"]),
}

with DAG(
    dag_id=CONFIG["dag_id"],
    schedule=CONFIG["schedule"],
    start_date=datetime(YEAR, MONTH, DAY, tzinfo=timezone.utc),  # noqa: UP017 - Python 3.10 too
    catchup=False,
    default_args=default_args,
    tags=["pinpipe"],
    doc_md=__doc__,
) as dag:

    @task
    def sink_catch_up() -> dict[str, Any]:
        from pinpipe.orchestrate import tasks

        return tasks.sink_catch_up(CONFIG["pinpipe"])

    @task
    def clean(kind: str) -> dict[str, Any]:
        from pinpipe.orchestrate import tasks

        return tasks.clean(CONFIG["pinpipe"], kind)  # type: ignore[arg-type]

    @task
    def queries() -> dict[str, Any]:
        from pinpipe.orchestrate import tasks

        return tasks.queries(CONFIG["pinpipe"])

    @task
    def report() -> dict[str, Any]:
        from pinpipe.orchestrate import tasks

        return tasks.report(CONFIG["pinpipe"])

    cleaned = [clean.override(task_id=f"clean_{kind}")(kind) for kind in KINDS]
    sink_catch_up() >> cleaned >> queries() >> report()
