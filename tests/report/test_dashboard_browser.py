"""The live dashboard in a real browser while the pipeline runs: a real ``pinpipe api`` process on
loopback over a copy of the built pipeline, records posted through its REST Proxy and
Kinesis-style routes from a background thread, the page in headless Chromium (Debian's, through
Playwright). Offsets and rates change on the page, the eight charts are drawn, the records
panel follows the chosen topic, the controls work from the keyboard, nothing is fetched from
elsewhere and nothing is logged to the console; screenshots at 1280 and 390 px are kept in
``test-artifacts/dashboard/``."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.emulator.servers import api_server
from tests.landing import UID
from tests.report.browser import ARTIFACTS, DRAWN, WIDTHS, assert_drawn, chromium

pytestmark = [pytest.mark.integration, pytest.mark.browser]

DASHBOARD_ARTIFACTS = ARTIFACTS / "dashboard"
TOPIC, STREAM = f"{UID}.pin", f"streaming-{UID}-pin"
KAFKA_JSON = "application/vnd.kafka.json.v2+json"
#: Every wait in this module ends by then (the whole module takes ~20 s).
WAIT_MS = 20_000


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Iterator[str]:
    """``pinpipe api`` (a child process, stopped by its pid) over a copy of the pipeline."""
    copy = shutil.copytree(home, tmp_path_factory.mktemp("dashboard") / "home")
    with api_server(copy, UID, {"PINPIPE_EMBEDDED__DURABILITY": "none"}) as server:
        yield server.url


@pytest.fixture(scope="module")
def producing(api_url: str) -> Iterator[list[str]]:
    """Records posted through the API in a background thread for the module's duration
    (~100 pins/s to the topic, ~50/s to the stream, in uneven bursts); yields its errors."""
    stop, errors = threading.Event(), []

    def post() -> None:
        deadline = time.monotonic() + 120  # bounded, whatever happens to the test
        with httpx.Client(base_url=api_url, timeout=5) as client:
            i = 0
            while not stop.is_set() and time.monotonic() < deadline:
                rows = [{"index": 100_000 + i + n, "title": f"live {i + n}"} for n in range(20)]
                try:
                    client.post(
                        f"/topics/{TOPIC}",
                        content=json.dumps({"records": [{"value": r} for r in rows]}),
                        headers={"Content-Type": KAFKA_JSON},
                    ).raise_for_status()
                    records = [{"data": r, "partition-key": str(r["index"])} for r in rows[:10]]
                    client.put(
                        f"/streams/{STREAM}/records", json={"records": records}
                    ).raise_for_status()
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                i += 20
                stop.wait(0.1 + (i % 60) / 300)  # uneven, so the rate moves

    thread = threading.Thread(target=post, name="dashboard-producer", daemon=True)
    thread.start()
    yield errors
    stop.set()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


class Visit:
    """The dashboard in a new browser context: requests to anywhere but the API are aborted
    and recorded, console messages and page errors collected."""

    def __init__(self, browser: Any, url: str, width: int) -> None:
        self.origin = url
        self.blocked: list[str] = []
        self.console: list[tuple[str, str]] = []
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(WAIT_MS)
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.console.append(("pageerror", str(e))))
        self.page.route("**/*", self._route)
        self.page.goto(f"{url}/ui", wait_until="load")

    def _route(self, route: Any) -> None:
        if route.request.url.startswith(self.origin + "/"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def cell(self, name: str, field: str) -> str:
        text: str = self.page.text_content(f'tr[data-name="{name}"] [data-field="{field}"]') or ""
        return text.strip()

    def wait_for_updates(self, count: int) -> None:
        # Predicates are functions: the page's CSP forbids evaluating strings (Playwright's
        # expression form uses eval).
        self.page.wait_for_function(
            "(count) => Number(document.body.dataset.updates) >= count", arg=count
        )

    def close(self) -> None:
        self.context.close()


def _number(text: str) -> float:
    return float(text.removesuffix("/s").replace(",", ""))


@pytest.mark.parametrize("device", WIDTHS)
def test_the_dashboard_follows_the_running_pipeline(
    browser: Any, api_url: str, producing: list[str], device: str
) -> None:
    width = WIDTHS[device]
    visit = Visit(browser, api_url, width)
    page = visit.page
    try:
        visit.wait_for_updates(2)
        # Two moments: the end offset grows, and the rate, once there is one, moves.
        offset = _number(visit.cell(TOPIC, "end_offset"))
        page.wait_for_function(
            """([name, before]) => {
                 const row = document.querySelector(`tr[data-name="${name}"]`);
                 const rate = row.querySelector('[data-field="rate"] .value').textContent;
                 const end = Number(row.querySelector('[data-field="end_offset"]')
                   .textContent.replace(/,/g, ""));
                 return end > before && rate.endsWith("/s");
               }""",
            arg=[TOPIC, offset],
        )
        rate = visit.cell(TOPIC, "rate")
        page.wait_for_function(
            """([name, before]) => document.querySelector(
                 `tr[data-name="${name}"] [data-field="rate"] .value`).textContent !== before""",
            arg=[TOPIC, rate],
        )
        assert _number(visit.cell(TOPIC, "end_offset")) > offset
        assert _number(visit.cell(TOPIC, "rate")) != _number(rate) and _number(rate) >= 0
        assert _number(visit.cell(STREAM, "end_offset")) > 0
        assert visit.cell(TOPIC, "lag") not in ("", "–")  # nobody sinks this copy: it grows
        # The sparkline draws from the series of sampled rates, which can trail the rate cell by
        # a poll on a loaded machine (CI saw an empty line right after the first rate).
        page.wait_for_function(
            """(name) => document.querySelector(
                 `tr[data-name="${name}"] svg.spark path.line`).getAttribute("d")""",
            arg=TOPIC,
        )

        # The eight charts of the last batch run, with their tables as text alternatives.
        page.wait_for_function("() => document.querySelectorAll('#questions canvas').length === 8")
        page.wait_for_timeout(300)  # let a resize settle before reading pixels
        assert_drawn(page.evaluate(DRAWN), 8)
        assert page.locator("#questions details table").count() == 9  # Q3 has two results

        # The records panel follows the topic chosen, from the keyboard.
        page.wait_for_function("() => document.querySelectorAll('#records-list li').length === 6")
        assert TOPIC in (page.text_content("#records-status") or "")
        page.focus("#records-topic")
        page.select_option("#records-topic", STREAM)
        page.wait_for_function(
            "(name) => document.getElementById('records-status').textContent.includes(name)",
            arg=STREAM,
        )
        first = json.loads(page.text_content("#records-list li pre") or "null")
        assert first["title"].startswith("live ")

        DASHBOARD_ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DASHBOARD_ARTIFACTS / f"dashboard-{width}.png"), full_page=True)

        # Pause from the keyboard: the numbers stop, the state is announced.
        page.focus("#pause")
        page.keyboard.press("Enter")
        assert page.get_attribute("#pause", "aria-pressed") == "true"
        assert page.text_content("#status") == "Paused"
        page.keyboard.press("Space")
        assert page.get_attribute("#pause", "aria-pressed") == "false"

        overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page is {overflow}px wider than a {width}px screen"
        assert visit.blocked == []
        assert [m for m in visit.console if m[0] not in ("log", "info")] == []
        assert producing == []
    finally:
        visit.close()
