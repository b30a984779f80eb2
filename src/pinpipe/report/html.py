"""The report as one self-contained HTML page, and writing it without ever leaving half a file.

The page carries everything it needs: the CSS, Chart.js (vendored in ``static/``, see
``static/VENDORED.md``) and every chart's data, so it opens offline, from an e-mail attachment
or an artefact store, years later. Its Content-Security-Policy forbids every fetch, so a
stray URL can never make it reach the network. Text goes through Jinja2 with autoescaping on;
chart data goes into ``<script type="application/json">`` blocks with ``<``, ``>`` and ``&``
escaped as JSON ``\\u`` sequences, so no value (a country named ``</script>``) can end the
block early.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import tempfile
from datetime import datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from pinpipe.config import Settings
from pinpipe.report.data import DeltaFacts, ReportData, ReportError, build_report
from pinpipe.report.questions import SECTIONS, TableView, cell, question_views

__all__ = ["SECTIONS", "cell", "render_report", "script_json", "write_report"]

CHART_JS = "chart.umd.min.js"
CHARTS_JS = "charts.js"
_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)
#: What JSON may hold that HTML or old JavaScript would read otherwise, as JSON escapes.
_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


# -- formatting ------------------------------------------------------------------------------


def script_json(value: Any) -> Markup:
    """``value`` as JSON that is safe inside a ``<script>`` element (see the module doc)."""
    text = json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"), default=str)
    for char, escape in _JSON_ESCAPES.items():
        text = text.replace(char, escape)
    return Markup(text)  # noqa: S704 - escaped just above


def _finite(value: Any) -> Any:
    """NaN and infinities (which JSON cannot carry) as null, at any depth."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def when(value: datetime | None) -> str:
    return "–" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _header(name: str) -> Markup:
    """A column or result name that may wrap after its underscores (``follower_<wbr>count``)."""
    return Markup.escape(name).replace("_", Markup("_<wbr>"))


def table_html(table: TableView) -> dict[str, Any]:
    """A result table for the template: names that may wrap after their underscores."""
    return {
        "name": table.name,
        "title": _header(table.name),
        "count": _plural(len(table.rows), "row"),
        "columns": [
            {"label": _header(name), "numeric": numeric}
            for name, numeric in zip(table.columns, table.numeric, strict=True)
        ],
        "rows": [[{"text": text, "class": classes} for text, classes in row] for row in table.rows],
    }


def _sections(data: ReportData) -> list[dict[str, Any]]:
    return [
        {
            "section": view.section,
            "takeaway": view.takeaway,
            "chart": {
                "id": view.chart_id,
                "json": script_json(view.chart.config),
                "height": view.chart.height,
                "description": view.chart.description,
            },
            "tables": [table_html(table) for table in view.tables],
        }
        for view in question_views(data)
    ]


# -- the pipeline summary --------------------------------------------------------------------


def size(count: int) -> str:
    """Bytes in binary units, one decimal: ``1.4 MiB``."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{count:,} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count:,} B"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def _card(
    title: str, figure: int | None, unit: str, items: list[dict[str, str]], empty: str
) -> dict[str, Any]:
    """A stage of the pipeline diagram: a headline figure and one line per kind, or, when the
    stage has not run, what to run (the command in ``empty`` between backticks)."""
    text, _, rest = empty.partition("`")
    command = rest.partition("`")[0]
    pending = Markup("{} <code>{}</code>").format(text, command) if command else Markup.escape(text)
    return {
        "title": title,
        "figure": None if figure is None else f"{figure:,}",
        "unit": unit,
        "items": items if figure is not None else [],
        "pending": pending,
    }


def _total(values: list[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _table_item(kind: str, table: DeltaFacts | None) -> dict[str, str]:
    if table is None:
        return {"label": kind, "value": "not written", "title": ""}
    return {
        "label": kind,
        "value": f"{table.rows:,} rows · v{table.version}",
        "title": table.key,
    }


def pipeline_view(data: ReportData) -> dict[str, Any]:
    """The stage cards of the batch and streaming paths, and the Delta tables' details."""
    topics = data.topics
    curated = [t.table for t in data.curated]
    streaming = [s.table for s in data.streams]
    dead = data.dead_letter_table
    batch = [
        _card(
            "Topics",
            _total([t.records for t in topics]),
            "records",
            [{"label": t.kind, "value": f"{t.records or 0:,}", "title": t.name} for t in topics],
            "no topics yet: run `pinpipe emulate batch`",
        ),
        _card(
            "Lake, raw JSON",
            sum(t.lake_objects for t in topics) or None,
            "objects",
            [{"label": t.kind, "value": f"{t.lake_objects:,}", "title": t.name} for t in topics],
            "no raw objects yet: run `pinpipe sink`",
        ),
        _card(
            "Curated Delta",
            _total([t.rows if t else None for t in curated]),
            "rows",
            [_table_item(c.kind, c.table) for c in data.curated],
            "no curated tables yet: run `pinpipe batch`",
        ),
        _card(
            "Results",
            len(data.results),
            "results",
            [
                {"label": "engine", "value": data.batch.engine or "–", "title": ""},
                {
                    "label": "took",
                    "value": "–" if data.batch.seconds is None else f"{data.batch.seconds:.1f} s",
                    "title": "",
                },
                {
                    "label": "dead letters",
                    "value": f"{sum(q.dead_letters for q in data.quality):,}",
                    "title": "raw lines that were not records",
                },
            ],
            "",
        ),
    ]
    stream = [
        _card(
            "Streams",
            _total([s.records for s in data.streams]),
            "records",
            [
                {"label": s.kind, "value": f"{s.records or 0:,}", "title": s.name}
                for s in data.streams
            ],
            "no streams yet: run `pinpipe emulate stream`",
        ),
        _card(
            "Streaming Delta",
            _total([t.rows if t else None for t in streaming]),
            "rows",
            [_table_item(s.kind, s.table) for s in data.streams],
            "not run yet: run `pinpipe stream`",
        ),
        _card(
            "Dead letters",
            None if dead is None else dead.rows,
            "payloads",
            [
                {"label": s.kind, "value": f"{s.dead_letters:,}", "title": s.name}
                for s in data.streams
            ],
            "none: every payload was a record" if any(streaming) else "not run yet",
        ),
    ]
    tables = [(f"curated {c.kind}", c.table) for c in data.curated if c.table is not None] + [
        (f"stream {s.kind}", s.table) for s in data.streams if s.table is not None
    ]
    if dead is not None:
        tables.append(("stream dead letters", dead))
    return {
        "batch": batch,
        "stream": stream,
        "tables": [
            {
                "role": role,
                "key": table.key,
                "version": f"{table.version:,}",
                "rows": f"{table.rows:,}",
                "files": f"{table.files:,}",
                "size": size(table.size_bytes),
                "commit": when(table.last_commit),
                "operation": (table.operation or "–").lower(),
            }
            for role, table in tables
        ],
        "quality": _quality_rows(data),
    }


def _quality_rows(data: ReportData) -> list[dict[str, Any]]:
    """The data-quality table, one row per figure and one column per kind (as `pinpipe batch`
    prints it); a nulled column shows only where the cleaning nulled something."""
    kinds = data.quality
    rows: list[dict[str, Any]] = [
        {"label": "raw objects", "values": [f"{k.objects:,}" for k in kinds], "nulled": False},
        {"label": "bytes read", "values": [size(k.bytes) for k in kinds], "nulled": False},
    ]
    for label, key in (
        ("lines", "lines"),
        ("dead letters", "dead_letters"),
        ("rows read", "rows_read"),
        ("duplicates dropped", "duplicates_dropped"),
        ("rows cleaned", "rows_cleaned"),
    ):
        rows.append(
            {"label": label, "values": [f"{getattr(k, key):,}" for k in kinds], "nulled": False}
        )
    columns = list(dict.fromkeys(c for k in kinds for c, _ in k.nulled))
    for column in columns:
        counts = [dict(k.nulled).get(column) for k in kinds]
        if any(counts):
            values = ["" if c is None else f"{c:,}" for c in counts]
            rows.append({"label": column, "values": values, "nulled": True})
    return rows


# -- assets and rendering --------------------------------------------------------------------


@cache
def environment() -> Environment:
    """The templates of the report and the dashboard (autoescaped)."""
    return Environment(
        loader=PackageLoader("pinpipe.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@cache
def chart_js() -> tuple[str, str]:
    """The vendored Chart.js, ready to inline (its source-map comment dropped), and its version."""
    text = static_text(CHART_JS)
    if "</script" in text.lower():
        msg = f"the vendored {CHART_JS} contains '</script' and cannot be inlined"
        raise ReportError(msg, hint="re-vendor it with scripts/vendor-chartjs.sh")
    found = re.search(r"Chart\.js v(\d+\.\d+\.\d+)", text[:300])
    return _SOURCE_MAP.sub("", text).rstrip() + "\n", found.group(1) if found else "4"


@cache
def static_text(name: str) -> str:
    """A file of ``static/`` shipped in the package, as text."""
    return files("pinpipe.report").joinpath("static").joinpath(name).read_text("utf-8")


@cache
def charts_js() -> str:
    """The charts' shared setup (``static/charts.js``), ready to inline."""
    text = static_text(CHARTS_JS)
    if "</script" in text.lower():  # never, unless someone edits it so
        msg = f"static/{CHARTS_JS} contains '</script' and cannot be inlined"
        raise ReportError(msg, hint="remove it from the script")
    return text


@cache
def _css() -> str:
    """The shared theme (also the dashboard's) and then the report's own stylesheet."""
    package = files("pinpipe.report")
    theme = package.joinpath("static").joinpath("theme.css").read_text("utf-8")
    return theme + "\n" + package.joinpath("templates").joinpath("report.css").read_text("utf-8")


def render_report(data: ReportData) -> str:
    """The report page for ``data``: one HTML document with nothing to fetch."""
    script, version = chart_js()
    template = environment().get_template("report.html.j2")
    return template.render(
        data=data,
        when=when,
        pipeline=pipeline_view(data),
        sections=_sections(data),
        css=Markup(_css()),  # noqa: S704 - our own stylesheet, shipped in the package
        chart_js=Markup(script),  # noqa: S704 - checked above to hold no '</script'
        chart_js_version=version,
        charts_js=Markup(charts_js()),  # noqa: S704 - our own script, checked above
    )


def write_report(settings: Settings, out: Path | None = None) -> Path:
    """Build and render the report and write it to ``out`` (default ``<home>/report.html``),
    atomically: a failure at any step leaves the previous report as it was. Its path."""
    target = Path(out) if out is not None else settings.home / "report.html"
    page = render_report(build_report(settings))
    return _write_atomic(target.expanduser().absolute(), page)


def _write_atomic(target: Path, text: str) -> Path:
    """Write to a temporary file beside ``target``, make it durable, rename it over."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        msg = f"cannot write the report to {str(target)!r}: {exc}"
        raise ReportError(msg, hint="choose a writable place with --out FILE") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)  # mkstemp's 0600 would hide the report from a web server
        os.replace(temp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            msg = f"cannot write the report to {str(target)!r}: {exc}"
            raise ReportError(msg, hint="check the disk (space, permissions)") from exc
        raise
    return target
