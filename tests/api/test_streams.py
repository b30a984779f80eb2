"""Kinesis-style stream routes: the course's streaming emulator and the API Gateway mapping."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from pinpipe.api.kinesis_reads import Iterator, encode_iterator
from pinpipe.broker import Broker
from pinpipe.broker.partitioner import partition_for_key
from tests.api.conftest import state_of, unique
from tests.api.payloads import GEO_ROW, PIN_ROW, compact, ends, kinesis_error, values_in

pytestmark = pytest.mark.anyio

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("prefix", ["", "/streaming_test"])
async def test_course_put_record(
    client: httpx.AsyncClient, streams_broker: Broker, stream: str, prefix: str
) -> None:
    start = ends(streams_broker, stream)[0]
    payload = json.dumps({"StreamName": stream, "Data": PIN_ROW, "PartitionKey": "partition-1"})
    response = await client.put(f"{prefix}/streams/{stream}/record", content=payload, headers=JSON)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    [stored] = streams_broker.read(stream, 0, start, 10)
    assert response.json() == {
        "SequenceNumber": str(stored.offset),
        "ShardId": "shardId-000000000000",
    }
    assert stored.value == compact(PIN_ROW)  # $util.base64Encode($input.json('$.Data'))
    assert stored.key == b"partition-1"


@pytest.mark.parametrize("data", ["text", 12.5, [1, "é"], None, True])
async def test_any_json_data(
    client: httpx.AsyncClient, streams_broker: Broker, stream: str, data: Any
) -> None:
    body = {"Data": data, "PartitionKey": "k"}
    assert (await client.put(f"/streams/{stream}/record", json=body)).status_code == 200
    assert values_in(streams_broker, stream) == [compact(data)]


async def test_partition_key_chooses_the_shard(
    client: httpx.AsyncClient, streams_broker: Broker
) -> None:
    name = unique("sharded-")
    assert (await client.post(f"/streams/{name}", json={"ShardCount": 4})).status_code == 200
    seen: dict[str, str] = {}
    for key in ("partition-1", "a", "b", "c", "d", "a", "partition-1"):
        response = await client.put(
            f"/streams/{name}/record", json={"Data": {"k": key}, "PartitionKey": key}
        )
        shard = response.json()["ShardId"]
        assert seen.setdefault(key, shard) == shard  # one key, one shard
        partition = int(shard.removeprefix("shardId-"))
        [record] = streams_broker.read(name, partition, int(response.json()["SequenceNumber"]), 1)
        assert (record.key, record.value) == (key.encode(), compact({"k": key}))
        if streams_broker.backend != "kinesis":  # Kafka's murmur2; Kinesis hashes with MD5
            assert partition == partition_for_key(key.encode(), 4)


async def test_put_records(client: httpx.AsyncClient, streams_broker: Broker, stream: str) -> None:
    start = ends(streams_broker, stream)[0]
    records = [
        {"data": GEO_ROW, "partition-key": "partition-1"},
        {"data": [1], "partition-key": "x"},
    ]
    response = await client.put(f"/test/streams/{stream}/records", json={"records": records})
    assert response.status_code == 200, response.text
    stored = streams_broker.read(stream, 0, start, 10)
    assert [r.value for r in stored] == [compact(GEO_ROW), b"[1]"]
    assert response.json() == {
        "FailedRecordCount": 0,
        "Records": [
            {"SequenceNumber": str(r.offset), "ShardId": "shardId-000000000000"} for r in stored
        ],
    }


async def test_list_describe_create_delete(
    client: httpx.AsyncClient, streams_broker: Broker
) -> None:
    prefix = unique("s")
    names = [f"{prefix}-{i}" for i in range(3)]
    created = await client.post(f"/streams/{names[0]}")  # no body: kinesis.shard_count (1)
    assert (created.status_code, created.json()) == (200, {})
    assert (await client.post(f"/streams/{names[1]}", json={})).status_code == 200
    assert (await client.post(f"/streams/{names[2]}", json={"ShardCount": 3})).status_code == 200
    assert streams_broker.describe_topic(names[2]).partitions == 3
    listed = (await client.get("/streams", params={"Limit": 100})).json()
    assert set(names) <= set(listed["StreamNames"])
    assert listed["StreamNames"] == sorted(listed["StreamNames"])
    page = await client.get("/streams", params={"ExclusiveStartStreamName": names[0], "Limit": 1})
    assert page.json()["StreamNames"][0] == names[1]
    assert page.json()["HasMoreStreams"] is True
    described = (await client.get(f"/test/streams/{names[2]}")).json()["StreamDescription"]
    assert described["StreamName"] == names[2]
    assert described["StreamStatus"] == "ACTIVE"
    assert described["StreamARN"].endswith(f":stream/{names[2]}")
    assert [s["ShardId"] for s in described["Shards"]] == [
        f"shardId-00000000000{i}" for i in range(3)
    ]
    ranges = [s["HashKeyRange"] for s in described["Shards"]]
    assert ranges[0]["StartingHashKey"] == "0"
    assert int(ranges[-1]["EndingHashKey"]) == 2**128 - 1
    starts = streams_broker.describe_topic(names[2]).start_offsets
    assert [s["SequenceNumberRange"]["StartingSequenceNumber"] for s in described["Shards"]] == [
        str(o) for o in starts
    ]
    kinesis_error(await client.post(f"/streams/{names[0]}"), 400, "ResourceInUseException")
    deleted = await client.delete(f"/streams/{names[0]}")
    assert (deleted.status_code, deleted.json()) == (200, {})
    assert names[0] not in streams_broker.list_topics()
    kinesis_error(await client.delete(f"/streams/{names[0]}"), 400, "ResourceNotFoundException")
    kinesis_error(await client.get(f"/streams/{names[0]}"), 400, "ResourceNotFoundException")


async def test_shard_iterators_and_get_records(client: httpx.AsyncClient, stream: str) -> None:
    seq = []
    for i in range(5):
        put = await client.put(
            f"/streams/{stream}/record", json={"Data": {"i": i}, "PartitionKey": "p"}
        )
        seq.append(put.json()["SequenceNumber"])

    async def iterator(**params: str) -> str:
        response = await client.get(f"/streams/{stream}/sharditerator", params=params)
        assert response.status_code == 200, response.text
        token: str = response.json()["ShardIterator"]
        return token

    async def get(token: str, **params: Any) -> dict[str, Any]:
        response = await client.get(
            f"/streams/{stream}/records", params={"shard-iterator": token, **params}
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    first = await get(await iterator(type="TRIM_HORIZON"), limit=2)
    assert [json.loads(base64.b64decode(r["Data"])) for r in first["Records"]] == [
        {"i": 0},
        {"i": 1},
    ]
    assert [r["SequenceNumber"] for r in first["Records"]] == seq[:2]
    assert first["Records"][0]["PartitionKey"] == "p"
    assert abs(first["Records"][0]["ApproximateArrivalTimestamp"] - time.time()) < 60
    assert first["MillisBehindLatest"] >= 0
    rest = await get(first["NextShardIterator"])
    assert [r["SequenceNumber"] for r in rest["Records"]] == seq[2:]
    assert rest["MillisBehindLatest"] == 0
    assert (await get(rest["NextShardIterator"]))["Records"] == []
    at = await get(await iterator(**{"type": "AT_SEQUENCE_NUMBER", "sequence-number": seq[3]}))
    assert [r["SequenceNumber"] for r in at["Records"]] == seq[3:]
    after = await get(
        await iterator(**{"type": "AFTER_SEQUENCE_NUMBER", "sequence-number": seq[3]})
    )
    assert [r["SequenceNumber"] for r in after["Records"]] == seq[4:]
    latest = await iterator(type="LATEST", **{"shard-id": "shardId-000000000000"})
    assert (await get(latest))["Records"] == []


async def test_iterator_errors(
    client: httpx.AsyncClient, app: Starlette, streams_broker: Broker, stream: str
) -> None:
    base = f"/streams/{stream}"
    beyond = str(ends(streams_broker, stream)[0] + 100)
    kinesis_error(await client.get(f"{base}/records"), 400, "InvalidArgumentException")
    for token in ("garbage", "a.b", "é.ü", "W10.AAAA"):
        response = await client.get(f"{base}/records", params={"shard-iterator": token})
        kinesis_error(response, 400, "InvalidArgumentException")
    secret = state_of(app).iterator_secret
    old = encode_iterator(secret, Iterator(stream, 0, 0), now=time.time() - 600)
    response = await client.get(f"{base}/records", params={"shard-iterator": old})
    kinesis_error(response, 400, "ExpiredIteratorException")
    other = encode_iterator(secret, Iterator("another-stream", 0, 0))
    response = await client.get(f"{base}/records", params={"shard-iterator": other})
    kinesis_error(response, 400, "InvalidArgumentException")
    fresh = encode_iterator(secret, Iterator(stream, 0, 0))
    for limit in ("0", "10001", "x"):
        response = await client.get(
            f"{base}/records", params={"shard-iterator": fresh, "limit": limit}
        )
        kinesis_error(response, 400, "ValidationException")
    for params, kind in [
        ({"shard-id": "shardId-000000000009"}, "ResourceNotFoundException"),
        ({"shard-id": "shard-1"}, "ValidationException"),
        ({"type": "AT_TIMESTAMP"}, "ValidationException"),
        ({"type": "AT_SEQUENCE_NUMBER"}, "InvalidArgumentException"),
        ({"type": "AFTER_SEQUENCE_NUMBER", "sequence-number": "-1"}, "InvalidArgumentException"),
        ({"type": "AT_SEQUENCE_NUMBER", "sequence-number": beyond}, "InvalidArgumentException"),
        ({"type": "AT_SEQUENCE_NUMBER", "sequence-number": "²"}, "InvalidArgumentException"),
    ]:
        response = await client.get(f"{base}/sharditerator", params=params)
        kinesis_error(response, 400, kind)
    missing = unique("missing-")
    response = await client.get(f"/streams/{missing}/sharditerator")
    kinesis_error(response, 400, "ResourceNotFoundException")


BAD_PUTS: list[tuple[str, dict[str, str], bytes, int, str]] = [
    ("record", JSON, b'{"Data": {"a": 1}, "PartitionKey": "k"', 400, "SerializationException"),
    ("record", JSON, b"", 400, "SerializationException"),
    ("record", JSON, b'{"PartitionKey": "k"}', 400, "ValidationException"),
    ("record", JSON, b'{"Data": 1}', 400, "ValidationException"),
    ("record", JSON, b'{"Data": 1, "PartitionKey": ""}', 400, "ValidationException"),
    ("record", JSON, b'{"Data": 1, "PartitionKey": 7}', 400, "ValidationException"),
    (
        "record",
        JSON,
        b'{"Data": 1, "PartitionKey": "' + b"k" * 257 + b'"}',
        400,
        "ValidationException",
    ),
    ("record", JSON, b"[1]", 400, "ValidationException"),
    (
        "record",
        JSON,
        b'{"PartitionKey": "k", "Data": ' + b"[" * 990 + b"]" * 990 + b"}",
        400,
        "ValidationException",
    ),
    (
        "record",
        {"Content-Type": "text/plain"},
        b'{"Data":1,"PartitionKey":"k"}',
        415,
        "UnsupportedMediaTypeException",
    ),
    ("records", JSON, b'{"records": []}', 400, "ValidationException"),
    (
        "records",
        JSON,
        b'{"Records": [{"Data": 1, "PartitionKey": "k"}]}',
        400,
        "ValidationException",
    ),
    (
        "records",
        JSON,
        b'{"records": [{"data": 1, "partition-key": "k"}, {"data": 2}]}',
        400,
        "ValidationException",
    ),
    (
        "records",
        JSON,
        b'{"records": [{"data": 1, "partition-key": "k"}, 3]}',
        400,
        "ValidationException",
    ),
    (
        "records",
        JSON,
        json.dumps({"records": [{"data": 1, "partition-key": "k"}] * 501}).encode(),
        400,
        "ValidationException",
    ),
]


@pytest.mark.parametrize(("route", "headers", "body", "status", "kind"), BAD_PUTS)
async def test_bad_puts_write_nothing(
    client: httpx.AsyncClient,
    streams_broker: Broker,
    stream: str,
    route: str,
    headers: dict[str, str],
    body: bytes,
    status: int,
    kind: str,
) -> None:
    before = ends(streams_broker, stream)
    response = await client.put(f"/streams/{stream}/{route}", content=body, headers=headers)
    kinesis_error(response, status, kind)
    assert ends(streams_broker, stream) == before


async def test_unknown_stream_and_bad_names(
    client: httpx.AsyncClient, streams_broker: Broker
) -> None:
    missing = unique("missing-")
    body = {"Data": 1, "PartitionKey": "k"}
    kinesis_error(
        await client.put(f"/streams/{missing}/record", json=body), 400, "ResourceNotFoundException"
    )
    records = {"records": [{"data": 1, "partition-key": "k"}]}
    kinesis_error(
        await client.put(f"/streams/{missing}/records", json=records),
        400,
        "ResourceNotFoundException",
    )
    assert missing not in streams_broker.list_topics()
    for bad in ("bad name", "x" * 129, "a*b"):
        kinesis_error(
            await client.put(f"/streams/{bad}/record", json=body), 400, "ValidationException"
        )
        kinesis_error(await client.post(f"/streams/{bad}"), 400, "ValidationException")
        kinesis_error(await client.get(f"/streams/{bad}"), 400, "ValidationException")
    for shards in (0, 501, "2", 1.5):
        response = await client.post(f"/streams/{unique('s-')}", json={"ShardCount": shards})
        kinesis_error(response, 400, "InvalidArgumentException")
    kinesis_error(
        await client.post(f"/streams/{unique('s-')}", content=b"[]", headers=JSON),
        400,
        "ValidationException",
    )
    for limit in ("0", "10001", "many"):
        kinesis_error(
            await client.get("/streams", params={"Limit": limit}), 400, "ValidationException"
        )


@pytest.mark.parametrize(
    "api_settings", [{"max_body_bytes": 1024, "max_record_bytes": 100}], ids=["small"]
)
async def test_stream_limits(
    client: httpx.AsyncClient, streams_broker: Broker, stream: str
) -> None:
    before = ends(streams_broker, stream)
    big = {"Data": "x" * 2000, "PartitionKey": "k"}
    kinesis_error(
        await client.put(f"/streams/{stream}/record", json=big),
        413,
        "RequestEntityTooLargeException",
    )
    over = {"Data": "x" * 100, "PartitionKey": "k"}
    kinesis_error(
        await client.put(f"/streams/{stream}/record", json=over), 400, "ValidationException"
    )
    assert ends(streams_broker, stream) == before


async def test_unknown_stream_routes(client: httpx.AsyncClient, stream: str) -> None:
    kinesis_error(await client.get(f"/streams/{stream}/shards"), 404, "UnknownOperationException")
    kinesis_error(await client.get("/test/streams/a/b/c"), 404, "UnknownOperationException")
    response = await client.post(f"/streams/{stream}/record")
    kinesis_error(response, 405, "UnknownOperationException")
    assert response.headers["allow"] == "PUT"


def test_iterators_carry_aws_sized_sequence_numbers() -> None:
    from pinpipe.api.kinesis_reads import decode_iterator

    aws = 49590338271490256608559692538361571095921575989136588898
    token = encode_iterator(b"secret", Iterator("s", 0, aws))
    assert decode_iterator(b"secret", token) == Iterator("s", 0, aws)
    assert len(token) <= 512  # Kinesis' ShardIterator limit
