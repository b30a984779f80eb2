"""The exported DAGs judged by real Airflow: the local DAG runs end to end on Airflow 3 (the
lock's) through ``dag.test()`` on the course's real rows, and both exported files import
cleanly on Airflow 3 and on Airflow 2.11 (MWAA's), with the course's schedule and defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pinpipe.batch import read_result
from pinpipe.broker.embedded import EmbeddedLog
from pinpipe.config import EmbeddedLogSettings, Settings, load_settings
from pinpipe.lake import open_lake
from pinpipe.orchestrate.airflow_run import DagCheck, check_dag
from pinpipe.orchestrate.export import Target, export_dag
from pinpipe.transform import CLEANING, QUERIES
from pinpipe.transform.base import rows_of
from tests.landing import UID, produce_rows
from tests.orchestrate.airflow_envs import airflow2_python
from tests.transform.reference import Row, py_clean, py_queries

pytestmark = [pytest.mark.integration, pytest.mark.airflow, pytest.mark.slow]

DAG_ID = f"{UID}_dag"
LOCAL_TASKS = {"sink_catch_up", "clean_pin", "clean_geo", "clean_user", "queries", "report"}


def _settings(tmp_path: Path, **dag: Any) -> tuple[Settings, Path]:
    config = tmp_path / "pinpipe.toml"
    lines = [f'user_id = "{UID}"', "[dag]", 'owner = "129a67850695"']
    lines += [f"{key} = {value!r}".replace("'", '"') for key, value in dag.items()]
    config.write_text("\n".join(lines) + "\n")
    return load_settings(config, home=tmp_path / "home"), config


def _export(settings: Settings, config: Path, target: Target, where: Path) -> Path:
    return export_dag(settings, where, target=target, config_file=config).dag_file


def _check_course_defaults(check: DagCheck) -> None:
    assert check.import_errors == {}
    dag = check.dags[DAG_ID]
    assert dag["schedule"] == "@daily"
    assert dag["catchup"] is False
    assert dag["start_date"].startswith("2026-01-01T00:00:00")
    for task in dag["tasks"].values():
        assert task["fields"]["retries"] == 1
        assert task["fields"]["owner"] == "129a67850695"
        assert task["retry_delay_seconds"] == 120


def test_the_local_dag_runs_the_pipeline_on_airflow_3(
    tmp_path: Path, reference_raw: dict[str, list[Row]]
) -> None:
    settings, config = _settings(tmp_path)
    settings.home.mkdir()
    with EmbeddedLog(settings.home / "broker.db", EmbeddedLogSettings(durability="os")) as log:
        produced = produce_rows(log, settings, reference_raw)
    dag_file = _export(settings, config, "local", tmp_path / "dags")

    check = check_dag(dag_file, airflow_home=tmp_path / "airflow", run=True)

    assert check.airflow_version.startswith("3.")
    _check_course_defaults(check)
    tasks = check.dags[DAG_ID]["tasks"]
    assert set(tasks) == LOCAL_TASKS
    assert tasks["sink_catch_up"]["upstream"] == []
    for kind in CLEANING:
        assert tasks[f"clean_{kind}"]["upstream"] == ["sink_catch_up"]
    assert tasks["queries"]["upstream"] == ["clean_geo", "clean_pin", "clean_user"]
    assert tasks["report"]["upstream"] == ["queries"]
    assert check.runs[DAG_ID]["state"] == "success", check.log
    assert set(check.task_states(DAG_ID).values()) == {"success"}

    # Each task's result, and what it left in the lake, against the test's own computation.
    clean = py_clean(reference_raw)
    expected = py_queries(clean)
    sunk = check.return_value(DAG_ID, "sink_catch_up")
    assert sunk["records"] == produced
    for kind in CLEANING:
        cleaned = check.return_value(DAG_ID, f"clean_{kind}")
        assert cleaned["rows_cleaned"] == len(clean[kind]), kind
        assert cleaned["rows_read"] == len(reference_raw[kind]), kind
        assert cleaned["version"] == 0
    answered = check.return_value(DAG_ID, "queries")
    assert answered["rows"] == {name: len(expected[name]) for name in QUERIES}
    lake = open_lake(settings.lake_url)
    for name in QUERIES:
        assert rows_of(read_result(lake, name)) == expected[name], name
    report = Path(check.return_value(DAG_ID, "report")["report"])
    assert report.exists() and report.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("dag", "task", "operator"),
    [
        ({"notebook_path": "/Users/a@b.c/batch"}, "submit_run", "DatabricksSubmitRunOperator"),
        ({"job_id": 42}, "run_now", "DatabricksRunNowOperator"),
    ],
)
def test_the_mwaa_dag_imports_on_airflow_3_and_2(
    tmp_path: Path, dag: dict[str, Any], task: str, operator: str
) -> None:
    settings, config = _settings(tmp_path, **dag)
    dag_file = _export(settings, config, "mwaa", tmp_path / "dags")
    for version, python in (("3.", None), ("2.11.", airflow2_python())):
        check = check_dag(dag_file, airflow_home=tmp_path / f"airflow{version}", python=python)
        assert check.airflow_version.startswith(version)
        _check_course_defaults(check)
        (only,) = check.dags[DAG_ID]["tasks"].items()
        assert only[0] == task
        assert only[1]["operator"] == operator
        fields = only[1]["fields"]
        assert fields["databricks_conn_id"] == "databricks_default"
        if "job_id" in dag:
            assert fields["job_id"] == 42
        else:
            assert fields["existing_cluster_id"] == "1108-162752-8okw8dgg"
            assert fields["notebook_task"] == {"notebook_path": "/Users/a@b.c/batch"}


def test_the_local_dag_imports_on_airflow_2(tmp_path: Path) -> None:
    """Airflow 2 parses the local DAG without pinpipe installed: pinpipe is imported only
    inside the tasks, in the worker that runs them."""
    settings, config = _settings(tmp_path)
    dag_file = _export(settings, config, "local", tmp_path / "dags")
    check = check_dag(dag_file, airflow_home=tmp_path / "airflow", python=airflow2_python())
    assert check.airflow_version.startswith("2.11.")
    _check_course_defaults(check)
    assert set(check.dags[DAG_ID]["tasks"]) == LOCAL_TASKS
