"""``pinpipe up``: the API, the sink and the streamer as long-running services in one command.

The services are child processes (``python -m pinpipe api|sink|stream``) supervised by
:func:`pinpipe.orchestrate.run_services`; their output is printed line by line behind a coloured
``name |`` prefix. The first SIGINT/SIGTERM/SIGHUP stops them in dependency order (API, sink,
streamer; each flushes and commits), a second one SIGKILLs what is left. The exit code is 0
when every service stopped cleanly on request, 1 when one died or had to be killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from pinpipe.cli._common import console, state
from pinpipe.config import Settings
from pinpipe.orchestrate import (
    SERVICE_NAMES,
    ServiceEvent,
    ServiceNotReadyError,
    SupervisorReport,
    api_base_url,
    check_port_free,
    free_port,
    pinpipe_services,
    run_services,
)
from pinpipe.orchestrate.services import ServiceName, StreamEngineName
from pinpipe.stream.job import table_key

#: The prefix of the supervisor's own lines.
SELF = "up"
PALETTE = ("cyan", "magenta", "green", "yellow", "blue", "bright_red")
EVENT_STYLES = {"ready": "green", "failed": "bold red", "killed": "bold red", "stopping": "yellow"}
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _Printer:
    """Prints each line behind a padded, coloured ``name |`` prefix (called under the
    supervisor's lock, so lines never interleave)."""

    def __init__(self, names: list[str]) -> None:
        self.width = max(len(n) for n in [*names, SELF])
        self.styles = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}

    def prefix(self, name: str) -> tuple[str, str]:
        return f"{name:<{self.width}} | ", self.styles.get(name, "bold")

    def line(self, service: str, text: str) -> None:
        console.print(
            Text.assemble(self.prefix(service), text), soft_wrap=True, highlight=False, markup=False
        )

    def event(self, event: ServiceEvent) -> None:
        style = EVENT_STYLES.get(event.kind, "")
        console.print(
            Text.assemble(self.prefix(SELF), (event.message, style)),
            soft_wrap=True,
            highlight=False,
            markup=False,
        )


@contextlib.contextmanager
def _signals_stop(stop: threading.Event, force: threading.Event) -> Iterator[None]:
    """The first SIGINT/SIGTERM/SIGHUP sets ``stop``, the next ones ``force``.

    The handlers only set events: they run between two bytecodes of the main thread, which may
    be holding the printer's lock, so they must not print."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        (force if stop.is_set() else stop).set()

    previous = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def where(settings: Settings, base: str, services: tuple[ServiceName, ...]) -> dict[str, str]:
    """Where things are while the services run (printed as lines: URLs stay whole)."""
    names, shown = settings.names, settings.display()
    kinds = "pin|geo|user"
    topics = names.topic("pin").removesuffix("pin") + kinds
    streams = names.stream("pin").removesuffix("pin") + kinds
    lake = settings.lake_url.rstrip("/")
    rows: dict[str, str] = {
        "API": f"{base}  (/healthz, /metrics, /openapi.json)",
        "dashboard": f"{base}/ui  (live: topics, streams, lag, records, Delta tables, charts)",
        "REST Proxy v2": f"POST {base}/topics/{topics}  (application/vnd.kafka.json.v2+json)",
        "Kinesis-style": f"PUT {base}/streams/{streams}/record  (application/json)",
        "topics": shown["broker_url"],
    }
    if shown["streams_url"] != shown["broker_url"]:
        rows["streams"] = shown["streams_url"]
    if "sink" in services:
        rows["lake (sink)"] = f"{lake}/topics/{topics}/"
    if "stream" in services:
        delta_dir = table_key(settings, "pin").rsplit("/", 1)[0]
        rows["Delta (stream)"] = f"{lake}/{delta_dir}/: {', '.join(names.delta_tables)}"
    return rows


def report_table(report: SupervisorReport) -> Table:
    """How each service ended (red: not cleanly)."""
    table = Table(
        "service", "pid", "ended", "status", "ran", title="pinpipe up", title_justify="left"
    )
    for result in report.services:
        table.add_row(
            result.name,
            str(result.pid or "-"),
            result.ended,
            result.status,
            f"{result.seconds:.1f} s" if result.pid else "-",
            style="" if result.ok else "red",
        )
    return table


def run_up(
    settings: Settings,
    *,
    config_file: Path | None = None,
    host: str | None = None,
    port: int | None = None,
    stream_engine: StreamEngineName = "native",
    services: tuple[ServiceName, ...] = SERVICE_NAMES,
    api_workers: int = 1,
    grace_seconds: float = 30.0,
    ready_timeout: float = 60.0,
    debug: bool = False,
) -> SupervisorReport:
    """``pinpipe up`` (also for ``pinpipe demo --keep-running``): check the API's port, print
    where things are, run the services until SIGINT/SIGTERM/SIGHUP, print how each ended.

    Signal handlers are installed only on the main thread. Raises :class:`PinpipeError` when
    the port is taken or a service does not get ready (after stopping the others).
    """
    host = settings.api.host if host is None else host
    port = settings.api.port if port is None else port
    if "api" in services:
        port = free_port(host) if port == 0 else port
        check_port_free(host, port)
    printer = _Printer(list(services))
    # The children write to pipes, so Rich would draw their tables 80 wide: as wide as this
    # terminal behind the prefix instead (or 130 in a log).
    width = console.width if console.is_terminal else max(console.width, 130)
    env = {"COLUMNS": str(max(width - printer.width - 3, 60))}
    specs = pinpipe_services(
        settings,
        config_file=config_file,
        host=host,
        port=port,
        stream_engine=stream_engine,
        api_workers=api_workers,
        services=services,
        debug=debug,
        env=env,
    )
    console.print(f"[bold]pinpipe up[/bold] — home {settings.home}", highlight=False)
    rows = where(settings, api_base_url(host, port), services)
    key_width = max(len(key) for key in rows)
    for key, value in rows.items():
        console.print(Text.assemble((f"{key:<{key_width}}  ", "bold cyan"), value), soft_wrap=True)
    console.print(
        f"[bold]Ctrl-C[/bold] (or kill -TERM {os.getpid()}) stops {', then '.join(services)}, "
        "gracefully (each flushes and commits); a second Ctrl-C kills what is left.",
        highlight=False,
        soft_wrap=True,
    )
    stop, force = threading.Event(), threading.Event()
    try:
        with _signals_stop(stop, force):
            report = run_services(
                specs,
                grace_seconds=grace_seconds,
                ready_timeout=ready_timeout,
                on_line=printer.line,
                on_event=printer.event,
                stop=stop,
                force=force,
            )
    except ServiceNotReadyError as exc:
        console.print(report_table(exc.report))
        raise
    console.print(report_table(report))
    if report.exit_code == 0:
        console.print("[green]every service stopped cleanly[/green]")
    else:
        failed = ", ".join(s.name for s in report.services if not s.ok)
        console.print(
            f"[bold red]{report.reason}[/bold red]; not stopped cleanly: {failed} (exit 1)",
            highlight=False,
            soft_wrap=True,
        )
    return report


def up(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option("--host", help="Interface the API listens on (default: api.host).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port", min=0, max=65535, help="API port (default: api.port; 0: a free one)."
        ),
    ] = None,
    engine: Annotated[
        StreamEngineName,
        typer.Option("--engine", help="The streamer's engine: native or spark (extra spark)."),
    ] = "native",
    with_sink: Annotated[
        bool, typer.Option("--sink/--no-sink", help="Run the sink (topics → lake).")
    ] = True,
    with_stream: Annotated[
        bool, typer.Option("--stream/--no-stream", help="Run the streamer (streams → Delta).")
    ] = True,
    workers: Annotated[int, typer.Option("--workers", min=1, help="API server processes.")] = 1,
    grace: Annotated[
        float,
        typer.Option(
            "--grace", min=0.0, help="Seconds each service may take to stop before SIGKILL."
        ),
    ] = 30.0,
    ready_timeout: Annotated[
        float, typer.Option("--ready-timeout", min=1.0, help="Seconds the API may take to start.")
    ] = 60.0,
) -> None:
    """Run the API, the sink and the streamer until Ctrl-C, their output prefixed per service.

    Ctrl-C or SIGTERM stops them in order — the API (no new records), the sink (writes and
    commits what the API appended), the streamer (commits its batch) — and exits 0 when each
    stopped cleanly. If one dies, the others are stopped and the exit code is 1.
    """
    cli = state(ctx)
    chosen: tuple[ServiceName, ...] = ("api",)
    chosen += ("sink",) if with_sink else ()
    chosen += ("stream",) if with_stream else ()
    report = run_up(
        cli.settings(),
        config_file=cli.config_file,
        host=host,
        port=port,
        stream_engine=engine,
        services=chosen,
        api_workers=workers,
        grace_seconds=grace,
        ready_timeout=ready_timeout,
        debug=cli.debug,
    )
    if report.exit_code:
        raise typer.Exit(report.exit_code)
