"""``pinpipe bench``: the side-by-side benchmarks of every stage (``benchmarks/``, which ship with
the source checkout, not with the package)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from pinpipe.errors import PinpipeError

#: The checkout's root when pinpipe runs from one (``src/pinpipe/cli`` → root).
CHECKOUT = Path(__file__).resolve().parents[3]


def bench(
    quick: Annotated[
        bool, typer.Option("--quick", help="Smaller sizes: about three minutes.")
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="The issue sizes (default): tens of minutes.")
    ] = False,
    json_file: Annotated[
        Path | None,
        typer.Option("--json", help="Write every metric to this JSON file.", dir_okay=False),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Run this stage only (repeatable): source, api, …"),
    ] = None,
) -> None:
    """Measure every stage on this machine and compare each figure with its baseline, measured
    in the same run: prints one table and writes benchmarks/results/*.json."""
    if quick and full:
        msg = "--quick and --full exclude each other"
        raise PinpipeError(msg, hint="pass one of them (the default is --full)")
    if not (CHECKOUT / "benchmarks" / "__main__.py").exists():
        msg = "the benchmarks are not installed: they ship with pinpipe's source checkout"
        raise PinpipeError(msg, hint="run pinpipe bench from a clone of the repository")
    argv = [sys.executable, "-m", "benchmarks", "--quick" if quick else "--full"]
    if json_file is not None:
        argv += ["--json", str(json_file.resolve())]
    if only:
        argv += ["--only", *only]
    done = subprocess.run(argv, cwd=CHECKOUT, check=False)  # noqa: S603 - our own module
    raise typer.Exit(done.returncode)
