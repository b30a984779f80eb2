"""REST Proxy v2 consumer routes: the flow of the course's check script (SPEC §2.3).

``POST /consumers/{group}`` → ``POST …/instances/{name}/subscription`` → ``GET …/records``
(twice) → ``DELETE …/instances/{name}``; plus offset commits and the subscription's GET/DELETE.
Committed offsets follow the proxy: ``POST …/offsets`` takes the offset of the last record
consumed and commits the one after it; ``GET …/offsets`` shows the committed (next) offset.
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any, NoReturn

import anyio.to_thread
import orjson
from starlette.requests import Request
from starlette.responses import Response

from pinpipe.api import consumer_registry as registry
from pinpipe.api.body import (
    accepted_types,
    is_int,
    json_response,
    parse_json,
    query_int,
    read_body,
    read_json,
    require_media_type,
)
from pinpipe.api.consumer_registry import ConsumerConfig, ConsumerInstance, Partition
from pinpipe.api.errors import KAFKA_V2, ApiError, Problem, endpoint
from pinpipe.api.rest_proxy import checked_topic
from pinpipe.api.state import api_state
from pinpipe.broker.base import GROUP_NAME, Broker, LogRecord, validate_group_name
from pinpipe.errors import InvalidNameError

CONSUMER_TYPES = frozenset(
    {"application/vnd.kafka.v2+json", "application/vnd.kafka.json.v2+json", "application/json"}
)
RECORDS_TYPES = {
    "json": "application/vnd.kafka.json.v2+json",
    "binary": "application/vnd.kafka.binary.v2+json",
}
ANY_FORMAT = frozenset({"*/*", "application/*", "application/json", KAFKA_V2})
DEFAULT_MAX_BYTES = 64 * 2**20
MAX_WAIT_MS = 30_000
FORMATS: dict[str, registry.Format] = {
    "json": "json",
    "JSON": "json",
    "binary": "binary",
    "BINARY": "binary",
}
RESETS: dict[str, registry.Reset] = {
    "earliest": "earliest",
    "smallest": "earliest",
    "latest": "latest",
    "largest": "latest",
}

kafka = endpoint("kafka")


def _bad_config(message: str) -> NoReturn:
    raise ApiError(Problem.INVALID_CONSUMER_CONFIG, f"Invalid consumer configuration: {message}")


def _parse_config(body: Any) -> tuple[str, ConsumerConfig]:
    if not isinstance(body, dict):
        raise ApiError(Problem.INVALID_REQUEST, "the body must be a JSON object")
    for field in ("name", "id"):  # ``id`` is the older name of the same setting
        given = body.get(field, "")
        if field in body and (not isinstance(given, str) or not GROUP_NAME.fullmatch(given)):
            _bad_config(f"{field} {given!r} must be 1-249 of a-z A-Z 0-9 . _ -")
    name = body.get("name", body.get("id")) or f"rest-consumer-{uuid.uuid4().hex[:16]}"
    fmt = body.get("format", "binary")
    # isinstance first: a JSON array or object is unhashable, and `in` a dict would raise
    if not isinstance(fmt, str) or fmt not in FORMATS:
        _bad_config(f"format {fmt!r} is not supported; use json or binary")
    reset = body.get("auto.offset.reset", "latest")
    if not isinstance(reset, str) or reset not in RESETS:
        _bad_config(f"auto.offset.reset {reset!r} must be earliest or latest")
    commit = body.get("auto.commit.enable", True)
    if commit not in (True, False, "true", "false") or is_int(commit):
        _bad_config(f"auto.commit.enable {commit!r} must be true or false")
    timeout = body.get("consumer.request.timeout.ms", 1000)
    if not is_int(timeout) or not 0 <= timeout <= MAX_WAIT_MS:
        _bad_config(f"consumer.request.timeout.ms must be an integer 0..{MAX_WAIT_MS}")
    config = ConsumerConfig(
        format=FORMATS[fmt],
        auto_offset_reset=RESETS[reset],
        auto_commit=commit in (True, "true"),
        request_timeout_ms=timeout,
    )
    return name, config


async def _optional_json(request: Request, limit: int, *, empty: Any) -> Any:
    """The JSON body, or ``empty`` for an empty one (which needs no Content-Type)."""
    raw = await read_body(request, limit)
    if not raw.strip():
        return empty
    require_media_type(request, CONSUMER_TYPES)
    return parse_json(raw)


@kafka
async def create_consumer(request: Request) -> Response:
    api = api_state(request)
    group = request.path_params["group"]
    try:
        validate_group_name(group)
    except InvalidNameError as exc:
        _bad_config(str(exc))
    body = await _optional_json(request, api.api.max_body_bytes, empty={})
    name, config = _parse_config(body)
    api.consumers.create(group, name, config)
    base_uri = f"{request.base_url}consumers/{group}/instances/{name}"
    return json_response({"instance_id": name, "base_uri": base_uri}, KAFKA_V2)


def _instance(request: Request) -> ConsumerInstance:
    params = request.path_params
    return api_state(request).consumers.get(params["group"], params["name"])


@kafka
async def delete_consumer(request: Request) -> Response:
    params = request.path_params
    api_state(request).consumers.delete(params["group"], params["name"])
    return Response(status_code=204)


@kafka
async def subscribe(request: Request) -> Response:
    api = api_state(request)
    instance = _instance(request)
    body = await read_json(request, api.api.max_body_bytes)
    require_media_type(request, CONSUMER_TYPES)
    topics = body.get("topics") if isinstance(body, dict) else None
    if not isinstance(topics, list) or not topics or not all(isinstance(t, str) for t in topics):
        msg = 'the body must be {"topics": [<topic name>, ...]} (topic_pattern is not supported)'
        raise ApiError(Problem.INVALID_REQUEST, msg)
    topics = list(dict.fromkeys(checked_topic(t) for t in topics))
    async with instance.lock:
        positions = await anyio.to_thread.run_sync(
            registry.initial_positions,
            api.topics,
            instance.group,
            topics,
            instance.config.auto_offset_reset,
        )
        instance.topics, instance.positions = topics, positions
    return Response(status_code=204)


@kafka
async def get_subscription(request: Request) -> Response:
    return json_response({"topics": _instance(request).topics}, KAFKA_V2)


@kafka
async def unsubscribe(request: Request) -> Response:
    instance = _instance(request)
    async with instance.lock:
        instance.topics, instance.positions = [], {}
    return Response(status_code=204)


def _decode(data: bytes | None, fmt: str) -> Any:
    if data is None:
        return None
    if fmt == "binary":
        return base64.b64encode(data).decode("ascii")
    try:
        orjson.loads(data)  # valid JSON: embed the stored bytes as they are (exact numbers)
    except orjson.JSONDecodeError:  # written by a non-JSON producer: hand back the text
        return data.decode("utf-8", "replace")
    return orjson.Fragment(data)


def _commit_sync(broker: Broker, group: str, positions: dict[Partition, int]) -> None:
    by_topic: dict[str, dict[int, int]] = {}
    for (topic, partition), offset in positions.items():
        by_topic.setdefault(topic, {})[partition] = offset
    for topic, offsets in by_topic.items():
        broker.commit(group, topic, offsets)


@kafka
async def fetch_records(request: Request) -> Response:
    api = api_state(request)
    instance = _instance(request)
    fmt = instance.config.format
    wanted = accepted_types(request)
    if wanted and not any(t == RECORDS_TYPES[fmt] or t in ANY_FORMAT for t in wanted):
        msg = (
            "The requested embedded data format does not match the deserializer for this "
            f"consumer instance (format {fmt}: Accept {RECORDS_TYPES[fmt]})"
        )
        raise ApiError(Problem.NOT_ACCEPTABLE, msg)
    max_bytes = query_int(
        request,
        "max_bytes",
        DEFAULT_MAX_BYTES,
        low=0,
        high=2**31 - 1,
        problem=Problem.INVALID_REQUEST,
    )
    wait_ms = query_int(
        request,
        "timeout",
        instance.config.request_timeout_ms,
        low=0,
        high=MAX_WAIT_MS,
        problem=Problem.INVALID_REQUEST,
    )
    deadline = time.monotonic() + wait_ms / 1000
    writer = api.writer(api.topics)
    async with instance.lock:
        while True:
            found, moved = await anyio.to_thread.run_sync(
                lambda: registry.fetch(
                    api.topics,
                    instance.order(),
                    instance.positions,
                    max_bytes=max_bytes,
                    reset=instance.config.auto_offset_reset,
                )
            )
            remaining = deadline - time.monotonic()
            if found or remaining <= 0 or not instance.positions:
                break
            await writer.wait_appended(min(remaining, 0.1))
        instance.positions.update(moved)
        if found and instance.config.auto_commit and api.topics.supports_groups:
            await anyio.to_thread.run_sync(
                _commit_sync, api.topics, instance.group, dict(instance.positions)
            )
    body = [_record(r, fmt) for r in found]
    return json_response(body, RECORDS_TYPES[fmt])


def _record(record: LogRecord, fmt: str) -> dict[str, Any]:
    return {
        "topic": record.topic,
        "key": _decode(record.key, fmt),
        "value": _decode(record.value, fmt),
        "partition": record.partition,
        "offset": record.offset,
    }


def _offsets_request(body: Any) -> list[tuple[str, int, int]]:
    items = body.get("offsets") if isinstance(body, dict) else None
    shape = 'the body must be {"offsets": [{"topic": …, "partition": …, "offset": …}, …]}'
    if not isinstance(items, list):
        raise ApiError(Problem.INVALID_REQUEST, shape)
    wanted: list[tuple[str, int, int]] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("topic"), str):
            raise ApiError(Problem.INVALID_REQUEST, shape)
        partition, offset = item.get("partition"), item.get("offset")
        if not isinstance(partition, int) or not isinstance(offset, int):
            raise ApiError(Problem.INVALID_REQUEST, f"{shape}, non-negative integers")
        if not (is_int(partition) and is_int(offset)) or partition < 0 or offset < 0:
            raise ApiError(Problem.INVALID_REQUEST, f"{shape}, non-negative integers")
        wanted.append((checked_topic(item["topic"]), partition, offset))
    return wanted


@kafka
async def commit_offsets(request: Request) -> Response:
    api = api_state(request)
    instance = _instance(request)
    body = await _optional_json(request, api.api.max_body_bytes, empty=None)
    async with instance.lock:
        if body is None:
            commit = dict(instance.positions)  # everything returned so far
        else:
            commit = {}
            for topic, partition, offset in _offsets_request(body):
                count = await api.partitions(api.topics).partitions(topic)
                if partition >= count:
                    msg = f"Partition not found: topic {topic!r} has no partition {partition}"
                    raise ApiError(Problem.UNKNOWN_PARTITION, msg)
                commit[(topic, partition)] = offset + 1
        if commit and api.topics.supports_groups:  # Kinesis keeps no group offsets
            await anyio.to_thread.run_sync(_commit_sync, api.topics, instance.group, commit)
    return Response(status_code=200)


@kafka
async def committed_offsets(request: Request) -> Response:
    api = api_state(request)
    instance = _instance(request)
    topics = sorted({topic for topic, _ in instance.positions})

    def load() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        if not api.topics.supports_groups:
            return found
        for topic in topics:
            for partition, offset in sorted(api.topics.committed(instance.group, topic).items()):
                if (topic, partition) in instance.positions:
                    found.append(
                        {"topic": topic, "partition": partition, "offset": offset, "metadata": ""}
                    )
        return found

    return json_response({"offsets": await anyio.to_thread.run_sync(load)}, KAFKA_V2)
