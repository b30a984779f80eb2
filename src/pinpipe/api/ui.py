"""The live dashboard under ``/ui``, served by the API process beside the ingestion routes.

=====================================  ==============================================  ========
route                                  what                                            API key
=====================================  ==============================================  ========
``GET /ui``, ``GET /ui/``              the page (HTML; its CSP allows this origin only)  no
``GET /ui/static/{name}``              its script, styles, Chart.js (from the package)   no
``GET /ui/api/snapshot``               the pipeline now (JSON; poll it every second)     yes
``GET /ui/api/batch``                  the last batch run's eight charts and tables      yes
``GET /ui/api/topics/{topic}/records`` the newest ``?limit=N`` records (1-100) of a      yes
                                       topic or stream
=====================================  ==============================================  ========

The key rule: the page and its assets are the same files for every installation and carry no
data, so they need no key; everything that reads the pipeline sits behind the same
``x-api-key`` check as the ingestion routes (when ``api.api_keys`` is set). The page asks for
the key when a data route answers 403 and keeps it in the tab's ``sessionStorage``.

The page polls instead of holding a server-sent-events stream open: an open stream would keep
the graceful shutdown of ``pinpipe api``/``pinpipe up`` waiting on it, and polls may land on
any ``--workers`` process (see :mod:`pinpipe.report.rates` for why the rates agree). The routes
are not in ``/openapi.json``: the dashboard is a page, not part of the ingestion API.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import anyio.to_thread
import orjson
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp

from pinpipe.api.errors import ApiError, Problem, endpoint
from pinpipe.api.state import ApiState

if TYPE_CHECKING:
    # Imported when first used: the report's modules (pyarrow, deltalake, DuckDB) would add
    # ~1.4 s to the start of every API process, dashboard or not.
    from pinpipe.report.live import LiveDashboard

PREFIX = "/ui"
#: pinpipe.report.tail.MAX_RECORDS, which is not imported here (see TYPE_CHECKING above).
MAX_RECORDS = 100
OPEN_PATHS = frozenset({"/ui", "/ui/"})
OPEN_PREFIXES = ("/ui/static/",)
#: The page may load its own scripts, styles and icon and call its own origin; nothing else.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
JSON_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
#: The static files the page uses (name → media type); nothing else under static/ is served.
ASSETS = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "theme.css": "text/css; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
    "charts.js": "text/javascript; charset=utf-8",
    "chart.umd.min.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}

kafka = endpoint("kafka")
Handler = Callable[[Request], Awaitable[Response]]


def is_ui_path(route_path: str) -> bool:
    return route_path == PREFIX or route_path.startswith(PREFIX + "/")


def is_open(route_path: str) -> bool:
    """Whether ``route_path`` is served without an API key (see the module docstring)."""
    return route_path in OPEN_PATHS or route_path.startswith(OPEN_PREFIXES)


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


@cache
def asset(name: str) -> Asset:
    from pinpipe.report.html import chart_js, static_text

    # Chart.js without its sourceMappingURL line: the map is not shipped, so a browser's
    # developer tools would ask for it in vain.
    text = chart_js()[0] if name == "chart.umd.min.js" else static_text(name)
    body = text.encode("utf-8")
    return Asset(body, ASSETS[name], '"' + hashlib.sha256(body).hexdigest()[:20] + '"')


class Ui:
    """The dashboard's routes over one API's state; the :class:`LiveDashboard` is made at the
    first data request (once the brokers are open) and lives as long as the process."""

    def __init__(self, state: ApiState) -> None:
        self.state = state
        self._dashboard: LiveDashboard | None = None
        self._lock = threading.Lock()

    def dashboard(self) -> LiveDashboard:
        """The process's dashboard (called in worker threads: made once, under a lock)."""
        if not self.state.is_open:
            raise ApiError(Problem.UNAVAILABLE, "the API is starting", retry_after=1.0)
        with self._lock:
            if self._dashboard is None:
                from pinpipe.report.live import LiveDashboard

                self._dashboard = LiveDashboard(
                    self.state.settings, self.state.topics, self.state.streams
                )
            return self._dashboard

    # Every handler works in a thread: the first one imports the report's modules (~1.5 s),
    # and a snapshot reads files and the brokers.

    async def page(self, request: Request) -> Response:
        root = request.scope.get("root_path", "")
        html = await anyio.to_thread.run_sync(self._render_page, root)
        headers = {**SECURITY_HEADERS, "Content-Security-Policy": PAGE_CSP}
        headers["Cache-Control"] = "no-cache"
        return Response(html, headers=headers, media_type="text/html; charset=utf-8")

    def _render_page(self, root: str) -> str:
        from pinpipe.report.html import environment

        versions = {name: asset(name).etag.strip('"')[:10] for name in ASSETS}
        template = environment().get_template("dashboard.html.j2")
        return template.render(
            root=root,
            user_id=self.state.settings.user_id,
            asset=lambda name: f"{root}{PREFIX}/static/{name}?v={versions[name]}",
        )

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            raise ApiError(Problem.ROUTE_NOT_FOUND, f"HTTP 404 Not Found: no asset {name!r}")
        found = await anyio.to_thread.run_sync(asset, name)
        # Page URLs carry the file's hash (?v=…), so a new pinpipe never meets an old copy.
        headers = {**SECURITY_HEADERS, "ETag": found.etag, "Cache-Control": "max-age=86400"}
        if request.headers.get("if-none-match") == found.etag:
            return Response(status_code=304, headers=headers)
        return Response(found.body, headers=headers, media_type=found.media_type)

    async def snapshot(self, request: Request) -> Response:
        return _json(await anyio.to_thread.run_sync(lambda: self.dashboard().snapshot()))

    async def batch(self, request: Request) -> Response:
        return _json(await anyio.to_thread.run_sync(lambda: self.dashboard().batch()))

    async def records(self, request: Request) -> Response:
        raw = request.query_params.get("limit", "10")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_RECORDS:
            text = f"limit must be a whole number from 1 to {MAX_RECORDS}, not {raw!r}"
            raise ApiError(Problem.INVALID_REQUEST, text)
        name, limit = request.path_params["topic"], int(raw)
        return _json(await anyio.to_thread.run_sync(lambda: self.dashboard().records(name, limit)))

    def routes(self) -> list[Route]:
        page = kafka(self.page)
        return [
            Route(PREFIX, page, methods=["GET"]),
            Route(PREFIX + "/", page, methods=["GET"]),
            Route(PREFIX + "/static/{name}", kafka(self.static), methods=["GET"]),
            Route(PREFIX + "/api/snapshot", kafka(self.snapshot), methods=["GET"]),
            Route(PREFIX + "/api/batch", kafka(self.batch), methods=["GET"]),
            Route(PREFIX + "/api/topics/{topic}/records", kafka(self.records), methods=["GET"]),
        ]


def _json(value: object) -> Response:
    return Response(orjson.dumps(value), headers=JSON_HEADERS, media_type="application/json")


def create_ui(
    state: ApiState, http_error: Callable[[Request, Exception], Awaitable[Response]]
) -> ASGIApp:
    """The dashboard as an ASGI app for the paths :func:`is_ui_path` accepts; its 404 and 405
    answer through ``http_error`` like the API's own."""
    router = Router(routes=Ui(state).routes(), redirect_slashes=False)
    return ExceptionMiddleware(router, handlers={404: http_error, 405: http_error})
