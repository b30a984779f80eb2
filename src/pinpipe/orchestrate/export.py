"""``pinpipe dag export``: the DAG file and its ``requirements.txt``, ready to upload.

Two targets:

* ``mwaa`` (the course's): ``dags/databricks_dag.py`` - one Databricks task on an existing
  cluster; needs only Airflow and the Databricks provider;
* ``local``: ``dags/local_dag.py`` - sink catch-up → clean pin/geo/user → queries → report,
  calling pinpipe's library; for an Airflow where pinpipe is installed (extra ``airflow``).

The file is copied as it is, except for its CONFIG block, which gets the user's values (see
:mod:`pinpipe.orchestrate.dags`). Each file is written to a temporary name and renamed, so an
export never leaves half a DAG for a scheduler to pick up.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from pinpipe.config import Settings
from pinpipe.errors import PinpipeError

Target = Literal["mwaa", "local"]
TARGETS: tuple[Target, ...] = ("mwaa", "local")

_SOURCES: dict[Target, str] = {"mwaa": "databricks_dag.py", "local": "local_dag.py"}
_BEGIN, _END = "# pinpipe:config-begin", "# pinpipe:config-end"

#: MWAA installs providers under its own constraints file: naming the provider unpinned lets
#: the environment pick the version that matches its Airflow (2.10, 2.11, 3.x ...).
_MWAA_REQUIREMENTS = """\
# requirements.txt for the MWAA environment (Airflow itself is preinstalled there).
apache-airflow-providers-databricks
"""


class DagExportError(PinpipeError):
    """The DAG cannot be exported (a setting it needs is missing, the directory is unusable)."""


@dataclass(frozen=True, slots=True)
class DagExport:
    """What ``pinpipe dag export`` wrote."""

    target: Target
    dag_id: str
    dag_file: Path
    requirements: Path


def dag_config(
    settings: Settings,
    target: Target,
    *,
    config_file: Path | None = None,
) -> dict[str, Any]:
    """The CONFIG block of ``target``'s DAG file for ``settings``."""
    dag = settings.dag
    common: dict[str, Any] = {
        "dag_id": settings.names.dag_id,
        "owner": dag.owner,
        "schedule": dag.schedule,
        "start_date": [dag.start_date.year, dag.start_date.month, dag.start_date.day],
        "retries": dag.retries,
        "retry_delay_minutes": float(dag.retry_delay_minutes),
    }
    if target == "local":
        where = {
            "config_file": str(config_file.resolve()) if config_file else None,
            "home": str(settings.home),
        }
        return common | {"pinpipe": where}
    if not dag.notebook_path and dag.job_id is None:
        msg = "the MWAA DAG needs the Databricks notebook (or job) that runs the batch job"
        hint = "set [dag] notebook_path (or job_id) in pinpipe.toml, or pass --notebook-path"
        raise DagExportError(msg, hint=hint)
    return common | {
        "databricks_conn_id": dag.databricks_conn_id,
        "existing_cluster_id": dag.existing_cluster_id,
        "notebook_path": dag.notebook_path,
        "job_id": dag.job_id,
    }


def dag_source(target: Target) -> str:
    """The packaged DAG file of ``target``, as shipped (with its default CONFIG)."""
    return files("pinpipe.orchestrate.dags").joinpath(_SOURCES[target]).read_text("utf-8")


def render_dag(target: Target, config: dict[str, Any]) -> str:
    """``target``'s DAG file with its CONFIG block replaced by ``config``."""
    source = dag_source(target)
    head, _, rest = source.partition(_BEGIN + "\n")
    _, _, tail = rest.partition(_END + "\n")
    entries = "".join(f"    {_literal(key)}: {_literal(value)},\n" for key, value in config.items())
    block = f"CONFIG: dict[str, Any] = {{\n{entries}}}\n"
    return f"{head}{_BEGIN}\n{block}{_END}\n{tail}"


def _literal(value: Any) -> str:
    """``value`` (JSON-like) as Python source in the file's own style (double quotes)."""
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string literal is a valid Python one
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    msg = f"cannot write {value!r} into a DAG file"
    raise TypeError(msg)


def requirements(target: Target) -> str:
    """The ``requirements.txt`` beside the DAG file."""
    if target == "mwaa":
        return _MWAA_REQUIREMENTS
    from pinpipe import __version__

    lines = [
        "# requirements.txt for a local Airflow that runs pinpipe's tasks in its workers.",
        "apache-airflow>=2.10",
    ]
    checkout = _source_checkout()
    if checkout is not None:  # pinpipe is not on an index: point at this checkout
        lines.append(f"pinpipe[airflow] @ {checkout.as_uri()}")
    else:
        lines.append(f"pinpipe[airflow]=={__version__}")
    return "\n".join(lines) + "\n"


def _source_checkout() -> Path | None:
    root = Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").exists() else None


def export_dag(
    settings: Settings,
    directory: Path,
    *,
    target: Target = "mwaa",
    config_file: Path | None = None,
) -> DagExport:
    """Write ``<uid>_dag.py`` and ``requirements.txt`` for ``target`` into ``directory``."""
    text = render_dag(target, dag_config(settings, target, config_file=config_file))
    try:
        directory.mkdir(parents=True, exist_ok=True)
        dag_file = directory / settings.names.dag_file
        reqs = directory / "requirements.txt"
        _write_atomic(dag_file, text)
        _write_atomic(reqs, requirements(target))
    except OSError as exc:
        msg = f"cannot write the DAG into {str(directory)!r}: {exc}"
        raise DagExportError(msg, hint="pass a writable directory") from exc
    return DagExport(target, settings.names.dag_id, dag_file, reqs)


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
