"""Judge a DAG file with a real Airflow: parse it, and run it once with ``dag.test()``.

Airflow runs in a child process (``dag_runner.py``) with its own ``AIRFLOW_HOME`` and SQLite
metadata database: its global configuration, logging and ORM stay out of pinpipe's process,
and the same check can use another environment's Python (an Airflow 2 for MWAA, whose pins
exclude pinpipe's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pinpipe.errors import MissingExtraError, PinpipeError

_RUNNER = Path(__file__).with_name("dag_runner.py")


class DagTestError(PinpipeError):
    """Airflow could not load or run a DAG file."""


@dataclass(frozen=True, slots=True)
class DagCheck:
    """What Airflow made of a DAG file (see ``dag_runner.py`` for the fields)."""

    airflow_version: str
    import_errors: dict[str, str]
    dags: dict[str, dict[str, Any]]
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: Path | None = None

    def task_states(self, dag_id: str) -> dict[str, str]:
        return {task: t["state"] for task, t in self.runs[dag_id]["tasks"].items()}

    def return_value(self, dag_id: str, task_id: str) -> Any:
        return self.runs[dag_id]["tasks"][task_id]["return_value"]


def airflow_env(airflow_home: Path, dags_folder: Path) -> dict[str, str]:
    """The child's environment: a private AIRFLOW_HOME (SQLite), no examples, quiet logs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_")}
    return env | {
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore",  # Airflow's deprecation chatter is not the DAG's fault
    }


def check_dag(
    dag_file: Path,
    *,
    airflow_home: Path,
    run: bool = False,
    python: str | Path | None = None,
    timeout: float = 900,
) -> DagCheck:
    """Parse ``dag_file`` with the Airflow of ``python`` (default: this interpreter) and, with
    ``run``, run each of its DAGs once with ``dag.test()``.

    Raises :class:`DagTestError` when Airflow itself fails (the import errors of the file are
    returned, not raised, so a caller can show them).
    """
    python = str(python or sys.executable)
    _require_airflow(python)
    airflow_home.mkdir(parents=True, exist_ok=True)
    env = airflow_env(airflow_home, dag_file.parent)
    log = airflow_home / "dag_test.log"
    out = airflow_home / "dag_test.json"
    out.unlink(missing_ok=True)
    with log.open("w", encoding="utf-8") as sink:
        if run:  # the metadata database dag.test() records the run in
            _step([python, "-m", "airflow", "db", "migrate"], env, sink, log, timeout)
        _step(
            [python, str(_RUNNER), str(dag_file), str(out), *(["--run"] if run else [])],
            env,
            sink,
            log,
            timeout,
        )
    data = json.loads(out.read_text(encoding="utf-8"))
    return DagCheck(
        airflow_version=data["airflow"],
        import_errors=data["import_errors"],
        dags=data["dags"],
        runs=data.get("runs", {}),
        log=log,
    )


def _require_airflow(python: str) -> None:
    probe = subprocess.run(  # noqa: S603 - our interpreter or the caller's, no shell
        [python, "-c", "import airflow"], capture_output=True, check=False, timeout=120
    )
    if probe.returncode != 0:
        feature = f"running a DAG (with {python})"
        raise MissingExtraError(feature, "airflow", "apache-airflow")


def _step(argv: list[str], env: dict[str, str], sink: Any, log: Path, timeout: float) -> None:
    sink.write(f"$ {' '.join(argv)}\n")
    sink.flush()
    try:
        done = subprocess.run(  # noqa: S603 - argv built here, no shell
            argv, env=env, stdout=sink, stderr=subprocess.STDOUT, check=False, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        msg = f"Airflow did not finish within {timeout:.0f} s: {' '.join(argv[1:3])}"
        raise DagTestError(msg, hint=f"see its log: {log}") from exc
    if done.returncode != 0:
        sink.flush()
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
        msg = f"Airflow failed ({' '.join(argv[1:3])}): {tail[0] if tail else 'no output'}"
        raise DagTestError(msg, hint=f"see its log: {log}")
