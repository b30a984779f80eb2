"""REST Proxy v2 produce and topic routes (SPEC §2.3): what the course's batch emulator posts to.

``POST /topics/{topic}`` with ``{"records": [{"value": …, "key"?: …, "partition"?: …}]}``
stores each value (and key) as compact JSON, as the proxy's json embedded format does, so the
bytes in the log are the compact JSON of the row the emulator sent. A request is validated
whole before any of it is queued, and the writer appends it all or nothing.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import orjson
from starlette.requests import Request
from starlette.responses import Response

from pinpipe.api.body import (
    encode_json,
    idempotency_key,
    is_int,
    json_response,
    read_json,
    require_media_type,
)
from pinpipe.api.errors import KAFKA_V2, ApiError, Problem, endpoint
from pinpipe.api.state import api_state
from pinpipe.broker.base import OutRecord, Position, validate_topic_name
from pinpipe.errors import InvalidNameError

PRODUCE_TYPES = frozenset(
    {"application/vnd.kafka.json.v2+json", "application/vnd.kafka.v2+json", "application/json"}
)
REPLAYED_HEADER = "Idempotent-Replayed"

kafka = endpoint("kafka")


def checked_topic(name: str) -> str:
    """``name`` if it is a valid Kafka topic name, else 422 (42201) naming the rule."""
    try:
        return validate_topic_name(name)
    except InvalidNameError as exc:
        raise ApiError(Problem.INVALID_REQUEST, str(exc)) from None


def parse_records(body: Any, max_record_bytes: int) -> tuple[list[OutRecord], int]:
    """The records of a v2 produce body, each value (key) as compact JSON, and their total
    size; 422 (413 for a record over ``max_record_bytes``) if any record is malformed."""
    items = body.get("records") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        msg = 'the body must be a JSON object {"records": [{"value": …}, …]} with 1+ records'
        raise ApiError(Problem.INVALID_REQUEST, msg)
    dumps = encode_json
    records: list[OutRecord] = []
    append = records.append
    total = 0
    for i, item in enumerate(items):
        if type(item) is not dict or "value" not in item:
            msg = f'records[{i}] must be an object with a "value" (and optional key, partition)'
            raise ApiError(Problem.INVALID_REQUEST, msg)
        value = dumps(item["value"])
        if len(item) == 1:  # the course's shape: a value and nothing else
            size = len(value)
            record = OutRecord(value)
        else:
            key = item.get("key")
            key_bytes = None if key is None else dumps(key)
            partition = item.get("partition")
            if partition is not None and (not is_int(partition) or partition < 0):
                msg = f"records[{i}].partition must be a non-negative integer, not {partition!r}"
                raise ApiError(Problem.INVALID_REQUEST, msg)
            size = len(value) + (len(key_bytes) if key_bytes is not None else 0)
            record = OutRecord(value, key_bytes, partition)
        if size > max_record_bytes:
            msg = (
                f"records[{i}] is {size} bytes, over api.max_record_bytes={max_record_bytes}; "
                "nothing of this request was written"
            )
            raise ApiError(Problem.RECORD_TOO_LARGE, msg)
        append(record)
        total += size
    return records, total


def record_bytes(records: list[OutRecord]) -> int:
    return sum(len(r.value) + (len(r.key) if r.key is not None else 0) for r in records)


def produce_body(positions: list[Position]) -> bytes:
    offsets = [
        {"partition": p.partition, "offset": p.offset, "error_code": None, "error": None}
        for p in positions
    ]
    return orjson.dumps({"offsets": offsets, "key_schema_id": None, "value_schema_id": None})


@kafka
async def produce(request: Request) -> Response:
    api = api_state(request)
    topic = checked_topic(request.path_params["topic"])
    require_media_type(request, PRODUCE_TYPES)
    key = idempotency_key(request)
    broker = api.topics
    api.writer(broker).refuse_when_full()
    body = await read_json(request, api.api.max_body_bytes)
    records, size = parse_records(body, api.api.max_record_bytes)
    partitions = await api.partitions(broker).partitions(topic, create=api.api.auto_create_topics)
    for i, record in enumerate(records):
        if record.partition is not None and record.partition >= partitions:
            msg = f"records[{i}].partition {record.partition}: topic {topic!r} has {partitions}"
            raise ApiError(Problem.INVALID_PARTITION, f"Invalid partition: {msg}")
    result = await api.writer(broker).write(topic, records, key)
    headers = {}
    if result.replayed:
        headers[REPLAYED_HEADER] = "true"
        api.metrics.count_replay("topic")
    else:
        api.metrics.count_records("topic", topic, len(records), size)
    return Response(produce_body(result.positions), headers=headers, media_type=KAFKA_V2)


@kafka
async def list_topics(request: Request) -> Response:
    broker = api_state(request).topics
    return json_response(await anyio.to_thread.run_sync(broker.list_topics), KAFKA_V2)


@kafka
async def describe_topic(request: Request) -> Response:
    topic = checked_topic(request.path_params["topic"])
    broker = api_state(request).topics
    info = await anyio.to_thread.run_sync(broker.describe_topic, topic)
    replicas = [{"broker": 0, "leader": True, "in_sync": True}]
    partitions = [
        {"partition": p, "leader": 0, "replicas": replicas} for p in range(info.partitions)
    ]
    return json_response({"name": topic, "configs": {}, "partitions": partitions}, KAFKA_V2)
