"""Serving the API: in the foreground until SIGINT/SIGTERM (``pinpipe api``, :func:`run_server`),
or from inside another program (``pinpipe demo``; tests, :func:`running_api`): uvicorn in a
background thread on a loopback port, stopped gracefully (queued writes flushed) on exit."""

from __future__ import annotations

import contextlib
import functools
import signal
import socket
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pinpipe.config import Settings
from pinpipe.errors import PinpipeError

if TYPE_CHECKING:
    import uvicorn

#: The signals that stop the server gracefully (uvicorn's own handler: the first one starts the
#: graceful shutdown, a second SIGINT skips the wait for open connections).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_server(app: Any, **options: Any) -> None:
    """Serve ``app`` (an ASGI app, or an import string with ``factory=True``) in this thread
    until SIGINT/SIGTERM, then return after the graceful shutdown, so the process exits 0.

    ``options`` are :class:`uvicorn.Config`'s (``host``, ``port``, ``log_level``, …). One
    process only: ``workers > 1`` is ``uvicorn.run``'s supervisor, whose own exit is already 0.
    Raises :class:`PinpipeError` when the server cannot start (uvicorn logs why, e.g. the port
    is in use).
    """
    import uvicorn

    config = uvicorn.Config(app, **options)
    server = _server_class()(config)
    with contextlib.suppress(KeyboardInterrupt):
        try:
            server.run()
        except SystemExit:  # uvicorn's startup failure (bind error, lifespan startup failed)
            if server.started:
                raise
    if not server.started:
        where = f"{config.host}:{config.port}"
        msg = f"the API could not start on {where}"
        hint = f"see uvicorn's message above (is port {config.port} in use? pick another)"
        raise PinpipeError(msg, hint=hint)


@functools.cache
def _server_class() -> type[uvicorn.Server]:
    import uvicorn

    class _StopsCleanly(uvicorn.Server):
        """uvicorn's Server without the signal re-raise.

        ``uvicorn.Server.capture_signals`` installs ``handle_exit`` for SIGINT/SIGTERM and, after
        the graceful shutdown (connections drained, the lifespan's shutdown flushing queued
        writes), restores the previous handlers and *raises the signal again*, so the process
        dies of it: exit status -15 after a clean stop, which a supervisor (``pinpipe up``,
        systemd, Kubernetes) reads as a crash. Here the same handlers are installed and restored,
        and nothing is re-raised: a stop on request is a normal end, exit 0.
        """

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield  # signals only reach the main thread; the caller stops us (should_exit)
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return _StopsCleanly


@contextlib.contextmanager
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
