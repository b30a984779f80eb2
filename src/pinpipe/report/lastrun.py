"""The last batch run as the live dashboard shows it: its facts and data-quality counts (in
every snapshot, read again every ``ttl`` seconds from the small summary the run stores), and its
eight questions with their charts and tables (read from the stored results once per run, when
the page asks for them)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pinpipe.errors import PinpipeError
from pinpipe.lake import Lake
from pinpipe.report.data import BatchRunFacts, ResultSet, read_batch_run, read_results
from pinpipe.report.questions import question_json, question_views

#: Seconds between two readings of the run's summary.
RUN_TTL_S = 3.0


@dataclass(frozen=True, slots=True)
class _Reading:
    at: float
    run: BatchRunFacts
    quality: list[dict[str, Any]]
    notes: list[str]


class LastRun:
    """The last batch run in one lake, cached (see the module docstring). Not thread-safe: the
    dashboard calls it under its lock."""

    def __init__(self, ttl: float = RUN_TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._reading: _Reading | None = None
        self._view: tuple[str, dict[str, Any]] | None = None

    def summary(
        self, lake: Lake, notes: list[str]
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The run's facts (None before the first run) and its quality counts per kind."""
        reading = self._reading
        if reading is None or self.clock() - reading.at >= self.ttl:
            found: list[str] = []
            run, kinds = read_batch_run(lake, found)
            quality = [
                {
                    "kind": q.kind,
                    "objects": q.objects,
                    "lines": q.lines,
                    "rows_read": q.rows_read,
                    "dead_letters": q.dead_letters,
                    "duplicates_dropped": q.duplicates_dropped,
                    "rows_cleaned": q.rows_cleaned,
                    "nulled": sum(n for _, n in q.nulled),
                }
                for q in kinds
            ]
            reading = self._reading = _Reading(self.clock(), run, quality, found)
        run = reading.run
        if run.finished_at is None and run.engine is None:
            return None, []  # no batch run yet: the page says what to run, not a note
        notes.extend(reading.notes)
        facts = {
            "id": run_id(run),
            "engine": run.engine,
            "finished_at": run.finished_at,
            "seconds": run.seconds,
        }
        return facts, reading.quality

    def view(self, lake: Lake) -> dict[str, Any]:
        """The run's eight questions (built once per run); ``id`` null and no questions before
        the first run."""
        notes: list[str] = []
        run, _ = self.summary(lake, notes)
        if run is None:
            return {"id": None, "run": None, "questions": [], "notes": notes}
        if self._view is not None and self._view[0] == run["id"]:
            return self._view[1]
        try:
            results = ResultSet(read_results(lake))
            questions = [question_json(v) for v in question_views(results)]
        except PinpipeError as exc:
            return {"id": run["id"], "run": run, "questions": [], "notes": [str(exc)]}
        view = {"id": run["id"], "run": run, "questions": questions, "notes": notes}
        self._view = (run["id"], view)
        return view


def run_id(run: BatchRunFacts) -> str:
    """Which batch run this is: the page fetches the charts again when it changes."""
    stamp = f"{run.finished_at}|{run.engine}|{run.seconds}".encode()
    return hashlib.sha256(stamp).hexdigest()[:16]
