"""Fixtures of the sink suite: a broker (embedded log, or the Kafka mock cluster), a fresh user
id per test (so topic names never clash on a shared server), settings and a local lake."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from pinpipe.broker import Broker, OutRecord
from pinpipe.config import Settings
from pinpipe.lake import Lake, open_lake
from pinpipe.sink import SinkInfo, run_sink

KAFKA = [pytest.mark.integration, pytest.mark.kafka]


@pytest.fixture(scope="session")
def kafka_broker(kafka_bootstrap: str) -> Iterator[Broker]:
    """One Kafka client for the session (a new idempotent producer waits ~0.5 s for its id)."""
    from pinpipe.broker.kafka import KafkaBroker

    with KafkaBroker(kafka_bootstrap) as broker:
        yield broker


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=KAFKA)])
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Broker]:
    """The broker under test: the core sink tests run on the embedded log and on Kafka."""
    if request.param == "embedded":
        from pinpipe.broker.embedded import EmbeddedLog
        from pinpipe.config import EmbeddedLogSettings

        with EmbeddedLog(tmp_path / "broker.db", EmbeddedLogSettings(durability="os")) as log:
            yield log
    else:
        yield request.getfixturevalue("kafka_broker")


@pytest.fixture
def uid() -> str:
    """A user id of its own: topics ``<uid>.pin`` … are new on a shared server."""
    return uuid.uuid4().hex[:12]


@pytest.fixture
def settings(tmp_path: Path, uid: str) -> Settings:
    return Settings(
        home=tmp_path, user_id=uid, broker_url="memory://", lake_url=str(tmp_path / "lake")
    )


@pytest.fixture
def lake(settings: Settings) -> Lake:
    return open_lake(settings.lake_url)


def append_json(broker: Broker, topic: str, values: Sequence[Any], partition: int = 0) -> None:
    """Append each value as compact JSON (bytes pass through as they are)."""
    records = [
        OutRecord(v if isinstance(v, bytes) else orjson.dumps(v), partition=partition)
        for v in values
    ]
    broker.append(topic, records)


def sink_once(settings: Settings, broker: Broker, lake: Lake, **options: Any) -> SinkInfo:
    return run_sink(settings, once=True, broker=broker, lake=lake, **options)


def lake_contents(lake: Lake, prefix: str = "") -> dict[str, bytes]:
    return {key: lake.get(key) for key in lake.list(prefix)}
