"""A second Airflow for the tests: 2.11 (what most MWAA environments run) in its own virtual
environment under ``.tools/``, installed once from ``airflow2.lock.txt`` by uv and reused while
the lock is unchanged."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCK = Path(__file__).with_name("airflow2.lock.txt")
ENV_DIR = ROOT / ".tools" / "airflow2"


def _uv() -> str | None:
    local = ROOT / ".tools" / "bin" / "uv"
    return str(local) if local.exists() else shutil.which("uv")


def airflow2_python() -> Path:
    """The Python of the Airflow 2.11 environment, created if missing or stale."""
    python = ENV_DIR / "bin" / "python"
    stamp = ENV_DIR / "lock.sha256"
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    uv = _uv()
    if uv is None:
        pytest.skip("uv is needed to build the Airflow 2 environment (./dev test installs it)")
    shutil.rmtree(ENV_DIR, ignore_errors=True)
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(ENV_DIR)], check=True)
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(python), "-r", str(LOCK)],
        check=True,
        timeout=900,
    )
    stamp.write_text(digest)
    return python
