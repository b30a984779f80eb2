"""Kinesis-style stream routes, as API Gateway maps them onto Kinesis (SPEC §4.3).

The stream broker holds each stream as a topic (shard = partition, sequence number = offset,
as a decimal string). ``PUT /streams/{name}/record`` stores the compact JSON of ``Data`` (what
``$util.base64Encode($input.json('$.Data'))`` hands Kinesis) with ``PartitionKey`` as the record
key, so the key chooses the shard (Kafka's murmur2, not Kinesis' MD5 hash-key ranges: the
``HashKeyRange`` of DescribeStream is nominal). ``PUT …/records`` takes the course template's
``{"records": [{"data": …, "partition-key": …}]}`` and is all-or-nothing
(``FailedRecordCount`` is always 0).

CreateStream without ``ShardCount`` makes ``kinesis.shard_count`` shards (default 1), not the
course template's 5: one shard keeps the order of records and matches the topics' single
partition. Errors are 400 with ``__type`` as on AWS; throttling is
``ProvisionedThroughputExceededException`` (400, with ``Retry-After``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from pinpipe.api.body import (
    encode_json,
    idempotency_key,
    is_int,
    json_response,
    query_int,
    read_json,
    require_media_type,
)
from pinpipe.api.errors import KINESIS_JSON, ApiError, Problem, endpoint
from pinpipe.api.rest_proxy import REPLAYED_HEADER, record_bytes
from pinpipe.api.state import ApiState, api_state
from pinpipe.api.writer import WriteResult
from pinpipe.broker.base import KINESIS_STREAM, OutRecord, Position, validate_stream_name
from pinpipe.errors import InvalidNameError

KINESIS_TYPES = frozenset(
    {"application/json", "application/x-amz-json-1.1", "application/x-amz-json-1.0"}
)
MAX_SHARDS = 500
MAX_PUT_RECORDS = 500
MAX_PARTITION_KEY = 256
HASH_SPACE = 2**128

kinesis = endpoint("kinesis")


def checked_stream(name: str) -> str:
    try:
        return validate_stream_name(name)
    except InvalidNameError as exc:
        raise ApiError(Problem.INVALID_REQUEST, str(exc)) from None


def shard_id(partition: int) -> str:
    return f"shardId-{partition:012d}"


async def _body(request: Request, api: ApiState, *, empty: Any = ...) -> Any:
    require_media_type(request, KINESIS_TYPES, missing_ok=True)
    return await read_json(request, api.api.max_body_bytes, empty=empty)


def _json(content: Any, headers: dict[str, str] | None = None) -> Response:
    return json_response(content, KINESIS_JSON, headers=headers)


@kinesis
async def list_streams(request: Request) -> Response:
    broker = api_state(request).streams
    limit = query_int(request, "Limit", 100, low=1, high=10_000, problem=Problem.INVALID_REQUEST)
    start = request.query_params.get("ExclusiveStartStreamName", "")
    names = await anyio.to_thread.run_sync(broker.list_topics)
    names = [n for n in names if n > start and KINESIS_STREAM.fullmatch(n)]
    return _json({"StreamNames": names[:limit], "HasMoreStreams": len(names) > limit})


def _region(api: ApiState) -> str:
    url = urlsplit(api.settings.streams_url)
    return (url.netloc or "us-east-1") if url.scheme == "kinesis" else "us-east-1"


@kinesis
async def describe_stream(request: Request) -> Response:
    api = api_state(request)
    name = checked_stream(request.path_params["name"])
    info = await anyio.to_thread.run_sync(api.streams.describe_topic, name)
    count = info.partitions
    shards = [
        {
            "ShardId": shard_id(p),
            "HashKeyRange": {
                "StartingHashKey": str(p * HASH_SPACE // count),
                "EndingHashKey": str((p + 1) * HASH_SPACE // count - 1),
            },
            "SequenceNumberRange": {"StartingSequenceNumber": str(info.start_offsets[p])},
        }
        for p in range(count)
    ]
    description = {
        "StreamName": name,
        "StreamARN": f"arn:aws:kinesis:{_region(api)}:000000000000:stream/{name}",
        "StreamStatus": "ACTIVE",
        "StreamModeDetails": {"StreamMode": "PROVISIONED"},
        "Shards": shards,
        "HasMoreShards": False,
        "RetentionPeriodHours": 24,
        "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
        "EncryptionType": "NONE",
    }
    return _json({"StreamDescription": description})


@kinesis
async def create_stream(request: Request) -> Response:
    api = api_state(request)
    name = checked_stream(request.path_params["name"])
    body = await _body(request, api, empty={})
    if not isinstance(body, dict):
        raise ApiError(Problem.INVALID_REQUEST, 'the body must be {"ShardCount": n} or empty')
    shards = body.get("ShardCount", api.settings.kinesis.shard_count)
    if not is_int(shards) or not 1 <= shards <= MAX_SHARDS:
        msg = f"ShardCount must be an integer 1..{MAX_SHARDS}, not {shards!r}"
        raise ApiError(Problem.INVALID_ARGUMENT, msg)
    broker = api.streams
    await anyio.to_thread.run_sync(broker.create_topic, name, shards)
    api.forget_topic(broker, name)
    return _json({})


@kinesis
async def delete_stream(request: Request) -> Response:
    api = api_state(request)
    name = checked_stream(request.path_params["name"])
    broker = api.streams
    await anyio.to_thread.run_sync(broker.delete_topic, name)
    api.forget_topic(broker, name)
    return _json({})


def _record(data: Any, partition_key: Any, where: str, max_bytes: int) -> OutRecord:
    if not isinstance(partition_key, str) or not 1 <= len(partition_key) <= MAX_PARTITION_KEY:
        msg = f"{where}: the partition key must be a string of 1-{MAX_PARTITION_KEY} characters"
        raise ApiError(Problem.INVALID_REQUEST, msg)
    value = encode_json(data)
    key = partition_key.encode()
    if len(value) + len(key) > max_bytes:
        msg = f"{where}: data and partition key exceed {max_bytes} bytes (api.max_record_bytes)"
        raise ApiError(Problem.RECORD_TOO_LARGE, msg)
    return OutRecord(value, key)


async def _put(api: ApiState, name: str, records: list[OutRecord], key: str | None) -> WriteResult:
    broker = api.streams
    await api.partitions(broker).partitions(name)
    result = await api.writer(broker).write(name, records, key)
    if result.replayed:
        api.metrics.count_replay("stream")
    else:
        api.metrics.count_records("stream", name, len(records), record_bytes(records))
    return result


def _entry(position: Position) -> dict[str, str]:
    return {"SequenceNumber": str(position.offset), "ShardId": shard_id(position.partition)}


@kinesis
async def put_record(request: Request) -> Response:
    api = api_state(request)
    name = checked_stream(request.path_params["name"])
    key = idempotency_key(request)
    api.writer(api.streams).refuse_when_full()
    body = await _body(request, api)
    if not isinstance(body, dict) or "Data" not in body:
        msg = 'the body must be {"StreamName": …, "Data": <JSON>, "PartitionKey": "…"}'
        raise ApiError(Problem.INVALID_REQUEST, msg)
    record = _record(body["Data"], body.get("PartitionKey"), "PutRecord", api.api.max_record_bytes)
    result = await _put(api, name, [record], key)
    headers = {REPLAYED_HEADER: "true"} if result.replayed else None
    return _json(_entry(result.positions[0]), headers)


@kinesis
async def put_records(request: Request) -> Response:
    api = api_state(request)
    name = checked_stream(request.path_params["name"])
    key = idempotency_key(request)
    api.writer(api.streams).refuse_when_full()
    body = await _body(request, api)
    items = body.get("records") if isinstance(body, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_PUT_RECORDS:
        msg = (
            'the body must be {"records": [{"data": <JSON>, "partition-key": "…"}, …]} '
            f"with 1-{MAX_PUT_RECORDS} records"
        )
        raise ApiError(Problem.INVALID_REQUEST, msg)
    records = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "data" not in item:
            raise ApiError(Problem.INVALID_REQUEST, f'records[{i}] must have "data"')
        where = f"records[{i}]"
        records.append(
            _record(item["data"], item.get("partition-key"), where, api.api.max_record_bytes)
        )
    result = await _put(api, name, records, key)
    headers = {REPLAYED_HEADER: "true"} if result.replayed else None
    entries = [_entry(p) for p in result.positions]
    return _json({"FailedRecordCount": 0, "Records": entries}, headers)
