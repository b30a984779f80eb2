"""schemathesis against the API's own ``/openapi.json``: whatever it generates, no 5xx, every
error in its family's format, every response as documented, and nothing written for a refusal.

Two phases over every documented operation, positive and negative data each (schemathesis'
generation modes), every case sent with a random stage prefix (``/test``, ``/streaming_test``
or none):

* **random** — path parameters as generated: mostly unknown topics, streams and consumers;
* **pinned** — path parameters pinned to things that exist (the course's pin topic and stream,
  a subscribed consumer instance), so produce, put, subscribe, commit and read reach the
  writer and the broker and a refusal is a refusal of the body, not of the name. Deletes run
  last, on resources made for them.

Checks of every case: status < 500; schemathesis' conformance checks (status, Content-Type,
headers and body schema as documented; negative data refused, except by the CORS preflight,
which answers every path by design); any error body is Confluent's ``{"error_code", "message"}``
(REST Proxy routes) or AWS' ``{"__type", "message"}`` (``/streams`` routes) with a
``Retry-After`` where it is due; and after a 4xx the broker holds exactly what it held before
(topics, end offsets, the group's committed offsets).
"""

from __future__ import annotations

import asyncio
import collections
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.applications import Starlette

from pinpipe.api import create_app
from pinpipe.api.errors import KAFKA_V2, KINESIS_JSON, Problem
from pinpipe.api.openapi import document
from pinpipe.api.state import ApiState
from pinpipe.broker.embedded import EmbeddedLog
from pinpipe.config import EmbeddedLogSettings, Settings
from pinpipe.naming import KINDS, Names
from tests.api.conftest import serve
from tests.reliability.scale import SCALE

pytestmark = pytest.mark.slow

UID = "1232252d77df"
NAMES = Names(UID)
TOPIC = NAMES.topic("pin")
STREAM = NAMES.stream("pin")
GROUP = "students"
CONSUMER = "c"  # subscribed to TOPIC, reads from the earliest offset
VICTIM_CONSUMER = "victim"  # deleted by the pinned DELETE
VICTIM_STREAM = "streaming-victim"  # deleted by the pinned DELETE
STAGES = ("", "/test", "/streaming_test")
HOST = "http://testserver"
#: The longest a pinned fetch may wait for records (ms); the spec allows 30 s.
MAX_FETCH_WAIT_MS = 100
KINESIS_TYPES = frozenset(problem.value[3] for problem in Problem)
CONFORMANCE: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

AnyCase = Case[Any]
Snapshot = dict[str, tuple[tuple[int, ...], tuple[tuple[int, int], ...]]]


def snapshot(log: EmbeddedLog) -> Snapshot:
    """Every topic/stream with its end offsets and GROUP's committed offsets."""
    return {
        topic: (
            log.describe_topic(topic).end_offsets,
            tuple(sorted(log.committed(GROUP, topic).items())),
        )
        for topic in log.list_topics()
    }


def family(case: AnyCase) -> str:
    return "kinesis" if case.operation.path.startswith("/streams") else "kafka"


def check_error(case: AnyCase, response: schemathesis.Response) -> None:
    """A 4xx body in the format of the route's family, with Retry-After where it is due."""
    status = response.status_code
    media = response.headers.get("content-type", [""])[0].split(";", 1)[0].strip()
    body = json.loads(response.content)
    assert isinstance(body, dict), body
    retry_after = response.headers.get("retry-after")
    if family(case) == "kafka":
        assert media == KAFKA_V2, media
        assert set(body) == {"error_code", "message"}, body
        assert type(body["error_code"]) is int, body
        # Confluent's codes are the status and a sequence number (40401) or the status itself.
        assert str(body["error_code"]).startswith(str(status)), (status, body)
        due = body["error_code"] in (42901, 50301)  # backpressure, broker unavailable
    else:
        assert media == KINESIS_JSON, media
        assert set(body) == {"__type", "message"}, body
        assert body["__type"] in KINESIS_TYPES, body
        due = body["__type"] in ("ProvisionedThroughputExceededException", "ServiceUnavailable")
    assert isinstance(body["message"], str), body
    assert body["message"], body
    if due:  # says when to come back, in whole seconds
        assert retry_after is not None, body
        assert retry_after[0].isdigit(), retry_after
        assert int(retry_after[0]) >= 1, retry_after


def pinned_path(method: str, path: str) -> dict[str, str] | None:
    """Path parameters naming resources that exist (None: the operation has none)."""
    if path.startswith("/topics/{topic}"):
        return {"topic": TOPIC}
    if path == "/consumers/{group}":
        return {"group": GROUP}
    if path == "/consumers/{group}/instances/{name}":
        return {"group": GROUP, "name": VICTIM_CONSUMER}
    if path.startswith("/consumers/{group}/instances/{name}/"):
        return {"group": GROUP, "name": CONSUMER}
    if path == "/streams/{name}" and method == "DELETE":
        return {"name": VICTIM_STREAM}
    if path.startswith("/streams/{name}"):
        return {"name": STREAM}
    return None


def pinned_order(method: str, path: str) -> int:
    """Deletes after everything else; unsubscribing the reading consumer last of all."""
    if method != "DELETE":
        return 0
    return 2 if path.endswith("/subscription") else 1


def has_inputs(operation: Any, *, pinned: bool) -> bool:
    """Whether anything of the operation can be made invalid (else negative data is
    unsatisfiable: there is nothing to negate)."""
    parts = [operation.headers, operation.query, operation.body]
    if not pinned:
        parts.append(operation.path_parameters)
    return any(len(part) for part in parts)


class Fuzz:
    """The app over one embedded log, its resources, and the cases sent so far."""

    def __init__(self, log: EmbeddedLog, app: Starlette) -> None:
        self.log = log
        self.app = app
        self.asgi: Any = app  # schemathesis types ASGI apps with dict scopes; Starlette's differ
        self.counts: collections.Counter[tuple[str, str, str]] = collections.Counter()
        self.statuses: collections.Counter[int] = collections.Counter()
        self.writes_checked = 0

    def prepare(self) -> None:
        """Create the resources the pinned phase names."""
        with asgi.get_client(self.asgi) as client:
            consumers = {"Content-Type": KAFKA_V2}
            config: dict[str, Any] = {
                "name": CONSUMER,
                "format": "json",
                "auto.offset.reset": "earliest",
                "consumer.request.timeout.ms": MAX_FETCH_WAIT_MS,
            }
            victim: dict[str, Any] = {"name": VICTIM_CONSUMER, "format": "json"}
            for body in (config, victim):
                response = client.post(f"/consumers/{GROUP}", json=body, headers=consumers)
                assert response.status_code == 200, response.text
            response = client.post(
                f"/consumers/{GROUP}/instances/{CONSUMER}/subscription",
                json={"topics": [TOPIC]},
                headers=consumers,
            )
            assert response.status_code == 204, response.text
            response = client.post(
                f"/topics/{TOPIC}",
                json={"records": [{"value": {"index": i}} for i in range(5)]},
                headers={"Content-Type": "application/vnd.kafka.json.v2+json"},
            )
            assert response.status_code == 200, response.text
            response = client.post(f"/streams/{VICTIM_STREAM}", json={})
            assert response.status_code == 200, response.text

    def shard_iterator(self) -> str:
        """A fresh TRIM_HORIZON iterator of STREAM (they expire after 5 minutes)."""
        with asgi.get_client(self.asgi) as client:
            response = client.get(
                f"/streams/{STREAM}/sharditerator",
                params={"shard-id": "shardId-000000000000", "type": "TRIM_HORIZON"},
            )
            assert response.status_code == 200, response.text
            iterator: str = response.json()["ShardIterator"]
        return iterator

    def send(self, phase: str, case: AnyCase, stage: str) -> None:
        if case.operation.path.endswith("/records") and case.method == "GET":
            timeout = (case.query or {}).get("timeout")
            if isinstance(timeout, int) and not isinstance(timeout, bool):
                case.query["timeout"] = min(timeout, MAX_FETCH_WAIT_MS)
        mode = case.meta.generation.mode if case.meta is not None else GenerationMode.POSITIVE
        self.counts[(phase, case.operation.label, mode.value)] += 1
        before = snapshot(self.log)
        response = case.call(base_url=HOST + stage, timeout=60)
        self.statuses[response.status_code] += 1
        checks = list(CONFORMANCE)
        if case.method != "OPTIONS":
            checks.append(negative_data_rejection)
        case.validate_response(response, checks=checks)
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            check_error(case, response)
            assert snapshot(self.log) == before, f"a refused request wrote: {response.text}"
            if case.method in ("POST", "PUT", "DELETE"):
                self.writes_checked += 1

    def run(
        self, phase: str, strategy: st.SearchStrategy[AnyCase], examples: int
    ) -> Callable[[], None]:
        @settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.filter_too_much,
                HealthCheck.data_too_large,
                HealthCheck.large_base_example,
            ],
        )
        @given(case=strategy, stage=st.sampled_from(STAGES))
        def fuzz(case: AnyCase, stage: str) -> None:
            self.send(phase, case, stage)

        return fuzz


@pytest.fixture
def log(tmp_path: Path) -> Iterator[EmbeddedLog]:
    # durability "none": the fuzz checks what is written, not that it survives a power cut.
    with EmbeddedLog(tmp_path / "broker.db", EmbeddedLogSettings(durability="none")) as log:
        for kind in KINDS:
            log.create_topic(NAMES.topic(kind))
            log.create_topic(NAMES.stream(kind))
        yield log


def test_schemathesis_finds_no_5xx_no_foreign_error_and_no_write_on_refusal(
    log: EmbeddedLog, tmp_path: Path
) -> None:
    settings_ = Settings(home=tmp_path, user_id=UID, broker_url=f"embedded://{log.path}")
    app = create_app(settings_, topics=log, streams=log)
    started = time.monotonic()
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        fuzz = Fuzz(log, app)
        fuzz.prepare()
        results = list(schema.get_all_operations())
        operations = [result.ok() for result in results if isinstance(result, Ok)]
        assert len(operations) == len(results), [r for r in results if not isinstance(r, Ok)]
        modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        for operation in operations:
            for mode in modes:
                if mode is GenerationMode.NEGATIVE and not has_inputs(operation, pinned=False):
                    continue
                strategy = operation.as_strategy(generation_mode=mode)
                fuzz.run("random", strategy, SCALE.fuzz_examples)()
        pinned = [op for op in operations if op.method.upper() != "OPTIONS"]
        pinned = [op for op in pinned if pinned_path(op.method.upper(), op.path) is not None]
        pinned.sort(key=lambda op: pinned_order(op.method.upper(), op.path))
        iterator = fuzz.shard_iterator()
        for operation in pinned:
            method = operation.method.upper()
            path = pinned_path(method, operation.path)
            query = {"shard-iterator": iterator} if operation.path.endswith("/records") else None
            query = query if method == "GET" and operation.path.startswith("/streams") else None
            for mode in modes:
                if mode is GenerationMode.NEGATIVE and not has_inputs(operation, pinned=True):
                    continue
                strategy = operation.as_strategy(
                    generation_mode=mode, path_parameters=path, query=query
                )
                fuzz.run("pinned", strategy, SCALE.fuzz_examples)()
    finally:
        asgi.shutdown_lifespans()  # the app's lifespan: flush and stop its writer
    seconds = time.monotonic() - started
    total = sum(fuzz.counts.values())
    labels = {label for _, label, _ in fuzz.counts}
    by_phase = collections.Counter(dict.fromkeys(("random", "pinned"), 0))
    for (phase, _, _), n in fuzz.counts.items():
        by_phase[phase] += n
    documented = sum(len(set(item) - {"parameters"}) for item in document()["paths"].values())
    print(
        f"\nschemathesis: {total} cases over {len(labels)} operations (of {documented} "
        f"documented; it leaves out GET /openapi.json, where it reads the schema) in "
        f"{seconds:.1f} s ({dict(by_phase)}); statuses {dict(sorted(fuzz.statuses.items()))}; "
        f"{fuzz.writes_checked} refused writes checked to write nothing"
    )
    assert len(labels) == len(operations), sorted(labels)
    assert total >= SCALE.fuzz_min_cases, total
    state: ApiState = app.state.pinpipe
    server_errors = {k: n for k, n in state.metrics.requests.items() if k[2] >= 500}
    assert not server_errors, server_errors
    # The pinned phase did reach the broker: its accepted produce/put requests wrote records.
    assert log.describe_topic(TOPIC).end_offsets[0] > 5
    assert log.describe_topic(STREAM).end_offsets[0] > 0


# -- what the fuzz found (fixed; kept as regression tests) ------------------------------------


def call(log: EmbeddedLog, home: Path, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request to a fresh app over ``log`` (its lifespan around it)."""
    settings_ = Settings(home=home, user_id=UID, broker_url=f"embedded://{log.path}")
    app = create_app(settings_, topics=log, streams=log)

    async def request() -> httpx.Response:
        async with serve(app, allow_5xx=True) as client:
            return await client.request(method, url, **kwargs)

    return asyncio.run(request())


@pytest.mark.parametrize(
    "setting", [{"format": []}, {"format": {"json": 1}}, {"auto.offset.reset": ["earliest"]}]
)
def test_an_unhashable_consumer_setting_is_refused_not_a_500(
    log: EmbeddedLog, tmp_path: Path, setting: dict[str, Any]
) -> None:
    headers = {"Content-Type": KAFKA_V2}
    response = call(log, tmp_path, "POST", f"/consumers/{GROUP}", json=setting, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error_code"] == 42204


@pytest.mark.parametrize("body", [{"name": "x", "id": "bad id*"}, {"name": None}, {"id": None}])
def test_a_malformed_consumer_name_is_refused_as_documented(
    log: EmbeddedLog, tmp_path: Path, body: dict[str, Any]
) -> None:
    headers = {"Content-Type": KAFKA_V2}
    response = call(log, tmp_path, "POST", f"/consumers/{GROUP}", json=body, headers=headers)
    assert response.status_code == 422, response.text


def test_an_empty_integer_query_parameter_is_refused_as_documented(
    log: EmbeddedLog, tmp_path: Path
) -> None:
    response = call(log, tmp_path, "GET", "/streams", params={"Limit": ""})
    assert response.status_code == 400, response.text
    assert response.json()["__type"] == "ValidationException"


def test_a_malformed_sequence_number_is_refused_as_documented(
    log: EmbeddedLog, tmp_path: Path
) -> None:
    params = {"type": "TRIM_HORIZON", "sequence-number": "abc"}
    response = call(log, tmp_path, "GET", f"/streams/{STREAM}/sharditerator", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["__type"] in ("InvalidArgumentException", "ValidationException")
