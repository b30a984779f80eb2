"""Health, metrics, the OpenAPI document, CORS, API keys and the error boundary."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from pinpipe.api import create_app
from pinpipe.api.openapi import document
from pinpipe.broker import Broker, InMemoryBroker, OutRecord, Position, TopicInfo
from tests.api.conftest import ClientFactory, make_settings, serve
from tests.api.payloads import ends, kafka_error, kinesis_error, produce

pytestmark = pytest.mark.anyio

CORS = {
    "access-control-allow-methods": "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT",
    "access-control-allow-headers": (
        "Content-Type,Authorization,X-Amz-Date,X-Api-Key,X-Amz-Security-Token,Idempotency-Key"
    ),
    "access-control-allow-origin": "*",
}


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert (await client.get("/test/healthz")).status_code == 200


async def test_healthz_before_startup(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))  # brokers open in the lifespan, not run here
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/healthz")
        assert (response.status_code, response.json()) == (503, {"status": "starting"})
        kafka_error(await produce(client, "x.pin", [1]), 503, 50301)


async def test_lifespan_opens_and_closes_brokers(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, auto_create_topics=True))
    async with serve(app) as client:
        assert (await produce(client, "made.pin", [1])).status_code == 200
        health = (await client.get("/healthz")).json()
        assert health["topics_backend"] == health["streams_backend"] == "memory"
    assert not app.state.pinpipe.is_open


@pytest.mark.parametrize("path", ["/topics/x.pin", "/test/streams/s/record", "/nowhere", "/"])
async def test_cors_preflight_everywhere(client: httpx.AsyncClient, path: str) -> None:
    response = await client.options(path, headers={"Origin": "https://example.org"})
    assert response.status_code == 200
    assert response.content == b""
    for header, value in CORS.items():
        assert response.headers[header] == value


async def test_cors_origin_on_every_response(client: httpx.AsyncClient, topic: str) -> None:
    for response in (
        await produce(client, topic, [1]),
        await client.get("/topics/missing.x"),
        await client.get("/nowhere"),
        await client.get("/metrics"),
    ):
        assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("api_settings", [{"api_keys": ["k-one", "k-two"]}], ids=["keys"])
async def test_api_keys(
    client: httpx.AsyncClient,
    topics_broker: Broker,
    streams_broker: Broker,
    topic: str,
    stream: str,
) -> None:
    for headers in ({}, {"x-api-key": "wrong"}, {"x-api-key": "k-one "}, {"X-Api-Key": ""}):
        kafka_error(await produce(client, topic, [1], headers=headers), 403, 40301)
        response = await client.put(
            f"/streams/{stream}/record", json={"Data": 1, "PartitionKey": "k"}, headers=headers
        )
        kinesis_error(response, 403, "AccessDeniedException")
        kafka_error(await client.get("/metrics", headers=headers), 403, 40301)
    assert ends(topics_broker, topic) == {0: 0}
    assert streams_broker.describe_topic(stream).records == 0
    for key in ("k-one", "k-two"):
        assert (await produce(client, topic, [1], headers={"X-Api-Key": key})).status_code == 200
    assert (await client.get("/healthz")).status_code == 200  # probes need no key
    assert (await client.get("/openapi.json")).status_code == 200
    assert (await client.options("/topics/x")).status_code == 200  # preflights carry no key


async def test_metrics(
    client: httpx.AsyncClient, topics_broker: Broker, topic: str, stream: str
) -> None:
    await produce(client, topic, [{"a": 1}, {"b": 2}])
    await produce(client, "/missing", [1])
    await client.put(f"/streams/{stream}/record", json={"Data": "x", "PartitionKey": "pk"})
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    sample = re.compile(r'^[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? [0-9.e+-]+$|^# (HELP|TYPE) ')
    for line in text.splitlines():
        assert sample.match(line), line
    assert f'pinpipe_api_records_total{{kind="topic",name="{topic}"}} 2' in text
    assert f'pinpipe_api_record_bytes_total{{kind="topic",name="{topic}"}} 14' in text
    assert f'pinpipe_api_records_total{{kind="stream",name="{stream}"}} 1' in text
    assert f'pinpipe_api_record_bytes_total{{kind="stream",name="{stream}"}} 5' in text
    assert (
        'pinpipe_api_requests_total{route="/topics/{topic}",method="POST",status="200"} 1' in text
    )
    assert 'route="unmatched",method="POST",status="404"' in text
    assert (
        'pinpipe_api_request_duration_seconds_bucket{route="/topics/{topic}",le="+Inf"} 1' in text
    )
    assert 'pinpipe_api_request_duration_seconds_count{route="/topics/{topic}"} 1' in text
    assert f'pinpipe_api_pending_records{{backend="{topics_broker.backend}"}} 0' in text
    assert "pinpipe_api_consumer_instances 0\n" in text


def test_openapi_document_is_valid() -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(document())


async def test_openapi_covers_every_route(client: httpx.AsyncClient, app: Starlette) -> None:
    served = (await client.get("/openapi.json")).json()
    assert served == document()
    for route in app.routes:
        assert isinstance(route, Route)
        methods = {m.lower() for m in route.methods or ()} - {"head"}
        assert route.path in served["paths"], route.path
        assert methods | {"options"} == set(served["paths"][route.path]) - {"parameters"}


class Broken(InMemoryBroker):
    """A broker with a bug: describe raises something no handler expects."""

    def describe_topic(self, name: str) -> TopicInfo:
        msg = "a bug"
        raise RuntimeError(msg)

    def append(self, topic: str, records: Sequence[OutRecord]) -> list[Position]:
        msg = "a bug"
        raise RuntimeError(msg)


async def test_unexpected_errors_are_500_in_format(
    client_for: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    broker = Broken()
    async with client_for(topics=broker, allow_5xx=True) as client:
        with caplog.at_level(logging.ERROR, logger="pinpipe.api"):
            kafka_error(await client.get("/topics/t.pin"), 500, 50001)
            kafka_error(await produce(client, "t.pin", [1]), 500, 50001)
            kinesis_error(await client.get("/streams/s"), 500, "InternalFailure")
    assert "a bug" in caplog.text
