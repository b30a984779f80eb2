"""The ``pinpipe`` command: a thin Typer layer over the library, one module per command group.

One error boundary: a :class:`PinpipeError` prints as one red line with its hint and exits 1;
``--debug`` (or ``PINPIPE_DEBUG=1``) lets the traceback through instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from pinpipe import __version__
from pinpipe.cli import (
    api_cmd,
    aws_cmd,
    batch_cmd,
    bench_cmd,
    config_cmd,
    dag_cmd,
    demo,
    doctor_cmd,
    emulate,
    log,
    report_cmd,
    sink,
    source,
    stream_cmd,
    up_cmd,
)
from pinpipe.cli._common import err_console, state
from pinpipe.errors import PinpipeError


class _ErrorBoundary(TyperGroup):
    """The root group: turns PinpipeError into one line and exit code 1."""

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click Context is private
        try:
            return super().invoke(ctx)
        except PinpipeError as exc:
            if state(ctx).debug:
                raise
            hint = f" [dim]→ {exc.hint}[/dim]" if exc.hint else ""
            err_console.print(
                f"[bold red]error:[/bold red] {exc.message}{hint}",
                markup=True,
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None


app = typer.Typer(
    name="pinpipe",
    cls=_ErrorBoundary,
    help="The Pinterest data pipeline on one machine, and on AWS by changing URLs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.add_typer(config_cmd.app, name="config")
app.add_typer(source.app, name="source")
app.add_typer(emulate.app, name="emulate")
app.add_typer(log.topics_app, name="topics")
app.add_typer(log.streams_app, name="streams")
app.command()(demo.demo)
app.command("api")(api_cmd.api)
app.command("sink")(sink.sink)
app.command("batch")(batch_cmd.batch)
app.command("query")(batch_cmd.query)
app.command("report")(report_cmd.report)
app.command("stream")(stream_cmd.stream)
app.add_typer(stream_cmd.delta_app, name="delta")
app.add_typer(dag_cmd.app, name="dag")
app.command("bench")(bench_cmd.bench)
app.command("up")(up_cmd.up)
app.command("doctor")(doctor_cmd.doctor)
app.add_typer(aws_cmd.app, name="aws")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pinpipe {__version__}")
        raise typer.Exit


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="TOML config file (default: ./pinpipe.toml).",
            envvar="PINPIPE_CONFIG",
            dir_okay=False,
        ),
    ] = None,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="Where embedded backends keep their files (default: ./pinpipe-data).",
            envvar="PINPIPE_HOME",
            file_okay=False,
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks.", envvar="PINPIPE_DEBUG")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """Build the shared state; settings are loaded when a command first needs them."""
    cli_state = state(ctx)
    cli_state.config_file, cli_state.home, cli_state.debug = config, home, debug


def main() -> None:
    """Console-script entry point."""
    app()
