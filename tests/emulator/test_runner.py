"""Whole runs against the API in-process (embedded log), read back through the API."""

from __future__ import annotations

import time
from collections import Counter
from itertools import islice
from typing import Any

import httpx
import orjson
import pytest

from pinpipe.emulator import EmulationPlan, Emulator, course_sequence, load_sequence
from pinpipe.emulator.payloads import value_bytes
from pinpipe.naming import KINDS
from pinpipe.source import SourceReader
from tests.emulator.conftest import LocalApiFactory, landed, plan_for

pytestmark = pytest.mark.anyio

COURSE_FIRST = [7528, 2863, 5730, 8304, 8731]


def expected_load(
    plan: EmulationPlan, source: str, count: int | None = None
) -> dict[str, Counter[bytes]]:
    """Per topic, the compact JSON of every row the plan sends in its first ``count``
    iterations (a multiset: rows repeat)."""
    count = count or plan.count
    assert count is not None
    with SourceReader(source) as reader:
        spans = [reader.key_range(kind) for kind in KINDS]
        low = min(s[0] for s in spans if s)
        high = max(s[1] for s in spans if s)
        indexes = list(islice(load_sequence(plan.seed, low, high), count))
        expected = {}
        for kind in KINDS:
            rows = reader.rows(kind, indexes)
            expected[plan.target(kind)] = Counter(
                value_bytes(rows[i]) for i in indexes if i in rows
            )
    return expected


def as_counters(stored: dict[str, list[Any]]) -> dict[str, Counter[bytes]]:
    return {t: Counter(orjson.dumps(v) for v in values) for t, values in stored.items()}


@pytest.mark.parametrize("mode", ["batch", "stream"])
async def test_faithful_acceptance(
    local_api: LocalApiFactory, reference_source: str, user_id: str, mode: Any
) -> None:
    """--faithful --no-sleep --count 5 lands rows 7528, 2863, 5730, 8304, 8731 on each topic
    (stream), in that order."""
    async with local_api() as api:
        plan = plan_for(mode, user_id, faithful=True, sleep=False, count=5)
        summary = await Emulator(plan, reference_source, transport=api.transport).run()
        async with api.client() as client:
            stored = await landed(client, plan)
    assert summary.iterations == 5 and summary.failed == 0 and summary.requests == 15
    for kind in KINDS:
        key = "index" if kind == "pin" else "ind"
        assert [row[key] for row in stored[plan.target(kind)]] == COURSE_FIRST
    geo = stored[plan.target("geo")][0]
    assert geo["timestamp"] == "2020-08-28 03:52:47" and geo["country"] == "Albania"
    assert stored[plan.target("pin")][0]["poster_name"] == "User Info Error"


async def test_partial_dump_rows_are_skipped_and_counted(
    local_api: LocalApiFactory, reference_source: str, user_id: str
) -> None:
    """The pin reference file holds 1,959 of 11,154 rows: the course's first 1,032 indexes are
    all there (students posted them), later ones are not all there."""
    count = 1_045
    indexes = [n for _, n in islice(course_sequence(), count)]
    with SourceReader(reference_source) as reader:
        have = set(reader.rows("pin", indexes))
    missing = [n for n in indexes if n not in have]
    assert missing  # 3984 at iteration 1032 is the first
    warnings: list[str] = []
    async with local_api() as api:
        plan = plan_for("batch", user_id, faithful=True, sleep=False, count=count)
        emulator = Emulator(
            plan, reference_source, transport=api.transport, on_warning=warnings.append
        )
        summary = await emulator.run()
        async with api.client() as client:
            stored = await landed(client, plan)
    pin, geo, user = (plan.target(k) for k in KINDS)
    assert summary.skipped == {pin: len(missing), geo: 0, user: 0}
    assert summary.sent == {pin: count - len(missing), geo: count, user: count}
    assert [r["index"] for r in stored[pin]] == [n for n in indexes if n in have]
    assert [r["ind"] for r in stored[geo]] == indexes
    assert f"pinterest_data has no row {missing[0]}" in warnings[0]
    assert len(warnings) == min(len(missing), 10) + (len(missing) >= 10)


@pytest.mark.parametrize("mode", ["batch", "stream"])
async def test_load_mode_lands_exactly_the_plan(
    local_api: LocalApiFactory, synthetic_source: str, user_id: str, mode: Any
) -> None:
    keys: list[str] = []

    async with local_api() as api:

        class Recording(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                if "idempotency-key" in request.headers:
                    keys.append(request.headers["idempotency-key"])
                return await api.transport.handle_async_request(request)

        plan = plan_for(mode, user_id, count=700, batch_size=64, concurrency=4, seed=5)
        summary = await Emulator(plan, synthetic_source, transport=Recording()).run()
        async with api.client() as client:
            stored = await landed(client, plan)
    assert summary.sent == dict.fromkeys(plan.targets.values(), 700)
    assert summary.requests == len(keys) == len(set(keys)) == 3 * 11  # ceil(700 / 64)
    assert summary.failed == summary.retried == summary.unsent == 0
    assert as_counters(stored) == expected_load(plan, synthetic_source)
    assert summary.latency_ms["p50"] <= summary.latency_ms["p95"] <= summary.latency_ms["p99"]


async def test_load_mode_over_a_partial_dump(
    local_api: LocalApiFactory, reference_source: str, user_id: str
) -> None:
    async with local_api() as api:
        plan = plan_for("stream", user_id, count=500, batch_size=100, seed=9)
        summary = await Emulator(
            plan, reference_source, transport=api.transport, on_warning=lambda _: None
        ).run()
        async with api.client() as client:
            stored = await landed(client, plan)
    expected = expected_load(plan, reference_source)
    assert as_counters(stored) == expected
    pin = plan.target("pin")
    assert summary.skipped[pin] == 500 - summary.sent[pin] > 0


async def test_rate_limit_holds(
    local_api: LocalApiFactory, synthetic_source: str, user_id: str
) -> None:
    """900 records at 3,000 records/s, with a burst of 300: at least 0.2 s, not much more."""
    async with local_api() as api:
        plan = plan_for("batch", user_id, count=300, batch_size=10, concurrency=4, rate=3_000)
        started = time.monotonic()
        summary = await Emulator(plan, synthetic_source, transport=api.transport).run()
        elapsed = time.monotonic() - started
    assert summary.records == 900
    assert 0.2 <= summary.seconds <= elapsed < 10
    assert summary.records_per_second <= 3_000 * 1.5


async def test_stop_finishes_in_flight_and_sends_nothing_twice(
    local_api: LocalApiFactory, synthetic_source: str, user_id: str
) -> None:
    async with local_api() as api:
        plan = plan_for("batch", user_id, count=100_000, batch_size=20, concurrency=4, rate=5_000)

        def stop_early(tally: Any) -> None:
            if tally.records >= 300:
                emulator.stop()

        emulator = Emulator(plan, synthetic_source, transport=api.transport, on_progress=stop_early)
        summary = await emulator.run()
        async with api.client() as client:
            stored = await landed(client, plan)
    assert summary.interrupted and summary.failed == 0
    assert 300 <= summary.records < 3 * 100_000
    assert {t: len(v) for t, v in stored.items()} == summary.sent  # what it says it sent
    planned = expected_load(plan, synthetic_source, summary.iterations)
    for target, values in as_counters(stored).items():
        assert not values - planned[target]  # each planned row at most as often as planned
    assert summary.records + summary.unsent <= 3 * summary.iterations


async def test_duration_ends_the_run(
    local_api: LocalApiFactory, synthetic_source: str, user_id: str
) -> None:
    async with local_api() as api:
        plan = plan_for("stream", user_id, duration=0.5, batch_size=10, rate=2_000)
        summary = await Emulator(plan, synthetic_source, transport=api.transport).run()
    assert 0.4 <= summary.seconds < 5
    assert summary.records > 0 and not summary.interrupted and summary.unsent == 0
    assert summary.records == 3 * summary.iterations


async def test_stopped_before_start(synthetic_source: str, user_id: str) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json=[]))
    emulator = Emulator(plan_for("batch", user_id, count=10), synthetic_source, transport=transport)
    emulator.stop()
    summary = await emulator.run()
    assert summary.interrupted and summary.records == 0 and summary.iterations == 0
