"""The Databricks files: the job definitions against the Jobs API 2.1 (a JSON Schema written
from the API reference, and a round trip through the Databricks SDK's own ``JobSettings``,
which drops any field the API does not know), and the notebooks: they compile, call pinpipe's
real entry points with arguments those accept, read only widgets their jobs set, and the batch
notebook runs here, cell by cell, on a local Spark session against a landed lake."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from databricks.sdk.service.jobs import JobSettings

from pinpipe.aws import AwsExport
from pinpipe.aws.databricks import CELL, HEADER
from tests.aws.conftest import read

SCHEMA = json.loads((Path(__file__).parent / "schemas/databricks-job.schema.json").read_text())
JOBS = {"batch.json": "pinpipe_batch.py", "stream.json": "pinpipe_stream.py"}
#: What each notebook calls of pinpipe.
ENTRY_POINTS = {
    "pinpipe_batch.py": {"load_settings", "run_batch", "SparkEngine"},
    "pinpipe_stream.py": {"start"},
}


def job(export: AwsExport, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(read(export, f"databricks/jobs/{name}"))
    return loaded


@pytest.mark.parametrize("name", JOBS)
def test_job_follows_the_jobs_api(exported: AwsExport, name: str) -> None:
    definition = job(exported, name)
    jsonschema.validate(definition, SCHEMA)
    assert JobSettings.from_dict(definition).as_dict() == definition  # no field unknown to it


def test_the_schema_and_the_sdk_catch_mistakes(exported: AwsExport) -> None:
    definition = job(exported, "stream.json")
    misspelt = definition | {"continous": {"pause_status": "UNPAUSED"}}
    assert JobSettings.from_dict(misspelt).as_dict() != misspelt
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(misspelt, SCHEMA)
    bad_task = definition | {"tasks": [definition["tasks"][0] | {"task_key": "two words"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad_task, SCHEMA)


def test_jobs_run_the_exported_notebooks(exported: AwsExport, uid: str) -> None:
    batch, stream = job(exported, "batch.json"), job(exported, "stream.json")
    assert batch["name"] == f"{uid}-pinpipe-batch" and stream["name"] == f"{uid}-pinpipe-stream"
    assert stream["continuous"] == {"pause_status": "UNPAUSED"} and "continuous" not in batch
    for definition in (batch, stream):
        (task,) = definition["tasks"]
        assert task["existing_cluster_id"] == "1108-162752-8okw8dgg"  # the course's ([dag])
    assert batch["tasks"][0]["notebook_task"]["notebook_path"] == "/Shared/pinpipe/pinpipe_batch"
    assert stream["tasks"][0]["notebook_task"]["notebook_path"] == "/Shared/pinpipe/pinpipe_stream"
    dag = read(exported, f"mwaa/{uid}_dag.py")
    assert '"notebook_path": "/Shared/pinpipe/pinpipe_batch"' in dag  # the DAG runs the same one


def cells(source: str) -> list[str]:
    assert source.startswith(HEADER)
    return source.removeprefix(HEADER).strip("\n").split(CELL)


def code_of(source: str) -> str:
    """The notebook's Python cells (``# MAGIC`` cells are comments to Python anyway)."""
    return "\n\n".join(c for c in cells(source) if not c.startswith("# MAGIC"))


@pytest.mark.parametrize(("job_name", "notebook"), JOBS.items())
def test_notebooks_call_pinpipe_as_it_is(exported: AwsExport, job_name: str, notebook: str) -> None:
    source = read(exported, f"databricks/notebooks/{notebook}")
    magic = [c for c in cells(source) if c.startswith("# MAGIC")]
    assert magic[0].startswith("# MAGIC %md") and magic[1].startswith("# MAGIC %pip install ")
    assert "/Workspace/Shared/pinpipe/pinpipe-" in magic[1] and '[aws]" "sqlglot>=26"' in magic[1]
    tree = ast.parse(code_of(source))
    imported: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.module and node.module.startswith("pinpipe.")
            module = importlib.import_module(node.module)
            for alias in node.names:
                imported[alias.asname or alias.name] = getattr(module, alias.name)
    called = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in imported:
                signature = inspect.signature(imported[node.func.id])
                signature.bind(*node.args, **{k.arg: k.value for k in node.keywords if k.arg})
                called.add(node.func.id)
    assert called == ENTRY_POINTS[notebook]
    defined = set(re.findall(r'dbutils\.widgets\.text\("([a-z_]+)"', source))
    used = set(re.findall(r'dbutils\.widgets\.get\("([a-z_]+)"\)', source))
    parameters = job(exported, job_name)["tasks"][0]["notebook_task"]["base_parameters"]
    assert used == defined == set(parameters)


class FakeWidgets:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.defaults: dict[str, str] = {}

    def text(self, name: str, default: str) -> None:
        self.defaults[name] = default

    def get(self, name: str) -> str:
        return self.values.get(name, self.defaults[name])


class FakeDbutils:
    """Databricks' ``dbutils.widgets`` as a job sets it: base_parameters override defaults."""

    def __init__(self, values: dict[str, str]) -> None:
        self.widgets = FakeWidgets(values)


@pytest.mark.spark
@pytest.mark.slow
def test_batch_notebook_runs_on_spark(
    exported: AwsExport,
    spark_session: Any,
    reference_raw: dict[str, list[dict[str, Any]]],
    tmp_path: Path,
) -> None:
    """The notebook's cells, as Databricks runs them, on a local Spark session: the batch job
    reads the raw objects the sink landed and writes curated tables and results."""
    from pinpipe.transform.base import rows_of
    from tests.landing import UID, land_rows
    from tests.transform.reference import py_clean, py_queries

    raw = {kind: rows[:300] for kind, rows in reference_raw.items()}
    lake = land_rows(tmp_path / "home", raw)
    shown: list[Any] = []
    namespace = {
        "spark": spark_session,
        "dbutils": FakeDbutils({"user_id": UID, "lake_url": str(lake)}),
        "display": shown.append,
    }
    notebook = compile(
        code_of(read(exported, "databricks/notebooks/pinpipe_batch.py")), "nb", "exec"
    )
    exec(notebook, namespace)  # noqa: S102 - our exported notebook, as Databricks runs it
    report = namespace["report"]
    assert report.engine == "spark"
    assert all(rows > 0 for rows in report.rows_read.values())
    assert len(shown) == len(report.results) >= 9
    assert sorted(p.name for p in (lake / "curated").iterdir()) == ["geo", "pin", "user"]
    # The Spark engine's whole-batch path against the Python reference (the batch suite checks
    # DuckDB's; both engines' outputs are compared there too).
    expected = py_queries(py_clean(raw))
    for name, table in report.results.items():
        assert rows_of(table) == expected[name], name
    shutil.rmtree(tmp_path / "home")
