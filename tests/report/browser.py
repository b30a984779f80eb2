"""What the browser tests share: Debian's Chromium through Playwright, where screenshots go, and
a probe of what each canvas drew."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
PROJECT = Path(__file__).resolve().parents[2]
# Read at import: the autouse fixture clears PINPIPE_* variables before each test.
_ARTIFACTS = Path(os.environ.get("PINPIPE_TEST_ARTIFACTS", "test-artifacts"))
ARTIFACTS = _ARTIFACTS if _ARTIFACTS.is_absolute() else PROJECT / _ARTIFACTS
WIDTHS = {"desktop": 1280, "phone": 390}

#: Per canvas: its size, how many of its pixels are not transparent (what Chart.js drew), and
#: whether Chart.js holds a chart for it.
DRAWN = """() => [...document.querySelectorAll("canvas")].map((canvas) => {
  const context = canvas.getContext("2d");
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) painted += 1; }
  return {id: canvas.id, width: canvas.width, height: canvas.height, painted,
          chart: typeof Chart !== "undefined" && Chart.getChart(canvas) !== undefined};
})"""


def assert_drawn(charts: list[dict[str, Any]], count: int) -> None:
    assert len(charts) == count, charts
    for chart in charts:
        assert chart["chart"], chart
        assert chart["width"] > 0 and chart["height"] > 0, chart
        # Bars, axes and labels: well beyond a stray pixel or two.
        assert chart["painted"] > 0.02 * chart["width"] * chart["height"], chart


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium (skips when Debian's package is not installed)."""
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()
