"""The emulator's contract: what a run is told to do (:class:`EmulationPlan`), what it reports
(:class:`EmulationSummary`), the clock it waits on, and its errors.

Hierarchy (under :class:`~pinpipe.errors.PinpipeError`)::

    EmulatorError             a plan that cannot run (bad URL, bad numbers, empty source)
    ├── ApiUnreachableError   the API does not answer at the URL (Transient)
    └── ApiRejectedError      the API refuses the run: unknown topic or stream, API key, route

A run's idempotency keys are ``emu-<run_id>-<seed>-<topic>-<first iteration>[-<last>]``:
deterministic within a run (a retry after an API restart carries the same key, so the API's
key store drops the copy), fresh per run by default (a second run sends again, as the course's
restarts do), and reusable with the same ``run_id`` to resume a run without duplicates.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from pinpipe.config import mask_url
from pinpipe.errors import PinpipeError, Transient
from pinpipe.naming import KINDS, Names, RecordKindName

Mode = Literal["batch", "stream"]

MAX_BATCH = {"batch": 10_000, "stream": 500}  # PutRecords takes at most 500 records
MAX_CONCURRENCY = 256
MAX_ERRORS_KEPT = 5
MAX_LATENCIES_KEPT = 200_000


class EmulatorError(PinpipeError):
    """A run that cannot start or go on."""


class ApiUnreachableError(EmulatorError, Transient):
    """No HTTP answer from the API URL (refused, DNS, timeout)."""


class ApiRejectedError(EmulatorError):
    """The API answered, and no retry can help: unknown topic or stream, API key, wrong route."""


class Clock(Protocol):
    """Time as the emulator sees it; tests inject one that records sleeps instead of sleeping."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock: ``time.monotonic`` and ``asyncio.sleep``."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter on 429, 5xx, throttling and connection errors.

    The n-th retry waits ``b/2 + uniform(0, b/2)`` with ``b = min(cap, base * 2**(n-1))``, or the
    server's ``Retry-After`` when that is longer; at most ``attempts`` tries per request.
    """

    attempts: int = 10
    base: float = 0.1
    cap: float = 5.0
    timeout: float = 30.0  # per attempt; API Gateway gives up after 29 s

    def backoff(self, retry: int) -> float:
        """Upper bound of the wait before retry number ``retry`` (1-based)."""
        return float(min(self.cap, self.base * 2 ** (retry - 1)))


def new_run_id() -> str:
    return secrets.token_hex(6)


@dataclass(frozen=True, slots=True)
class EmulationPlan:
    """One emulator run. ``count`` iterations (one row index each, sent to all three tables'
    topics or streams), or until ``duration`` seconds pass, or until stopped."""

    mode: Mode
    api_url: str
    user_id: str
    faithful: bool = False
    sleep: bool = True
    count: int | None = None
    duration: float | None = None
    rate: float | None = None
    concurrency: int = 4
    batch_size: int = 100
    seed: int = 100
    api_key: str | None = field(default=None, repr=False)
    run_id: str = field(default_factory=new_run_id)
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        url = urlsplit(self.api_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            msg = f"--api {self.api_url!r} is not an http(s) URL"
            hint = "pass the invoke URL with its stage, e.g. https://abc.execute-api…/test"
            raise EmulatorError(msg, hint=hint)
        checks = (
            (self.count is None or self.count >= 1, f"count={self.count} must be at least 1"),
            (
                self.duration is None or self.duration > 0,
                f"duration={self.duration} must be positive",
            ),
            (self.rate is None or self.rate > 0, f"rate={self.rate} must be positive"),
            (
                1 <= self.concurrency <= MAX_CONCURRENCY,
                f"concurrency={self.concurrency} must be within 1..{MAX_CONCURRENCY}",
            ),
            (
                1 <= self.batch_size <= MAX_BATCH[self.mode],
                f"batch_size={self.batch_size} must be within 1..{MAX_BATCH[self.mode]} "
                f"in {self.mode} mode",
            ),
            (
                bool(self.run_id) and self.run_id.isascii() and self.run_id.isalnum(),
                f"run_id={self.run_id!r} must be letters and digits",
            ),
            (self.retry.attempts >= 1, f"retry attempts={self.retry.attempts} must be >= 1"),
        )
        for ok, msg in checks:
            if not ok:
                raise EmulatorError(msg, hint="fix the option")

    @property
    def base_url(self) -> str:
        return self.api_url.rstrip("/")

    def target(self, kind: RecordKindName) -> str:
        """The topic (batch) or stream (stream mode) a kind's rows go to."""
        names = Names(self.user_id)
        return names.topic(kind) if self.mode == "batch" else names.stream(kind)

    @property
    def targets(self) -> dict[RecordKindName, str]:
        return {kind: self.target(kind) for kind in KINDS}

    def idempotency_key(self, target: str, first: int, last: int | None = None) -> str:
        """The key of a request carrying iterations ``first..last`` of ``target``."""
        span = str(first) if last is None or last == first else f"{first}-{last}"
        return f"emu-{self.run_id}-{self.seed}-{target}-{span}"


@dataclass
class Tally:
    """The counters of a run while it goes (what the progress bar shows)."""

    started: float
    targets: tuple[str, ...]
    iterations: int = 0
    requests: int = 0
    retried: int = 0
    replayed: int = 0
    failed: int = 0
    unsent: int = 0
    sent: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    interrupted: bool = False

    def __post_init__(self) -> None:
        self.sent = dict.fromkeys(self.targets, 0)
        self.skipped = dict.fromkeys(self.targets, 0)

    @property
    def records(self) -> int:
        return sum(self.sent.values())

    def note_error(self, message: str) -> None:
        if message not in self.errors and len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(message)

    def observe(self, latencies: list[float]) -> None:
        room = MAX_LATENCIES_KEPT - len(self.latencies)
        self.latencies.extend(latencies[:room] if room < len(latencies) else latencies)


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class EmulationSummary:
    """What a run did: records per topic or stream, failures, retries, latency, throughput."""

    mode: Mode
    faithful: bool
    api_url: str
    run_id: str
    seed: int
    iterations: int
    sent: Mapping[str, int]
    skipped: Mapping[str, int]
    failed: int
    unsent: int
    retried: int
    replayed: int
    requests: int
    seconds: float
    latency_ms: Mapping[str, float]
    interrupted: bool
    errors: tuple[str, ...]

    @classmethod
    def from_tally(cls, plan: EmulationPlan, tally: Tally, ended: float) -> EmulationSummary:
        latencies = tally.latencies
        return cls(
            mode=plan.mode,
            faithful=plan.faithful,
            api_url=mask_url(plan.api_url),
            run_id=plan.run_id,
            seed=plan.seed,
            iterations=tally.iterations,
            sent=dict(tally.sent),
            skipped=dict(tally.skipped),
            failed=tally.failed,
            unsent=tally.unsent,
            retried=tally.retried,
            replayed=tally.replayed,
            requests=tally.requests,
            seconds=max(0.0, ended - tally.started),
            latency_ms={f"p{q}": 1000 * percentile(latencies, q) for q in (50, 95, 99)},
            interrupted=tally.interrupted,
            errors=tuple(tally.errors),
        )

    @property
    def records(self) -> int:
        """Records acknowledged by the API, all topics or streams together."""
        return sum(self.sent.values())

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "faithful": self.faithful,
            "api_url": self.api_url,
            "run_id": self.run_id,
            "seed": self.seed,
            "iterations": self.iterations,
            "sent": dict(self.sent),
            "skipped": dict(self.skipped),
            "records": self.records,
            "failed": self.failed,
            "unsent": self.unsent,
            "retried": self.retried,
            "replayed": self.replayed,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "records_per_second": round(self.records_per_second, 1),
            "latency_ms": {k: round(v, 3) for k, v in self.latency_ms.items()},
            "interrupted": self.interrupted,
            "errors": list(self.errors),
        }
