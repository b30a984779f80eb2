"""Property: whatever a client sends, the answer is not a 5xx, and a refused request writes nothing.

Random JSON (well-formed, produce-shaped, or bytes) to every write route and random query
strings to the read routes, each response also checked against the OpenAPI document.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinpipe.api import create_app
from pinpipe.broker import InMemoryBroker
from tests.api.conftest import make_settings, serve
from tests.api.payloads import KAFKA_JSON, KAFKA_V2

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
RECORD = st.fixed_dictionaries(
    {"value": JSON_VALUES},
    optional={"key": JSON_VALUES, "partition": st.integers(-1, 3) | st.text(max_size=2)},
)
PUT_RECORD = st.fixed_dictionaries(
    {"Data": JSON_VALUES}, optional={"PartitionKey": st.text(max_size=300) | st.integers()}
)
PUT_RECORDS = st.fixed_dictionaries(
    {
        "records": st.lists(
            st.fixed_dictionaries({"data": JSON_VALUES, "partition-key": st.text(max_size=5)}),
            max_size=4,
        )
    }
)
BODIES = st.one_of(
    st.fixed_dictionaries({"records": st.lists(RECORD, max_size=4)}).map(json.dumps),
    PUT_RECORD.map(json.dumps),
    PUT_RECORDS.map(json.dumps),
    JSON_VALUES.map(json.dumps),
    st.binary(max_size=64),
    st.sampled_from(
        ['{"records": [{"value": 1}', "", "{}", '{"ShardCount": 2}', '{"topics": ["t.pin"]}']
    ),
)
WRITES = st.sampled_from(
    [
        ("POST", "/topics/t.pin"),
        ("POST", "/test/topics/t.pin"),
        ("POST", "/topics/wide.pin"),
        ("POST", "/topics/absent.pin"),
        ("PUT", "/streams/s/record"),
        ("PUT", "/streaming_test/streams/s/records"),
        ("PUT", "/streams/absent/record"),
        ("POST", "/consumers/students"),
        ("POST", "/streams/new-stream"),
        ("POST", "/consumers/students/instances/c/subscription"),
        ("POST", "/consumers/students/instances/c/offsets"),
    ]
)
READS = st.sampled_from(
    [
        "/topics",
        "/topics/t.pin",
        "/consumers/students/instances/c/records",
        "/streams",
        "/streams/s",
        "/streams/s/sharditerator",
        "/streams/s/records",
    ]
)
MEDIA = st.sampled_from([None, "application/json", KAFKA_JSON, KAFKA_V2, "text/plain"])
PARAMS = st.dictionaries(
    st.sampled_from(
        [
            "Limit",
            "limit",
            "max_bytes",
            "timeout",
            "type",
            "shard-id",
            "sequence-number",
            "shard-iterator",
        ]
    ),
    st.text(max_size=8) | st.integers(-5, 20_000).map(str),
    max_size=3,
)


async def scenario(requests: list[tuple[str, str, Any, str | None]], path: Any) -> None:
    broker = InMemoryBroker()
    broker.create_topic("t.pin")
    broker.create_topic("wide.pin", partitions=3)
    broker.create_topic("s", partitions=2)
    app = create_app(make_settings(path), topics=broker)
    async with serve(app) as client:
        created = await client.post(
            "/consumers/students",
            json={"name": "c", "format": "json"},
            headers={"Content-Type": KAFKA_V2},
        )
        assert created.status_code == 200
        for method, url, payload, media in requests:
            before = {t: broker.end_offsets(t) for t in broker.list_topics()}
            headers = {"Content-Type": media} if media else {}
            if method == "GET":
                response = await client.get(url, params=payload)
            else:
                content = payload if isinstance(payload, bytes) else payload.encode()
                response = await client.request(method, url, content=content, headers=headers)
            assert response.status_code < 500, (method, url, payload, response.text)
            if response.status_code >= 400:
                after = {t: broker.end_offsets(t) for t in before}
                assert after == before, (method, url, payload, response.text)


REQUESTS = st.lists(
    st.one_of(
        WRITES.flatmap(lambda w: st.tuples(st.just(w[0]), st.just(w[1]), BODIES, MEDIA)),
        st.tuples(st.just("GET"), READS, PARAMS, st.none()),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(requests=REQUESTS)
def test_no_input_gives_a_5xx_or_a_partial_write(
    requests: list[Any], tmp_path_factory: Any
) -> None:
    asyncio.run(scenario(requests, tmp_path_factory.getbasetemp()))
