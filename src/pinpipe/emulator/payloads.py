"""Request bodies and routes: the course's byte-exact ones, and load mode's batched ones.

Course (SPEC §2.3–2.4), one row per request, built as the students' scripts build them —
``json.dumps`` with its default separators and ``ensure_ascii``, datetimes as
``"%Y-%m-%d %H:%M:%S"``:

* batch: ``POST /topics/<uid>.<kind>``, ``Content-Type: application/vnd.kafka.json.v2+json``,
  ``{"records": [{"value": {…row…}}]}``
* stream: ``PUT /streams/streaming-<uid>-<kind>/record``, ``Content-Type: application/json``,
  ``{"StreamName": "…", "Data": {…row…}, "PartitionKey": "partition-1"}``

Load mode, many rows per request, each row's compact JSON encoded once and spliced in:

* batch: ``POST /topics/<topic>`` with ``{"records":[{"value":…},…]}`` (REST Proxy v2)
* stream: ``PUT /streams/<name>/records`` with ``{"records":[{"data":…,"partition-key":…},…]}``
  (the PutRecords shape API Gateway maps, SPEC §4.3)

What lands in the log is the compact JSON of the row either way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from pinpipe.emulator.base import Mode
from pinpipe.records import to_payload

KAFKA_JSON_V2 = "application/vnd.kafka.json.v2+json"
KINESIS_JSON = "application/json"
PARTITION_KEY = "partition-1"

CONTENT_TYPES: dict[Mode, str] = {"batch": KAFKA_JSON_V2, "stream": KINESIS_JSON}


def course_batch_body(row: Mapping[str, Any]) -> bytes:
    """The course's REST Proxy body for one row, byte for byte."""
    return json.dumps({"records": [{"value": to_payload(row)}]}).encode()


def course_stream_body(stream: str, row: Mapping[str, Any]) -> bytes:
    """The course's PutRecord body for one row, byte for byte."""
    body = {"StreamName": stream, "Data": to_payload(row), "PartitionKey": PARTITION_KEY}
    return json.dumps(body).encode()


def course_body(mode: Mode, target: str, row: Mapping[str, Any]) -> bytes:
    return course_batch_body(row) if mode == "batch" else course_stream_body(target, row)


def course_route(mode: Mode, target: str) -> tuple[str, str]:
    """(method, path below the API URL) of the course's one-row request."""
    if mode == "batch":
        return "POST", f"/topics/{target}"
    return "PUT", f"/streams/{target}/record"


def value_bytes(row: Mapping[str, Any]) -> bytes:
    """A row's compact JSON payload, as it is spliced into load-mode bodies (and stored).

    Same bytes as :func:`pinpipe.records.dumps`.
    """
    return orjson.dumps(to_payload(row))


_KEY_FIELD = b',"partition-key":' + json.dumps(PARTITION_KEY).encode() + b"}"


def batch_body(values: Sequence[bytes]) -> bytes:
    """REST Proxy v2 produce body of many rows (each already compact JSON)."""
    return b'{"records":[{"value":' + b'},{"value":'.join(values) + b"}]}"


def stream_body(values: Sequence[bytes]) -> bytes:
    """PutRecords body of many rows (each already compact JSON), partition key ``partition-1``."""
    return b'{"records":[{"data":' + (_KEY_FIELD + b',{"data":').join(values) + _KEY_FIELD + b"]}"


def load_body(mode: Mode, values: Sequence[bytes]) -> bytes:
    return batch_body(values) if mode == "batch" else stream_body(values)


def load_route(mode: Mode, target: str) -> tuple[str, str]:
    """(method, path below the API URL) of a load-mode request."""
    if mode == "batch":
        return "POST", f"/topics/{target}"
    return "PUT", f"/streams/{target}/records"
