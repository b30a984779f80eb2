"""``pinpipe api``: the ingestion HTTP service (Kafka REST Proxy v2 + Kinesis-style routes)."""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from starlette.applications import Starlette

from pinpipe.api.server import run_server
from pinpipe.broker import open_broker
from pinpipe.cli._common import console, state
from pinpipe.config import Settings, load_settings

#: How ``pinpipe api --workers N`` hands the root options to its worker processes.
WORKER_ARGS_ENV = "PINPIPE_API_WORKER_ARGS"


def ensure_course_log(settings: Settings) -> list[str]:
    """Create the course's three topics and three streams where missing; returns those made."""
    made: list[str] = []
    names = settings.names
    for url, wanted in ((settings.broker_url, names.topics), (settings.streams_url, names.streams)):
        with open_broker(url, settings) as broker:
            existing = set(broker.list_topics())
            for name in wanted:
                if name not in existing:
                    broker.create_topic(name)
                    made.append(name)
    return made


def api(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option("--host", help="Interface to listen on (default: api.host).")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Port (default: api.port, 8082).")
    ] = None,
    create: Annotated[
        bool,
        typer.Option(
            "--create/--no-create", help="Create the course's topics and streams if missing."
        ),
    ] = True,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Server processes sharing the port. More than 1 uses more cores for produce, "
            "but a REST Proxy consumer instance lives in one process (like behind a load "
            "balancer in front of several proxies), so keep 1 for the consumer API.",
        ),
    ] = 1,
) -> None:
    """Serve the ingestion API until Ctrl-C (queued writes are flushed before it exits)."""
    import uvicorn

    overrides: dict[str, Any] = {k: v for k, v in (("host", host), ("port", port)) if v}
    settings = state(ctx).settings(api=overrides) if overrides else state(ctx).settings()
    if create:
        for name in ensure_course_log(settings):
            console.print(f"created [cyan]{name}[/cyan]")
    base = f"http://{settings.api.host}:{settings.api.port}"
    console.print(
        f"pinpipe api on [bold]{base}[/bold] — topics: {settings.display()['broker_url']}, "
        f"streams: {settings.display()['streams_url']}; try {base}/topics or {base}/openapi.json"
        f"; live dashboard: {base}/ui"
    )
    serve: dict[str, Any] = {
        "host": settings.api.host,
        "port": settings.api.port,
        "access_log": False,
        "log_level": "warning",
        "lifespan": "on",
    }
    if workers == 1:
        run_server(_server_app(settings), **serve)
        return
    cli = state(ctx)
    os.environ[WORKER_ARGS_ENV] = json.dumps(
        {
            "config": str(cli.config_file) if cli.config_file else None,
            "home": str(settings.home),
            "api": overrides,
        }
    )
    uvicorn.run("pinpipe.cli.api_cmd:worker_app", factory=True, workers=workers, **serve)


def _server_app(settings: Settings) -> Starlette:
    from pinpipe.api import create_app

    app = create_app(settings)
    # A 500-record request makes ~2,000 short-lived container objects; with the default
    # thresholds the cyclic collector ran several times a request (11-16% of the event loop,
    # measured with py-spy). Freeze what startup made and collect young objects less often.
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1_000)
    return app


def worker_app() -> Starlette:
    """The app of one ``--workers`` process: the parent's root options, PINPIPE_* inherited."""
    args = json.loads(os.environ[WORKER_ARGS_ENV])
    config = Path(args["config"]) if args["config"] else None
    settings = load_settings(config, home=Path(args["home"]), api=args["api"] or None)
    return _server_app(settings)
