"""The written report in a real browser (Debian's Chromium through Playwright), offline: no
request leaves the file, no console error or warning, every chart drawn, no horizontal
overflow on a phone; full-page screenshots at 1280 and 390 px are kept as test artefacts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pinpipe.report import build_report, render_report, write_report
from tests.report import settings_for
from tests.report.browser import ARTIFACTS, DRAWN, WIDTHS, assert_drawn, chromium

pytestmark = [pytest.mark.integration, pytest.mark.browser]

REPORT_ARTIFACTS = ARTIFACTS / "report"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Path:
    return write_report(settings_for(home), tmp_path_factory.mktemp("report") / "report.html")


class Visit:
    """A page opened offline: every request other than ``file:``/``data:`` is aborted and
    recorded, and console messages and page errors are collected."""

    def __init__(self, browser: Any, path: Path, width: int) -> None:
        self.blocked: list[str] = []
        self.console: list[tuple[str, str]] = []
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.console.append(("pageerror", str(e))))
        self.page.route("**/*", self._route)
        self.page.goto(path.as_uri(), wait_until="load")

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def problems(self) -> list[tuple[str, str]]:
        return [(kind, text) for kind, text in self.console if kind not in ("log", "info")]

    def close(self) -> None:
        self.context.close()


@pytest.mark.parametrize("device", WIDTHS)
def test_the_report_renders_offline_with_every_chart_drawn(
    browser: Any, report_file: Path, device: str
) -> None:
    width = WIDTHS[device]
    visit = Visit(browser, report_file, width)
    try:
        page = visit.page
        page.wait_for_function("document.querySelectorAll('canvas').length === 8")
        REPORT_ARTIFACTS.mkdir(parents=True, exist_ok=True)  # first: a failure has one too
        page.screenshot(path=str(REPORT_ARTIFACTS / f"report-{width}.png"), full_page=True)
        assert_drawn(page.evaluate(DRAWN), 8)
        overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page is {overflow}px wider than a {width}px screen"
        assert visit.blocked == []
        assert visit.problems() == []
    finally:
        visit.close()


def test_hostile_values_do_not_run(browser: Any, home: Path, tmp_path: Path) -> None:
    """A country named like a script (in the tables and the chart data) stays text."""
    data = build_report(settings_for(home))
    result = data.result("popular_category_by_country")
    hostile = "</script><script>window.pwned = 1</script>"
    rows = ((hostile, '"><img src=x onerror="window.pwned = 2">', 7), *result.rows[1:])
    results = tuple(replace(r, rows=rows) if r is result else r for r in data.results)
    path = tmp_path / "hostile.html"
    path.write_text(render_report(replace(data, results=results)), "utf-8")
    visit = Visit(browser, path, WIDTHS["desktop"])
    try:
        assert visit.page.evaluate("window.pwned") is None
        cell = visit.page.locator("#result-popular_category_by_country tbody td").first
        assert cell.text_content() == hostile
        assert visit.blocked == []
        assert visit.problems() == []
    finally:
        visit.close()
