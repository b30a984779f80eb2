"""``pinpipe doctor``: is each configured endpoint usable from here?

One cheap, real check per component, each bounded by ``timeout`` seconds and run side by side:
connect and list (source tables, topics, streams), head the bucket, find the engine's runtime,
ask the API for ``/healthz``; and, when an AWS service is configured, whether the standard
AWS credential chain yields credentials at all. Nothing is created or written.

Each check ends in one of three statuses:

* ``ok``: it works (the detail says what was seen);
* ``missing``: reachable, but something pinpipe or the exported stack creates is not there yet
  (the source tables, the topics, the streams, the bucket) - the fix names the command;
* ``failed``: it cannot work as configured (unreachable, refused, an extra not installed, no
  credentials) - the fix names the setting, the extra or the IAM permission.

``pinpipe doctor`` exits 1 when a check failed (``--strict``: or something is missing).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

from pinpipe.config import Settings, mask_url
from pinpipe.errors import PinpipeError

Status = Literal["ok", "missing", "failed"]
STATUSES: tuple[Status, ...] = ("ok", "missing", "failed")


@dataclass(frozen=True, slots=True)
class Check:
    """The outcome of one component's check."""

    component: str
    url: str  # secrets masked
    status: Status
    detail: str
    fix: str = ""


@dataclass(frozen=True, slots=True)
class DoctorReport:
    checks: tuple[Check, ...]
    seconds: float

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "failed"]

    @property
    def missing(self) -> list[Check]:
        return [c for c in self.checks if c.status == "missing"]

    def exit_code(self, *, strict: bool = False) -> int:
        return 1 if self.failed or (strict and self.missing) else 0


@dataclass(frozen=True, slots=True)
class Probe:
    """One component's check: ``run`` returns its :class:`Check`; ``applies`` says whether the
    settings configure the component at all (the AWS credential check only runs for AWS)."""

    component: str
    url: Callable[[Settings], str]
    run: Callable[[Settings, float], Check]
    applies: Callable[[Settings], bool] = lambda _settings: True


_TOKEN = re.compile(r"((?:token|password|secret)=)[^;&]*", re.IGNORECASE)


def mask(url: str) -> str:
    """``url`` with its password and any ``token=``/``password=`` parameter masked (Spark
    Connect URLs carry Databricks tokens as ``;token=…``)."""
    return _TOKEN.sub(r"\1***", mask_url(url))


def run_doctor(
    settings: Settings,
    *,
    timeout: float = 5.0,
    debug: bool = False,
    probes: tuple[Probe, ...] | None = None,
) -> DoctorReport:
    """Run every probe (default :data:`pinpipe.aws.doctor_checks.PROBES`) side by side.

    A probe that raises a :class:`PinpipeError` reports ``failed`` with its message and hint;
    any other exception too (a doctor reports rather than crashes), unless ``debug``.
    """
    from pinpipe.aws.doctor_checks import PROBES

    selected = [p for p in (probes if probes is not None else PROBES) if p.applies(settings)]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, len(selected))) as pool:
        futures = [pool.submit(_guarded, probe, settings, timeout, debug) for probe in selected]
        results = tuple(f.result() for f in futures)
    return DoctorReport(results, time.monotonic() - started)


def _guarded(probe: Probe, settings: Settings, timeout: float, debug: bool) -> Check:
    try:
        return probe.run(settings, timeout)
    except PinpipeError as exc:
        return Check(
            probe.component, mask(probe.url(settings)), "failed", exc.message, exc.hint or ""
        )
    except Exception as exc:  # a doctor reports every failure instead of stopping at one
        if debug:
            raise
        detail = f"unexpected {type(exc).__name__}: {exc}"
        url = mask(probe.url(settings))
        return Check(probe.component, url, "failed", detail, "rerun with --debug for the trace")


__all__ = ["STATUSES", "Check", "DoctorReport", "Probe", "Status", "mask", "run_doctor"]
