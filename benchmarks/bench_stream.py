"""Streaming benchmark (issue 7): the API at a steady rate, the streamer into Delta, end to end.

Three processes on this machine's cores, in a temporary home with the embedded log (``durability
= fsync``) and a local lake:

* ``pinpipe api --workers 2`` on a free 127.0.0.1 port (``benchmarks.bench_api.api_server``);
* ``pinpipe stream`` (default trigger interval, 50,000 records per micro-batch at most), which
  cleans ``streaming-<uid>-pin|geo|user`` into the Delta tables ``<uid>_pin_table`` etc.;
* the load generator, a child process (asyncio on uvloop + httpx, 8 connections): realistic pin
  rows (``source.generate``; ~680 bytes of compact JSON each) whose ``index`` is a unique
  sequence number, 500 per ``PUT /streams/streaming-<uid>-pin/records`` (the course template's
  PutRecords), on an open-loop schedule: request k is due at start + k × 500 / rate, whatever
  the answers before it. It records when each request was answered 200 (the accept time).

This process watches the pin table meanwhile: every 50 ms ``DeltaTable.update_incremental()``;
the ``ind`` values of each data file new since the last look are visible from that look on.
End-to-end latency of a record = first visible - accepted, both on CLOCK_MONOTONIC (one clock
for every process on Linux); the look-up interval adds 25 ms on average. A warm-up at the same
rate comes first; latency counts only the records accepted after it. The send rate and the
streaming throughput are least-squares slopes of records accepted, and of rows made visible,
over time in the measured part (after the warm-up, up to the end of the load): whether the last
micro-batch of the part falls just inside it or just after does not sway them. Offered 20,000/s,
a streamer that keeps up shows 20,000/s less its latency's drift over the part (latency growing
by 0.3 s over 30 s shows as 1% less); one that does not shows less still, and the latency per
5 s slice, printed, keeps growing. A 30 s run shows the start of a streamer's life: with
``--duration 180`` and more, costs that grow with what it has appended come out.

After the load, every accepted record must become visible, once: the table's ``ind`` column is
read whole once the streamer has stopped (SIGTERM: it commits the batch at hand and exits) and
compared with the accepted indexes. The streamer's peak RSS (VmHWM) and the pin table's commits
are reported, as is the CPU each process used: the API, the streamer, the load generator and
this watcher share the cores, so a figure here is what one machine does with everything on it.

``--profile stages`` runs the streamer as ``run_stream`` in a child of this module that times
each stage of a micro-batch (broker read, decode, digest filter, clean, Delta commits);
``--profile cprofile`` runs ``pinpipe stream`` under ``python -m cProfile`` and prints the top
functions. Either costs the streamer some CPU.

    python -m benchmarks.bench_stream [--quick] [--rate 20000] [--duration 30] [--profile …]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import math
import os
import pstats
import resource
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from benchmarks._harness import Metric, report, run_child, stop_process
from benchmarks.bench_api import api_server, server_pids
from benchmarks.bench_batch import vm_hwm_mib

TARGET_EVENTS_PER_S = 20_000
TARGET_P99_MS = 2_000
# Offered above the 20k target, so "sustains 20k" is measured, not a coin flip at exactly 20k.
FULL_RATE, FULL_S, FULL_WARMUP_S = 22_000, 30.0, 3.0
QUICK_RATE, QUICK_S, QUICK_WARMUP_S = 5_000, 5.0, 1.0
RECORDS_PER_REQUEST = 500
CONNECTIONS = 8
DISTINCT_PINS = 5_000  # realistic rows, cycled; each record gets its own index
WATCH_INTERVAL_S = 0.05
SLICE_S = 5.0  # latency is also shown per slice of this many seconds
STREAMER_START_TIMEOUT_S = 60.0
STREAMER_STOP_TIMEOUT_S = 30.0
DRAIN_TIMEOUT_S = 60.0
MAX_BEHIND_S = 10.0  # the load generator gives up requests this late (an API that stalled)
CPU_TICK = os.sysconf("SC_CLK_TCK")


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least ``q`` of the values at or below it."""
    if not sorted_values:
        return math.nan
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


# -- the load generator (a child process) --------------------------------------------------


def pin_values(count: int) -> list[dict[str, Any]]:
    """``count`` realistic pin rows as the emulator puts them (course keys, JSON-ready)."""
    from pinpipe import records as rec
    from pinpipe.source import generate

    columns = rec.PIN.column_names
    rows = [row for batch in generate(count, seed=0) for row in batch.pins]
    return [rec.to_payload(dict(zip(columns, row, strict=True))) for row in rows]


async def _load(url: str, rate: float, seconds: float) -> dict[str, Any]:
    values = pin_values(DISTINCT_PINS)
    per = RECORDS_PER_REQUEST
    interval = per / rate
    requests = math.ceil(seconds / interval)
    headers = {"Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # plain http: no CA bundle to load
    clients = [
        httpx.AsyncClient(limits=limits, timeout=30.0, verify=tls, trust_env=False)
        for _ in range(CONNECTIONS)
    ]
    # [first index, due, sent, answered, status]; status 0 is a socket error or timeout
    done: list[tuple[int, float, float, float, int]] = []
    counter = iter(range(requests))
    skipped: list[int] = []
    started = time.monotonic() + 0.2  # leave the clients a moment to start

    def body(k: int) -> bytes:
        first = k * per
        items = [
            {"data": {**values[i % len(values)], "index": i}, "partition-key": "partition-1"}
            for i in range(first, first + per)
        ]
        return orjson.dumps({"records": items})

    async def worker(client: httpx.AsyncClient) -> None:
        for k in counter:  # one shared iterator: each request is sent once, in order of due
            due = started + k * interval
            delay = due - time.monotonic()
            if delay < -MAX_BEHIND_S:  # the API has stalled: send no more (bounded in time)
                skipped.append(k)
                continue
            if delay > 0:
                await asyncio.sleep(delay)
            content = body(k)
            sent = time.monotonic()
            try:
                response = await client.put(url, content=content, headers=headers)
                status = response.status_code
            except httpx.HTTPError:
                status = 0
            done.append((k * per, due, sent, time.monotonic(), status))

    try:
        await asyncio.gather(*(worker(client) for client in clients))
    finally:
        for client in clients:
            await client.aclose()
    mean_bytes = sum(len(orjson.dumps(v)) for v in values) / len(values)
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "started": started,
        "per_request": per,
        "requests": sorted(done),
        "skipped": len(skipped),
        "mean_record_bytes": mean_bytes,
        "cpu_s": cpu.ru_utime + cpu.ru_stime,
    }


def work_load(url: str, rate: float, seconds: float) -> dict[str, Any]:
    import uvloop

    return uvloop.run(_load(url, rate, seconds))


# -- the instrumented streamer (a child process, with --profile stages) ---------------------


def work_streamer(home: Path, out: Path) -> None:
    """``run_stream`` as ``pinpipe stream`` runs it, each stage of a micro-batch timed; the
    timings are written to ``out`` as JSON when SIGTERM has stopped it."""
    from pinpipe.broker.embedded import EmbeddedLog
    from pinpipe.config import Settings
    from pinpipe.sink import stop_on_signals
    from pinpipe.stream import job, tables
    from pinpipe.stream.job import StreamTable, run_stream
    from pinpipe.transform import DuckDBEngine

    batches: list[dict[str, float]] = []
    idle: dict[str, float] = {}
    current: list[dict[str, float]] = []

    def timed(owner: Any, name: str, stage: str | Callable[..., str]) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                label = stage if isinstance(stage, str) else stage(*args)
                times = current[-1] if current else idle
                times[label] = times.get(label, 0.0) + time.perf_counter() - t0

        setattr(owner, name, wrapper)

    def table_of(target: Any, *_: Any) -> str:
        uri = str(target.uri)
        kind = "seen" if "_pinpipe_seen" in uri else "dead" if "dead_letters" in uri else "main"
        return f"delta commit ({kind})"

    timed(EmbeddedLog, "read", "broker read")
    timed(job, "decode", "decode")
    timed(StreamTable, "_new_rows", "digest filter")
    timed(DuckDBEngine, "load_raw", "load raw")
    timed(DuckDBEngine, "clean", "clean (SQL)")
    timed(DuckDBEngine, "cleaned_arrow", "cleaned to Arrow")
    timed(tables.DeltaTarget, "committed_batch", "read table version")
    timed(tables.DeltaTarget, "append", table_of)
    timed(StreamTable, "_remember", "remember digests")
    run_batch = StreamTable.run_batch

    def run_batch_timed(self: Any, max_records: int) -> int:
        current.append({})
        t0 = time.perf_counter()
        try:
            count: int = run_batch(self, max_records)
        finally:
            times = current.pop()
        if count:
            batches.append({**times, "total": time.perf_counter() - t0, "records": count})
        else:
            for label, seconds in times.items():
                idle[label] = idle.get(label, 0.0) + seconds
        return count

    StreamTable.run_batch = run_batch_timed  # type: ignore[method-assign]
    settings = Settings(home=home, embedded={"durability": "fsync"})
    stop = threading.Event()
    with stop_on_signals(stop):
        info = run_stream(settings, stop=stop)
    out.write_text(json.dumps({"batches": batches, "idle": idle, "seconds": info.seconds}))


# -- the streamer process -------------------------------------------------------------------


def proc_cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` so far (those gone count 0)."""
    total = 0.0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / CPU_TICK
    return total


class Streamer:
    """The streaming job in its own process against ``home``; ``profile`` None runs
    ``pinpipe stream`` itself."""

    def __init__(self, home: Path, profile: str | None) -> None:
        self.home, self.profile = home, profile
        self.log_path = home / "stream.log"
        self.stages_path = home / "stages.json"
        self.profile_path = home / "stream.prof"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PINPIPE_")}
        env["PINPIPE_EMBEDDED__DURABILITY"] = "fsync"
        cli = ["-m", "pinpipe", "--home", str(self.home), "stream"]
        if self.profile == "stages":
            command = [sys.executable, "-m", "benchmarks.bench_stream", "--work", "streamer"]
            command += ["--dir", str(self.home), "--out", str(self.stages_path)]
        elif self.profile == "cprofile":
            command = [sys.executable, "-m", "cProfile", "-o", str(self.profile_path), *cli]
        else:
            command = [sys.executable, *cli]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def wait_table(self, uri: str) -> None:
        """Until the streamer's batch 0 has created the pin table."""
        from deltalake import DeltaTable
        from deltalake.exceptions import TableNotFoundError

        assert self.process is not None
        deadline = time.monotonic() + STREAMER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                DeltaTable(uri)
                return
            except TableNotFoundError:
                time.sleep(0.1)
        msg = f"the streamer did not create {uri}; its log:\n{self.log_tail()}"
        raise RuntimeError(msg)

    def peak_rss_mib(self) -> float:
        peak = vm_hwm_mib(self.pid)
        if peak is None:
            msg = f"the streamer (pid {self.pid}) is gone; its log:\n{self.log_tail()}"
            raise RuntimeError(msg)
        return peak

    def stop(self) -> None:
        """SIGTERM (the streamer commits the batch at hand and exits), SIGKILL after a timeout."""
        process, self.process = self.process, None
        stop_process(process, STREAMER_STOP_TIMEOUT_S, "the streamer")


@contextmanager
def streamer(home: Path, profile: str | None) -> Iterator[Streamer]:
    process = Streamer(home, profile)
    try:
        process.start()
        yield process
    finally:
        process.stop()


# -- the watcher (a thread of this process) -------------------------------------------------


class Watcher:
    """Looks at the pin table every ``WATCH_INTERVAL_S``; the ``ind`` values of the data
    files new at each look, and when they were seen."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.seen: list[tuple[float, list[int]]] = []
        self.rows = 0
        self.version = -1
        self.looks = 0
        self.look_s = 0.0
        self._files: set[str] = set()
        self._table: Any = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="delta-watcher", daemon=True)

    def __enter__(self) -> Watcher:
        from deltalake import DeltaTable

        self._table = DeltaTable(self.uri)
        self.look()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(WATCH_INTERVAL_S):
            self.look()

    def look(self) -> None:
        import pyarrow.parquet as pq

        table = self._table
        t0 = time.monotonic()
        table.update_incremental()
        now = time.monotonic()
        new = [uri for uri in table.file_uris() if uri not in self._files]
        for uri in new:
            column = pq.read_table(uri, columns=["ind"]).column("ind")
            inds = [i for i in column.to_pylist() if i is not None]
            self.seen.append((now, inds))
            self.rows += len(inds)
            self._files.add(uri)
        self.version = table.version()
        self.looks += 1
        self.look_s += time.monotonic() - t0


# -- the benchmark ----------------------------------------------------------------------------


def cumulative(times: Iterable[float]) -> list[tuple[float, int]]:
    """(time, records so far) at each distinct time of ``times`` (in order)."""
    points: list[tuple[float, int]] = []
    for n, at in enumerate(times, 1):
        if points and points[-1][0] == at:
            points[-1] = (at, n)
        else:
            points.append((at, n))
    return points


def latency_slices(
    accepted: dict[int, float], visible: dict[int, float], window: tuple[float, float]
) -> list[str]:
    """p50 / p99 latency, in ms, of the records accepted in each ``SLICE_S`` of ``window``."""
    slices: dict[int, list[float]] = {}
    for ind, at in accepted.items():
        if window[0] <= at < window[1] and ind in visible:
            slices.setdefault(int((at - window[0]) // SLICE_S), []).append(visible[ind] - at)
    shown = []
    for k in sorted(slices):
        values = sorted(slices[k])
        p50, p99 = 1000 * percentile(values, 0.5), 1000 * percentile(values, 0.99)
        shown.append(f"{p50:,.0f} / {p99:,.0f}")
    return shown


def slope(points: list[tuple[float, int]]) -> float:
    """Least-squares slope of records over time: a rate that the window's edges (where a
    micro-batch falls just inside or just outside) do not sway."""
    if len(points) < 2:
        return math.nan
    mean_t = sum(t for t, _ in points) / len(points)
    mean_n = sum(n for _, n in points) / len(points)
    var = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (n - mean_n) for t, n in points) / var if var else math.nan


@dataclass(frozen=True, slots=True)
class Cpu:
    """CPU seconds so far of the machine (busy), the API, the streamer and this process."""

    machine: float
    api: float
    streamer: float
    own: float

    @classmethod
    def now(cls, api_pid: int, streamer_pid: int) -> Cpu:
        with open("/proc/stat") as fh:
            jiffies = [int(v) for v in fh.readline().split()[1:9]]
        busy = (sum(jiffies) - jiffies[3] - jiffies[4]) / CPU_TICK  # minus idle and iowait
        own = resource.getrusage(resource.RUSAGE_SELF)
        return cls(
            busy,
            proc_cpu_s(server_pids(api_pid)),
            proc_cpu_s([streamer_pid]),
            own.ru_utime + own.ru_stime,
        )


def print_stages(path: Path) -> None:
    """The instrumented streamer's timings: ms per micro-batch for each stage."""
    data = json.loads(path.read_text())
    batches = data["batches"]
    if not batches:
        print("streamer stages: no micro-batch with records")
        return
    records = sum(b["records"] for b in batches)
    labels = sorted(
        {k for b in batches for k in b} - {"records", "total"},
        key=lambda k: -sum(b.get(k, 0.0) for b in batches),
    )
    total = sum(b["total"] for b in batches)
    print(
        f"streamer stages: {len(batches)} micro-batches with records, {records / len(batches):,.0f}"
        f" records each on average, {1000 * total / len(batches):,.0f} ms each "
        f"({records / total:,.0f} records/s while busy); per batch, mean ms (share):"
    )
    for label in [*labels, "total"]:
        spent = sum(b.get(label, 0.0) for b in batches)
        print(
            f"  {label:<24} {1000 * spent / len(batches):8.1f} ms  {100 * spent / total:5.1f}%"
            f"  ({1e6 * spent / records:6.1f} µs/record)"
        )
    tenth = max(1, len(batches) // 10)
    first, last = batches[:tenth], batches[-tenth:]
    print(
        f"  first {tenth} batches → last {tenth}, mean ms per batch (each table's log and the "
        "digests seen grow with every batch): "
        + ", ".join(
            f"{label} {1000 * sum(b.get(label, 0.0) for b in first) / tenth:.0f} → "
            f"{1000 * sum(b.get(label, 0.0) for b in last) / tenth:.0f}"
            for label in [*labels, "total"]
        )
        + f"; records {sum(b['records'] for b in first) / tenth:,.0f} → "
        f"{sum(b['records'] for b in last) / tenth:,.0f}"
    )
    sizes = sorted(b["records"] for b in batches)
    print(
        f"  batch sizes: min {sizes[0]:,}, median {sizes[len(sizes) // 2]:,}, max {sizes[-1]:,};"
        " outside them (start-up, polls that found nothing): "
        + ", ".join(f"{k} {v:.2f} s" for k, v in data["idle"].items())
    )


def print_cprofile(path: Path) -> None:
    """The top functions by own time, and the streaming job's own functions by cumulative time
    (what a micro-batch calls; the CLI's start-up and the idle waits left out)."""
    for order, restriction in (
        ("tottime", ""),
        ("cumulative", "/pinpipe/(stream|transform|batch)/"),
    ):
        out = io.StringIO()
        stats = pstats.Stats(str(path), stream=out).sort_stats(order)
        if restriction:
            stats.print_stats(restriction, 25)
        else:
            stats.print_stats(25)
        text = out.getvalue()
        where = f", in {restriction}" if restriction else ""
        print(f"streamer cProfile, top 25 by {order}{where}:\n{text[text.find('   ncalls') :]}")


def run(rate: float, seconds: float, warmup: float, profile: str | None = None) -> list[Metric]:
    from deltalake import DeltaTable

    from pinpipe.cli.api_cmd import ensure_course_log
    from pinpipe.config import Settings
    from pinpipe.lake import lake_from_settings
    from pinpipe.stream.job import table_key

    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="pinpipe-bench-stream-") as tmp:
        home = Path(tmp)
        settings = Settings(home=home, embedded={"durability": "fsync"})
        ensure_course_log(settings)
        with lake_from_settings(settings) as lake:
            uri = lake.table_uri(table_key(settings, "pin"))
        stream_name = settings.names.stream("pin")
        with api_server(home) as api, streamer(home, profile) as stream:
            assert api.process is not None
            stream.wait_table(uri)
            print(
                f"pinpipe api (pid {api.process.pid}, --workers 2) on {api.base}, streamer "
                f"(pid {stream.pid}{', ' + profile + ' profile' if profile else ''}), load "
                f"generator and this watcher share {cores} cores; embedded log (fsync) and "
                f"lake in {home}; load: {rate:,.0f} records/s for {warmup:g} s warm-up + "
                f"{seconds:g} s, {RECORDS_PER_REQUEST} per PUT …/records, {CONNECTIONS} conns"
            )
            with Watcher(uri) as watcher:
                version_before = watcher.version
                cpu_before, started = Cpu.now(api.process.pid, stream.pid), time.monotonic()
                load = run_child(
                    "benchmarks.bench_stream",
                    "--work",
                    "load",
                    "--url",
                    f"{api.base}/streams/{stream_name}/records",
                    "--rate",
                    str(rate),
                    "--duration",
                    str(warmup + seconds),
                )
                load_wall = time.monotonic() - started
                cpu_load = Cpu.now(api.process.pid, stream.pid)
                per = load["per_request"]
                accepted_records = sum(per for r in load["requests"] if r[4] == 200)
                deadline = time.monotonic() + DRAIN_TIMEOUT_S
                while watcher.rows < accepted_records and time.monotonic() < deadline:
                    time.sleep(WATCH_INTERVAL_S)
                time.sleep(3 * WATCH_INTERVAL_S)  # a look or two more: anything extra shows
                drained = watcher.rows >= accepted_records
            peak = stream.peak_rss_mib()
            stream.stop()
        table = DeltaTable(uri)
        inds = table.to_pyarrow_table(columns=["ind"]).column("ind").to_pylist()
        commits = table.version() - version_before
        api_log = api.log_tail()
        if profile == "stages":
            print_stages(stream.stages_path)
        elif profile == "cprofile":
            print_cprofile(stream.profile_path)

    # -- accept and visibility times, per record
    t0 = load["started"]
    window = (t0 + warmup, t0 + warmup + seconds)
    accepted: dict[int, float] = {}
    unknown: set[int] = set()
    statuses: dict[int, int] = {}
    lag = 0.0
    for first, due, sent, answered, status in load["requests"]:
        statuses[status] = statuses.get(status, 0) + 1
        lag = max(lag, sent - due)
        for ind in range(first, first + per):
            if status == 200:
                accepted[ind] = answered
            elif status == 0:
                unknown.add(ind)
    visible: dict[int, float] = {}
    for at, seen in watcher.seen:
        for ind in seen:
            visible.setdefault(ind, at)
    measured = [ind for ind, at in accepted.items() if window[0] <= at < window[1]]
    latencies = sorted(visible[i] - accepted[i] for i in measured if i in visible)
    accepted_curve = cumulative(sorted(accepted[i] for i in measured))
    visible_curve = cumulative(at for at, seen in watcher.seen for _ in seen)
    visible_curve = [(at, n) for at, n in visible_curve if window[0] <= at < window[1]]
    rows_while_loading = sum(
        len(seen) for at, seen in watcher.seen if started <= at < started + load_wall
    )
    missing = sum(1 for i in accepted if i not in visible)
    final_rows, final_distinct = len(inds), len(set(inds))
    final_missing = len(accepted.keys() - set(inds))
    extra = set(inds) - accepted.keys()
    last_accept = max(accepted.values(), default=t0)
    last_visible = max((visible[i] for i in accepted if i in visible), default=last_accept)
    send_rate = slope(accepted_curve)
    throughput = slope(visible_curve)

    # -- what the run saw
    cpu = {
        "API": cpu_load.api - cpu_before.api,
        "streamer": cpu_load.streamer - cpu_before.streamer,
        "load generator": load["cpu_s"],
        "watcher (this process)": cpu_load.own - cpu_before.own,
    }
    others = (cpu_load.machine - cpu_before.machine) - sum(cpu.values())
    print(
        f"load: {len(load['requests']):,} requests ({statuses.get(200, 0):,} answered 200"
        + "".join(f", {n} {s or 'socket errors'}" for s, n in sorted(statuses.items()) if s != 200)
        + f"); at most {1000 * lag:,.0f} ms behind schedule"
        + (
            f"; {load['skipped']:,} requests not sent, more than {MAX_BEHIND_S:g} s late"
            if load["skipped"]
            else ""
        )
        + "; mean record "
        f"{load['mean_record_bytes']:.0f} bytes of compact JSON; accepted {len(accepted):,} "
        f"records, {len(measured):,} of them in the measured {seconds:g} s"
    )
    print(
        f"CPU while loading ({load_wall:.1f} s), % of one core ({cores} cores = {100 * cores}%): "
        + ", ".join(f"{k} {100 * v / load_wall:.0f}%" for k, v in cpu.items())
        + f", other processes {100 * max(0.0, others) / load_wall:.0f}%"
    )
    print(
        f"pin table: {commits} commits during the run ({watcher.rows / max(commits, 1):,.0f} rows"
        f" each on average); the watcher looked {watcher.looks:,} times "
        f"({1000 * watcher.look_s / max(watcher.looks, 1):.1f} ms each); last accepted record "
        f"visible {last_visible - last_accept:.2f} s after the last accept"
        + ("" if drained else f" — NOT all visible {DRAIN_TIMEOUT_S:.0f} s after the load")
    )
    print(
        f"exactly once: table rows {final_rows:,}, distinct ind {final_distinct:,}, accepted "
        f"{len(accepted):,}; accepted but absent {final_missing:,}; present but not accepted "
        f"{len(extra):,} ({len(extra & unknown):,} of them from requests that met a socket error)"
        + (" → equal" if final_rows == final_distinct == len(accepted) and not extra else "")
    )
    print(
        f"latency by {SLICE_S:g} s of the measured part (p50 / p99 ms; a streamer falling "
        "behind shows them rising): " + ", ".join(latency_slices(accepted, visible, window))
    )
    if missing != final_missing:
        print(f"note: {missing:,} accepted records were not seen by the watcher during the run")
    if statuses.keys() - {200}:
        print(f"WARNING: not every request succeeded; the API's log:\n{api_log}")
    targeted = rate >= TARGET_EVENTS_PER_S
    if not targeted:
        print(
            f"the offered rate ({rate:,.0f}/s) is below the target's {TARGET_EVENTS_PER_S:,}/s: "
            "the throughput target does not apply to this run"
        )
    return [
        Metric(
            "send rate accepted (200s)",
            send_rate,
            "records/s",
            baseline=rate,
            baseline_name="offered",
        ),
        Metric(
            "streaming throughput, rows visible in Delta",
            throughput,
            "rows/s",
            baseline=send_rate,
            baseline_name="accepted",
            target=TARGET_EVENTS_PER_S if targeted else None,
        ),
        Metric(
            "end-to-end latency p50",
            1000 * percentile(latencies, 0.50),
            "ms",
            higher_is_better=False,
        ),
        Metric(
            "end-to-end latency p95",
            1000 * percentile(latencies, 0.95),
            "ms",
            higher_is_better=False,
        ),
        Metric(
            "end-to-end latency p99",
            1000 * percentile(latencies, 0.99),
            "ms",
            target=TARGET_P99_MS,
            higher_is_better=False,
        ),
        Metric(
            "end-to-end latency max",
            1000 * percentile(latencies, 1.0),
            "ms",
            higher_is_better=False,
        ),
        Metric(
            "rows in the pin table",
            final_rows,
            "rows",
            baseline=len(accepted),
            baseline_name="accepted",
        ),
        Metric(
            "accepted records absent from the table",
            final_missing,
            "records",
            target=0,
            higher_is_better=False,
        ),
        Metric(
            "duplicate rows (rows - distinct ind)",
            final_rows - final_distinct,
            "rows",
            target=0,
            higher_is_better=False,
        ),
        Metric("pin table commits during the run", commits, "commits", higher_is_better=False),
        Metric("streamer peak RSS (VmHWM)", peak, "MiB", higher_is_better=False),
        Metric(
            "streamer CPU while loading",
            100 * cpu["streamer"] / load_wall,
            "% of a core",
            higher_is_better=False,
        ),
        Metric(
            "rows made visible per streamer CPU second",
            rows_while_loading / cpu["streamer"] if cpu["streamer"] else math.nan,
            "rows/s",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_S:g} s at {QUICK_RATE:,}/s (not {FULL_S:g} s at {FULL_RATE:,}/s)",
    )
    parser.add_argument("--rate", type=float, help="records/s offered (steady)")
    parser.add_argument("--duration", type=float, help="seconds measured, after the warm-up")
    parser.add_argument("--warmup", type=float, help="seconds at the same rate before")
    parser.add_argument(
        "--profile", choices=["stages", "cprofile"], help="profile the streamer (see above)"
    )
    parser.add_argument("--work", choices=["load", "streamer"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.work == "load":
        print(json.dumps(work_load(args.url, args.rate, args.duration)))
        return
    if args.work == "streamer":
        work_streamer(args.dir, args.out)
        return
    rate = args.rate or (QUICK_RATE if args.quick else FULL_RATE)
    seconds = args.duration or (QUICK_S if args.quick else FULL_S)
    warmup = (
        args.warmup
        if args.warmup is not None
        else (QUICK_WARMUP_S if args.quick else FULL_WARMUP_S)
    )
    report("streaming, API to Delta", run(rate, seconds, warmup, args.profile), "stream.json")


if __name__ == "__main__":
    main()
