"""Shared fixtures: environment isolation and the course's reference data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "shared" / "reference_data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--full",
        action="store_true",
        help="run the reliability tests at their large counts (tests/reliability/scale.py)",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Before collection: tests/reliability/scale.py reads the variable when it is imported.
    if config.getoption("full"):
        os.environ["PINPIPE_RELIABILITY"] = "full"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No PINPIPE_* variable of the developer's shell leaks into a test."""
    for key in list(os.environ):
        if key.startswith("PINPIPE_"):
            monkeypatch.delenv(key)
    yield


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """../shared/reference_data (real rows of the course database); skips when absent."""
    if not (REFERENCE_DIR / "geolocation_data.csv").exists():
        pytest.skip(f"reference data not found at {REFERENCE_DIR} (it lives in ../shared)")
    return REFERENCE_DIR


@pytest.fixture(scope="session")
def mariadb_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real MariaDB server on 127.0.0.1 for the whole session (database pinterest_data)."""
    from tests.servers import mariadb_server

    with mariadb_server(tmp_path_factory.mktemp("mariadb")) as url:
        yield url


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """The librdkafka mock Kafka cluster (real protocol over TCP) in its own process."""
    from tests.kafka_mock import kafka_mock_cluster

    with kafka_mock_cluster(brokers=1) as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto server (S3, Kinesis) on 127.0.0.1, with dummy AWS credentials for boto3."""
    from tests.moto_server import fake_aws_credentials, moto_server

    with fake_aws_credentials(), moto_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server on 127.0.0.1 for the whole session (database pinterest_data)."""
    from tests.servers import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def spark_session() -> Iterator[object]:
    """One local Spark session (local[2]) for the whole run; skips when pyspark is absent."""
    pytest.importorskip("pyspark")
    from pinpipe.config import SparkSettings
    from pinpipe.transform.spark_engine import build_session

    session = build_session(
        SparkSettings(master="local[2]", driver_memory="2g", shuffle_partitions=4)
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def reference_raw(reference_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """The course's real rows as raw frames (tests/transform/reference.py)."""
    from tests.transform.reference import load_reference_raw

    return load_reference_raw(reference_dir)


@pytest.fixture(scope="session")
def landed_lake_dir(
    tmp_path_factory: pytest.TempPathFactory, reference_raw: dict[str, list[dict[str, Any]]]
) -> Path:
    """A local lake holding the reference rows as the sink writes them (tests/landing.py); a
    template: tests copy it before they write."""
    from tests.landing import land_rows

    return land_rows(tmp_path_factory.mktemp("landed"), reference_raw)
