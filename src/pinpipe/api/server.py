"""Serving the API from inside another program (``pinpipe demo``; tests): uvicorn in a
background thread on a loopback port, stopped gracefully (queued writes flushed) on exit."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from pinpipe.config import Settings
from pinpipe.errors import PinpipeError


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_api(
    settings: Settings, *, port: int | None = None, timeout: float = 30.0
) -> Iterator[str]:
    """Serve ``create_app(settings)`` on 127.0.0.1 (a free port unless given); yields its URL."""
    import uvicorn

    from pinpipe.api import create_app

    port = port or free_loopback_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="pinpipe-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            msg = f"the API did not start on 127.0.0.1:{port}"
            raise PinpipeError(msg, hint="is the port free? run with --debug for details")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout)
