"""``pinpipe emulate batch|stream``: post the source's rows to the API as the course's users do.

``--faithful`` replays the course's loop (seed 100, sleep 0-1 s, one row per request); without
it, load mode sends batches from concurrent connections at an optional rate. Ctrl-C stops after
the requests in flight and prints the summary; a second Ctrl-C aborts at once.
"""

from __future__ import annotations

import asyncio
import signal
import time
from contextlib import suppress
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pinpipe.cli._common import console, err_console, kv_table, state
from pinpipe.config import Settings
from pinpipe.emulator import (
    EmulationPlan,
    EmulationSummary,
    Emulator,
    EmulatorError,
    Mode,
    Tally,
    new_run_id,
)

app = typer.Typer(
    help="Post the source's rows to the API like the course's emulators (batch: REST Proxy "
    "topics; stream: Kinesis-style streams).",
    no_args_is_help=True,
)

DEFAULT_CONCURRENCY = 4
DEFAULT_BATCH = 100
REFRESH_SECONDS = 0.1

ApiOption = Annotated[
    str | None,
    typer.Option(
        "--api",
        help="API invoke URL with its stage (https://…/test) \\[default: http://{api.host}:"
        "{api.port}, the local `pinpipe api`].",
    ),
]
FaithfulOption = Annotated[
    bool,
    typer.Option(
        "--faithful",
        help="The course exactly: seed 100, sleep 0-1 s, pin→geo→user, one row per request.",
    ),
]
NoSleepOption = Annotated[
    bool, typer.Option("--no-sleep", help="Faithful sequence without its sleeps.")
]
CountOption = Annotated[
    int | None, typer.Option("--count", min=1, help="Iterations (one row index each).")
]
DurationOption = Annotated[
    float | None, typer.Option("--duration", min=0.001, help="Stop after this many seconds.")
]
RateOption = Annotated[
    float | None, typer.Option("--rate", min=0.001, help="At most this many records/s.")
]
ConcurrencyOption = Annotated[
    int | None,
    typer.Option(
        "--concurrency", min=1, help=f"Connections (load mode) \\[default: {DEFAULT_CONCURRENCY}]."
    ),
]
BatchOption = Annotated[
    int | None,
    typer.Option(
        "--batch-size", min=1, help=f"Records per request (load mode) \\[default: {DEFAULT_BATCH}]."
    ),
]
SeedOption = Annotated[int, typer.Option("--seed", help="Row sequence seed (the course: 100).")]
ApiKeyOption = Annotated[
    str | None,
    typer.Option("--api-key", help="x-api-key header \\[default: the first of api.api_keys]."),
]
RunIdOption = Annotated[
    str | None,
    typer.Option(
        "--run-id",
        help="Reuse a run's id to resume it without duplicates (its idempotency keys) "
        "\\[default: a new one].",
    ),
]
JsonOption = Annotated[
    Path | None, typer.Option("--json", dir_okay=False, help="Also write the summary as JSON.")
]


def default_api_url(settings: Settings) -> str:
    host = settings.api.host
    host = "127.0.0.1" if host in ("", "0.0.0.0") else host  # noqa: S104 - a listen address
    host = "[::1]" if host == "::" else (f"[{host}]" if ":" in host else host)
    return f"http://{host}:{settings.api.port}"


def _stats(tally: Tally) -> str:
    elapsed = max(time.monotonic() - tally.started, 1e-9)  # the CLI runs on the system clock
    return (
        f"{tally.records:,} records · {tally.records / elapsed:,.0f}/s · "
        f"errors {tally.failed:,} · retries {tally.retried:,}"
    )


def _progress(plan: EmulationPlan) -> Progress:
    """The bar (on stderr); the caller starts it at the first progress report, so a run that
    fails its checks prints nothing but its error line."""
    label = f"{plan.mode}{' (faithful)' if plan.faithful else ''}"
    columns = [TextColumn("[bold]{task.description}"), BarColumn()]
    if plan.count is not None:
        columns.append(MofNCompleteColumn())
    columns += [TextColumn("{task.fields[stats]}"), TimeElapsedColumn()]
    progress = Progress(*columns, console=err_console, transient=False)
    progress.add_task(label, total=plan.count, stats="")
    return progress


async def _run(emulator: Emulator) -> EmulationSummary:
    """The run, with Ctrl-C asking it to stop (a second Ctrl-C interrupts at once)."""
    loop = asyncio.get_running_loop()

    def on_sigint() -> None:
        loop.remove_signal_handler(signal.SIGINT)
        err_console.print(
            "[yellow]stopping: finishing the requests in flight (Ctrl-C again to abort)"
        )
        emulator.stop()

    with suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread, Windows
        loop.add_signal_handler(signal.SIGINT, on_sigint)
    try:
        return await emulator.run()
    finally:
        with suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGINT)


def render_summary(summary: EmulationSummary) -> dict[str, object]:
    """The summary's rows as the CLI prints them."""
    rows: dict[str, object] = {"api": summary.api_url, "run id": summary.run_id}
    rows["seed"] = summary.seed
    rows["iterations"] = summary.iterations
    for target, n in summary.sent.items():
        rows[f"sent → {target}"] = n
    for target, n in summary.skipped.items():
        if n:
            rows[f"skipped (not in source) → {target}"] = n
    rows |= {
        "failed": summary.failed,
        "unsent (stopped)": summary.unsent,
        "retried": summary.retried,
        "replayed (already stored)": summary.replayed,
        "requests": summary.requests,
        "seconds": f"{summary.seconds:.2f}",
        "records/s": f"{summary.records_per_second:,.0f}",
        "latency p50/p95/p99": " / ".join(f"{v:.1f} ms" for v in summary.latency_ms.values()),
    }
    if summary.interrupted:
        rows["interrupted"] = "yes (Ctrl-C)"
    for n, error in enumerate(summary.errors, 1):
        rows[f"error {n}"] = error
    return rows


def _emulate(
    ctx: typer.Context,
    mode: Mode,
    *,
    api: str | None,
    faithful: bool,
    no_sleep: bool,
    count: int | None,
    duration: float | None,
    rate: float | None,
    concurrency: int | None,
    batch_size: int | None,
    seed: int,
    api_key: str | None,
    run_id: str | None,
    json_file: Path | None,
) -> None:
    settings = state(ctx).settings()
    if faithful and (concurrency is not None or batch_size is not None):
        msg = "--faithful sends one row per request, one request at a time"
        raise EmulatorError(msg, hint="drop --concurrency/--batch-size, or drop --faithful")
    keys = settings.api.api_keys
    plan = EmulationPlan(
        mode,
        api or default_api_url(settings),
        settings.user_id,
        faithful=faithful,
        sleep=not no_sleep,
        count=count,
        duration=duration,
        rate=rate,
        concurrency=1 if faithful else (concurrency or DEFAULT_CONCURRENCY),
        batch_size=1 if faithful else (batch_size or DEFAULT_BATCH),
        seed=seed,
        api_key=api_key or (keys[0].get_secret_value() if keys else None),
        run_id=run_id or new_run_id(),
    )
    progress = _progress(plan)
    task = progress.task_ids[0]
    last = time.monotonic()
    shown = False

    def on_progress(tally: Tally) -> None:
        nonlocal last, shown
        if not shown:
            shown = True
            progress.start()
        now = time.monotonic()
        if now - last >= REFRESH_SECONDS:
            last = now
            progress.update(task, completed=tally.iterations, stats=_stats(tally))

    def on_warning(message: str) -> None:
        err_console.print(f"[yellow]warning:[/yellow] {message}", highlight=False, soft_wrap=True)

    emulator = Emulator(plan, settings.source_url, on_progress=on_progress, on_warning=on_warning)
    try:
        summary = asyncio.run(_run(emulator))
        progress.update(task, completed=summary.iterations, stats=_stats(emulator.tally))
    finally:
        if shown:
            progress.stop()
    console.print(
        kv_table(f"emulate {mode}{' --faithful' if faithful else ''}", render_summary(summary))
    )
    if json_file is not None:
        json_file.write_bytes(orjson.dumps(summary.to_dict(), option=orjson.OPT_INDENT_2) + b"\n")
    if summary.interrupted:
        raise typer.Exit(130)
    if summary.failed:
        msg = f"{summary.failed:,} records failed"
        raise EmulatorError(msg, hint=summary.errors[0] if summary.errors else "see the summary")


def _register(mode: Mode, doc: str) -> None:
    """Add the ``mode`` command: the same options for batch and stream."""

    def command(
        ctx: typer.Context,
        api: ApiOption = None,
        faithful: FaithfulOption = False,
        no_sleep: NoSleepOption = False,
        count: CountOption = None,
        duration: DurationOption = None,
        rate: RateOption = None,
        concurrency: ConcurrencyOption = None,
        batch_size: BatchOption = None,
        seed: SeedOption = 100,
        api_key: ApiKeyOption = None,
        run_id: RunIdOption = None,
        json_file: JsonOption = None,
    ) -> None:
        _emulate(
            ctx,
            mode,
            api=api,
            faithful=faithful,
            no_sleep=no_sleep,
            count=count,
            duration=duration,
            rate=rate,
            concurrency=concurrency,
            batch_size=batch_size,
            seed=seed,
            api_key=api_key,
            run_id=run_id,
            json_file=json_file,
        )

    command.__doc__ = doc
    app.command(mode)(command)


_register(
    "batch", "POST pin/geo/user rows to <api>/topics/<uid>.pin|geo|user (Kafka REST Proxy v2)."
)
_register(
    "stream",
    "PUT pin/geo/user rows to <api>/streams/streaming-<uid>-pin|geo|user/record (Kinesis "
    "PutRecord; PutRecords to …/records in load mode).",
)
