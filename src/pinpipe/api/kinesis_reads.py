"""Reading streams the Kinesis way: GetShardIterator and GetRecords (prg48's extra resources).

A shard iterator is an opaque token: the stream, shard and next sequence number, an expiry
(5 minutes, as on Kinesis) and an HMAC with a per-process secret, so a forged or mangled token
is an InvalidArgumentException and an old one an ExpiredIteratorException. Tokens do not survive
an API restart (ask for a new iterator, as after expiry).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import orjson
from starlette.requests import Request
from starlette.responses import Response

from pinpipe.api.body import json_response, query_int
from pinpipe.api.errors import KINESIS_JSON, ApiError, Problem, endpoint
from pinpipe.api.kinesis import checked_stream, shard_id
from pinpipe.api.state import api_state
from pinpipe.broker.base import Broker, LogRecord
from pinpipe.errors import OffsetOutOfRangeError

ITERATOR_TTL_S = 300
MAX_SEQUENCE_DIGITS = 129  # Kinesis' SequenceNumber pattern: 0|([1-9]\d{0,128})
MAX_GET_RECORDS = 10_000
MAX_GET_BYTES = 10 * 2**20
ITERATOR_TYPES = ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
SHARD_ID = re.compile(r"^shardId-(\d{1,12})$")

kinesis = endpoint("kinesis")


@dataclass(frozen=True, slots=True)
class Iterator:
    stream: str
    shard: int
    offset: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_iterator(secret: bytes, it: Iterator, *, now: float | None = None) -> str:
    expires = int((time.time() if now is None else now) + ITERATOR_TTL_S)
    # the offset as a string: AWS sequence numbers exceed 64 bits
    body = _b64(orjson.dumps([it.stream, it.shard, str(it.offset), expires]))
    signature = hmac.new(secret, body.encode(), hashlib.sha256).digest()[:16]
    return f"{body}.{_b64(signature)}"


def decode_iterator(secret: bytes, token: str, *, now: float | None = None) -> Iterator:
    invalid = ApiError(Problem.INVALID_ARGUMENT, "Invalid ShardIterator: get a new one")
    body, _, signature = token.partition(".")
    try:
        expected = hmac.new(secret, body.encode(), hashlib.sha256).digest()[:16]
        if not hmac.compare_digest(expected, _unb64(signature)):
            raise invalid
        stream, shard, offset, expires = orjson.loads(_unb64(body))
    except (ValueError, TypeError, binascii.Error, UnicodeEncodeError):
        raise invalid from None
    if expires < (time.time() if now is None else now):
        msg = "Iterator expired (older than 5 minutes); get a new one with GetShardIterator"
        raise ApiError(Problem.EXPIRED_ITERATOR, msg)
    return Iterator(stream, shard, int(offset))


def _shard(text: str) -> int:
    match = SHARD_ID.fullmatch(text)
    if match is None:
        msg = f"shard-id {text!r} is not a shard id like shardId-000000000000"
        raise ApiError(Problem.INVALID_REQUEST, msg)
    return int(match.group(1))


def _is_sequence_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= MAX_SEQUENCE_DIGITS


@kinesis
async def get_shard_iterator(request: Request) -> Response:
    api = api_state(request)
    name = checked_stream(request.path_params["name"])
    query = request.query_params
    shard = _shard(query.get("shard-id") or shard_id(0))
    kind = (query.get("type") or "TRIM_HORIZON").upper()
    if kind not in ITERATOR_TYPES:
        msg = f"type {kind!r} is not supported; use one of {', '.join(ITERATOR_TYPES)}"
        raise ApiError(Problem.INVALID_REQUEST, msg)
    sequence: int | None = None
    raw = query.get("sequence-number")
    # checked whenever given, also for types that do not use it: a typo is an error, not a no-op
    if raw is not None and not _is_sequence_number(raw):
        msg = f"sequence-number {raw!r} is not a decimal sequence number"
        raise ApiError(Problem.INVALID_ARGUMENT, msg)
    if kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        if raw is None:
            msg = f"{kind} needs sequence-number, a decimal sequence number"
            raise ApiError(Problem.INVALID_ARGUMENT, msg)
        sequence = int(raw) + (kind == "AFTER_SEQUENCE_NUMBER")
    info = await anyio.to_thread.run_sync(api.streams.describe_topic, name)
    if shard >= info.partitions:
        msg = f"Shard {shard_id(shard)} in stream {name} does not exist"
        raise ApiError(Problem.UNKNOWN_PARTITION, msg)
    start, end = info.start_offsets[shard], info.end_offsets[shard]
    if sequence is None:
        offset = start if kind == "TRIM_HORIZON" else end
    elif sequence > end:
        msg = f"sequence-number {query.get('sequence-number')} is beyond the end of the shard"
        raise ApiError(Problem.INVALID_ARGUMENT, msg)
    else:
        offset = max(sequence, start)
    token = encode_iterator(api.iterator_secret, Iterator(name, shard, offset))
    return json_response({"ShardIterator": token}, KINESIS_JSON)


def _read(broker: Broker, it: Iterator, limit: int) -> tuple[list[LogRecord], int, int]:
    """In a worker thread: records from the iterator, where the next read starts, shard end."""
    offset = it.offset
    info = broker.describe_topic(it.stream)
    if it.shard >= info.partitions:
        msg = f"Shard {shard_id(it.shard)} in stream {it.stream} does not exist"
        raise ApiError(Problem.UNKNOWN_PARTITION, msg)
    start, end = info.start_offsets[it.shard], info.end_offsets[it.shard]
    if offset > end:
        msg = "the iterator points past the end of the shard (was the stream re-created?)"
        raise ApiError(Problem.EXPIRED_ITERATOR, msg)
    offset = max(offset, start)
    try:
        records = broker.read(it.stream, it.shard, offset, limit)
    except OffsetOutOfRangeError:  # trimmed meanwhile: continue from the new start
        offset = broker.describe_topic(it.stream).start_offsets[it.shard]
        records = broker.read(it.stream, it.shard, offset, limit)
    size = 0
    for i, record in enumerate(records):
        size += len(record.value) + len(record.key or b"")
        if size > MAX_GET_BYTES and i:
            records = records[:i]
            break
    next_offset = records[-1].offset + 1 if records else offset
    return records, next_offset, max(end, next_offset)


def _kinesis_record(record: LogRecord) -> dict[str, Any]:
    return {
        "Data": base64.b64encode(record.value).decode("ascii"),
        "PartitionKey": (record.key or b"").decode("utf-8", "replace"),
        "SequenceNumber": str(record.offset),
        "ApproximateArrivalTimestamp": record.timestamp_ms / 1000,
    }


@kinesis
async def get_records(request: Request) -> Response:
    api = api_state(request)
    name = checked_stream(request.path_params["name"])
    token = request.query_params.get("shard-iterator")
    if not token:
        raise ApiError(Problem.INVALID_ARGUMENT, "shard-iterator is required (GetShardIterator)")
    limit = query_int(
        request,
        "limit",
        MAX_GET_RECORDS,
        low=1,
        high=MAX_GET_RECORDS,
        problem=Problem.INVALID_REQUEST,
    )
    it = decode_iterator(api.iterator_secret, token)
    if it.stream != name:
        raise ApiError(Problem.INVALID_ARGUMENT, f"the iterator belongs to stream {it.stream!r}")
    records, next_offset, end = await anyio.to_thread.run_sync(_read, api.streams, it, limit)
    behind = 0
    if records and next_offset < end:
        behind = max(0, int(time.time() * 1000) - records[-1].timestamp_ms)
    body = {
        "Records": [_kinesis_record(r) for r in records],
        "NextShardIterator": encode_iterator(
            api.iterator_secret, Iterator(name, it.shard, next_offset)
        ),
        "MillisBehindLatest": behind,
    }
    return json_response(body, KINESIS_JSON)
