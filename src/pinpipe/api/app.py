"""The app factory: routes, the stage prefix, CORS, API keys, metrics and the error boundary.

Every route also answers under one API Gateway stage prefix (``/test/topics/…``,
``/streaming_test/streams/…``): the middleware moves a leading path segment that is not a route
root into ``root_path``, so handlers see the same path either way and ``request.base_url``
keeps the stage (the consumer API's ``base_uri`` needs it).
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pinpipe.api import consumers, kinesis, kinesis_reads, rest_proxy, service, ui
from pinpipe.api.errors import Problem, error_response, family_of_path
from pinpipe.api.state import ApiState
from pinpipe.broker.base import Broker
from pinpipe.config import Settings

logger = logging.getLogger("pinpipe.api")

ROOTS = frozenset({"topics", "consumers", "streams", "healthz", "metrics", "openapi.json", "ui"})
OPEN_PATHS = frozenset({"/healthz", "/openapi.json"})  # and the dashboard's page and assets
ALLOW_ORIGIN = (b"access-control-allow-origin", b"*")
PREFLIGHT = [  # plus ALLOW_ORIGIN, which every response gets
    (b"access-control-allow-methods", b"DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"),
    (
        b"access-control-allow-headers",
        b"Content-Type,Authorization,X-Amz-Date,X-Api-Key,X-Amz-Security-Token,Idempotency-Key",
    ),
    (b"content-length", b"0"),
]

Handler = Callable[[Request], Awaitable[Response]]
INSTANCE = "/consumers/{group}/instances/{name}"


def _by_method(handlers: dict[str, Handler]) -> Handler:
    """One endpoint for several methods of a path (so a 405 lists all of them in Allow)."""

    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    return dispatch


def _route(path: str, handlers: dict[str, Handler]) -> Route:
    return Route(path, _by_method(handlers), methods=list(handlers))


ROUTES = [
    _route("/topics", {"GET": rest_proxy.list_topics}),
    _route("/topics/{topic}", {"GET": rest_proxy.describe_topic, "POST": rest_proxy.produce}),
    _route("/consumers/{group}", {"POST": consumers.create_consumer}),
    _route(INSTANCE, {"DELETE": consumers.delete_consumer}),
    _route(
        INSTANCE + "/subscription",
        {
            "POST": consumers.subscribe,
            "GET": consumers.get_subscription,
            "DELETE": consumers.unsubscribe,
        },
    ),
    _route(INSTANCE + "/records", {"GET": consumers.fetch_records}),
    _route(
        INSTANCE + "/offsets",
        {"POST": consumers.commit_offsets, "GET": consumers.committed_offsets},
    ),
    _route("/streams", {"GET": kinesis.list_streams}),
    _route(
        "/streams/{name}",
        {
            "GET": kinesis.describe_stream,
            "POST": kinesis.create_stream,
            "DELETE": kinesis.delete_stream,
        },
    ),
    _route("/streams/{name}/record", {"PUT": kinesis.put_record}),
    _route(
        "/streams/{name}/records", {"PUT": kinesis.put_records, "GET": kinesis_reads.get_records}
    ),
    _route("/streams/{name}/sharditerator", {"GET": kinesis_reads.get_shard_iterator}),
    _route("/healthz", {"GET": service.healthz}),
    _route("/metrics", {"GET": service.metrics}),
    _route("/openapi.json", {"GET": service.openapi}),
]


class ApiMiddleware:
    """Stage prefix, CORS, API key, request metrics and the last-resort 500, as plain ASGI;
    ``/ui…`` goes to the live dashboard (:mod:`pinpipe.api.ui`), the rest to the API's routes."""

    def __init__(self, app: ASGIApp, state: ApiState) -> None:
        self.app = app
        self.state = state
        self.ui = ui.create_ui(state, _http_error)
        self.keys = [key.get_secret_value().encode() for key in state.api.api_keys]

    def _authorized(self, scope: Scope) -> bool:
        given = next((v for k, v in scope["headers"] if k == b"x-api-key"), b"")
        ok = False
        for key in self.keys:  # compare with every key: no early exit to time
            ok |= hmac.compare_digest(given, key)
        return ok

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        root = scope.get("root_path", "")
        path: str = scope["path"]
        route_path = path[len(root) :] if root and path.startswith(root) else path
        parts = route_path.split("/", 3)
        if len(parts) >= 3 and parts[1] not in ROOTS and parts[2] in ROOTS:
            scope = {**scope, "root_path": f"{root}/{parts[1]}"}
            route_path = route_path[len(parts[1]) + 1 :]
        family = family_of_path(route_path)
        method: str = scope["method"]
        status = 499  # until a response starts: the client went away (nginx's code for it)
        response_started = False

        async def send_with_cors(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [*message.get("headers", ()), ALLOW_ORIGIN]
            await send(message)

        try:
            if method == "OPTIONS":  # the {proxy+} resource's CORS mock, on every path
                start = {"type": "http.response.start", "status": 200, "headers": PREFLIGHT}
                await send_with_cors(start)
                await send_with_cors({"type": "http.response.body", "body": b""})
                return
            public = route_path in OPEN_PATHS or ui.is_open(route_path)
            if self.keys and not public and not self._authorized(scope):
                text = "Forbidden: send a valid API key in the x-api-key header"
                response = error_response(family, Problem.FORBIDDEN, text)
                await response(scope, receive, send_with_cors)
                return
            target = self.ui if ui.is_ui_path(route_path) else self.app
            await target(scope, receive, send_with_cors)
        except Exception:
            logger.exception("unhandled error in %s %s", method, path)
            if response_started:
                raise
            response = error_response(family, Problem.INTERNAL, "internal error; see the API log")
            await response(scope, receive, send_with_cors)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", "unmatched") if method != "OPTIONS" else "*"
            self.state.metrics.observe_request(label, method, status, time.perf_counter() - started)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 in the family's format."""
    if not isinstance(exc, HTTPException):  # registered for HTTPException only
        raise exc
    root = request.scope.get("root_path", "")
    path = request.url.path
    family = family_of_path(path[len(root) :] if root and path.startswith(root) else path)
    if exc.status_code == 405:
        message = f"HTTP 405 Method Not Allowed: {request.method} {path}"
        headers = dict(exc.headers or {})
        return error_response(family, Problem.METHOD_NOT_ALLOWED, message, headers=headers)
    if exc.status_code == 404:
        message = f"HTTP 404 Not Found: no route {request.method} {path}"
        return error_response(family, Problem.ROUTE_NOT_FOUND, message)
    problem = Problem.INVALID_REQUEST if exc.status_code < 500 else Problem.INTERNAL
    return error_response(family, problem, str(exc.detail))


def create_app(
    settings: Settings, *, topics: Broker | None = None, streams: Broker | None = None
) -> Starlette:
    """The ingestion HTTP service over the given brokers, or over those the settings name
    (``broker_url`` / ``streams_url``; one broker when they are equal), opened on startup and
    closed on shutdown. Brokers passed in are used as they are and left open."""
    state = ApiState(settings, topics, streams)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await state.open()
        try:
            yield
        finally:
            await state.close()

    app = Starlette(
        routes=ROUTES,
        middleware=[Middleware(ApiMiddleware, state=state)],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    app.state.pinpipe = state
    return app
