"""REST Proxy v2 consumer instances: the course's check script and the offset semantics."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from pinpipe.broker import Broker, InMemoryBroker, OutRecord
from tests.api.conftest import ClientFactory, state_of, unique
from tests.api.payloads import (
    GEO_ROW,
    KAFKA_JSON,
    KAFKA_V2,
    PIN_ROW,
    USER_ROW,
    course_payload,
    kafka_error,
    produce,
)

pytestmark = pytest.mark.anyio

V2 = {"Content-Type": KAFKA_V2}
ACCEPT_JSON = {"Accept": KAFKA_JSON}


async def new_consumer(
    client: httpx.AsyncClient,
    topic: str,
    *,
    group: str = "students",
    prefix: str = "",
    **config: Any,
) -> str:
    """Create an instance subscribed to ``topic``; its URL path."""
    name = unique("c-")
    body = {"name": name, "format": "json", "auto.offset.reset": "earliest", **config}
    created = await client.post(f"{prefix}/consumers/{group}", content=json.dumps(body), headers=V2)
    assert created.status_code == 200, created.text
    path = f"{prefix}/consumers/{group}/instances/{name}"
    subscribed = await client.post(
        f"{path}/subscription", content=json.dumps({"topics": [topic]}), headers=V2
    )
    assert subscribed.status_code == 204, subscribed.text
    return path


async def fetch(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(f"{path}/records", headers=ACCEPT_JSON, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == KAFKA_JSON
    records: list[dict[str, Any]] = response.json()
    return records


@pytest.mark.parametrize("prefix", ["", "/test"])
async def test_course_check_flow(client: httpx.AsyncClient, topic: str, prefix: str) -> None:
    rows = [PIN_ROW, GEO_ROW, USER_ROW]
    for row in rows:
        posted = await client.post(
            f"{prefix}/topics/{topic}",
            content=course_payload(row),
            headers={"Content-Type": "application/vnd.kafka.json.v2+json"},
        )
        assert posted.status_code == 200
    # check_user_posting_emulation.py, request by request
    created = await client.post(
        f"{prefix}/consumers/students",
        content=json.dumps({"name": "c", "format": "json", "auto.offset.reset": "earliest"}),
        headers={"Content-Type": "application/vnd.kafka.v2+json"},
    )
    assert created.status_code == 200, created.text
    assert created.headers["content-type"] == KAFKA_V2
    assert created.json() == {
        "instance_id": "c",
        "base_uri": f"http://testserver{prefix}/consumers/students/instances/c",
    }
    base = created.json()["base_uri"].removeprefix("http://testserver")
    subscribed = await client.post(
        f"{base}/subscription", content=json.dumps({"topics": [topic]}), headers=V2
    )
    assert subscribed.status_code == 204
    first = await fetch(client, base)
    second = await fetch(client, base, timeout=0)
    assert first + second == [
        {"topic": topic, "key": None, "value": row, "partition": 0, "offset": i}
        for i, row in enumerate(rows)
    ]
    deleted = await client.delete(base, headers=V2)
    assert deleted.status_code == 204
    kafka_error(await client.get(f"{base}/records", headers=ACCEPT_JSON), 404, 40403)


async def test_matches_the_real_proxy(
    client: httpx.AsyncClient, topic: str, reference_dir: Any
) -> None:
    """Values posted as the emulator did come back exactly as the real proxy returned them."""
    path = reference_dir / "RegnixS_pin_consumer.json"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    real = json.loads(path.read_text())
    for record in real:
        posted = await client.post(
            f"/test/topics/{topic}",
            content=course_payload(record["value"]),
            headers={"Content-Type": KAFKA_JSON},
        )
        assert posted.status_code == 200
    consumer = await new_consumer(client, topic)
    ours = await fetch(client, consumer)
    assert len(ours) == len(real)
    for mine, theirs in zip(ours, real, strict=True):
        assert mine.keys() == theirs.keys()
        assert (mine["key"], mine["value"], mine["partition"]) == (
            theirs["key"],
            theirs["value"],
            theirs["partition"],
        )


async def test_latest_sees_only_new_records(client: httpx.AsyncClient, topic: str) -> None:
    await produce(client, topic, ["old"])
    path = await new_consumer(client, topic, **{"auto.offset.reset": "latest"})
    assert await fetch(client, path, timeout=0) == []
    await produce(client, topic, ["new"])
    assert [r["value"] for r in await fetch(client, path)] == ["new"]


async def test_group_resumes_from_committed_offsets(
    client: httpx.AsyncClient, topics_broker: Broker, topic: str
) -> None:
    await produce(client, topic, [1, 2, 3])
    first = await new_consumer(client, topic, group="g1")
    assert [r["value"] for r in await fetch(client, first)] == [1, 2, 3]  # auto-commit
    assert topics_broker.committed("g1", topic) == {0: 3}
    await produce(client, topic, [4])
    second = await new_consumer(client, topic, group="g1")
    assert [r["value"] for r in await fetch(client, second)] == [4]
    other_group = await new_consumer(client, topic, group="g2")
    assert [r["value"] for r in await fetch(client, other_group)] == [1, 2, 3, 4]


async def test_manual_commit(client: httpx.AsyncClient, topics_broker: Broker, topic: str) -> None:
    await produce(client, topic, ["a", "b", "c"])
    path = await new_consumer(client, topic, group="m", **{"auto.commit.enable": "false"})
    assert len(await fetch(client, path)) == 3
    assert topics_broker.committed("m", topic) == {}
    body = {"offsets": [{"topic": topic, "partition": 0, "offset": 0}]}
    committed = await client.post(f"{path}/offsets", content=json.dumps(body), headers=V2)
    assert committed.status_code == 200
    assert topics_broker.committed("m", topic) == {0: 1}  # the proxy commits offset + 1
    shown = await client.get(f"{path}/offsets")
    assert shown.json() == {
        "offsets": [{"topic": topic, "partition": 0, "offset": 1, "metadata": ""}]
    }
    everything = await client.post(f"{path}/offsets")  # empty body: all fetched so far
    assert everything.status_code == 200
    assert topics_broker.committed("m", topic) == {0: 3}


async def test_max_bytes_and_binary_format(client: httpx.AsyncClient, topic: str) -> None:
    await produce(client, topic, ["x" * 100, "y" * 100, "z"])
    path = await new_consumer(client, topic, format="binary")
    response = await client.get(
        f"{path}/records",
        params={"max_bytes": 150},
        headers={"Accept": "application/vnd.kafka.binary.v2+json"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.kafka.binary.v2+json"
    [one] = response.json()
    assert base64.b64decode(one["value"]) == json.dumps("x" * 100).encode()
    tiny = await client.get(f"{path}/records", params={"max_bytes": 0})
    assert len(tiny.json()) == 1  # always at least one record: progress is guaranteed


async def test_subscription_routes(client: httpx.AsyncClient, topic: str) -> None:
    path = await new_consumer(client, topic)
    shown = await client.get(f"{path}/subscription")
    assert shown.json() == {"topics": [topic]}
    assert (await client.delete(f"{path}/subscription")).status_code == 204
    assert (await client.get(f"{path}/subscription")).json() == {"topics": []}
    assert await fetch(client, path, timeout=0) == []


async def test_long_poll_returns_when_records_arrive(client: httpx.AsyncClient, topic: str) -> None:
    path = await new_consumer(client, topic)
    received: list[Any] = []

    async def poll() -> None:
        received.extend(await fetch(client, path, timeout=5000))

    started = time.monotonic()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(poll)
        await anyio.sleep(0.2)
        await produce(client, topic, ["late"])
    assert [r["value"] for r in received] == ["late"]
    assert time.monotonic() - started < 3


async def test_instances_expire_after_five_idle_minutes(
    client: httpx.AsyncClient, app: Starlette, topic: str
) -> None:
    now = [1000.0]
    state_of(app).consumers.clock = lambda: now[0]
    path = await new_consumer(client, topic)
    now[0] += 299
    assert (await client.get(f"{path}/subscription")).status_code == 200
    now[0] += 301
    kafka_error(await client.get(f"{path}/subscription"), 404, 40403)


async def test_consumer_errors(client: httpx.AsyncClient, topic: str) -> None:
    path = await new_consumer(client, topic)
    name = path.rsplit("/", 1)[1]
    again = await client.post(
        "/consumers/students", content=json.dumps({"name": name, "format": "json"}), headers=V2
    )
    kafka_error(again, 409, 40902)
    for config in (
        {"format": "avro"},
        {"format": "Json"},
        {"auto.offset.reset": "none"},
        {"auto.commit.enable": "yes"},
        {"consumer.request.timeout.ms": -1},
        {"name": "bad name"},
        {"name": 5},
    ):
        response = await client.post("/consumers/students", content=json.dumps(config), headers=V2)
        kafka_error(response, 422, 42204)
    kafka_error(await client.post("/consumers/bad%20group", headers=V2), 422, 42204)
    kafka_error(await client.post("/consumers/students", content=b"{", headers=V2), 400, 400)
    kafka_error(await client.post("/consumers/students", content=b"[]", headers=V2), 422, 42201)
    kafka_error(
        await client.post(
            "/consumers/students", content=b"{}", headers={"Content-Type": "text/plain"}
        ),
        415,
        415,
    )
    missing = "/consumers/students/instances/nobody"
    for method, suffix in [
        ("GET", "/records"),
        ("POST", "/subscription"),
        ("GET", "/subscription"),
        ("DELETE", "/subscription"),
        ("POST", "/offsets"),
        ("GET", "/offsets"),
        ("DELETE", ""),
    ]:
        kafka_error(await client.request(method, missing + suffix), 404, 40403)
    wrong_accept = await client.get(
        f"{path}/records", headers={"Accept": "application/vnd.kafka.binary.v2+json"}
    )
    kafka_error(wrong_accept, 406, 40601)
    kafka_error(await client.get(f"{path}/records", params={"max_bytes": "x"}), 422, 42201)
    kafka_error(await client.get(f"{path}/records", params={"timeout": 10**9}), 422, 42201)
    bodies: list[Any] = [{"topics": []}, {"topics": "t"}, {"topic_pattern": ".*"}, [1]]
    for body in bodies:
        subscribed = await client.post(f"{path}/subscription", content=json.dumps(body), headers=V2)
        kafka_error(subscribed, 422, 42201)
    unknown = {"topics": [unique("missing.")]}
    response = await client.post(f"{path}/subscription", content=json.dumps(unknown), headers=V2)
    kafka_error(response, 404, 40401)
    for offsets, status, code in [
        ({"offsets": [{"topic": topic, "partition": 5, "offset": 0}]}, 404, 40402),
        ({"offsets": [{"topic": topic, "partition": 0, "offset": -1}]}, 422, 42201),
        ({"offsets": [{"topic": topic, "partition": 0}]}, 422, 42201),
        ({"offsets": "all"}, 422, 42201),
        ({"offsets": [{"topic": unique("gone."), "partition": 0, "offset": 0}]}, 404, 40401),
    ]:
        response = await client.post(f"{path}/offsets", content=json.dumps(offsets), headers=V2)
        kafka_error(response, status, code)


@pytest.mark.parametrize("api_settings", [{}], ids=["default"])
async def test_instance_count_is_bounded(
    client: httpx.AsyncClient, app: Starlette, topic: str
) -> None:
    state_of(app).consumers.max_instances = 2
    await new_consumer(client, topic)
    await new_consumer(client, topic)
    response = await client.post("/consumers/students", content=b"{}", headers=V2)
    kafka_error(response, 429, 42902)
    assert int(response.headers["retry-after"]) >= 1


async def test_values_come_back_exactly(
    client: httpx.AsyncClient, topics_broker: Broker, topic: str
) -> None:
    big = b'{"big":18446744073709551616,"deep":' + b"[" * 900 + b"]" * 900 + b"}"
    body = b'{"records": [{"value": ' + big + b', "key": 123456789012345678901}]}'
    posted = await client.post(
        f"/topics/{topic}", content=body, headers={"Content-Type": KAFKA_JSON}
    )
    assert posted.status_code == 200, posted.text
    topics_broker.append(topic, [OutRecord(b"not json \xff")])  # another producer's bytes
    path = await new_consumer(client, topic)
    response = await client.get(f"{path}/records", headers=ACCEPT_JSON)
    assert response.status_code == 200
    assert b'"value":' + big in response.content
    assert b'"key":123456789012345678901' in response.content
    assert response.json()[1]["value"] == "not json \ufffd"


async def test_brokers_without_group_offsets(client_for: ClientFactory) -> None:
    class NoGroups(InMemoryBroker):  # like Kinesis: positions live only in the instance
        supports_groups: ClassVar[bool] = False

        def commit(self, group: str, topic: str, offsets: Mapping[int, int]) -> None:
            raise AssertionError

        def committed(self, group: str, topic: str) -> dict[int, int]:
            raise AssertionError

    broker = NoGroups()
    broker.create_topic("ng.pin")
    async with client_for(topics=broker) as client:
        await produce(client, "ng.pin", [1, 2])
        path = await new_consumer(client, "ng.pin")
        assert [r["value"] for r in await fetch(client, path)] == [1, 2]
        assert (await client.post(f"{path}/offsets")).status_code == 200
        assert (await client.get(f"{path}/offsets")).json() == {"offsets": []}
