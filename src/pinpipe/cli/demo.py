"""``pinpipe demo``: the whole pipeline on embedded defaults, from an empty home.

Every stage that exists runs in one process tree: the source database (reused when the home
has one), the ingestion API on a free loopback port, the course's topics and streams, batch and
stream emulation in load mode, the S3 sink into the local lake, the batch job (cleaning,
curated Delta tables, the eight questions), the streaming job (streams → Delta tables) and
the HTML report.
Re-running is safe: the source is reused, the emulators add records, the sink writes the new
ones, the batch job recomputes everything and the streaming job appends what is new.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pinpipe.api.server import free_loopback_port, running_api
from pinpipe.batch import BatchReport, run_batch
from pinpipe.broker import open_broker
from pinpipe.cli._common import console, kv_table, progress_bar, state
from pinpipe.cli.api_cmd import ensure_course_log
from pinpipe.cli.batch_cmd import quality_table, result_table, show_batch_progress
from pinpipe.cli.emulate import render_summary
from pinpipe.cli.sink import render_info
from pinpipe.cli.source import render_stats
from pinpipe.cli.stream_cmd import render_stream_info
from pinpipe.cli.up_cmd import run_up
from pinpipe.config import Settings
from pinpipe.emulator import EmulationPlan, Mode, run_emulation
from pinpipe.orchestrate import api_base_url
from pinpipe.report import write_report
from pinpipe.sink import run_sink
from pinpipe.source import DEFAULT_ROWS, init_source, source_stats
from pinpipe.source.db import connect, open_engine, row_counts
from pinpipe.stream import StreamInfo, run_stream


def _source(settings: Settings, rows: int, seed: int) -> None:
    engine = open_engine(settings.source_url)
    try:
        with connect(engine) as conn:
            existing = row_counts(conn)
    finally:
        engine.dispose()
    if all(existing.values()):
        console.print("1. source database: [green]already there[/green], reusing it")
    else:
        console.print(f"1. source database: generating {rows:,} synthetic posts")
        with progress_bar("generating", rows) as bar:
            init_source(
                settings.source_url,
                rows=rows,
                seed=seed,
                replace=True,
                on_progress=lambda n: bar.advance(bar.task_ids[0], n),
            )
    console.print(render_stats(source_stats(settings.source_url)))


def _emulate(settings: Settings, api_url: str, mode: Mode, count: int, step: int) -> None:
    what = "REST Proxy v2 → topics" if mode == "batch" else "Kinesis-style → streams"
    console.print(f"{step}. {mode} emulation: {count:,} iterations, {what}")
    plan = EmulationPlan(
        mode, api_url, settings.user_id, count=count, batch_size=100, concurrency=4
    )
    with progress_bar(f"emulate {mode}", count) as bar:
        done = 0

        def advance(tally: object) -> None:
            nonlocal done
            iterations = int(getattr(tally, "iterations", done))
            bar.advance(bar.task_ids[0], iterations - done)
            done = iterations

        summary = run_emulation(plan, settings.source_url, on_progress=advance)
    console.print(kv_table(f"emulate {mode}", render_summary(summary)))


#: The results the demo prints (all nine are stored; ``pinpipe query NAME`` prints any).
DEMO_RESULTS = (
    "popular_category_by_year",
    "country_with_most_followed_user",
    "median_followers_by_age_group",
    "users_joined_by_year",
)


def _batch(settings: Settings, step: int) -> BatchReport:
    console.print(f"{step}. batch job on {settings.engine}: clean → curated Delta → 8 questions")
    with progress_bar("batch", None) as bar:
        report = run_batch(settings, on_progress=lambda p: show_batch_progress(bar, p))
    for name in DEMO_RESULTS:
        console.print(result_table(name, report.results[name]))
    console.print(quality_table(report.quality.to_dict()))
    return report


def _where(
    settings: Settings,
    lake_objects: int,
    report: BatchReport,
    streamed: StreamInfo,
    report_path: Path,
) -> Table:
    table = Table("what", "where", "holds", title="where everything is", title_justify="left")
    table.add_row("source database", settings.display()["source_url"], "3 tables")
    with open_broker(settings.broker_url, settings) as broker:
        for name in (*settings.names.topics, *settings.names.streams):
            records = broker.describe_topic(name).records
            table.add_row(name, settings.broker_url, f"{records:,} records")
    table.add_row("lake", f"{settings.lake_url}/topics", f"+{lake_objects:,} objects this run")
    for kind, uri in report.curated.items():
        rows = report.quality.kinds[kind].rows_cleaned
        table.add_row(f"curated {kind} (Delta)", uri, f"{rows:,} rows")
    table.add_row(
        "query results", f"{settings.lake_url}/results", "pinpipe query NAME (parquet, csv)"
    )
    for summary in streamed.summaries.values():
        table.add_row(
            summary.table.rsplit("/", 1)[-1] + " (Delta)",
            summary.table,
            f"+{summary.rows_appended:,} rows this run",
        )
    table.add_row("report (HTML)", str(report_path), "open it in a browser; works offline")
    return table


def demo(
    ctx: typer.Context,
    rows: Annotated[
        int, typer.Option("--rows", min=1, help="Posts in the source database.")
    ] = DEFAULT_ROWS,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic data.")] = 0,
    count: Annotated[
        int, typer.Option("--count", min=1, help="Iterations of each emulator (load mode).")
    ] = 1_000,
    keep_running: Annotated[
        bool,
        typer.Option(
            "--keep-running",
            help="Then leave the API, sink and streamer running (pinpipe up) until Ctrl-C.",
        ),
    ] = False,
) -> None:
    """Run every pipeline stage on embedded defaults and show where everything is."""
    cli = state(ctx)
    settings = cli.settings()
    started = time.perf_counter()
    console.rule("[bold]pinpipe demo")
    console.print(f"home: [cyan]{settings.home}[/cyan]")
    _source(settings, rows, seed)
    made = ensure_course_log(settings)
    console.print(f"2. topics and streams: {', '.join(made) if made else 'already there'}")
    port = free_loopback_port()
    with running_api(settings, port=port) as api_url:
        console.print(f"   ingestion API on [bold]{api_url}[/bold] (REST Proxy v2 + Kinesis)")
        _emulate(settings, api_url, "batch", count, 3)
        _emulate(settings, api_url, "stream", count, 4)
    console.print("5. sink: topics → lake (the course's S3 sink connector, flush.size=1)")
    info = run_sink(settings, once=True)
    console.print(render_info(info))
    report = _batch(settings, 6)
    console.print("7. streaming job: streams → cleaned Delta tables (native engine, --once)")
    streamed = run_stream(settings, once=True)
    console.print(render_stream_info(streamed))
    console.print("8. report: the pipeline and the eight answers as one HTML page")
    report_path = write_report(settings)
    console.print(_where(settings, info.objects, report, streamed, report_path))
    console.print(f"[bold green]demo done[/bold green] in {time.perf_counter() - started:.1f} s")
    if not keep_running:
        dashboard = api_base_url(settings.api.host, settings.api.port) + "/ui"
        console.print(
            f"live dashboard: `pinpipe up` serves it at {dashboard} "
            "(`pinpipe demo --keep-running` on the demo's port)",
            soft_wrap=True,
            highlight=False,
            markup=False,
        )
    if keep_running:
        console.rule("[bold]services (pinpipe up)")
        # The same port as the demo's API, so the URL printed above stays valid.
        ended = run_up(settings, config_file=cli.config_file, port=port, debug=cli.debug)
        raise typer.Exit(ended.exit_code)
