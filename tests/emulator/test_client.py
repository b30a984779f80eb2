"""The sender: fail-fast checks, retries that honour Retry-After, idempotency across lost
answers, the errors that end a run, and the token bucket."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from pinpipe.emulator import (
    ApiRejectedError,
    ApiUnreachableError,
    EmulationPlan,
    Emulator,
    EmulatorError,
    RetryPolicy,
)
from pinpipe.emulator.client import TokenBucket, retry_after
from tests.emulator.conftest import FakeClock, LocalApiFactory, landed, plan_for

pytestmark = pytest.mark.anyio


Fault = Callable[[httpx.AsyncBaseTransport, httpx.Request, int], Awaitable[httpx.Response]]


class Flaky(httpx.AsyncBaseTransport):
    """Wraps the API's transport; ``fault(inner, request, attempt)`` forwards, answers
    itself or fails (``attempt`` counts the tries of the request's idempotency key)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, fault: Fault) -> None:
        self.inner = inner
        self.fault = fault
        self.keys: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return await self.inner.handle_async_request(request)
        key = request.headers["idempotency-key"]
        self.keys.append(key)
        return await self.fault(self.inner, request, self.keys.count(key))


async def test_unreachable_api_fails_fast(synthetic_source: str, user_id: str) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("All connection attempts failed", request=request)

    emulator = Emulator(
        plan_for("batch", user_id, count=1),
        synthetic_source,
        transport=httpx.MockTransport(refuse),
    )
    with pytest.raises(ApiUnreachableError) as caught:
        await emulator.run()
    assert "cannot reach the API at http://testserver" in str(caught.value)
    assert "pinpipe api" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("status", "error", "text"),
    [
        (404, ApiRejectedError, "is not an ingestion API"),
        (403, ApiRejectedError, "refused the request (403)"),
        (502, ApiUnreachableError, "answered 502"),
    ],
)
async def test_wrong_api_fails_fast(
    synthetic_source: str, user_id: str, status: int, error: type[Exception], text: str
) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(status, json={"message": "no"}))
    emulator = Emulator(plan_for("stream", user_id, count=1), synthetic_source, transport=transport)
    with pytest.raises(error) as caught:
        await emulator.run()
    assert text in str(caught.value)


@pytest.mark.parametrize(
    ("mode", "command"), [("batch", "pinpipe topics create"), ("stream", "pinpipe streams create")]
)
async def test_unknown_topic_says_how_to_create_it(
    local_api: LocalApiFactory, synthetic_source: str, user_id: str, mode: Any, command: str
) -> None:
    async with local_api(create=False) as api:
        for faithful in (True, False):
            plan = plan_for(mode, user_id, faithful=faithful, sleep=False, count=20)
            emulator = Emulator(plan, synthetic_source, transport=api.transport)
            with pytest.raises(ApiRejectedError) as caught:
                await emulator.run()
            target = next(t for t in plan.targets.values() if repr(t) in caught.value.message)
            assert f"{target!r} does not exist at http://testserver" in caught.value.message
            assert f"{command} {target}" in (caught.value.hint or "")


async def test_api_key(local_api: LocalApiFactory, synthetic_source: str, user_id: str) -> None:
    async with local_api(api_keys=["s3cret"]) as api:
        plan = plan_for("batch", user_id, count=3)
        with pytest.raises(ApiRejectedError, match="403"):
            await Emulator(plan, synthetic_source, transport=api.transport).run()
        plan = plan_for("batch", user_id, count=3, api_key="s3cret")
        summary = await Emulator(plan, synthetic_source, transport=api.transport).run()
    assert summary.records == 9


@pytest.mark.parametrize("mode", ["batch", "stream"])
async def test_429_retry_after_is_honoured(
    local_api: LocalApiFactory, synthetic_source: str, user_id: str, clock: FakeClock, mode: Any
) -> None:
    async def throttle_first(
        inner: httpx.AsyncBaseTransport, request: httpx.Request, attempt: int
    ) -> httpx.Response:
        if attempt == 1 and len(flaky.keys) == 1:
            if mode == "batch":
                body = {"error_code": 42901, "message": "slow down"}
                return httpx.Response(429, headers={"Retry-After": "7"}, json=body)
            body = {"__type": "ProvisionedThroughputExceededException", "message": "slow"}
            return httpx.Response(400, headers={"Retry-After": "7"}, json=body)
        return await inner.handle_async_request(request)

    async with local_api() as api:
        flaky = Flaky(api.transport, throttle_first)
        plan = plan_for(mode, user_id, count=40, batch_size=10, concurrency=2)
        summary = await Emulator(plan, synthetic_source, transport=flaky, clock=clock).run()
        async with api.client() as client:
            stored = await landed(client, plan)
    assert 7 in clock.sleeps  # the server's Retry-After, longer than the first backoff
    assert summary.retried == 1 and summary.failed == 0
    assert {t: len(v) for t, v in stored.items()} == dict.fromkeys(plan.targets.values(), 40)


async def test_backpressure_of_a_real_api(
    local_api: LocalApiFactory, synthetic_source: str, user_id: str
) -> None:
    """A tiny api.max_pending_records makes concurrent requests meet 429 + Retry-After."""
    async with local_api(max_pending_records=1) as api:
        seen: list[int] = []

        async def watch(
            inner: httpx.AsyncBaseTransport, request: httpx.Request, attempt: int
        ) -> httpx.Response:
            response = await inner.handle_async_request(request)
            seen.append(response.status_code)
            return response

        plan = plan_for("batch", user_id, count=40, batch_size=20, concurrency=3)
        summary = await Emulator(
            plan, synthetic_source, transport=Flaky(api.transport, watch)
        ).run()
        async with api.client() as client:
            stored = await landed(client, plan)
    assert 429 in seen and summary.retried >= 1 and summary.failed == 0
    assert {t: len(v) for t, v in stored.items()} == dict.fromkeys(plan.targets.values(), 40)


@pytest.mark.parametrize("mode", ["batch", "stream"])
async def test_lost_answers_are_retried_without_duplicates(
    local_api: LocalApiFactory, synthetic_source: str, user_id: str, clock: FakeClock, mode: Any
) -> None:
    """The API stores a request, then the connection drops before the answer: the retry
    carries the same Idempotency-Key and the API replays instead of storing it again."""

    async def drop_answer(
        inner: httpx.AsyncBaseTransport, request: httpx.Request, attempt: int
    ) -> httpx.Response:
        response = await inner.handle_async_request(request)
        if attempt == 1 and len(set(flaky.keys)) % 2:  # every other request, first attempt
            raise httpx.ReadError("connection reset by peer", request=request)
        return response

    async with local_api() as api:
        flaky = Flaky(api.transport, drop_answer)
        plan = plan_for(mode, user_id, count=100, batch_size=7, concurrency=3)
        summary = await Emulator(plan, synthetic_source, transport=flaky, clock=clock).run()
        async with api.client() as client:
            stored = await landed(client, plan)
    retried = [k for k, n in Counter(flaky.keys).items() if n > 1]
    assert retried and summary.retried == len(retried) == summary.replayed
    assert summary.failed == 0
    assert {t: len(v) for t, v in stored.items()} == dict.fromkeys(plan.targets.values(), 100)


async def test_bounded_attempts_fail_the_records(synthetic_source: str, user_id: str) -> None:
    def unavailable(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=[])
        return httpx.Response(503, headers={"Retry-After": "1"}, json={"message": "down"})

    clock = FakeClock()
    plan = plan_for("batch", user_id, count=5, batch_size=5, retry=RetryPolicy(attempts=3))
    emulator = Emulator(
        plan, synthetic_source, transport=httpx.MockTransport(unavailable), clock=clock
    )
    summary = await emulator.run()
    assert summary.failed == 15 and summary.records == 0
    assert summary.requests == 9 and summary.retried == 6
    assert "503" in summary.errors[0]


async def test_a_refused_record_fails_alone(
    local_api: LocalApiFactory, synthetic_source: str, user_id: str
) -> None:
    """A 4xx that only concerns some records (here: too large) fails those, not the run."""
    async with local_api(max_record_bytes=200) as api:
        plan = plan_for("batch", user_id, count=4, batch_size=1, concurrency=1)
        summary = await Emulator(plan, synthetic_source, transport=api.transport).run()
    assert summary.sent[plan.target("pin")] == 0  # pin rows are ~400 bytes
    assert summary.sent[plan.target("geo")] == 4 and summary.failed == 4
    assert "413" in summary.errors[0]


def test_retry_after_forms() -> None:
    request = httpx.Request("POST", "http://x")
    seconds = httpx.Response(429, headers={"Retry-After": "3"}, request=request)
    assert retry_after(seconds) == 3
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    date = httpx.Response(503, headers={"Retry-After": later}, request=request)
    assert 25 <= (retry_after(date) or 0) <= 30
    huge = httpx.Response(503, headers={"Retry-After": "86400"}, request=request)
    assert retry_after(huge) == 60
    assert retry_after(httpx.Response(503, request=request)) is None
    assert retry_after(httpx.Response(503, headers={"Retry-After": "soon"})) is None


def test_token_bucket() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100, clock, burst=10)
    assert bucket.reserve(10) == 0  # the burst
    assert bucket.reserve(50) == pytest.approx(0.5)  # into debt: wait it off
    assert bucket.reserve(10) == pytest.approx(0.6)  # queued behind the debt
    clock.now += 0.6
    assert bucket.reserve(1) == pytest.approx(0.01)


def test_plan_validation() -> None:
    for bad in (
        {"api_url": "localhost:8082"},
        {"count": 0},
        {"batch_size": 501, "mode": "stream"},
        {"concurrency": 0},
        {"rate": 0},
        {"run_id": "a b"},
    ):
        options: dict[str, Any] = {"mode": "batch", "api_url": "http://x", "user_id": "u"} | bad
        with pytest.raises(EmulatorError):
            EmulationPlan(**options)
