"""``pinpipe demo``: the whole pipeline on embedded defaults, from an empty home.

Today the pipeline's first stage exists: the demo creates the source database (or reuses the
one already in the home, so re-running is safe) and describes it. Each later stage adds a step.
"""

from __future__ import annotations

from typing import Annotated

import typer

from pinpipe.cli._common import console, progress_bar, state
from pinpipe.cli.source import render_stats
from pinpipe.source import DEFAULT_ROWS, init_source, source_stats
from pinpipe.source.db import connect, open_engine, row_counts


def demo(
    ctx: typer.Context,
    rows: Annotated[
        int, typer.Option("--rows", min=1, help="Posts in the source database.")
    ] = DEFAULT_ROWS,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic data.")] = 0,
) -> None:
    """Run every pipeline stage on embedded defaults and show where everything is."""
    settings = state(ctx).settings()
    console.rule("[bold]pinpipe demo")
    console.print(f"home: [cyan]{settings.home}[/cyan]")
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
