"""REST Proxy v2 produce and topic routes: the course's batch emulator requests."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from pinpipe.broker import Broker
from pinpipe.broker.partitioner import partition_for_key
from tests.api.conftest import ClientFactory, unique
from tests.api.payloads import (
    GEO_ROW,
    KAFKA_JSON,
    KAFKA_V2,
    PIN_ROW,
    USER_ROW,
    compact,
    course_payload,
    ends,
    kafka_error,
    produce,
    values_in,
)

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("prefix", ["", "/test", "/streaming_test"])
@pytest.mark.parametrize("row", [PIN_ROW, GEO_ROW, USER_ROW], ids=["pin", "geo", "user"])
async def test_course_payload(
    client: httpx.AsyncClient, topics_broker: Broker, topic: str, prefix: str, row: dict[str, Any]
) -> None:
    before = ends(topics_broker, topic)[0]
    response = await client.post(
        f"{prefix}/topics/{topic}",
        content=course_payload(row),
        headers={"Content-Type": "application/vnd.kafka.json.v2+json"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == KAFKA_V2
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json() == {
        "offsets": [{"partition": 0, "offset": before, "error_code": None, "error": None}],
        "key_schema_id": None,
        "value_schema_id": None,
    }
    [stored] = topics_broker.read(topic, 0, before, 10)
    assert stored.value == compact(row)  # compact JSON, non-ASCII as raw UTF-8
    assert stored.key is None


@pytest.mark.parametrize("media", [KAFKA_JSON, KAFKA_V2, "application/json; charset=utf-8"])
async def test_accepted_media_types(
    client: httpx.AsyncClient, topics_broker: Broker, topic: str, media: str
) -> None:
    response = await produce(client, topic, [1, "two", None, [3]], headers={"Content-Type": media})
    assert response.status_code == 200, response.text
    assert [o["offset"] for o in response.json()["offsets"]] == [0, 1, 2, 3]
    assert values_in(topics_broker, topic) == [b"1", b'"two"', b"null", b"[3]"]


async def test_whitespace_is_compacted(
    client: httpx.AsyncClient, topics_broker: Broker, topic: str
) -> None:
    body = '{ "records" : [ { "value" : { "a" : [ 1 , 2.5 ] , "b" : "é" } } ] }'
    response = await client.post(
        f"/topics/{topic}", content=body, headers={"Content-Type": KAFKA_JSON}
    )
    assert response.status_code == 200
    assert values_in(topics_broker, topic) == ['{"a":[1,2.5],"b":"é"}'.encode()]


async def test_keys_and_partitions(
    client: httpx.AsyncClient, topics_broker: Broker, client_for: ClientFactory
) -> None:
    name = unique("keyed.")
    topics_broker.create_topic(name, partitions=4)
    records = [
        {"key": "user-1", "value": {"n": 1}},
        {"key": {"id": 7}, "value": {"n": 2}},
        {"partition": 3, "value": {"n": 3}},
    ]
    response = await client.post(
        f"/topics/{name}",
        content=json.dumps({"records": records}),
        headers={"Content-Type": KAFKA_JSON},
    )
    assert response.status_code == 200, response.text
    offsets = response.json()["offsets"]
    assert offsets[0]["partition"] == partition_for_key(b'"user-1"', 4)  # JSON-encoded key
    assert offsets[1]["partition"] == partition_for_key(b'{"id":7}', 4)
    assert offsets[2]["partition"] == 3
    [first] = topics_broker.read(name, offsets[0]["partition"], offsets[0]["offset"], 1)
    assert (first.key, first.value) == (b'"user-1"', b'{"n":1}')


async def test_list_and_describe_topics(
    client: httpx.AsyncClient, topics_broker: Broker, topic: str
) -> None:
    listed = await client.get("/test/topics")
    assert listed.status_code == 200
    assert listed.headers["content-type"] == KAFKA_V2
    assert topic in listed.json()
    topics_broker.create_topic(wide := unique("wide."), partitions=2)
    described = await client.get(f"/topics/{wide}")
    assert described.status_code == 200
    assert described.json() == {
        "name": wide,
        "configs": {},
        "partitions": [
            {
                "partition": p,
                "leader": 0,
                "replicas": [{"broker": 0, "leader": True, "in_sync": True}],
            }
            for p in range(2)
        ],
    }
    kafka_error(await client.get("/topics/missing.topic"), 404, 40401)
    kafka_error(await client.get("/topics/bad%20name"), 422, 42201)


@pytest.mark.parametrize("api_settings", [{"auto_create_topics": True}], ids=["auto-create"])
async def test_auto_create_topics(client: httpx.AsyncClient, topics_broker: Broker) -> None:
    name = unique("auto.")
    response = await produce(client, name, [{"a": 1}])
    assert response.status_code == 200, response.text
    assert values_in(topics_broker, name) == [b'{"a":1}']


async def test_unknown_topic_is_not_created(
    client: httpx.AsyncClient, topics_broker: Broker
) -> None:
    name = unique("nope.")
    kafka_error(await produce(client, name, [{"a": 1}]), 404, 40401)
    assert name not in topics_broker.list_topics()


BAD_PRODUCE = [
    # (content type, body, status, error_code)
    (KAFKA_JSON, b'{"records": [{"value": 1}', 400, 400),
    (KAFKA_JSON, b"", 400, 400),
    (KAFKA_JSON, b"\xff\xfe", 400, 400),
    (KAFKA_JSON, b'{"records": [{"value": NaN}]}', 400, 400),
    (KAFKA_JSON, b"[]", 422, 42201),
    (KAFKA_JSON, b'"records"', 422, 42201),
    (KAFKA_JSON, b"{}", 422, 42201),
    (KAFKA_JSON, b'{"records": []}', 422, 42201),
    (KAFKA_JSON, b'{"records": {"value": 1}}', 422, 42201),
    (KAFKA_JSON, b'{"records": [{"value": 1}, {"key": "k"}]}', 422, 42201),
    (KAFKA_JSON, b'{"records": [{"value": 1}, 5]}', 422, 42201),
    (KAFKA_JSON, b'{"records": [{"value": 1, "partition": -1}]}', 422, 42201),
    (KAFKA_JSON, b'{"records": [{"value": 1, "partition": "0"}]}', 422, 42201),
    (KAFKA_JSON, b'{"records": [{"value": 1, "partition": true}]}', 422, 42201),
    (KAFKA_JSON, b'{"records": [{"value": 1}, {"value": 2, "partition": 1}]}', 422, 42202),
    ("application/vnd.kafka.avro.v2+json", b'{"records": [{"value": 1}]}', 415, 415),
    ("application/vnd.kafka.binary.v2+json", b'{"records": [{"value": "AA=="}]}', 415, 415),
    ("text/plain", b'{"records": [{"value": 1}]}', 415, 415),
    (None, b'{"records": [{"value": 1}]}', 415, 415),
]


@pytest.mark.parametrize(("media", "body", "status", "code"), BAD_PRODUCE)
@pytest.mark.parametrize("prefix", ["", "/test"])
async def test_bad_produce_writes_nothing(
    client: httpx.AsyncClient,
    topics_broker: Broker,
    topic: str,
    prefix: str,
    media: str | None,
    body: bytes,
    status: int,
    code: int,
) -> None:
    before = ends(topics_broker, topic)
    headers = {"Content-Type": media} if media else {}
    response = await client.post(f"{prefix}/topics/{topic}", content=body, headers=headers)
    kafka_error(response, status, code)
    assert ends(topics_broker, topic) == before


@pytest.mark.parametrize("name", ["bad name", "a" * 250, "a*b", "ü"])
async def test_invalid_topic_name(client: httpx.AsyncClient, name: str) -> None:
    kafka_error(await produce(client, name, [1]), 422, 42201)


@pytest.mark.parametrize(
    "api_settings", [{"max_body_bytes": 1024, "max_record_bytes": 100}], ids=["small"]
)
async def test_too_large(client: httpx.AsyncClient, topics_broker: Broker, topic: str) -> None:
    before = ends(topics_broker, topic)
    big_body = json.dumps({"records": [{"value": "x" * 50} for _ in range(40)]})
    assert len(big_body) > 1024
    kafka_error(await produce(client, topic, ["x" * 50] * 40), 413, 41301)

    async def chunks():  # no Content-Length: the limit holds while streaming
        for i in range(0, len(big_body), 100):
            yield big_body[i : i + 100].encode()

    streamed = await client.post(
        f"/topics/{topic}", content=chunks(), headers={"Content-Type": KAFKA_JSON}
    )
    assert "content-length" not in streamed.request.headers
    kafka_error(streamed, 413, 41301)
    one_big = await produce(client, topic, ["ok", "y" * 200])  # one record over 100 bytes
    assert "max_record_bytes" in kafka_error(one_big, 413, 41301)["message"]
    assert ends(topics_broker, topic) == before
    ok = await produce(client, topic, ["y" * 90])
    assert ok.status_code == 200


async def test_unknown_routes_and_methods(client: httpx.AsyncClient) -> None:
    kafka_error(await client.get("/nothing/here"), 404, 404)
    kafka_error(await client.get("/test/topics/a/b/c"), 404, 404)
    kafka_error(await client.post("/topics/"), 404, 404)
    response = await client.delete("/topics/x.pin")
    kafka_error(response, 405, 405)
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    kafka_error(await client.put("/test/topics"), 405, 405)


async def test_numbers_are_kept_exactly(
    client: httpx.AsyncClient, topics_broker: Broker, topic: str
) -> None:
    value = b'{"big":18446744073709551616,"neg":-9223372036854775809,"id":"12345678901234567890"}'
    body = b'{"records": [{"value": ' + value + b"}]}"
    response = await client.post(
        f"/topics/{topic}", content=body, headers={"Content-Type": KAFKA_JSON}
    )
    assert response.status_code == 200, response.text
    assert values_in(topics_broker, topic) == [value]


@pytest.mark.parametrize(
    ("depth", "status", "code"), [(300, 200, 0), (990, 422, 42201), (1100, 400, 400)]
)
async def test_deeply_nested_values(
    client: httpx.AsyncClient, topics_broker: Broker, topic: str, depth: int, status: int, code: int
) -> None:
    value = "[" * depth + "]" * depth
    body = '{"records": [{"value": ' + value + "}]}"
    response = await client.post(
        f"/topics/{topic}", content=body, headers={"Content-Type": KAFKA_JSON}
    )
    if status == 200:
        assert response.status_code == 200, response.text
        assert values_in(topics_broker, topic) == [value.encode()]
    else:
        kafka_error(response, status, code)
        assert ends(topics_broker, topic) == {0: 0}
