"""``pinpipe batch`` (clean the lake's raw JSON and answer the eight questions) and
``pinpipe query`` (print a stored result)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
import pyarrow as pa
import typer
from rich.console import Group
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from pinpipe.batch import BatchProgress, BatchReport, read_quality, read_result, run_batch
from pinpipe.cli._common import console, err_console, kv_table, progress_bar, state
from pinpipe.lake import lake_from_settings
from pinpipe.transform import QUERIES
from pinpipe.transform.base import rows_of

EngineName = Literal["duckdb", "spark"]
STAGE_LABELS = {
    "read": "reading raw objects",
    "engine": "starting the engine",
    "clean": "cleaning",
    "curated": "writing curated Delta tables",
    "queries": "running the queries",
    "results": "storing results",
}


def _cell(value: Any) -> str:
    if value is None:
        return "[dim]null[/]"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def result_table(name: str, table: pa.Table, *, limit: int | None = 30) -> Group:
    """A query result as a heading and a Rich table (the first ``limit`` rows)."""
    count = f"{table.num_rows:,} row" + ("" if table.num_rows == 1 else "s")
    # A heading of its own: a table's title would wrap at the table's (narrow) width.
    heading = Text.assemble((name, "bold"), f" ({count})")
    shown = Table()
    for column in table.column_names:
        shown.add_column(column, justify="right" if _numeric(table, column) else "left")
    rows = rows_of(table)
    for row in rows if limit is None else rows[:limit]:
        shown.add_row(*(_cell(v) for v in row.values()))
    if limit is not None and len(rows) > limit:
        more = Text(f"… {len(rows) - limit:,} more rows: pinpipe query {name} --all", "dim")
        return Group(heading, shown, more)
    return Group(heading, shown)


def _numeric(table: pa.Table, column: str) -> bool:
    kind = table.schema.field(column).type
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind))


def quality_table(kinds: dict[str, dict[str, Any]]) -> Table:
    """The data-quality summary: one column per kind."""
    table = Table(title="data quality", title_justify="left", title_style="bold")
    table.add_column("")
    for kind in kinds:
        table.add_column(kind, justify="right")
    for label, key in (
        ("raw objects", "objects"),
        ("lines", "lines"),
        ("dead letters", "dead_letters"),
        ("rows read", "rows_read"),
        ("duplicates dropped", "duplicates_dropped"),
        ("rows cleaned", "rows_cleaned"),
    ):
        table.add_row(label, *(f"{q[key]:,}" for q in kinds.values()))
    columns = sorted({c for q in kinds.values() for c in q["nulled"]})
    for column in columns:
        counts = [q["nulled"].get(column) for q in kinds.values()]
        if any(counts):
            table.add_row(f"→ NULL: {column}", *("" if c is None else f"{c:,}" for c in counts))
    return table


def render_report(report: BatchReport) -> Group:
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in report.stage_seconds.items())
    summary = kv_table(
        f"batch on {report.engine}: {report.seconds:.1f} s",
        {
            "lake": report.lake_url,
            **{f"curated {kind}": uri for kind, uri in report.curated.items()},
            "results": "results/<query>.parquet, .csv and data_quality.json",
            "dead letters": f"{report.dead_letters:,} lines in "
            f"{len(report.dead_letter_objects):,} objects under dead_letters/",
            "stages": stages,
        },
    )
    return Group(
        *(result_table(name, table) for name, table in report.results.items()),
        quality_table(report.quality.to_dict()),
        summary,
    )


def batch(
    ctx: typer.Context,
    engine: Annotated[
        EngineName | None,
        typer.Option("--engine", "-e", help="duckdb (embedded) or spark (default: config)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the run's summary and results as JSON.")
    ] = False,
) -> None:
    """Clean the lake's raw pin/geo/user JSON and answer the course's eight questions.

    Writes curated/<kind> (Delta), results/<query>.parquet and .csv, results/data_quality.json,
    and unreadable raw lines to dead_letters/.
    """
    settings = state(ctx).settings()
    with progress_bar("batch", None) as bar:
        report = run_batch(
            settings, engine=engine, on_progress=lambda p: show_batch_progress(bar, p)
        )
    if as_json:
        typer.echo(_report_json(report))
    else:
        console.print(render_report(report))


def show_batch_progress(bar: Progress, p: BatchProgress) -> None:
    """Show a batch run's stage on the bar of :func:`progress_bar`."""
    label = STAGE_LABELS[p.stage] + (f": {p.detail}" if p.detail else "")
    bar.update(bar.task_ids[0], completed=p.done, total=p.total, description=label)


def _report_json(report: BatchReport) -> str:
    data = {
        "engine": report.engine,
        "lake": report.lake_url,
        "seconds": round(report.seconds, 3),
        "stage_seconds": {k: round(v, 3) for k, v in report.stage_seconds.items()},
        "curated": report.curated,
        "quality": report.quality.to_dict(),
        "dead_letter_objects": report.dead_letter_objects,
        "results": {name: rows_of(table) for name, table in report.results.items()},
    }
    return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode()


def query(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(help="A query name; without one, lists the stored results."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="Print every row.")] = False,
) -> None:
    """Print a result the last `pinpipe batch` stored (results/<name>.parquet)."""
    settings = state(ctx).settings()
    with lake_from_settings(settings) as lake:
        if name is None:
            quality = read_quality(lake)
            listing = Table(
                title=f"results of the {quality['engine']} run at {quality['finished_at']}",
                title_justify="left",
            )
            listing.add_column("query")
            listing.add_column("rows", justify="right")
            for query_name in QUERIES:
                listing.add_row(query_name, f"{read_result(lake, query_name).num_rows:,}")
            console.print(listing)
            console.print(quality_table(quality["kinds"]))
            return
        table = read_result(lake, name)
    if as_json:
        typer.echo(orjson.dumps(rows_of(table), option=orjson.OPT_INDENT_2).decode())
    else:
        console.print(result_table(name, table, limit=None if show_all else 30))
    if not table.num_rows:
        err_console.print("[dim]no rows: the lake held no matching records[/]")
