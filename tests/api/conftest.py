"""Fixtures of the API suite: ``brokers`` → ``app`` → ``client``.

The suite runs once per backend: override ``brokers`` (a ``(topics, streams)`` pair, which may
be one object) in a conftest or test module for the embedded log, Kafka or Kinesis. Topic and
stream names are unique per test, so one server can serve a whole session. Tests are async on
anyio's pytest plugin (asyncio backend); ``client`` runs the app's lifespan around the test
and fails it if any response was a 5xx (a test expecting one sets ``allow_5xx``). Every
response is checked against the OpenAPI document (see conformance.py).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from pinpipe.api import create_app
from pinpipe.api.state import ApiState
from pinpipe.broker import Broker, InMemoryBroker
from pinpipe.config import ApiSettings, Settings
from tests.api import conformance

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def shared_kafka(kafka_bootstrap: str) -> Iterator[Broker]:
    """One Kafka client for the session: a new idempotent producer waits ~0.5 s for its id."""
    from pinpipe.broker.kafka import KafkaBroker

    with KafkaBroker(kafka_bootstrap) as broker:
        yield broker


@pytest.fixture(scope="session")
def shared_kinesis(moto_endpoint: str) -> Iterator[Broker]:
    from pinpipe.broker.kinesis import KinesisBroker
    from pinpipe.config import KinesisSettings

    with KinesisBroker("us-east-1", KinesisSettings(endpoint_url=moto_endpoint)) as broker:
        yield broker


SERVERS = [pytest.mark.integration, pytest.mark.kafka, pytest.mark.kinesis]


@pytest.fixture(
    params=[
        "memory",
        "embedded",
        pytest.param("kafka+kinesis", marks=SERVERS),
    ]
)
def brokers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Broker, Broker]]:
    """The (topics, streams) brokers under test: the whole suite runs on each backend — the
    in-memory reference, the embedded log, and topics on the Kafka mock cluster with streams
    on Kinesis (moto server)."""
    if request.param == "memory":
        with InMemoryBroker() as broker:
            yield broker, broker
    elif request.param == "embedded":
        from pinpipe.broker.embedded import EmbeddedLog

        with EmbeddedLog(tmp_path / "broker.db") as log:
            yield log, log
    else:
        yield request.getfixturevalue("shared_kafka"), request.getfixturevalue("shared_kinesis")


@pytest.fixture
def topics_broker(brokers: tuple[Broker, Broker]) -> Broker:
    return brokers[0]


@pytest.fixture
def streams_broker(brokers: tuple[Broker, Broker]) -> Broker:
    return brokers[1]


@pytest.fixture
def api_settings() -> dict[str, Any]:
    """Overrides of ApiSettings for one test (parametrize this fixture to change them)."""
    return {}


@pytest.fixture
def allow_5xx() -> bool:
    return False


def make_settings(home: Path, **api: Any) -> Settings:
    return Settings(home=home, broker_url="memory://", api=ApiSettings(**api))


@pytest.fixture
def settings(tmp_path: Path, api_settings: dict[str, Any]) -> Settings:
    return make_settings(tmp_path, **api_settings)


@pytest.fixture
def app(settings: Settings, brokers: tuple[Broker, Broker]) -> Starlette:
    return create_app(settings, topics=brokers[0], streams=brokers[1])


def state_of(app: Starlette) -> ApiState:
    state: ApiState = app.state.pinpipe
    return state


@asynccontextmanager
async def serve(app: Starlette, *, allow_5xx: bool = False) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of ``app`` with its lifespan running; fails on any 5xx."""
    transport = httpx.ASGITransport(app=app)
    hooks = {"response": [conformance.check]}
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", event_hooks=hooks
        ) as client:
            yield client
    if not allow_5xx:
        errors = {k: n for k, n in state_of(app).metrics.requests.items() if k[2] >= 500}
        assert not errors, f"5xx responses: {errors}"


@pytest.fixture
async def client(app: Starlette, allow_5xx: bool) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(app, allow_5xx=allow_5xx) as client:
        yield client


@pytest.fixture
def client_for(tmp_path: Path) -> ClientFactory:
    """``async with client_for(topics=…, streams=…, **api_settings) as client`` for one-offs."""

    def factory(
        *, topics: Broker, streams: Broker | None = None, allow_5xx: bool = False, **api: Any
    ) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        app = create_app(make_settings(tmp_path, **api), topics=topics, streams=streams or topics)
        return serve(app, allow_5xx=allow_5xx)

    return factory


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


@pytest.fixture
def topic(topics_broker: Broker) -> str:
    """A fresh one-partition topic named like the course's (``<uid>.pin``)."""
    name = unique("") + ".pin"
    topics_broker.create_topic(name)
    return name


@pytest.fixture
def stream(streams_broker: Broker) -> str:
    """A fresh one-shard stream named like the course's (``streaming-<uid>-pin``)."""
    name = f"streaming-{unique('')}-pin"
    streams_broker.create_topic(name)
    return name
