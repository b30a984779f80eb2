"""Records per second from end offsets sampled over time.

The dashboard never counts records itself: it samples each topic's and stream's *end offset*
(the broker's own count, the same whichever process asks) and derives rates from how it moves.
That keeps rates right when the API runs several worker processes: each process keeps its own
:class:`RateHistory`, filled whenever it gathers a snapshot, and every history describes the
same broker, so a page whose polls land on different workers sees the same rates (a worker
that has only just started sampling answers ``None`` until it has two samples, and the page
keeps the last value it showed).

Rates are read off a piecewise-linear end-offset curve through the samples: the current rate
over the last ``window`` seconds, and a sparkline of ``span / step`` buckets whose value is
the offset gained across the bucket divided by its length. Uneven sampling (polls every 1-2 s,
two workers taking turns) then changes nothing but the resolution. An end offset that goes
*down* means the topic was deleted and created again: its samples start over.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Mapping

#: Seconds of history kept and drawn, and the width of a sparkline bucket.
SPAN_S = 300.0
STEP_S = 5.0
#: The current rate is measured over this many seconds (or over the history there is, once it
#: covers at least MIN_WINDOW_S).
WINDOW_S = 10.0
MIN_WINDOW_S = 0.5
#: Samples closer together than this are not kept (several viewers polling at once).
MIN_GAP_S = 0.25


class _Curve:
    """One name's samples: times (monotonic seconds) and end offsets, oldest first."""

    __slots__ = ("ends", "times")

    def __init__(self) -> None:
        self.times: deque[float] = deque()
        self.ends: deque[int] = deque()

    def add(self, at: float, end: int, keep_from: float) -> None:
        if self.ends and end < self.ends[-1]:  # recreated: the old offsets mean nothing now
            self.times.clear()
            self.ends.clear()
        if self.times and at - self.times[-1] < MIN_GAP_S:
            self.times[-1], self.ends[-1] = at, end  # the newer reading of the same moment
        else:
            self.times.append(at)
            self.ends.append(end)
        # Keep one sample older than the span, so the first bucket can still be interpolated.
        while len(self.times) > 2 and self.times[1] <= keep_from:
            self.times.popleft()
            self.ends.popleft()

    def at(self, moment: float) -> float | None:
        """The end offset at ``moment``, linear between samples; None before the first one,
        the last value after the last one."""
        if not self.times or moment < self.times[0]:
            return None
        i = bisect.bisect_right(self.times, moment)
        if i >= len(self.times):
            return float(self.ends[-1])
        t0, t1 = self.times[i - 1], self.times[i]
        e0, e1 = self.ends[i - 1], self.ends[i]
        return e0 + (e1 - e0) * (moment - t0) / (t1 - t0)


class RateHistory:
    """End offsets per name over the last ``span`` seconds; see the module docstring."""

    def __init__(
        self, *, span: float = SPAN_S, step: float = STEP_S, window: float = WINDOW_S
    ) -> None:
        self.span, self.step, self.window = span, step, window
        self._curves: dict[str, _Curve] = {}

    def add(self, at: float, ends: Mapping[str, int]) -> None:
        """Record the end offsets read at monotonic time ``at`` (names absent now are kept:
        a topic that could not be described this once has not lost its history)."""
        keep_from = at - self.span - self.step
        for name, end in ends.items():
            self._curves.setdefault(name, _Curve()).add(at, end, keep_from)

    def rate(self, name: str, now: float) -> float | None:
        """Records per second over the ``window`` seconds up to ``now`` (or up to the last
        sample, for a name missing from the latest ones; or over the history there is); None
        before two samples at least MIN_WINDOW_S apart."""
        curve = self._curves.get(name)
        if curve is None or not curve.times:
            return None
        end = min(now, curve.times[-1])
        start = max(end - self.window, curve.times[0])
        if end - start < MIN_WINDOW_S:
            return None
        first, last = curve.at(start), curve.at(end)
        if first is None or last is None:
            return None
        return max(0.0, (last - first) / (end - start))

    def series(self, name: str, now: float) -> list[float | None]:
        """Records per second in each ``step`` of the last ``span`` seconds, oldest first;
        None where the history does not reach."""
        buckets = round(self.span / self.step)
        curve = self._curves.get(name)
        edges = [now - self.span + i * self.step for i in range(buckets + 1)]
        values = [curve.at(t) if curve else None for t in edges]
        series: list[float | None] = []
        for i in range(buckets):
            before, after = values[i], values[i + 1]
            if before is None or after is None:
                series.append(None)
            else:
                series.append(round(max(0.0, (after - before) / self.step), 3))
        return series
