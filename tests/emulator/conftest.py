"""Fixtures of the emulator suite: sources, a recording clock, the API in-process, read-back.

The API runs in-process on the embedded log (``httpx.ASGITransport``, lifespan running) with
the course's topics and streams created for a per-test user id; what landed is read back
through the API itself (REST Proxy consumer group ``students``, Kinesis GetRecords).
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from pinpipe.api import create_app
from pinpipe.cli.api_cmd import ensure_course_log
from pinpipe.config import ApiSettings, EmbeddedLogSettings, Settings
from pinpipe.emulator import EmulationPlan, Mode
from pinpipe.source import init_source, load_source

BASE = "http://testserver"
KAFKA_V2 = "application/vnd.kafka.v2+json"
KAFKA_JSON = "application/vnd.kafka.json.v2+json"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def reference_source(tmp_path_factory: pytest.TempPathFactory, reference_dir: Path) -> str:
    """The course's real rows as the source: full geo and user dumps, the partial pin dump."""
    url = f"sqlite:///{tmp_path_factory.mktemp('reference') / 'source.db'}"
    load_source(
        url,
        {
            "pin": reference_dir / "pinterest_data_observed_raw.jsonl",
            "geo": reference_dir / "geolocation_data.csv",
            "user": reference_dir / "user_data.csv",
        },
    )
    return url


@pytest.fixture(scope="session")
def synthetic_source(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A complete 3,000-row synthetic source (every table has every key)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('synthetic') / 'source.db'}"
    init_source(url, rows=3_000, seed=1)
    return url


class FakeClock:
    """A clock that records sleeps and jumps ahead instead of sleeping."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def user_id() -> str:
    """A fresh user id, so every test has topics and streams of its own."""
    return uuid.uuid4().hex[:12]


def plan_for(mode: Mode, user_id: str, **options: Any) -> EmulationPlan:
    return EmulationPlan(mode, BASE, user_id, **options)


def api_settings(home: Path, user_id: str, **api: Any) -> Settings:
    return Settings(
        home=home,
        user_id=user_id,
        broker_url=f"embedded://{home / 'broker.db'}",
        embedded=EmbeddedLogSettings(durability="none"),
        api=ApiSettings(**api),
    )


@dataclass
class LocalApi:
    """The API in-process: the app, a transport to hand the emulator, and its settings."""

    app: Starlette
    transport: httpx.ASGITransport
    settings: Settings

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport, base_url=BASE)


LocalApiFactory = Callable[..., AbstractAsyncContextManager[LocalApi]]


@pytest.fixture
def local_api(tmp_path: Path, user_id: str) -> LocalApiFactory:
    """``async with local_api(create=True, **api_settings) as api``: the API on an embedded
    log in tmp_path, with the course's topics and streams unless ``create=False``."""

    @asynccontextmanager
    async def factory(*, create: bool = True, **api: Any) -> AsyncIterator[LocalApi]:
        settings = api_settings(tmp_path, user_id, **api)
        if create:
            ensure_course_log(settings)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            yield LocalApi(app, httpx.ASGITransport(app=app), settings)

    return factory


async def consume_topic(client: httpx.AsyncClient, topic: str) -> list[Any]:
    """Every value of ``topic``, in offset order, read as the course's check script does."""
    name = f"check-{uuid.uuid4().hex[:8]}"
    config = {"name": name, "format": "json", "auto.offset.reset": "earliest"}
    created = await client.post(
        "/consumers/students", content=json.dumps(config), headers={"Content-Type": KAFKA_V2}
    )
    assert created.status_code == 200, created.text
    path = f"/consumers/students/instances/{name}"
    subscribed = await client.post(
        f"{path}/subscription",
        content=json.dumps({"topics": [topic]}),
        headers={"Content-Type": KAFKA_V2},
    )
    assert subscribed.status_code == 204, subscribed.text
    values: list[Any] = []
    empty = 0
    while empty < 2:  # the first poll may be empty; stop at the second empty one after that
        response = await client.get(
            f"{path}/records", headers={"Accept": KAFKA_JSON}, params={"timeout": 20}
        )
        assert response.status_code == 200, response.text
        records = response.json()
        empty = empty + 1 if not records else 0
        values += [r["value"] for r in records]
    deleted = await client.delete(path)
    assert deleted.status_code == 204, deleted.text
    return values


async def consume_stream(client: httpx.AsyncClient, stream: str) -> list[Any]:
    """Every record of ``stream``'s shard, decoded, in sequence order (Kinesis GetRecords)."""
    response = await client.get(f"/streams/{stream}/sharditerator", params={"type": "TRIM_HORIZON"})
    assert response.status_code == 200, response.text
    token = response.json()["ShardIterator"]
    values: list[Any] = []
    while True:
        response = await client.get(f"/streams/{stream}/records", params={"shard-iterator": token})
        assert response.status_code == 200, response.text
        body = response.json()
        values += [json.loads(base64.b64decode(r["Data"])) for r in body["Records"]]
        if not body["Records"]:
            return values
        token = body["NextShardIterator"]


async def landed(client: httpx.AsyncClient, plan: EmulationPlan) -> dict[str, list[Any]]:
    """What each of the plan's topics (or streams) holds, by name."""
    read = consume_topic if plan.mode == "batch" else consume_stream
    return {target: await read(client, target) for target in plan.targets.values()}
