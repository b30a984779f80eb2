"""The sink as a process, for tests that signal or kill it. Not a test module.

* ``python -m tests.sink.sink_worker [root options] sink [options]``: the pinpipe CLI with the
  ``sink`` command (registered here on the root app when the app does not have it yet, so this
  keeps working once ``pinpipe.cli`` registers it itself).
* ``python -m tests.sink.sink_worker --direct HOME UID FLUSH_SIZE``: ``run_sink`` without the
  CLI, which starts in a third of the time (the crash test restarts it a dozen times); prints
  ``started`` when it is about to run.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any


def cli_app() -> Any:
    """pinpipe's root Typer app, with the ``sink`` command."""
    from pinpipe.cli import app
    from pinpipe.cli import sink as sink_cli

    if not any(
        (command.name or getattr(command.callback, "__name__", None)) == "sink"
        for command in app.registered_commands
    ):
        app.command("sink")(sink_cli.sink)
    return app


def _direct(home: str, uid: str, flush_size: str) -> None:
    from pinpipe.config import EmbeddedLogSettings, Settings
    from pinpipe.sink import run_sink, stop_on_signals

    settings = Settings(home=Path(home), user_id=uid, embedded=EmbeddedLogSettings(durability="os"))
    stop = threading.Event()
    with stop_on_signals(stop):
        print("started", flush=True)  # imports done: the parent times its kill from here
        run_sink(settings, flush_size=int(flush_size), stop=stop)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--direct"]:
        _direct(*sys.argv[2:5])
    else:
        cli_app()()
