"""Load a DAG file with Airflow and, if asked, run it once with ``dag.test()``.

Run as a script by path (``python dag_runner.py DAG_FILE OUT_JSON [--run]``) with the Python of
whichever Airflow is to judge the file: it imports nothing from pinpipe, so it also works in an
environment that has only Airflow (the MWAA variant on Airflow 2, whose pins exclude pinpipe's).
It writes one JSON document to OUT_JSON: the Airflow version, the import errors, and for each
DAG its tasks (id, operator, upstream ids, and the operator fields a reviewer checks); with
``--run``, the run's state and every task's state and return value (its XCom).
"""

from __future__ import annotations

import json
import sys
from typing import Any

#: Operator attributes worth showing (when an operator has them).
FIELDS = (
    "retries",
    "owner",
    "databricks_conn_id",
    "existing_cluster_id",
    "notebook_task",
    "job_id",
    "json",
)


def _dag_bag(path: str) -> Any:
    try:  # Airflow 3
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 2
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
    return DagBag(dag_folder=path)


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except TypeError:
        return repr(value)
    return value


def _describe(dag: Any) -> dict[str, Any]:
    tasks = {}
    for task in dag.tasks:
        fields = {name: _jsonable(getattr(task, name)) for name in FIELDS if hasattr(task, name)}
        tasks[task.task_id] = {
            "operator": type(task).__name__,
            "upstream": sorted(task.upstream_task_ids),
            "fields": fields,
            "retry_delay_seconds": task.retry_delay.total_seconds(),
        }
    return {
        "schedule": str(getattr(dag, "schedule", None) or getattr(dag, "schedule_interval", "")),
        "catchup": dag.catchup,
        "start_date": dag.start_date.isoformat() if dag.start_date else None,
        "tasks": tasks,
    }


def _return_value(dag_id: str, run_id: str, task_id: str) -> Any:
    from airflow.utils.session import create_session

    try:  # Airflow 3: get_many builds a query
        from airflow.models.xcom import XComModel

        with create_session() as session:
            query = XComModel.get_many(
                run_id=run_id, key="return_value", task_ids=task_id, dag_ids=dag_id
            )
            row = session.scalars(query).first()
            return None if row is None else _jsonable(XComModel.deserialize_value(row))
    except ImportError:  # Airflow 2: get_many runs it
        from airflow.models.xcom import XCom

        with create_session() as session:
            row = XCom.get_many(
                run_id=run_id,
                key="return_value",
                task_ids=task_id,
                dag_ids=dag_id,
                session=session,
            ).first()
            return None if row is None else _jsonable(row.value)


def _run(dag: Any) -> dict[str, Any]:
    run = dag.test()
    return {
        "state": str(run.state),
        "tasks": {
            ti.task_id: {
                "state": str(ti.state),
                "return_value": _return_value(dag.dag_id, run.run_id, ti.task_id),
            }
            for ti in run.get_task_instances()
        },
    }


def main(argv: list[str]) -> int:
    import airflow

    path, out, run = argv[0], argv[1], "--run" in argv[2:]
    bag = _dag_bag(path)
    result: dict[str, Any] = {
        "airflow": airflow.__version__,
        "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
        "dags": {dag_id: _describe(dag) for dag_id, dag in bag.dags.items()},
    }
    if run and not result["import_errors"]:
        result["runs"] = {dag_id: _run(dag) for dag_id, dag in bag.dags.items()}
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
