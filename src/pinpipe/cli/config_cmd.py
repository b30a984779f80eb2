"""``pinpipe config``: inspect the effective configuration."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer

from pinpipe.cli._common import console, kv_table, state

app = typer.Typer(help="Inspect the effective configuration.", no_args_is_help=True)


@app.command("show")
def show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the effective settings (file < PINPIPE_* env < flags), secrets masked."""
    shown = state(ctx).settings().display()
    if as_json:
        typer.echo(orjson.dumps(shown, option=orjson.OPT_INDENT_2).decode())
    else:
        console.print(kv_table("pinpipe configuration", shown))
