"""Prometheus metrics, kept in dicts and written in the text exposition format (0.0.4).

Route labels are route templates (``/topics/{topic}``), never raw paths, so cardinality stays
bounded; topic and stream labels only name records that were actually written.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass(slots=True)
class _Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    total: float = 0.0
    count: int = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(LATENCY_BUCKETS, value)] += 1
        self.total += value
        self.count += 1


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: str | int) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True, slots=True)
class Gauge:
    """A value computed at scrape time (pending records, consumer instances, …)."""

    name: str
    help: str
    samples: tuple[tuple[dict[str, str], float], ...]
    kind: str = "gauge"


class Metrics:
    """Request counts and latencies by route, records and bytes by topic/stream."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.latency: dict[str, _Histogram] = {}
        self.records: dict[tuple[str, str], int] = {}
        self.record_bytes: dict[tuple[str, str], int] = {}
        self.replays: dict[str, int] = {}

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        histogram = self.latency.get(route)
        if histogram is None:
            histogram = self.latency[route] = _Histogram()
        histogram.observe(seconds)

    def count_records(self, kind: str, name: str, records: int, size: int) -> None:
        """``kind`` is ``topic`` or ``stream``; ``size`` the stored bytes (keys and values)."""
        self.records[(kind, name)] = self.records.get((kind, name), 0) + records
        self.record_bytes[(kind, name)] = self.record_bytes.get((kind, name), 0) + size

    def count_replay(self, kind: str) -> None:
        self.replays[kind] = self.replays.get(kind, 0) + 1

    def render(self, gauges: Iterable[Gauge] = ()) -> str:
        lines: list[str] = []

        def header(name: str, kind: str, text: str) -> None:
            lines.append(f"# HELP {name} {text}")
            lines.append(f"# TYPE {name} {kind}")

        name = "pinpipe_api_requests_total"
        header(name, "counter", "HTTP requests by route template, method and status.")
        for (route, method, status), count in sorted(self.requests.items()):
            lines.append(f"{name}{_labels(route=route, method=method, status=status)} {count}")

        name = "pinpipe_api_request_duration_seconds"
        header(name, "histogram", "Time from request start to response end, by route.")
        for route, hist in sorted(self.latency.items()):
            cumulative = 0
            for bound, count in zip((*LATENCY_BUCKETS, float("inf")), hist.counts, strict=True):
                cumulative += count
                le = "+Inf" if bound == float("inf") else repr(bound)
                lines.append(f"{name}_bucket{_labels(route=route, le=le)} {cumulative}")
            lines.append(f"{name}_sum{_labels(route=route)} {hist.total!r}")
            lines.append(f"{name}_count{_labels(route=route)} {hist.count}")

        for name, values, text in (
            ("pinpipe_api_records_total", self.records, "Records written, by topic or stream."),
            (
                "pinpipe_api_record_bytes_total",
                self.record_bytes,
                "Bytes of records written (key + value), by topic or stream.",
            ),
        ):
            header(name, "counter", text)
            for (kind, target), value in sorted(values.items()):
                lines.append(f"{name}{_labels(kind=kind, name=target)} {value}")

        name = "pinpipe_api_idempotent_replays_total"
        header(name, "counter", "Requests answered from an earlier one with the same key.")
        for kind, value in sorted(self.replays.items()):
            lines.append(f"{name}{_labels(kind=kind)} {value}")

        for gauge in gauges:
            header(gauge.name, gauge.kind, gauge.help)
            for labels, sample in gauge.samples:
                lines.append(f"{gauge.name}{_labels(**labels)} {_number(sample)}")
        return "\n".join(lines) + "\n"
