"""The course's sequence (SPEC §2.2, §9.1), its sleeps on an injected clock, and the exact
bytes and headers the faithful emulator posts for a row (SPEC §2.3–2.4)."""

from __future__ import annotations

import json
import random
from datetime import datetime
from itertools import islice
from typing import Any

import httpx
import pytest

from pinpipe.emulator import (
    Emulator,
    course_high,
    course_sequence,
    load_sequence,
    run_emulation,
)
from pinpipe.emulator.faithful import COURSE_HIGH, COURSE_ROWS
from pinpipe.naming import KINDS
from pinpipe.source import SourceReader
from tests.emulator.conftest import FakeClock, plan_for

FIRST_FIVE = [(0, 7528), (1, 2863), (1, 5730), (1, 8304), (0, 8731)]


def course_pairs(n: int) -> list[tuple[int, int]]:
    """What the course's script draws: random.seed(100), then randrange(0, 2)/randint(0, 11000)."""
    rng = random.Random(100)
    return [(rng.randrange(0, 2), rng.randint(0, 11000)) for _ in range(n)]


def test_course_sequence_is_the_courses() -> None:
    assert list(islice(course_sequence(), 5)) == FIRST_FIVE
    assert list(islice(course_sequence(), 30)) == course_pairs(30)
    assert list(islice(course_sequence(100, 11_000), 30)) == course_pairs(30)


def test_upper_bound_scales_with_the_source_size() -> None:
    assert course_high(COURSE_ROWS) == COURSE_HIGH == 11_000
    assert course_high(1_000) == 986
    assert course_high(2 * COURSE_ROWS) == 22_000
    assert course_high(1) == 0
    with pytest.raises(ValueError, match="positive"):
        course_high(0)
    assert all(0 <= i <= 986 for _, i in islice(course_sequence(100, 986), 2_000))


def test_load_sequence_is_seeded() -> None:
    first = list(islice(load_sequence(7, 10, 20), 100))
    assert first == list(islice(load_sequence(7, 10, 20), 100))
    assert first != list(islice(load_sequence(8, 10, 20), 100))
    assert set(first) <= set(range(10, 21))


class Recorder:
    """An API stand-in that records every request and answers like the REST proxy/Kinesis."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "GET":
            return httpx.Response(200, json=[])
        if "/streams/" in request.url.path:
            return httpx.Response(200, json={"SequenceNumber": "0", "ShardId": "shardId-0"})
        return httpx.Response(200, json={"offsets": [{"partition": 0, "offset": 0}]})

    def posts(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.method != "GET"]


def course_row(reader: SourceReader, kind: Any, n: int) -> dict[str, Any]:
    """Saab's send_data_to_s3: datetimes formatted "%Y-%m-%d %H:%M:%S" in place."""
    row = reader.row(kind, n)
    assert row is not None
    return {
        k: v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, datetime) else v for k, v in row.items()
    }


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["batch", "stream"])
async def test_faithful_sleeps_and_bytes(
    mode: Any, reference_source: str, clock: FakeClock, user_id: str
) -> None:
    recorder = Recorder()
    plan = plan_for(mode, user_id, faithful=True, count=5, run_id="r1")
    emulator = Emulator(
        plan, reference_source, clock=clock, transport=httpx.MockTransport(recorder)
    )
    summary = await emulator.run()

    assert clock.sleeps == [0, 1, 1, 1, 0]  # sleep first, then the row, as the course does
    assert summary.iterations == 5 and summary.records == 15 and summary.failed == 0
    posts = recorder.posts()
    assert len(posts) == 15  # one request per row, pin -> geo -> user per iteration
    with SourceReader(reference_source) as reader:
        sent = [(i, n, k) for i, (_, n) in enumerate(FIRST_FIVE) for k in KINDS]
        for request, (iteration, n, kind) in zip(posts, sent, strict=True):
            row = course_row(reader, kind, n)
            if mode == "batch":
                assert request.method == "POST"
                assert request.url.path == f"/topics/{user_id}.{kind}"
                assert request.headers["content-type"] == "application/vnd.kafka.json.v2+json"
                assert request.content == json.dumps({"records": [{"value": row}]}).encode()
            else:
                stream = f"streaming-{user_id}-{kind}"
                assert request.method == "PUT"
                assert request.url.path == f"/streams/{stream}/record"
                assert request.headers["content-type"] == "application/json"
                body = {"StreamName": stream, "Data": row, "PartitionKey": "partition-1"}
                assert request.content == json.dumps(body).encode()
            assert (
                request.headers["idempotency-key"] == f"emu-r1-100-{plan.target(kind)}-{iteration}"
            )
    # SPEC §1.5: the first geo row as the course posts it
    geo = json.loads(posts[1].content)
    value = geo["records"][0]["value"] if mode == "batch" else geo["Data"]
    assert value == {
        "ind": 7528,
        "timestamp": "2020-08-28 03:52:47",
        "latitude": -89.9787,
        "longitude": -173.293,
        "country": "Albania",
    }
    assert posts[0].content.isascii()  # ensure_ascii, as json.dumps defaults to


def test_no_sleep_keeps_the_sequence(reference_source: str, clock: FakeClock, user_id: str) -> None:
    recorder = Recorder()
    plan = plan_for("batch", user_id, faithful=True, sleep=False, count=30)
    summary = run_emulation(
        plan, reference_source, clock=clock, transport=httpx.MockTransport(recorder)
    )
    assert clock.sleeps == []
    assert summary.iterations == 30
    pins = [json.loads(r.content)["records"][0]["value"]["index"] for r in recorder.posts()[::3]]
    assert pins == [n for _, n in course_pairs(30)]
