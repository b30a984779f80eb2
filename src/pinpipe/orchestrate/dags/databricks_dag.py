"""pinpipe's daily batch pipeline for MWAA (SPEC §7.1): the batch job as a Databricks run.

The course's DAG: one ``submit_run`` task that runs the batch notebook on an existing
cluster through the ``databricks_default`` connection MWAA has configured. When CONFIG names a
Databricks job instead of a notebook, the task runs that job (``run_now``).

Written by ``pinpipe dag export`` (target ``mwaa``); upload it with the ``requirements.txt``
beside it to the environment's bucket (``dags/`` and the requirements file). Needs only Airflow
and ``apache-airflow-providers-databricks`` - not pinpipe. Works on Airflow 2.10+ and 3.x.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.providers.databricks.operators.databricks import (
    DatabricksRunNowOperator,
    DatabricksSubmitRunOperator,
)

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.10+
    from airflow import DAG

# pinpipe:config-begin
CONFIG: dict[str, Any] = {
    "dag_id": "1232252d77df_dag",
    "owner": "pinpipe",
    "schedule": "@daily",
    "start_date": [2026, 1, 1],
    "retries": 1,
    "retry_delay_minutes": 2.0,
    "databricks_conn_id": "databricks_default",
    "existing_cluster_id": "1108-162752-8okw8dgg",
    "notebook_path": "/Users/<email>/<notebook name>",
    "job_id": None,
}
# pinpipe:config-end

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
    if CONFIG["job_id"] is not None:
        DatabricksRunNowOperator(
            task_id="run_now",
            databricks_conn_id=CONFIG["databricks_conn_id"],
            job_id=CONFIG["job_id"],
        )
    else:
        DatabricksSubmitRunOperator(
            task_id="submit_run",
            databricks_conn_id=CONFIG["databricks_conn_id"],
            existing_cluster_id=CONFIG["existing_cluster_id"],
            notebook_task={"notebook_path": CONFIG["notebook_path"]},
        )
