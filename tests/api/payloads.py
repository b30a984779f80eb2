"""Made-up rows shaped like the course's three tables (SPEC §1), and small request helpers.

The values are invented (no course data is copied here); they carry what matters for the
encoding: non-ASCII text, floats, a datetime string formatted as Saab's emulator does.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from pinpipe.broker import Broker

KAFKA_JSON = "application/vnd.kafka.json.v2+json"
KAFKA_V2 = "application/vnd.kafka.v2+json"

PIN_ROW: dict[str, Any] = {
    "index": 4242,
    "unique_id": "0b0e6e1c-8d0f-4a52-9b6e-000000004242",
    "title": "Cosy winter cabin — “made up” for the tests",
    "description": "Snow, a fire and café au lait…\u00a0",
    "poster_name": "Example Poster",
    "follower_count": "26k",
    "tag_list": "Cabins,Winter,Cosy Homes",
    "is_image_or_video": "image",
    "image_src": "https://example.invalid/pins/4242.jpg",
    "downloaded": 1,
    "save_location": "Local save in /data/home-decor",
    "category": "home-decor",
}
GEO_ROW: dict[str, Any] = {
    "ind": 4242,
    "timestamp": "2020-08-28 03:52:47",
    "latitude": -88.4642,
    "longitude": -171.061,
    "country": "Antarctica (the territory South of 60 deg S)",
}
USER_ROW: dict[str, Any] = {
    "ind": 4242,
    "first_name": "Zoë",
    "last_name": "Example",
    "age": 31,
    "date_joined": "2016-12-07 11:00:41",
}


def compact(value: Any) -> bytes:
    """Jackson's / API Gateway's compact JSON: no spaces, non-ASCII as raw UTF-8."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def course_payload(row: dict[str, Any]) -> str:
    """Exactly what the course's batch emulator sends (SPEC §2.3)."""
    return json.dumps({"records": [{"value": row}]})


async def produce(
    client: httpx.AsyncClient,
    topic: str,
    values: list[Any],
    *,
    prefix: str = "",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = json.dumps({"records": [{"value": v} for v in values]})
    return await client.post(
        f"{prefix}/topics/{topic}",
        content=body,
        headers={"Content-Type": KAFKA_JSON, **(headers or {})},
    )


def ends(broker: Broker, topic: str) -> dict[int, int]:
    return broker.end_offsets(topic)


def values_in(broker: Broker, topic: str) -> list[bytes]:
    """Every stored value of every partition, in partition then offset order."""
    info = broker.describe_topic(topic)
    found: list[bytes] = []
    for p, (start, end) in enumerate(zip(info.start_offsets, info.end_offsets, strict=True)):
        offset = start
        while offset < end:
            batch = broker.read(topic, p, offset, 500)
            found.extend(r.value for r in batch)
            offset = batch[-1].offset + 1
    return found


def kafka_error(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    """Assert a REST Proxy error: status, Confluent's body and content type."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"}, body
    assert body["error_code"] == code, body
    assert body["message"]
    assert response.headers["content-type"] == KAFKA_V2
    assert response.headers["access-control-allow-origin"] == "*"
    return dict(body)


def kinesis_error(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    """Assert a Kinesis-style error: status, AWS' ``__type`` body."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"__type", "message"}, body
    assert body["__type"] == kind, body
    assert body["message"]
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    return dict(body)
