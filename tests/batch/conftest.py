"""A lake holding the course's real rows as the sink writes them (through the embedded log and
``run_sink``), plus a few lines the reader must refuse; and the engines to run the job on."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from pinpipe.broker import OutRecord
from pinpipe.broker.embedded import EmbeddedLog
from pinpipe.config import EmbeddedLogSettings, Settings
from pinpipe.sink import run_sink
from pinpipe.transform import DuckDBEngine, Engine
from tests.transform.reference import Row, load_reference_raw

UID = "129a67850695"
#: JSON the sink passes through (it is JSON; compact already, as the sink writes it) but that
#: is not a pin record: dead letters of the batch job.
NOT_RECORDS = [b"[1,2]", b'"just text"', b'{"index":"seven","title":"x"}']
ENGINE_NAMES = ("duckdb", pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow]))


@pytest.fixture(scope="session")
def reference_raw(reference_dir: Path) -> dict[str, list[Row]]:
    return load_reference_raw(reference_dir)


@pytest.fixture(scope="session")
def landed_lake_dir(
    tmp_path_factory: pytest.TempPathFactory, reference_raw: dict[str, list[Row]]
) -> Path:
    """The reference rows produced to ``<uid>.pin|geo|user`` (pin on two partitions) and sunk
    into a local lake with flush.size 500; a template each test copies."""
    home = tmp_path_factory.mktemp("landed")
    settings = Settings(home=home, user_id=UID)
    with EmbeddedLog(home / "broker.db", EmbeddedLogSettings(durability="none")) as log:
        for kind, rows in reference_raw.items():
            topic = settings.names.topic(kind)
            partitions = 2 if kind == "pin" else 1
            log.create_topic(topic, partitions)
            records = [
                OutRecord(orjson.dumps(r), partition=i % partitions) for i, r in enumerate(rows)
            ]
            if kind == "pin":
                records += [OutRecord(value, partition=1) for value in NOT_RECORDS]
            log.append(topic, records)
        run_sink(settings, once=True, broker=log, flush_size=500)
    return home / "lake"


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
