"""``pinpipe dag``: the Airflow DAG - export it for MWAA or a local Airflow, or run it once here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from pinpipe.cli._common import console, err_console, kv_table, state
from pinpipe.errors import PinpipeError
from pinpipe.orchestrate.airflow_run import check_dag
from pinpipe.orchestrate.export import Target, export_dag

app = typer.Typer(
    help="The Airflow DAG (local and MWAA/Databricks variants).", no_args_is_help=True
)


@app.command("export")
def export(
    ctx: typer.Context,
    directory: Annotated[
        Path, typer.Argument(help="Where to write the DAG file.", file_okay=False)
    ],
    target: Annotated[
        Target,
        typer.Option(
            "--target", "-t", help="mwaa: the Databricks task (course); local: pinpipe's tasks."
        ),
    ] = "mwaa",
    notebook_path: Annotated[
        str | None, typer.Option("--notebook-path", help="Databricks notebook (mwaa).")
    ] = None,
    job_id: Annotated[
        int | None, typer.Option("--job-id", help="A Databricks job to run instead (mwaa).")
    ] = None,
    cluster_id: Annotated[
        str | None, typer.Option("--cluster-id", help="Existing Databricks cluster (mwaa).")
    ] = None,
) -> None:
    """Write <uid>_dag.py and requirements.txt, ready to upload (mwaa) or to drop into a local
    Airflow's dags folder (local)."""
    cli = state(ctx)
    settings = cli.settings()
    dag_overrides = {
        key: value
        for key, value in (
            ("notebook_path", notebook_path),
            ("job_id", job_id),
            ("existing_cluster_id", cluster_id),
        )
        if value is not None
    }
    if dag_overrides:
        dag = settings.dag.model_copy(update=dag_overrides)
        settings = settings.model_copy(update={"dag": dag})
    written = export_dag(settings, directory, target=target, config_file=cli.config_file)
    where = (
        "upload both to the MWAA environment's bucket (dags/ and requirements.txt)"
        if target == "mwaa"
        else "put the DAG file in your Airflow's dags folder; pinpipe[airflow] in its env"
    )
    console.print(
        kv_table(
            f"DAG {written.dag_id} ({target})",
            {"DAG file": written.dag_file, "requirements": written.requirements, "next": where},
        )
    )


@app.command("test")
def test(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Run the local DAG once with Airflow's dag.test() (a private Airflow home under the
    pinpipe home): sink catch-up → clean pin/geo/user → queries → report."""
    cli = state(ctx)
    settings = cli.settings()
    airflow_home = settings.home / "airflow"
    written = export_dag(
        settings, airflow_home / "dags", target="local", config_file=cli.config_file
    )
    with err_console.status(f"Airflow: dag.test() of {written.dag_id} (log: {airflow_home})"):
        result = check_dag(written.dag_file, airflow_home=airflow_home, run=True)
    if result.import_errors:
        first = next(iter(result.import_errors.values())).strip().splitlines()[-1]
        msg = f"Airflow could not import {written.dag_file}: {first}"
        raise PinpipeError(msg, hint=f"see {result.log}")
    run = result.runs[written.dag_id]
    if as_json:
        typer.echo(orjson.dumps(run, option=orjson.OPT_INDENT_2).decode())
    else:
        console.print(_run_table(written.dag_id, result.airflow_version, run))
    if run["state"] != "success":
        failed = [t for t, v in run["tasks"].items() if v["state"] != "success"]
        msg = f"the DAG run ended {run['state']}: {', '.join(failed) or 'no task ran'}"
        raise PinpipeError(msg, hint=f"see the task logs under {airflow_home / 'logs'}")


def _run_table(dag_id: str, version: str, run: dict[str, Any]) -> Table:
    table = Table(title=f"{dag_id} on Airflow {version}: {run['state']}", title_justify="left")
    table.add_column("task")
    table.add_column("state")
    table.add_column("result")
    order = ("sink_catch_up", "clean_pin", "clean_geo", "clean_user", "queries", "report")
    for task_id in sorted(run["tasks"], key=lambda t: order.index(t) if t in order else 99):
        task = run["tasks"][task_id]
        colour = "green" if task["state"] == "success" else "red"
        table.add_row(task_id, f"[{colour}]{task['state']}[/]", _summary(task["return_value"]))
    return table


def _summary(value: Any) -> str:
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    shown = {k: v for k, v in value.items() if not isinstance(v, dict)}
    return ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in shown.items())
