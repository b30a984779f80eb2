"""``pinpipe dag export``: the packaged DAG files with the user's CONFIG, written atomically,
with the requirements each target needs; and the local DAG's task bodies."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pinpipe.cli import app
from pinpipe.config import Settings
from pinpipe.orchestrate.export import (
    TARGETS,
    DagExportError,
    dag_config,
    dag_source,
    export_dag,
    render_dag,
)

BEGIN, END = "# pinpipe:config-begin\n", "# pinpipe:config-end\n"


def _config_block(text: str) -> object:
    block = text.split(BEGIN, 1)[1].split(END, 1)[0]
    return ast.literal_eval(block.split("=", 1)[1].strip())


def _outside_block(text: str) -> tuple[str, str]:
    head, rest = text.split(BEGIN, 1)
    return head, rest.split(END, 1)[1]


@pytest.mark.parametrize("target", TARGETS)
def test_only_the_config_block_changes(target: str, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, user_id="129a67850695").model_copy(
        update={"dag": Settings().dag.model_copy(update={"notebook_path": "/Users/x/nb"})}
    )
    config = dag_config(settings, target)  # type: ignore[arg-type]
    text = render_dag(target, config)  # type: ignore[arg-type]
    assert _config_block(text) == config
    assert _outside_block(text) == _outside_block(dag_source(target))  # type: ignore[arg-type]
    compile(text, "dag.py", "exec")  # valid Python
    assert config["dag_id"] == "129a67850695_dag"


def test_hostile_values_stay_values(tmp_path: Path) -> None:
    dag = Settings().dag.model_copy(update={"owner": 'o"\n__import__("os")', "notebook_path": "x"})
    settings = Settings(home=tmp_path).model_copy(update={"dag": dag})
    text = render_dag("mwaa", dag_config(settings, "mwaa"))
    assert _config_block(text)["owner"] == 'o"\n__import__("os")'  # type: ignore[index]


def test_mwaa_needs_a_notebook_or_a_job(tmp_path: Path) -> None:
    with pytest.raises(DagExportError, match="notebook") as caught:
        export_dag(Settings(home=tmp_path), tmp_path / "out")
    assert "notebook_path" in (caught.value.hint or "")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_export_writes_the_dag_and_requirements(tmp_path: Path) -> None:
    dag = Settings().dag.model_copy(update={"job_id": 7})
    settings = Settings(home=tmp_path, user_id="129a67850695").model_copy(update={"dag": dag})
    written = export_dag(settings, tmp_path / "out", target="mwaa")
    assert written.dag_file == tmp_path / "out" / "129a67850695_dag.py"
    assert _config_block(written.dag_file.read_text())["job_id"] == 7  # type: ignore[index]
    assert "apache-airflow-providers-databricks" in written.requirements.read_text()
    local = export_dag(settings, tmp_path / "out", target="local", config_file=Path("p.toml"))
    block = _config_block(local.dag_file.read_text())
    assert block["pinpipe"] == {  # type: ignore[index]
        "config_file": str(Path("p.toml").resolve()),
        "home": str(tmp_path),
    }
    assert "pinpipe[airflow] @ file://" in local.requirements.read_text()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "129a67850695_dag.py",
        "requirements.txt",
    ]  # no temporary file left behind


def test_an_unusable_directory_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DagExportError, match="cannot write the DAG"):
        export_dag(Settings(home=tmp_path), blocker / "dags", target="local")


def test_the_cli_exports_with_flags(tmp_path: Path) -> None:
    out = tmp_path / "dags"
    result = CliRunner().invoke(
        app,
        [
            "--home",
            str(tmp_path),
            "dag",
            "export",
            str(out),
            "--notebook-path",
            "/Users/me/batch",
            "--cluster-id",
            "0101-abc",
        ],
    )
    assert result.exit_code == 0, result.output
    block = _config_block((out / "1232252d77df_dag.py").read_text())
    assert block["notebook_path"] == "/Users/me/batch"  # type: ignore[index]
    assert block["existing_cluster_id"] == "0101-abc"  # type: ignore[index]
    assert "upload both" in result.output
    failed = CliRunner().invoke(app, ["--home", str(tmp_path), "dag", "export", str(out)])
    assert failed.exit_code == 1
    assert "notebook_path" in failed.output
