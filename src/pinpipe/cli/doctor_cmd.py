"""``pinpipe doctor``: check each configured endpoint and say what works, what is missing and
the fix."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import orjson
import typer
from rich.table import Table

from pinpipe.aws.doctor import DoctorReport, run_doctor
from pinpipe.cli._common import console, err_console, state

_COLOURS = {"ok": "green", "missing": "yellow", "failed": "red"}


def doctor(
    ctx: typer.Context,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds each check may take.")
    ] = 5.0,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when something is missing, too.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
) -> None:
    """Check the source database, topics, streams, lake, engine and API of the configuration
    (and AWS credentials when an AWS service is configured). Exits 1 when a check failed."""
    cli = state(ctx)
    settings = cli.settings()
    with err_console.status(f"checking {settings.user_id}'s endpoints (up to {timeout:g} s)"):
        report = run_doctor(settings, timeout=timeout, debug=cli.debug)
    if as_json:
        shown = {"checks": [asdict(c) for c in report.checks], "seconds": report.seconds}
        typer.echo(orjson.dumps(shown, option=orjson.OPT_INDENT_2).decode())
    else:
        console.print(_table(report))
        failed, missing = len(report.failed), len(report.missing)
        console.print(
            f"{len(report.checks)} checks in {report.seconds:.1f} s: "
            f"{len(report.checks) - failed - missing} ok, {missing} missing, {failed} failed"
        )
    code = report.exit_code(strict=strict)
    if code:
        raise typer.Exit(code)


def _table(report: DoctorReport) -> Table:
    table = Table(title="pinpipe doctor", title_justify="left")
    table.add_column("component", style="bold cyan")
    table.add_column("url", overflow="fold")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    table.add_column("fix", overflow="fold")
    for check in report.checks:
        colour = _COLOURS[check.status]
        table.add_row(
            check.component, check.url, f"[{colour}]{check.status}[/]", check.detail, check.fix
        )
    return table
