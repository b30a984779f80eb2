"""The emulator against a real ``pinpipe api`` process: the course's acceptance, and the kill
test (SIGKILL the API mid-run, restart it, and nothing is lost or stored twice)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pinpipe.broker.embedded import EmbeddedLog
from pinpipe.emulator import (
    EmulationPlan,
    EmulationSummary,
    Emulator,
    RetryPolicy,
    Tally,
    run_emulation,
)
from pinpipe.naming import KINDS
from tests.emulator.conftest import landed
from tests.emulator.servers import ApiServer, api_server
from tests.emulator.test_runner import COURSE_FIRST, expected_load

pytestmark = [pytest.mark.integration]


@pytest.fixture
def server(tmp_path: Path, user_id: str) -> Iterator[ApiServer]:
    with api_server(tmp_path / "api", user_id) as running:
        yield running


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["batch", "stream"])
async def test_faithful_acceptance_over_http(
    server: ApiServer, reference_source: str, user_id: str, mode: Any
) -> None:
    """Through a stage prefix, as the course's invoke URL has one."""
    plan = EmulationPlan(mode, f"{server.url}/test", user_id, faithful=True, sleep=False, count=5)
    summary = await Emulator(plan, reference_source).run()
    assert summary.records == 15 and summary.failed == 0
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        stored = await landed(client, plan)
    for kind in KINDS:
        key = "index" if kind == "pin" else "ind"
        assert [row[key] for row in stored[plan.target(kind)]] == COURSE_FIRST


def read_log(path: Path, topic: str) -> list[bytes]:
    with EmbeddedLog(path) as log:
        values: list[bytes] = []
        while batch := log.read(topic, 0, len(values), 10_000):
            values += [record.value for record in batch]
    return values


@pytest.mark.slow
@pytest.mark.timeout(90)
@pytest.mark.parametrize("mode", ["batch", "stream"])
def test_kill_the_api_mid_run(
    server: ApiServer, synthetic_source: str, user_id: str, mode: Any
) -> None:
    """3,000 iterations in batches of 50 on 4 connections; the API is SIGKILLed after some
    records landed and restarted on the same port and file. Every planned row is stored
    exactly once, and the summary reports no failure."""
    plan = EmulationPlan(
        mode,
        server.url,
        user_id,
        count=3_000,
        batch_size=50,
        concurrency=4,
        rate=3_000,  # ~3 s of sending, so the kill lands mid-run
        retry=RetryPolicy(attempts=40, base=0.05, cap=0.5, timeout=5),
    )
    progress = {"records": 0}
    outcome: dict[str, Any] = {}

    def watch(tally: Tally) -> None:
        progress["records"] = tally.records

    def emulate() -> None:
        try:
            outcome["summary"] = run_emulation(plan, synthetic_source, on_progress=watch)
        except BaseException as exc:
            outcome["error"] = exc

    started = time.monotonic()
    thread = threading.Thread(target=emulate, name="emulator", daemon=True)
    thread.start()
    while progress["records"] < 2_000:
        assert thread.is_alive() and time.monotonic() - started < 20, "no progress"
        time.sleep(0.01)
    server.kill()
    killed_at = progress["records"]
    server.start()  # same port, same broker file
    thread.join(60)
    assert not thread.is_alive(), "the emulator did not finish"
    assert "error" not in outcome, outcome.get("error")
    summary: EmulationSummary = outcome["summary"]

    assert killed_at < 9_000, "the run ended before the kill"
    assert summary.failed == 0 and summary.unsent == 0
    assert summary.retried > 0  # the kill was felt
    assert summary.sent == dict.fromkeys(plan.targets.values(), 3_000)
    expected = expected_load(plan, synthetic_source)
    for target in plan.targets.values():
        stored = Counter(read_log(server.broker_path, target))
        assert stored == expected[target], f"{target}: duplicates or gaps"
    assert time.monotonic() - started < 60
