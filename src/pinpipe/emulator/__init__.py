"""The user posting emulator: the course's batch (REST Proxy) and streaming (Kinesis) posters.

``faithful`` mode replays the course's seeded loop byte for byte; load mode drives the API with
batched, concurrent, rate-limited requests. Both read the source database ahead of sending,
retry with backoff and carry idempotency keys, so nothing is stored twice.

    plan = EmulationPlan("batch", "http://127.0.0.1:8082", user_id, count=1000)
    summary = run_emulation(plan, settings.source_url)
"""

from __future__ import annotations

from pinpipe.emulator.base import (
    ApiRejectedError,
    ApiUnreachableError,
    Clock,
    EmulationPlan,
    EmulationSummary,
    EmulatorError,
    Mode,
    RetryPolicy,
    SystemClock,
    Tally,
    new_run_id,
)
from pinpipe.emulator.faithful import course_high, course_sequence, load_sequence
from pinpipe.emulator.runner import Emulator, run_emulation

__all__ = [
    "ApiRejectedError",
    "ApiUnreachableError",
    "Clock",
    "EmulationPlan",
    "EmulationSummary",
    "Emulator",
    "EmulatorError",
    "Mode",
    "RetryPolicy",
    "SystemClock",
    "Tally",
    "course_high",
    "course_sequence",
    "load_sequence",
    "new_run_id",
    "run_emulation",
]
