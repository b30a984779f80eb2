"""The dashboard's routes through the real app (its middleware, lifespan and brokers): the page
and its headers, the assets, the JSON routes and their errors, the API-key rule, the stage
prefix and the request metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from pinpipe.api import create_app
from pinpipe.api.state import ApiState
from pinpipe.api.ui import ASSETS, MAX_RECORDS, PAGE_CSP
from pinpipe.broker.embedded import EmbeddedLog
from pinpipe.config import Settings
from pinpipe.report.tail import MAX_RECORDS as TAIL_MAX
from tests.landing import UID

pytestmark = pytest.mark.anyio
KEY = "a-dashboard-key"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def log(home: Path) -> Iterator[EmbeddedLog]:
    with EmbeddedLog(home / "broker.db") as opened:
        yield opened


@asynccontextmanager
async def client_of(home: Path, log: EmbeddedLog, **api: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app over the built pipeline's log, its lifespan running; no 5xx allowed."""
    settings = Settings(home=home, user_id=UID, embedded={"durability": "none"}, api=api)
    app = create_app(settings, topics=log, streams=log)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.app_state = app.state.pinpipe  # type: ignore[attr-defined]
            yield client
    state: ApiState = app.state.pinpipe
    assert not {k: n for k, n in state.metrics.requests.items() if k[2] >= 500}


@pytest.fixture
async def client(home: Path, log: EmbeddedLog) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(home, log) as opened:
        yield opened


def kafka_error(response: httpx.Response, status: int, code: int) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error_code"] == code


async def test_the_page(client: httpx.AsyncClient) -> None:
    for path in ("/ui", "/ui/"):
        page = await client.get(path)
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert page.headers["content-security-policy"] == PAGE_CSP
        assert page.headers["x-content-type-options"] == "nosniff"
        assert f"<title>pinpipe live · {UID}</title>" in page.text
        assert 'data-api="/ui/api"' in page.text
        for name in ASSETS:
            assert f'"/ui/static/{name}?v=' in page.text
        assert "http" not in page.text.replace("http://www.w3.org", "")  # nothing from elsewhere
    assert (await client.head("/ui")).status_code == 200


async def test_assets_are_served_from_the_package(client: httpx.AsyncClient) -> None:
    for name, media in ASSETS.items():
        found = await client.get(f"/ui/static/{name}")
        assert found.status_code == 200, name
        assert found.headers["content-type"] == media
        again = await client.get(
            f"/ui/static/{name}", headers={"if-none-match": found.headers["etag"]}
        )
        assert again.status_code == 304 and again.content == b""
    chart = (await client.get("/ui/static/chart.umd.min.js")).text
    assert chart.startswith("/*!\n * Chart.js v4") and "sourceMappingURL" not in chart
    for path in ("/ui/static/VENDORED.md", "/ui/static/x.js", "/ui/static/../app.py"):
        kafka_error(await client.get(path), 404, 404)


async def test_snapshot_batch_and_records(client: httpx.AsyncClient) -> None:
    snapshot = await client.get("/ui/api/snapshot")
    assert snapshot.status_code == 200
    assert snapshot.headers["cache-control"] == "no-store"
    body = snapshot.json()
    assert [t["name"] for t in body["topics"]] == [f"{UID}.{k}" for k in ("pin", "geo", "user")]
    assert body["batch"]["engine"] == "duckdb"
    batch = (await client.get("/ui/api/batch")).json()
    assert batch["id"] == body["batch"]["id"] and len(batch["questions"]) == 8
    records = await client.get(f"/ui/api/topics/{UID}.geo/records", params={"limit": "2"})
    assert records.status_code == 200
    assert len(records.json()["records"]) == 2
    default = (await client.get(f"/ui/api/topics/streaming-{UID}-user/records")).json()
    assert len(default["records"]) == 10
    assert MAX_RECORDS == TAIL_MAX == 100
    for limit in ("0", "101", "ten", "-1"):
        found = await client.get(f"/ui/api/topics/{UID}.geo/records", params={"limit": limit})
        kafka_error(found, 422, 42201)
    kafka_error(await client.get("/ui/api/topics/nope.pin/records"), 404, 40401)


async def test_unknown_paths_and_methods(client: httpx.AsyncClient) -> None:
    kafka_error(await client.get("/ui/nothing"), 404, 404)
    kafka_error(await client.post("/ui/api/snapshot"), 405, 405)
    kafka_error(await client.get("/uix"), 404, 404)  # not the dashboard


async def test_page_and_assets_are_open_data_needs_the_key(home: Path, log: EmbeddedLog) -> None:
    async with client_of(home, log, api_keys=[KEY]) as client:
        assert (await client.get("/ui")).status_code == 200
        assert (await client.get("/ui/static/dashboard.js")).status_code == 200
        for path in ("/ui/api/snapshot", "/ui/api/batch", f"/ui/api/topics/{UID}.pin/records"):
            kafka_error(await client.get(path), 403, 40301)
            wrong = await client.get(path, headers={"x-api-key": "wrong"})
            kafka_error(wrong, 403, 40301)
            assert (await client.get(path, headers={"x-api-key": KEY})).status_code == 200
        kafka_error(await client.get("/topics"), 403, 40301)  # the API itself: unchanged


async def test_under_a_stage_prefix(client: httpx.AsyncClient) -> None:
    page = await client.get("/test/ui")
    assert page.status_code == 200
    assert 'data-api="/test/ui/api"' in page.text
    assert '"/test/ui/static/dashboard.js?v=' in page.text
    assert (await client.get("/test/ui/static/dashboard.css")).status_code == 200
    assert (await client.get("/test/ui/api/snapshot")).json()["user_id"] == UID


async def test_requests_are_counted_by_route(client: httpx.AsyncClient) -> None:
    await client.get("/ui/api/snapshot")
    await client.get("/ui/static/charts.js")
    counted = {key[0] for key in client.app_state.metrics.requests}  # type: ignore[attr-defined]
    assert {"/ui/api/snapshot", "/ui/static/{name}"} <= counted
