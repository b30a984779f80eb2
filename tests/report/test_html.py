"""The rendered page: every result as a table equal to the stored one, a chart per question
whose data survives hostile strings, nothing to fetch, and a file written atomically."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import replace
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path

import pytest

import pinpipe.report.html as report_html
from pinpipe.config import Settings
from pinpipe.report import ReportData, ReportError, render_report, write_report
from pinpipe.report.charts import CHARTS
from pinpipe.report.data import ResultFacts
from pinpipe.report.html import SECTIONS, cell, script_json
from pinpipe.transform import QUERIES
from tests.landing import UID
from tests.report import settings_for

HOSTILE = "</script><script>window.pwned = 1</script><!--"
HOSTILE_ATTR = '"><img src=x onerror="window.pwned = 2">&amp;'


class Page(HTMLParser):
    """The parts of the page the tests look at: tables by id (header and body cells as text),
    chart data blocks by id, canvases and every URL-valued attribute."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.headers: dict[str, list[str]] = {}
        self.scripts: dict[str, str] = {}
        self.urls: list[str] = []
        self.canvases: list[dict[str, str | None]] = []
        self._table = ""
        self._head = False
        self._cell: list[str] | None = None
        self._script: str | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href", "action", "srcset")]
        if tag == "table":
            self._table = attributes.get("id") or ""
            self.tables[self._table], self.headers[self._table] = [], []
        elif tag in ("thead", "tbody"):
            self._head = tag == "thead"
        elif tag == "tr" and self._table and not self._head:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []
        elif tag == "script" and attributes.get("type") == "application/json":
            self._script = attributes.get("id") or ""
            self.scripts[self._script] = ""
        elif tag == "canvas":
            self.canvases.append(attributes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = ""
        elif tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell)
            target = self.headers[self._table] if self._head else self.tables[self._table][-1]
            target.append(text)
            self._cell = None
        elif tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._script is not None:
            self.scripts[self._script] += data


@pytest.fixture(scope="module")
def page(data: ReportData) -> str:
    return render_report(data)


def _expected(result: ResultFacts) -> list[list[str]]:
    """The rows as the page should show them, formatted here independently."""
    rows = []
    for row in result.rows:
        shown = []
        for value, column in zip(row, result.columns, strict=True):
            if value is None:
                shown.append("—")
            elif isinstance(value, int) and column.endswith("_year"):
                shown.append(str(value))
            elif isinstance(value, int):
                shown.append(f"{value:,}")
            else:
                shown.append(str(value))
        rows.append(shown)
    return rows


def test_every_result_is_a_table_equal_to_the_stored_rows(data: ReportData, page: str) -> None:
    parsed = Page(page)
    for name in QUERIES:
        table_id = f"result-{name}"
        result = data.result(name)
        assert parsed.headers[table_id] == list(result.columns), name
        assert parsed.tables[table_id] == _expected(result), name
        assert len(parsed.tables[table_id]) == len(result.rows) > 0
    # Years are labels (no separator); counts carry one.
    assert parsed.tables["result-users_joined_by_year"][1] == ["2016", "2,760"]
    assert f'<span class="rows">{len(data.result(QUERIES[0]).rows):,} rows</span>' in page


def test_every_question_has_a_chart_with_data_and_a_label(data: ReportData, page: str) -> None:
    parsed = Page(page)
    assert [s.anchor for s in SECTIONS] == list(CHARTS) == [f"q{i}" for i in range(1, 9)]
    assert sorted(n for s in SECTIONS for n in s.results) == sorted(QUERIES)
    assert len(parsed.canvases) == len(SECTIONS)
    for canvas in parsed.canvases:
        assert canvas["role"] == "img" and canvas["aria-label"]
        config = json.loads(parsed.scripts[f"{canvas['data-chart']}"])
        assert config["type"] == "bar"
        assert config["data"]["datasets"] and config["data"]["labels"]
    q6 = json.loads(parsed.scripts["chart-q6-data"])
    users = data.result("users_joined_by_year")
    assert q6["data"]["labels"] == [str(y) for y in users.column("post_year")]
    assert q6["data"]["datasets"][0]["data"] == users.column("number_users_joined")
    q1 = json.loads(parsed.scripts["chart-q1-data"])
    countries = data.result("popular_category_by_country")
    assert sum(q1["data"]["datasets"][0]["data"]) == len(countries.rows)  # one per winner row


def test_the_pipeline_summary_shows_the_figures(data: ReportData, page: str) -> None:
    parsed = Page(page)
    delta = parsed.tables["delta-tables"]
    assert [row[1] for row in delta] == [
        "curated/pin",
        "curated/geo",
        "curated/user",
        f"delta/{UID}_pin_table",
        f"delta/{UID}_geo_table",
        f"delta/{UID}_user_table",
        f"delta/{UID}_dead_letters",
    ]
    curated_pin = data.curated[0].table
    assert curated_pin is not None
    assert delta[0][3] == f"{curated_pin.rows:,}"
    total = sum(t.records or 0 for t in data.topics)
    assert f"{total:,}<span>records</span>" in page
    quality = parsed.tables["data-quality"]
    assert ["dead letters", "3", "0", "0"] in quality
    assert ["description", f"{dict(data.quality[0].nulled)['description']:,}", "", ""] in quality


def test_nothing_to_fetch(page: str) -> None:
    parsed = Page(page)
    assert all(url.startswith("#") for url in parsed.urls), parsed.urls
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "default-src 'none'" in page  # the browser would refuse any fetch
    assert "sourceMappingURL" not in page
    assert "Chart.js v4" in page


def test_hostile_strings_are_escaped(data: ReportData) -> None:
    countries = data.result("popular_category_by_country")
    hostile = replace(
        countries,
        rows=((HOSTILE, HOSTILE_ATTR, 7), *countries.rows[1:]),
    )
    results = tuple(hostile if r.name == countries.name else r for r in data.results)
    page = render_report(replace(data, results=results, notes=(HOSTILE,)))
    assert "<script>window.pwned" not in page
    assert "<img" not in page
    parsed = Page(page)
    assert parsed.tables["result-popular_category_by_country"][0] == [HOSTILE, HOSTILE_ATTR, "7"]
    config = json.loads(parsed.scripts["chart-q1-data"])  # the block ended where it should
    assert HOSTILE_ATTR in config["data"]["labels"]
    assert len(parsed.scripts) == len(SECTIONS)


def test_script_json_cannot_end_its_block() -> None:
    value = {"a": "</script><!-- <script>", "b": "\u2028\u2029&", "c": float("nan")}
    text = str(script_json(value))
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == {"a": value["a"], "b": value["b"], "c": None}


def test_cells() -> None:
    assert cell(2016, "post_year") == "2016"
    assert cell(15000000, "follower_count") == "15,000,000"
    assert cell(None, "country") == "—"
    assert cell("Côte d'Ivoire", "country") == "Côte d'Ivoire"


def test_the_vendored_chart_js_is_the_pinned_one() -> None:
    static = files("pinpipe.report").joinpath("static")
    pinned = static.joinpath("VENDORED.md").read_text("utf-8")
    found = re.search(r"^sha256: ([0-9a-f]{64})$", pinned, re.MULTILINE)
    version = re.search(r"^version: (\S+)$", pinned, re.MULTILINE)
    assert found and version
    script = static.joinpath("chart.umd.min.js").read_bytes()
    assert hashlib.sha256(script).hexdigest() == found.group(1)
    assert f"Chart.js v{version.group(1)}".encode() in script[:200]
    assert "MIT" in static.joinpath("chart.js.LICENSE.md").read_text("utf-8")


def _settings(home: Path, elsewhere: Path) -> Settings:
    """The built pipeline's broker and lake, with ``elsewhere`` as home."""
    return Settings(
        home=elsewhere,
        user_id=UID,
        lake_url=str(home / "lake"),
        broker_url=f"embedded://{home / 'broker.db'}",
    )


def test_write_report_defaults_to_home_and_leaves_no_temporary_file(
    home: Path, tmp_path: Path
) -> None:
    written = write_report(_settings(home, tmp_path))
    assert written == tmp_path / "report.html"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    assert written.read_text("utf-8").startswith("<!doctype html>")
    nested = write_report(_settings(home, tmp_path), tmp_path / "a" / "b" / "out.html")
    assert nested == tmp_path / "a" / "b" / "out.html" and nested.is_file()
    assert oct(nested.stat().st_mode & 0o777) == oct(0o644)


def test_no_results_is_an_error_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no batch result") as caught:
        write_report(settings_for(tmp_path / "home"), tmp_path / "out" / "report.html")
    assert "pinpipe batch" in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_a_failed_render_keeps_the_previous_report(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "report.html"
    out.write_text("the previous report")

    def broken(data: ReportData) -> str:
        raise RuntimeError("template exploded")

    monkeypatch.setattr(report_html, "render_report", broken)
    with pytest.raises(RuntimeError, match="exploded"):
        write_report(_settings(home, tmp_path), out)
    assert out.read_text() == "the previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_a_failed_write_keeps_the_previous_report(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "report.html"
    out.write_text("the previous report")

    def full_disk(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(ReportError, match="No space left") as caught:
        write_report(_settings(home, tmp_path), out)
    monkeypatch.undo()
    assert caught.value.hint
    assert out.read_text() == "the previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
