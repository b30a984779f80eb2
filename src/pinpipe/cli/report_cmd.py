"""``pinpipe report``: one self-contained HTML page of the pipeline and the eight answers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pinpipe.cli._common import console, state
from pinpipe.report import write_report


def report(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="The HTML file (default: <home>/report.html).", dir_okay=False
        ),
    ] = None,
) -> None:
    """Write the HTML report: pipeline summary, data quality, each result as a chart and a
    table. Works offline (nothing is fetched); open it in any browser."""
    settings = state(ctx).settings()
    with console.status("writing the report"):
        path = write_report(settings, out)
    console.print(f"report: [bold]{path}[/bold] ({path.stat().st_size / 1024:,.0f} KiB)")
