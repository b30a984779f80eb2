"""``pinpipe stream`` (the streams into Delta tables) and ``pinpipe delta optimize|vacuum``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated, Literal

import typer
from rich.table import Table

from pinpipe.cli._common import console, err_console, progress_bar, state
from pinpipe.config import Settings
from pinpipe.lake import Lake, lake_from_settings
from pinpipe.sink import stop_on_signals
from pinpipe.stream import StreamInfo, StreamSummary, run_stream
from pinpipe.stream.job import StreamEngine, dead_letter_key, seen_key, table_key
from pinpipe.stream.maintenance import compact, vacuum
from pinpipe.transform import CLEANING


def render_stream_info(info: StreamInfo) -> Table:
    table = Table(
        "stream",
        "batches",
        "records",
        "rows appended",
        "duplicates",
        "dead letters",
        "next position",
        title=f"stream: {info.records:,} records in {info.seconds:.1f} s ({info.stopped})",
        title_justify="left",
    )
    for summary in info.summaries.values():
        table.add_row(
            summary.stream,
            f"{summary.batches:,}",
            f"{summary.records:,}",
            f"{summary.rows_appended:,}",
            f"{summary.duplicates_dropped:,}",
            f"{summary.dead_letters:,}",
            ", ".join(f"{p}:{o}" for p, o in sorted(summary.positions.items())),
        )
    return table


def stream(
    ctx: typer.Context,
    engine: Annotated[
        StreamEngine,
        typer.Option(
            "--engine",
            help="native: DuckDB + delta-rs micro-batches; spark: Structured Streaming "
            "(extra spark).",
        ),
    ] = "native",
    once: Annotated[
        bool, typer.Option("--once", help="Process what the streams hold now, then exit.")
    ] = False,
    trigger_interval: Annotated[
        float,
        typer.Option("--trigger-interval", min=0.0, help="Seconds between polls when idle."),
    ] = 0.5,
    starting_position: Annotated[
        Literal["earliest", "latest"],
        typer.Option(
            "--starting-position",
            help="Where a new table starts reading (Kinesis' initialPosition).",
        ),
    ] = "earliest",
    max_batch_records: Annotated[
        int, typer.Option("--max-batch-records", min=1, help="Records per micro-batch at most.")
    ] = 50_000,
) -> None:
    """Clean the three streams into Delta tables <uid>_pin|geo|user_table, exactly once.

    Each micro-batch is one Delta commit carrying the stream position; a restart resumes where
    the table says. Payloads that are not records go to the <uid>_dead_letters table.

    Without --once it runs until Ctrl-C or SIGTERM and stops after committing the current batch.
    """
    settings = state(ctx).settings()
    stop = threading.Event()
    with stop_on_signals(stop), progress_bar("stream", None) as bar:
        counts: dict[str, int] = {}

        def progress(summary: StreamSummary) -> None:
            counts[summary.stream] = summary.rows_appended
            shown = ", ".join(f"{k.rsplit('-', 1)[-1]} {v:,}" for k, v in counts.items())
            bar.update(bar.task_ids[0], description=f"stream: rows appended {shown}")

        info = run_stream(
            settings,
            engine=engine,
            once=once,
            trigger_interval=trigger_interval,
            starting_position=starting_position,
            max_batch_records=max_batch_records,
            stop=stop,
            on_batch=progress,
        )
    console.print(render_stream_info(info))


delta_app = typer.Typer(
    help="Maintain the streaming job's Delta tables (small files from micro-batches).",
    no_args_is_help=True,
)


def _keys(settings: Settings, table: str | None) -> list[str]:
    keys = {settings.names.delta_table(kind): table_key(settings, kind) for kind in CLEANING}
    keys[f"{settings.user_id}_dead_letters"] = dead_letter_key(settings)
    if table is None:
        return [*keys.values(), *(seen_key(settings, kind) for kind in CLEANING)]
    if table not in keys:
        from pinpipe.stream import StreamTableError

        msg = f"unknown table {table!r}"
        raise StreamTableError(msg, hint=f"the tables are: {', '.join(keys)}")
    return [keys[table]]


def _each_table(
    ctx: typer.Context, table: str | None, action: Callable[[Lake, str], str | None]
) -> None:
    """Run ``action`` on each named table; it returns what to print, None when no table."""
    settings = state(ctx).settings()
    with lake_from_settings(settings) as lake:
        for key in _keys(settings, table):
            done = action(lake, key)
            if done is None:
                err_console.print(f"[dim]{key}: no table yet[/]")
            else:
                console.print(f"{key}: {done}")


@delta_app.command("optimize")
def optimize_cmd(
    ctx: typer.Context,
    table: Annotated[str | None, typer.Argument(help="A table name (default: all).")] = None,
) -> None:
    """Compact small files into large ones (a new table version; readers are not disturbed)."""

    def optimize(lake: Lake, key: str) -> str | None:
        result = compact(lake, key)
        return None if result is None else f"{result.removed} files → {result.added}"

    _each_table(ctx, table, optimize)


@delta_app.command("vacuum")
def vacuum_cmd(
    ctx: typer.Context,
    table: Annotated[str | None, typer.Argument(help="A table name (default: all).")] = None,
    retention_hours: Annotated[
        int, typer.Option("--retention-hours", min=0, help="Keep files removed less long ago.")
    ] = 168,
) -> None:
    """Delete files no table version newer than the retention needs (default 7 days)."""

    def clean_up(lake: Lake, key: str) -> str | None:
        deleted = vacuum(lake, key, retention_hours=retention_hours)
        return None if deleted is None else f"{deleted} files deleted"

    _each_table(ctx, table, clean_up)
