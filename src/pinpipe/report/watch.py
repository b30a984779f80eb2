"""What the live dashboard keeps between two polls, so that a poll stays cheap on a big home.

* :class:`DeltaWatch` keeps one Delta table open and brings it up to date incrementally (delta-rs
  reads only the log entries written since) when the next commit's file exists, at most every
  ``refresh_every`` seconds, and recomputes the table's facts - rows from the add actions, the
  streamer's positions from the newest commits - only when its version moved. A table that does
  not exist yet is looked for again at most every ``missing_retry`` seconds.
* :class:`Refreshing` computes a value in a background thread and hands out the last one
  computed: a lake listing of a million objects takes seconds, and no poll waits for it. It is
  computed again once it is older than ``min_age`` or ``cost_factor`` times what the last
  computation took, whichever is longer, so a slow listing also runs rarely.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

import orjson

from pinpipe.errors import PinpipeError
from pinpipe.lake import Lake
from pinpipe.report.data import DeltaFacts, ReportError, count_per_stream, table_facts
from pinpipe.stream.tables import POSITIONS_KEY, STREAM_KEY

if TYPE_CHECKING:
    from deltalake import DeltaTable

T = TypeVar("T")
Clock = Callable[[], float]

#: Commits searched for the streamer's positions when a table is first read (maintenance
#: commits - OPTIMIZE, VACUUM - carry none; past this many the positions stay unknown).
POSITIONS_WINDOW = 50


@dataclass(frozen=True, slots=True)
class TableState:
    """A Delta table's facts at its latest version, and the source positions it recorded."""

    facts: DeltaFacts
    positions: dict[int, int] | None  # partition -> next offset; None: none recorded
    per_stream: dict[str, int] | None = None  # the dead-letter table's rows per stream


class DeltaWatch:
    """One Delta table of the lake, followed across polls (see the module docstring).

    ``stream`` names the stream whose positions the commits carry (a streaming table);
    ``count_streams`` counts the rows per stream (the dead-letter table)."""

    def __init__(
        self,
        lake: Lake,
        key: str,
        *,
        stream: str | None = None,
        count_streams: bool = False,
        refresh_every: float = 0.0,
        missing_retry: float = 5.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.lake, self.key, self.stream = lake, key, stream
        self.count_streams = count_streams
        self.refresh_every, self.missing_retry, self.clock = refresh_every, missing_retry, clock
        self._table: DeltaTable | None = None
        self._uri: str | None = None
        self._state: TableState | None = None
        self._looked_at: float | None = None
        self._refreshed: float | None = None

    def state(self) -> TableState | None:
        """The table's state now, or None before its first commit; ReportError when the lake
        cannot be read, LakeError when it cannot hold tables (``memory://``: on every call, so
        the page's note stays)."""
        from deltalake.exceptions import DeltaError, TableNotFoundError

        if self._table is None:
            uri = self._uri = self._uri or self.lake.table_uri(self.key)
            now = self.clock()
            if self._looked_at is not None and now - self._looked_at < self.missing_retry:
                return None
            self._looked_at = now
            try:
                self._table = self._open(uri)
            except TableNotFoundError:
                return None
            except (DeltaError, OSError) as exc:
                raise _read_error(uri, exc) from exc
        table, uri = self._table, self._uri or ""
        now = self.clock()
        if self._state is not None and self._refreshed is not None:
            if now - self._refreshed < self.refresh_every or not self._moved(table.version()):
                return self._state
        try:
            table.update_incremental()
        except (DeltaError, OSError) as exc:
            raise _read_error(uri, exc) from exc
        self._refreshed = now
        if self._state is None or self._state.facts.version != table.version():
            self._state = self._read(table, uri)
        return self._state

    def _moved(self, version: int) -> bool:
        """Whether a commit after ``version`` exists: one lookup of the next commit's file.

        delta-rs' own update lists the whole ``_delta_log`` (one file per commit: thousands
        after a day of micro-batches); commits are numbered without gaps, so the next one
        has a known name."""
        try:
            return self.lake.exists(f"{self.key}/_delta_log/{version + 1:020d}.json")
        except PinpipeError:
            return True  # let the update say what is wrong

    def _open(self, uri: str) -> DeltaTable:
        from deltalake import DeltaTable

        return DeltaTable(uri, storage_options=self.lake.storage_options() or None)

    def _read(self, table: DeltaTable, uri: str) -> TableState:
        facts = table_facts(table, self.key, uri)
        positions = None
        if self.stream is not None:
            previous = self._state
            # Only the commits since the last poll can hold newer positions.
            window = POSITIONS_WINDOW
            if previous is not None:
                window = min(POSITIONS_WINDOW, max(1, facts.version - previous.facts.version))
            positions = _positions(table, self.stream, window, uri)
            if positions is None and previous is not None:
                positions = previous.positions
        per_stream = count_per_stream(table, uri) if self.count_streams else None
        return TableState(facts, positions, per_stream)


def _positions(table: DeltaTable, stream: str, window: int, uri: str) -> dict[int, int] | None:
    from deltalake.exceptions import DeltaError

    try:
        history = table.history(window)
    except (DeltaError, OSError) as exc:
        raise _read_error(uri, exc) from exc
    for commit in history:  # newest first
        if commit.get(STREAM_KEY) == stream and POSITIONS_KEY in commit:
            try:
                raw = orjson.loads(commit[POSITIONS_KEY])
                return {int(p): int(o) for p, o in raw.items()}
            except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
                return None
    return None


def _read_error(uri: str, exc: Exception) -> ReportError:
    return ReportError(
        f"cannot read the Delta table {uri!r}: {exc}", hint="check the lake (permissions, endpoint)"
    )


@dataclass(frozen=True, slots=True)
class Reading(Generic[T]):
    """The last value computed (None before the first), when, what it cost, and the last
    error (cleared by the next success)."""

    value: T | None
    computed_at: float | None
    seconds: float | None
    error: str | None


class Refreshing(Generic[T]):
    """A value computed in the background; see the module docstring."""

    def __init__(
        self,
        compute: Callable[[], T],
        *,
        name: str,
        min_age: float = 5.0,
        cost_factor: float = 10.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.compute, self.name = compute, name
        self.min_age, self.cost_factor, self.clock = min_age, cost_factor, clock
        self._lock = threading.Lock()
        self._reading: Reading[T] = Reading(None, None, None, None)
        self._running: threading.Thread | None = None

    def get(self) -> Reading[T]:
        """The last reading; starts a computation when it is due and none is running."""
        with self._lock:
            reading = self._reading
            if self._running is None and self._due(reading):
                self._running = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._running.start()
        return reading

    def wait(self, timeout: float) -> Reading[T]:
        """The reading once the running computation (if any) ended (tests, first polls)."""
        running = self._running
        if running is not None:
            running.join(timeout)
        return self._reading

    def _due(self, reading: Reading[T]) -> bool:
        if reading.computed_at is None:
            return True
        age = self.clock() - reading.computed_at
        return age >= max(self.min_age, self.cost_factor * (reading.seconds or 0.0))

    def _run(self) -> None:
        started = self.clock()
        value: T | None
        error: str | None = None
        try:
            value = self.compute()
        except (PinpipeError, OSError) as exc:  # a note on the page, never a dead thread
            value, error = self._reading.value, str(exc)
        seconds = self.clock() - started
        with self._lock:
            self._reading = Reading(value, self.clock(), seconds, error)
            self._running = None
