"""The OpenAPI 3.1 document of every route, written by hand to match the handlers exactly.

Every operation lists each status it can answer with its body schema and media type (REST
Proxy errors as ``application/vnd.kafka.v2+json``, Kinesis-style errors as
``application/json``), so a schema-driven fuzzer can check conformance. The stage prefix is a
server variable (``/{stage}``) rather than a second copy of every path.
"""

from __future__ import annotations

from typing import Any

from pinpipe.api.errors import KAFKA_V2
from pinpipe.api.openapi_schemas import (
    JSON,
    KAFKA_BINARY,
    KAFKA_JSON,
    NAME,
    SCHEMAS,
    STR,
    STREAM,
    Schema,
    array,
    ref,
)

KAFKA_ERRORS = (400, 403, 404, 413, 415, 422, 429, 500, 503)
KINESIS_ERRORS = (400, 403, 404, 413, 415, 500, 503)

REASONS = {
    200: "OK",
    204: "No Content",
    400: "Malformed JSON (REST Proxy) / any client error (Kinesis-style, see __type)",
    403: "Missing or wrong x-api-key (when api.api_keys is set)",
    404: "Unknown topic (40401), partition (40402) or consumer instance (40403)",
    406: "Accept does not match the consumer's format (40601)",
    409: "Consumer instance exists (40902)",
    413: "Body over api.max_body_bytes or record over api.max_record_bytes",
    415: "Unsupported Content-Type",
    422: "Invalid request shape, name, partition (42202) or consumer config (42204)",
    429: "Backpressure: too many records pending (42901); see Retry-After",
    500: "Unexpected error (never expected)",
    503: "Broker unavailable; see Retry-After",
}


def _content(schema: Schema | None, *media: str) -> dict[str, Any]:
    return {m: {"schema": schema} if schema is not None else {} for m in media}


def _responses(ok: dict[int, dict[str, Any]], family: str, errors: tuple[int, ...]) -> Schema:
    responses: Schema = {}
    for status, content in ok.items():
        responses[str(status)] = {"description": REASONS[status]}
        if content:
            responses[str(status)]["content"] = content
    error, media = ("KafkaError", KAFKA_V2) if family == "kafka" else ("KinesisError", JSON)
    for status in errors:
        responses[str(status)] = {
            "description": REASONS[status],
            "content": _content(ref(error), media),
        }
        if status in (429, 503):
            responses[str(status)]["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return responses


def _path(name: str, pattern: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": pattern},
    }


def _query(name: str, schema: Schema, required: bool = False) -> Schema:
    return {"name": name, "in": "query", "required": required, "schema": schema}


IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
    "description": "A retry with the same key returns the first answer and writes nothing.",
}


def _op(
    summary: str,
    ok: dict[int, dict[str, Any]],
    family: str,
    errors: tuple[int, ...],
    *,
    parameters: list[Schema] | None = None,
    body: tuple[Schema, tuple[str, ...], bool] | None = None,
) -> Schema:
    op: Schema = {"summary": summary, "responses": _responses(ok, family, errors)}
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        schema, media, required = body
        op["requestBody"] = {"required": required, "content": _content(schema, *media)}
    return op


def _paths() -> dict[str, Schema]:
    kafka_json = (KAFKA_JSON, KAFKA_V2, JSON)
    consumer_json = (KAFKA_V2, KAFKA_JSON, JSON)
    kinesis_json = (JSON,)
    topic = _path("topic", NAME)
    group = _path("group", NAME)
    instance = [group, _path("name", NAME)]
    stream = _path("name", STREAM)
    no_content: dict[int, dict[str, Any]] = {204: {}}
    paths: dict[str, Schema] = {
        "/topics": {
            "get": _op(
                "List topic names", {200: _content(array(STR), KAFKA_V2)}, "kafka", (403, 500, 503)
            ),
        },
        "/topics/{topic}": {
            "parameters": [topic],
            "get": _op(
                "Describe a topic",
                {200: _content(ref("Topic"), KAFKA_V2)},
                "kafka",
                (403, 404, 422, 500, 503),
            ),
            "post": _op(
                "Produce records (REST Proxy v2, json embedded format)",
                {200: _content(ref("ProduceResponse"), KAFKA_V2)},
                "kafka",
                KAFKA_ERRORS,
                parameters=[IDEMPOTENCY],
                body=(ref("ProduceRequest"), kafka_json, True),
            ),
        },
        "/consumers/{group}": {
            "parameters": [group],
            "post": _op(
                "Create a consumer instance",
                {200: _content(ref("ConsumerInstance"), KAFKA_V2)},
                "kafka",
                (400, 403, 409, 413, 415, 422, 429, 500),
                body=(ref("CreateConsumerRequest"), consumer_json, False),
            ),
        },
        "/consumers/{group}/instances/{name}": {
            "parameters": instance,
            "delete": _op("Delete a consumer instance", no_content, "kafka", (403, 404, 500)),
        },
        "/consumers/{group}/instances/{name}/subscription": {
            "parameters": instance,
            "post": _op(
                "Subscribe to topics",
                no_content,
                "kafka",
                (400, 403, 404, 413, 415, 422, 500, 503),
                body=(ref("Subscription"), consumer_json, True),
            ),
            "get": _op(
                "The subscribed topics",
                {200: _content(ref("Subscribed"), KAFKA_V2)},
                "kafka",
                (403, 404, 500),
            ),
            "delete": _op("Unsubscribe", no_content, "kafka", (403, 404, 500)),
        },
        "/consumers/{group}/instances/{name}/records": {
            "parameters": instance,
            "get": _op(
                "Fetch records (at most 500; waits up to timeout ms for the first)",
                {200: _content(array(ref("ConsumerRecord")), KAFKA_JSON, KAFKA_BINARY)},
                "kafka",
                (403, 404, 406, 422, 500, 503),
                parameters=[
                    _query("max_bytes", {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}),
                    _query("timeout", {"type": "integer", "minimum": 0, "maximum": 30000}),
                ],
            ),
        },
        "/consumers/{group}/instances/{name}/offsets": {
            "parameters": instance,
            "post": _op(
                "Commit offsets (last consumed; empty body: everything fetched so far)",
                {200: {}},
                "kafka",
                (400, 403, 404, 413, 415, 422, 500, 503),
                body=(ref("OffsetCommit"), consumer_json, False),
            ),
            "get": _op(
                "Committed offsets of the assigned partitions",
                {200: _content(ref("CommittedOffsets"), KAFKA_V2)},
                "kafka",
                (403, 404, 500, 503),
            ),
        },
        "/streams": {
            "get": _op(
                "ListStreams",
                {200: _content(ref("StreamList"), JSON)},
                "kinesis",
                (400, 403, 500, 503),
                parameters=[
                    _query("ExclusiveStartStreamName", STR),
                    _query("Limit", {"type": "integer", "minimum": 1, "maximum": 10000}),
                ],
            ),
        },
        "/streams/{name}": {
            "parameters": [stream],
            "get": _op(
                "DescribeStream",
                {200: _content(ref("StreamDescription"), JSON)},
                "kinesis",
                (400, 403, 404, 500, 503),
            ),
            "post": _op(
                "CreateStream (ShardCount defaults to kinesis.shard_count, 1)",
                {200: _content(ref("Empty"), JSON)},
                "kinesis",
                KINESIS_ERRORS,
                body=(ref("CreateStream"), kinesis_json, False),
            ),
            "delete": _op(
                "DeleteStream",
                {200: _content(ref("Empty"), JSON)},
                "kinesis",
                (400, 403, 404, 500, 503),
            ),
        },
        "/streams/{name}/record": {
            "parameters": [stream],
            "put": _op(
                "PutRecord (stores the compact JSON of Data; PartitionKey is the key)",
                {200: _content(ref("PutRecordResult"), JSON)},
                "kinesis",
                KINESIS_ERRORS,
                parameters=[IDEMPOTENCY],
                body=(ref("PutRecord"), kinesis_json, True),
            ),
        },
        "/streams/{name}/records": {
            "parameters": [stream],
            "put": _op(
                "PutRecords (all or nothing)",
                {200: _content(ref("PutRecordsResult"), JSON)},
                "kinesis",
                KINESIS_ERRORS,
                parameters=[IDEMPOTENCY],
                body=(ref("PutRecords"), kinesis_json, True),
            ),
            "get": _op(
                "GetRecords",
                {200: _content(ref("GetRecordsResult"), JSON)},
                "kinesis",
                (400, 403, 404, 500, 503),
                parameters=[
                    _query("shard-iterator", STR, required=True),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 10000}),
                ],
            ),
        },
        "/streams/{name}/sharditerator": {
            "parameters": [stream],
            "get": _op(
                "GetShardIterator",
                {200: _content(ref("ShardIterator"), JSON)},
                "kinesis",
                (400, 403, 404, 500, 503),
                parameters=[
                    _query("shard-id", {"type": "string", "pattern": r"^shardId-[0-9]{1,12}$"}),
                    _query(
                        "type",
                        {
                            "enum": [
                                "TRIM_HORIZON",
                                "LATEST",
                                "AT_SEQUENCE_NUMBER",
                                "AFTER_SEQUENCE_NUMBER",
                            ]
                        },
                    ),
                    _query("sequence-number", {"type": "string", "pattern": "^[0-9]{1,129}$"}),
                ],
            ),
        },
        "/healthz": {
            "get": _op(
                "Liveness",
                {200: _content(ref("Health"), JSON)},
                "kafka",
                (500,),
            )
            | {"security": []},
        },
        "/metrics": {
            "get": _op(
                "Prometheus metrics",
                {200: _content(STR, "text/plain")},
                "kafka",
                (403, 500),
            ),
        },
        "/openapi.json": {
            "get": _op("This document", {200: _content({"type": "object"}, JSON)}, "kafka", (500,))
            | {"security": []},
        },
    }
    paths["/healthz"]["get"]["responses"]["503"] = {
        "description": "Starting or stopping",
        "content": _content(ref("Health"), JSON),
    }
    for item in paths.values():
        item["options"] = {
            "summary": "CORS preflight (API Gateway's {proxy+} mock)",
            "security": [],
            "responses": {"200": {"description": "CORS headers, empty body"}},
        }
    return paths


def document() -> Schema:
    """The OpenAPI 3.1 document served at ``/openapi.json``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pinpipe ingestion API",
            "version": "1",
            "description": (
                "Kafka REST Proxy v2 produce/consumer routes and Kinesis-style stream routes, as "
                "the course reaches them through API Gateway. Every path also answers under one "
                "stage prefix (/test/topics/...). Every response carries "
                "Access-Control-Allow-Origin: *."
            ),
        },
        "servers": [
            {"url": "/"},
            {
                "url": "/{stage}",
                "variables": {"stage": {"default": "test", "description": "API Gateway stage"}},
            },
        ],
        "security": [{}, {"ApiKey": []}],
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
        },
    }
