"""The async HTTP sender: a connection per worker, retries with backoff, idempotency keys,
and the token bucket of the rate limit.

Every request carries an ``Idempotency-Key``; a retry resends the same bytes with the same key,
so a request the API stored before its answer was lost (a timeout, a killed API) is recognised
and not stored again (the embedded log keeps the key in the same transaction as the records).

Retried, up to ``RetryPolicy.attempts`` tries: connection errors and timeouts, 408, 429, 5xx,
and the Kinesis family's throttling (400 ``ProvisionedThroughputExceededException``). The wait
is the policy's jittered backoff or the server's ``Retry-After``, whichever is longer.
Stopping: an unknown topic or stream, a refused API key or a missing route raise
:class:`ApiRejectedError` (no retry can help); any other 4xx fails that request's records.
"""

from __future__ import annotations

import email.utils
import functools
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType

import httpx

from pinpipe import __version__
from pinpipe.emulator.base import (
    ApiRejectedError,
    ApiUnreachableError,
    Clock,
    EmulationPlan,
    RetryPolicy,
)
from pinpipe.emulator.payloads import CONTENT_TYPES

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
THROTTLED_TYPES = frozenset({"ProvisionedThroughputExceededException", "LimitExceededException"})
MAX_RETRY_AFTER = 60.0
PREFLIGHT_TIMEOUT = 5.0


class TokenBucket:
    """``rate`` tokens a second with a burst of ``burst``: ``reserve(n)`` takes ``n`` tokens and
    says how long to wait before using them.

    A request larger than the burst goes into debt, which the next requests wait off, so any
    batch size works and the long-run rate holds. Reserving before waiting queues concurrent
    callers behind each other.
    """

    def __init__(self, rate: float, clock: Clock, burst: float | None = None) -> None:
        self.rate = rate
        self.clock = clock
        self.burst = burst if burst is not None else max(1.0, rate / 10)
        self._tokens = self.burst
        self._last = clock.monotonic()

    def reserve(self, n: int) -> float:
        """Take ``n`` tokens; the seconds to wait until they are paid for (0 when available)."""
        now = self.clock.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate) - n
        self._last = now
        return -self._tokens / self.rate if self._tokens < 0 else 0.0


@dataclass(slots=True)
class SendResult:
    """The end of one request after its retries."""

    ok: bool
    attempts: int
    status: int | None = None
    replayed: bool = False
    error: str | None = None
    latencies: list[float] = field(default_factory=list)


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), capped at a minute."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(MAX_RETRY_AFTER, max(0.0, seconds))


@functools.cache
def _timeouts(seconds: float) -> dict[str, float]:
    """httpcore's per-request timeouts: connecting gets at most 5 s."""
    return {"connect": min(5.0, seconds), "read": seconds, "write": seconds, "pool": seconds}


def _error_of(response: httpx.Response) -> tuple[str, str]:
    """(error code or __type, message) of an error body of either family."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:200]
    if not isinstance(body, dict):
        return "", response.text[:200]
    code = body.get("__type", body.get("error_code", ""))
    return str(code), str(body.get("message", body.get("Message", "")))[:300]


class ApiClient:
    """Sends requests to one API URL; use as an async context manager."""

    def __init__(
        self,
        plan: EmulationPlan,
        clock: Clock,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.plan = plan
        self.base_url = plan.base_url
        self.clock = clock
        self.retry: RetryPolicy = plan.retry
        self._jitter = random.Random()  # noqa: S311 - backoff jitter, not crypto
        # Straight to the transport: no client layers (cookies, redirects, auth, URL merging)
        # on the hot path. One transport with one connection per worker ("lane"): httpcore's
        # pool probes every idle connection's socket whenever it assigns a request, which with
        # eight connections costs more CPU than the request itself.
        self._owns_transport = transport is None
        self._lanes: list[httpx.AsyncBaseTransport] = [] if transport is None else [transport]
        if transport is None:
            tls = httpx.create_ssl_context()  # one for all lanes: loading CAs takes ~35 ms
            self._lanes = [
                httpx.AsyncHTTPTransport(
                    verify=tls,
                    limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                    retries=0,  # retries are ours: same body, same key, with backoff
                )
                for _ in range(plan.concurrency)
            ]
        self._headers = {"User-Agent": f"pinpipe-emulator/{__version__}"}
        if plan.api_key:
            self._headers["x-api-key"] = plan.api_key
        self._urls: dict[str, httpx.URL] = {}

    async def __aenter__(self) -> ApiClient:
        if self._owns_transport:
            for lane in self._lanes:
                await lane.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._owns_transport:
            for lane in self._lanes:
                await lane.__aexit__(exc_type, exc, tb)

    def _url(self, path: str) -> httpx.URL:
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = httpx.URL(self.base_url + path)
        return url

    async def _exchange(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        timeout: float,
        lane: int = 0,
    ) -> httpx.Response:
        """One HTTP exchange on connection ``lane``, the response read whole."""
        request = httpx.Request(
            method,
            self._url(path),
            content=body if method != "GET" else None,
            headers={**self._headers, **headers} if headers else self._headers,
            extensions={"timeout": _timeouts(timeout)},
        )
        transport = self._lanes[lane % len(self._lanes)]
        response = await transport.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def check(self) -> None:
        """Fail fast with one clear line when the URL is not a reachable ingestion API:
        ``GET /topics`` (batch) or ``GET /streams`` (stream) must answer 200."""
        path = "/topics" if self.plan.mode == "batch" else "/streams"
        url = self.base_url + path
        try:
            response = await self._exchange("GET", path, timeout=PREFLIGHT_TIMEOUT)
        except httpx.HTTPError as exc:
            msg = f"cannot reach the API at {self.base_url}: {type(exc).__name__}: {exc}"
            hint = f"start it with `pinpipe api`, or pass the right --api (GET {url} must answer)"
            raise ApiUnreachableError(msg, hint=hint) from exc
        if response.status_code == 200:
            return
        code, message = _error_of(response)
        if response.status_code in (401, 403):
            raise self._forbidden(response.status_code, message)
        if response.status_code == 404:
            msg = f"{self.base_url} is not an ingestion API: GET {url} answered 404"
            hint = "--api is the invoke URL with its stage, e.g. https://abc.execute-api…/test"
            raise ApiRejectedError(msg, hint=hint)
        msg = f"GET {url} answered {response.status_code} {code} {message}".rstrip()
        raise ApiUnreachableError(msg, hint="check that the API is healthy (GET /healthz)")

    def _forbidden(self, status: int, message: str) -> ApiRejectedError:
        msg = f"the API at {self.base_url} refused the request ({status}): {message}"
        return ApiRejectedError(msg, hint="pass --api-key, or set api.api_keys in the config")

    def _unknown_target(self, target: str) -> ApiRejectedError:
        if self.plan.mode == "batch":
            msg = f"topic {target!r} does not exist at {self.base_url}"
            hint = f"create it: pinpipe topics create {target}"
        else:
            msg = f"stream {target!r} does not exist at {self.base_url}"
            hint = f"create it: pinpipe streams create {target}"
        return ApiRejectedError(msg, hint=hint + " (`pinpipe api` creates the course's on start)")

    def _rejected(self, response: httpx.Response, target: str, path: str) -> None:
        """Raise when no request to this API can succeed; otherwise return (fail the records)."""
        code, message = _error_of(response)
        status = response.status_code
        if status in (401, 403):
            raise self._forbidden(status, message)
        if code in ("40401", "ResourceNotFoundException"):
            raise self._unknown_target(target)
        if status == 404:
            msg = f"no route {path} at {self.base_url} (404: {message})"
            hint = "check --api: the invoke URL with its stage, e.g. https://…/test"
            raise ApiRejectedError(msg, hint=hint)

    def _should_retry(self, response: httpx.Response) -> bool:
        if response.status_code in RETRY_STATUSES:
            return True
        if response.status_code == 400 and self.plan.mode == "stream":
            return _error_of(response)[0] in THROTTLED_TYPES
        return False

    def _wait(self, retry: int, server: float | None) -> float:
        bound = self.retry.backoff(retry)
        wait = bound / 2 + self._jitter.uniform(0, bound / 2)
        return max(wait, server) if server is not None else wait

    async def send(
        self, method: str, path: str, body: bytes, *, target: str, key: str, lane: int = 0
    ) -> SendResult:
        """Send one request on connection ``lane``, retrying it with the same body and key;
        never raises for a failure that only concerns these records."""
        headers = {"Content-Type": CONTENT_TYPES[self.plan.mode], IDEMPOTENCY_HEADER: key}
        result = SendResult(ok=False, attempts=0)
        clock = self.clock
        while True:
            result.attempts += 1
            started = clock.monotonic()
            server_wait: float | None = None
            try:
                response = await self._exchange(
                    method, path, body=body, headers=headers, timeout=self.retry.timeout, lane=lane
                )
            except httpx.TransportError as exc:
                result.status, result.error = None, f"{type(exc).__name__}: {exc}".rstrip(": ")
            else:
                result.latencies.append(clock.monotonic() - started)
                result.status = response.status_code
                if response.is_success:
                    result.ok, result.error = True, None
                    result.replayed = response.headers.get(REPLAYED_HEADER) == "true"
                    return result
                self._rejected(response, target, path)
                code, message = _error_of(response)
                result.error = f"{method} {path}: {response.status_code} {code} {message}".strip()
                if not self._should_retry(response):
                    return result
                server_wait = retry_after(response)
            if result.attempts >= self.retry.attempts:
                return result
            await clock.sleep(self._wait(result.attempts, server_wait))
