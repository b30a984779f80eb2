"""The batch suite's fixtures: a fresh copy of the landed lake, and the engines to run on."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pinpipe.config import Settings
from pinpipe.transform import DuckDBEngine, Engine
from tests.landing import UID

ENGINE_NAMES = ("duckdb", pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow]))


@pytest.fixture
def lake_settings(tmp_path: Path, landed_lake_dir: Path) -> Settings:
    """Settings whose lake is a fresh copy of the landed lake."""
    shutil.copytree(landed_lake_dir, tmp_path / "lake")
    return Settings(home=tmp_path, user_id=UID, lake_url=str(tmp_path / "lake"))


def make_engine(name: str, request: pytest.FixtureRequest) -> Engine:
    if name == "duckdb":
        return DuckDBEngine()
    from pinpipe.transform.spark_engine import SparkEngine

    return SparkEngine(session=request.getfixturevalue("spark_session"))


@pytest.fixture(params=ENGINE_NAMES)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    with make_engine(request.param, request) as made:
        yield made
