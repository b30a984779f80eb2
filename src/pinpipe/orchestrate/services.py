"""The pipeline's long-running services as :class:`ServiceSpec` s: ``api``, ``sink``, ``stream``.

Each is ``python -m pinpipe [--home H] [--config F] <command> …`` with the interpreter running
this code, so the children rebuild the same settings from the same home, config file and
(inherited) ``PINPIPE_*`` environment. They are listed upstream first — the order
:func:`~pinpipe.orchestrate.supervisor.run_services` starts *and* stops them in:

1. ``api`` — accepts records into the topics and streams (and creates the course's topics and
   streams at start); the others start once its ``/healthz`` answers. Stopped first, so no new
   record is accepted while the rest finish.
2. ``sink`` — topics → lake objects; on SIGTERM it writes and commits what it has cut.
3. ``stream`` — streams → Delta tables; on SIGTERM it commits the current micro-batch.
"""

from __future__ import annotations

import errno
import http.client
import shlex
import socket
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pinpipe.config import Settings
from pinpipe.orchestrate.supervisor import ServiceSpec, SupervisorError

ServiceName = Literal["api", "sink", "stream"]
SERVICE_NAMES: tuple[ServiceName, ...] = ("api", "sink", "stream")
StreamEngineName = Literal["native", "spark"]


class PortInUseError(SupervisorError):
    """The API's port is taken (or cannot be bound) before anything was started."""


def api_base_url(host: str, port: int) -> str:
    """The URL clients on this machine reach the API at (``0.0.0.0``/``::`` → loopback)."""
    reach = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    if ":" in reach:
        reach = f"[{reach}]"
    return f"http://{reach}:{port}"


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (the OS's choice)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def check_port_free(host: str, port: int) -> None:
    """Raise :class:`PortInUseError` naming the port when ``host:port`` cannot be listened on."""
    try:
        addresses = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        msg = f"the API host {host!r} does not resolve: {exc.strerror}"
        hint = "pass --host 127.0.0.1 (or an address of this machine)"
        raise PortInUseError(msg, hint=hint) from exc
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as sock:
            # As uvicorn does: a port whose old connections linger in TIME_WAIT is free.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                raise _bind_error(host, port, exc) from exc


def _bind_error(host: str, port: int, exc: OSError) -> PortInUseError:
    if exc.errno == errno.EADDRINUSE:
        return PortInUseError(
            f"port {port} on {host} is already in use (another pinpipe api or up?)",
            hint=f"stop what listens there, or pick another port: --port {port + 1} "
            "(--port 0 picks a free one)",
        )
    if exc.errno == errno.EACCES:
        return PortInUseError(
            f"port {port} on {host} needs privileges to listen on",
            hint="pick a port above 1023, e.g. --port 8082",
        )
    return PortInUseError(
        f"cannot listen on {host}:{port}: {exc.strerror}",
        hint="pass --host 127.0.0.1 (or an address of this machine) and a free --port",
    )


def http_ready(url: str, *, timeout: float = 1.0) -> Callable[[], bool]:
    """A ready probe: True once ``GET url`` answers 200 (no proxy: the URL is on this host)."""
    parts = urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"

    def probe() -> bool:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            conn.request("GET", path)
            return conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    return probe


def check_multi_process(settings: Settings) -> None:
    """The services are separate processes: a ``memory://`` broker or lake would be one per
    process, so nothing would flow. Raise :class:`SupervisorError` naming the setting."""
    for key, url, env in (
        ("broker_url", settings.broker_url, "PINPIPE_BROKER_URL"),
        ("streams_url", settings.streams_url, "PINPIPE_STREAMS_URL"),
        ("lake_url", settings.lake_url, "PINPIPE_LAKE_URL"),
    ):
        if urlsplit(url).scheme == "memory":
            msg = f"{key} {url!r} lives inside one process; the services run as several"
            hint = f"unset {env} (the embedded default) or use a shared backend for {key}"
            raise SupervisorError(msg, hint=hint)


def pinpipe_services(
    settings: Settings,
    *,
    config_file: Path | None = None,
    host: str | None = None,
    port: int | None = None,
    stream_engine: StreamEngineName = "native",
    api_workers: int = 1,
    services: tuple[ServiceName, ...] = SERVICE_NAMES,
    debug: bool = False,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    python: str = sys.executable,
) -> list[ServiceSpec]:
    """The specs of ``services`` (a subset of api, sink, stream), upstream first.

    ``host``/``port`` default to ``settings.api``; ``config_file`` and ``debug`` are passed on as
    the root options; ``env`` is added to each child's environment.
    """
    check_multi_process(settings)
    host = settings.api.host if host is None else host
    port = settings.api.port if port is None else port
    root = ["--home", str(settings.home)]
    if config_file is not None:
        root += ["--config", str(config_file)]
    if debug:
        root.append("--debug")
    commands: dict[ServiceName, list[str]] = {
        "api": ["api", "--host", host, "--port", str(port)],
        "sink": ["sink"],
        "stream": ["stream", "--engine", stream_engine],
    }
    if api_workers > 1:
        commands["api"] += ["--workers", str(api_workers)]
    specs: list[ServiceSpec] = []
    for name in SERVICE_NAMES:
        if name not in services:
            continue
        args = [*root, *commands[name]]
        ready, what = None, ""
        if name == "api":
            what = f"{api_base_url(host, port)}/healthz"
            ready = http_ready(what)
        specs.append(
            ServiceSpec(
                name,
                (python, "-m", "pinpipe", *args),
                env=dict(env or {}),
                cwd=cwd,
                ready=ready,
                ready_what=what,
                display=shlex.join(["pinpipe", *args]),
            )
        )
    return specs
