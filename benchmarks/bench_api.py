"""API ingestion benchmark (issue 3): REST Proxy v2 produce through the real HTTP server.

Measured in one run, each against the same realistic pin rows (``source.generate``; ~680 bytes
of compact JSON each, like the course's real rows, ~710):

1. batched produce: 500 records per request, ``{"records": [{"value": row}, …]}`` with
   ``Content-Type: application/vnd.kafka.json.v2+json``, POSTed to ``pinpipe api`` (uvicorn,
   uvloop + httptools) in its own process on a free 127.0.0.1 port, over an ``embedded://`` log in
   a temporary directory with ``durability = fsync`` — records/s;
2. single-record POSTs from 64 concurrent connections (the course emulator's shape) — requests/s;
   p50/p99 request latency for both, and the API process's peak RSS (VmHWM);
3. the in-process limit, the baseline of (1): ``orjson.loads`` of the same bodies, each value
   re-serialised compact as the API stores it, and ``EmbeddedLog.append`` of the 500 records, in
   one thread, no HTTP (a child process, before the server starts) — records/s.

The load comes from ``wrk`` (one thread; ``benchmarks/wrk_post.lua`` POSTs the bodies built
here once); without wrk an asyncio + httpx client in this process stands in, and the output
says that it shares the two CPUs with the server. Each load runs a warm-up first, then a fixed
duration. Afterwards the topic's end offset is checked against the records acknowledged (200
responses × records per request); requests wrk abandoned in flight at its deadline are counted
by the Lua script and shown apart. The CPU used meanwhile by the server, the load generator and
every other process is printed, since the machine may be shared.

    python -m benchmarks.bench_api [--quick] [--duration S]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import resource
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from benchmarks._harness import Metric, report, run_child, stop_process
from pinpipe.broker.base import Broker

RECORDS_PER_REQUEST = 500
BATCHED_BODIES = 8  # distinct 500-record bodies, cycled
SINGLE_BODIES = 2_000  # distinct one-record bodies, cycled
BATCHED_CONNECTIONS = 8
SINGLE_CONNECTIONS = 64
WARMUP_S = 2
FULL_S = 10
#: Server processes (`pinpipe api --workers`); override with BENCH_API_WORKERS.
#: Two, one per core: one Python process is held to one core by the GIL (see the README).
API_WORKERS = int(os.environ.get("BENCH_API_WORKERS", "2"))
QUICK_S = 4
TOPIC = "bench.pin"
CONTENT_TYPE = "application/vnd.kafka.json.v2+json"
LUA_SCRIPT = Path(__file__).resolve().parent / "wrk_post.lua"

TARGET_BATCHED_RECORDS_PER_S = 100_000
TARGET_BATCHED_SHARE_PCT = 40.0
TARGET_SINGLE_REQUESTS_PER_S = 5_000

SERVER_START_TIMEOUT_S = 30.0
SERVER_STOP_TIMEOUT_S = 15.0
DRAIN_TIMEOUT_S = 30.0


# -- request bodies --------------------------------------------------------------------------


def pin_values(count: int) -> list[dict[str, Any]]:
    """``count`` realistic pin rows as the emulator posts them (course keys, JSON-ready)."""
    from pinpipe import records as rec
    from pinpipe.source import generate

    columns = rec.PIN.column_names
    rows = [row for batch in generate(count, seed=0) for row in batch.pins]
    return [rec.to_payload(dict(zip(columns, row, strict=True))) for row in rows]


def build_bodies() -> tuple[list[bytes], list[bytes], float]:
    """(batched bodies, single-record bodies, mean compact bytes of one record value)."""
    values = pin_values(max(BATCHED_BODIES * RECORDS_PER_REQUEST, SINGLE_BODIES))
    batched = [
        orjson.dumps({"records": [{"value": v} for v in values[i : i + RECORDS_PER_REQUEST]]})
        for i in range(0, BATCHED_BODIES * RECORDS_PER_REQUEST, RECORDS_PER_REQUEST)
    ]
    single = [orjson.dumps({"records": [{"value": v}]}) for v in values[:SINGLE_BODIES]]
    mean_record = statistics.fmean(len(orjson.dumps(v)) for v in values)
    return batched, single, mean_record


# -- (3) the in-process limit (runs in a child process) ----------------------------------------


def work_inprocess(duration: float, warmup: float) -> dict[str, Any]:
    """Parse + re-serialise + append 500-record bodies in one thread for ``duration`` s."""
    from pinpipe.broker.base import OutRecord
    from pinpipe.broker.embedded import EmbeddedLog
    from pinpipe.config import EmbeddedLogSettings

    bodies, _, mean_record = build_bodies()
    loads, dumps = orjson.loads, orjson.dumps
    with tempfile.TemporaryDirectory(prefix="pinpipe-bench-api-") as tmp:
        log = EmbeddedLog(Path(tmp) / "broker.db", EmbeddedLogSettings(durability="fsync"))
        try:
            log.create_topic(TOPIC)

            def one(body: bytes) -> tuple[float, float, int]:
                t0 = time.perf_counter()
                records = [OutRecord(dumps(item["value"])) for item in loads(body)["records"]]
                t1 = time.perf_counter()
                log.append(TOPIC, records)
                return t1 - t0, time.perf_counter() - t1, len(records)

            deadline, i = time.perf_counter() + warmup, 0
            while time.perf_counter() < deadline:
                one(bodies[i % len(bodies)])
                i += 1
            before = log.describe_topic(TOPIC).end_offsets[0]
            parse_s = append_s = 0.0
            records = 0
            started = time.perf_counter()
            deadline = started + duration
            while time.perf_counter() < deadline:
                p, a, n = one(bodies[i % len(bodies)])
                parse_s, append_s, records, i = parse_s + p, append_s + a, records + n, i + 1
            seconds = time.perf_counter() - started
            stored = log.describe_topic(TOPIC).end_offsets[0] - before
        finally:
            log.close()
    return {
        "records": records,
        "stored": stored,
        "seconds": seconds,
        "parse_s": parse_s,
        "append_s": append_s,
        "mean_record_bytes": mean_record,
    }


# -- the server ------------------------------------------------------------------------------


def _get(url: str, timeout: float) -> httpx.Response:
    """GET on loopback, never through a proxy named in the environment."""
    return httpx.get(url, timeout=timeout, trust_env=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ApiServer:
    """``pinpipe --home HOME api`` on 127.0.0.1:<free port>, in its own process."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = home / "api.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PINPIPE_")}
        env["PINPIPE_EMBEDDED__DURABILITY"] = "fsync"
        for _ in range(3):  # a free port can be taken between probing and binding: retry
            self.port = free_port()
            command = [sys.executable, "-m", "pinpipe", "--home", str(self.home), "api"]
            command += ["--host", "127.0.0.1", "--port", str(self.port), "--no-create"]
            command += ["--workers", str(API_WORKERS)]
            with self.log_path.open("ab") as log:
                self.process = subprocess.Popen(
                    command, cwd=self.home, env=env, stdout=log, stderr=subprocess.STDOUT
                )
            if self._wait_healthy():
                return
            self.stop()
        msg = f"pinpipe api did not start; its log:\n{self.log_tail()}"
        raise RuntimeError(msg)

    def log_tail(self) -> str:
        """The end of the server's output (it lives in the temporary directory)."""
        return self.log_path.read_text(errors="replace")[-3000:]

    def _wait_healthy(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if _get(f"{self.base}/healthz", timeout=1.0).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        return False

    def peak_rss_mib(self) -> float:
        """VmHWM of the server's processes (the largest peak resident set among them)."""
        assert self.process is not None
        peaks = []
        for pid in server_pids(self.process.pid):
            status = Path(f"/proc/{pid}/status").read_text()
            match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
            if match is not None:
                peaks.append(int(match.group(1)) / 1024)
        if not peaks:
            msg = f"no VmHWM in /proc/{self.process.pid}/status"
            raise RuntimeError(msg)
        return max(peaks)

    def appends(self) -> int:
        """The writer's broker appends so far (from /metrics)."""
        text = _get(f"{self.base}/metrics", timeout=5.0).text
        match = re.search(r"^pinpipe_api_writer_appends_total\{[^}]*\} (\S+)$", text, re.M)
        return int(float(match.group(1))) if match else 0

    def pending(self) -> int:
        body = _get(f"{self.base}/healthz", timeout=5.0).json()
        return int(body["pending_records"])

    def stop(self) -> None:
        """SIGTERM (uvicorn flushes the writer and closes the log), SIGKILL after a timeout."""
        process, self.process = self.process, None
        stop_process(process, SERVER_STOP_TIMEOUT_S, "pinpipe api")


@contextmanager
def api_server(home: Path) -> Iterator[ApiServer]:
    server = ApiServer(home)
    try:
        server.start()
        yield server
    finally:
        server.stop()


# -- load generators -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Load:
    """What one load run saw, client side."""

    ok: int  # 2xx responses
    rejected: int  # other responses (the API validates a request before it writes any of it)
    errors: int  # socket errors and timeouts: the request may or may not have been stored
    completed: int  # responses read
    started: int  # requests begun (completed + abandoned in flight at the deadline)
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def in_flight(self) -> int:
        return self.started - self.completed


def find_wrk() -> str | None:
    """wrk's path; installs Debian's ``wrk`` when missing and this process is root."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    print("wrk is not installed: trying `apt-get install -y wrk` (this benchmark runs as root)")
    apt = shutil.which("apt-get") or "apt-get"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "install", "-y", "wrk"], [apt, "update"], [apt, "install", "-y", "wrk"]):
        if shutil.which("wrk"):
            break
        try:
            subprocess.run(command, env=env, capture_output=True, timeout=300, check=False)
        except subprocess.TimeoutExpired:
            break
    found = shutil.which("wrk")
    print("wrk installed" if found else "could not install wrk")
    return found


def wrk_load(wrk: str, url: str, bodies_file: Path, connections: int, seconds: int) -> Load:
    command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "-T30s", "-s", str(LUA_SCRIPT)]
    command += [url, "--", str(bodies_file), CONTENT_TYPE]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("WRK_JSON ")]
    if out.returncode != 0 or not lines:
        msg = f"wrk failed ({out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
        raise RuntimeError(msg)
    r = json.loads(lines[-1].removeprefix("WRK_JSON "))
    return Load(
        ok=r["completed"] - r["non_2xx_3xx"],
        rejected=r["non_2xx_3xx"],
        errors=r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"],
        completed=r["completed"],
        started=r["started"],
        seconds=r["duration_us"] / 1e6,
        p50_ms=r["p50_us"] / 1000,
        p99_ms=r["p99_us"] / 1000,
    )


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


async def _httpx_load(url: str, bodies: list[bytes], connections: int, seconds: float) -> Load:
    latencies: list[float] = []
    counts = {"ok": 0, "other": 0, "errors": 0}
    headers = {"Content-Type": CONTENT_TYPE}
    # One client (one keep-alive connection) per worker: one pool shared by 64 concurrent
    # requests manages ~100 requests/s here. They share an SSL context that loads no CA
    # bundle (plain http), since loading one per client takes longer than the measurement.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    clients = [
        httpx.AsyncClient(limits=limits, timeout=30.0, verify=tls, trust_env=False)
        for _ in range(connections)
    ]
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(index: int, client: httpx.AsyncClient) -> None:
        # No request starts after the deadline, so none is left in flight.
        while time.perf_counter() < deadline:
            body = bodies[index % len(bodies)]
            index += connections
            t0 = time.perf_counter()
            try:
                response = await client.post(url, content=body, headers=headers)
            except httpx.HTTPError:
                counts["errors"] += 1
                continue
            latencies.append(time.perf_counter() - t0)
            counts["ok" if response.status_code == 200 else "other"] += 1

    try:
        await asyncio.gather(*(worker(i, client) for i, client in enumerate(clients)))
        elapsed = time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()
    latencies.sort()
    completed = counts["ok"] + counts["other"]
    return Load(
        ok=counts["ok"],
        rejected=counts["other"],
        errors=counts["errors"],
        completed=completed,
        started=completed,  # no request is left in flight
        seconds=elapsed,
        p50_ms=_percentile(latencies, 0.50) * 1000,
        p99_ms=_percentile(latencies, 0.99) * 1000,
    )


def httpx_load(url: str, bodies: list[bytes], connections: int, seconds: float) -> Load:
    """The fallback client: asyncio (on uvloop when installed) + httpx, in this process."""
    coro = _httpx_load(url, bodies, connections, seconds)
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


# -- CPU accounting: the server, the load generator and everything else on the machine ----------


@dataclass(frozen=True, slots=True)
class Cpu:
    """CPU seconds so far: the whole machine (busy), the server, this process, its children."""

    machine: float
    server: float
    own: float
    children: float

    @classmethod
    def now(cls, server_pid: int | None = None) -> Cpu:
        tick = os.sysconf("SC_CLK_TCK")
        with open("/proc/stat") as fh:
            jiffies = [int(v) for v in fh.readline().split()[1:9]]  # guest time is in user
        busy = sum(jiffies) - jiffies[3] - jiffies[4]  # minus idle and iowait
        server = 0.0
        for pid in server_pids(server_pid) if server_pid is not None else []:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except FileNotFoundError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            server += (int(fields[11]) + int(fields[12])) / tick
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return cls(
            machine=busy / tick,
            server=server,
            own=own.ru_utime + own.ru_stime,
            children=kids.ru_utime + kids.ru_stime,
        )


def server_pids(pid: int) -> list[int]:
    """The server process and its children (``pinpipe api --workers N`` forks N workers)."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        pids += [int(child) for child in task.read_text().split()]
    return pids


@dataclass(frozen=True, slots=True)
class CpuShare:
    """Percent of one core, averaged over a load: 200 is both cores of this machine."""

    server: float
    client: float
    others: float

    @classmethod
    def between(cls, before: Cpu, after: Cpu, seconds: float, client_is_wrk: bool) -> CpuShare:
        server = after.server - before.server
        own, kids = after.own - before.own, after.children - before.children
        client = kids if client_is_wrk else own
        others = (after.machine - before.machine) - server - own - kids
        pct = 100 / seconds
        return cls(server * pct, client * pct, max(0.0, others) * pct)


# -- one load shape: warm-up, measurement, correctness ----------------------------------------


@dataclass(frozen=True, slots=True)
class Phase:
    load: Load
    per_request: int
    appends: int
    cpu: CpuShare

    @property
    def requests_per_s(self) -> float:
        return self.load.ok / self.load.seconds

    @property
    def records_per_s(self) -> float:
        return self.requests_per_s * self.per_request


def wait_drained(server: ApiServer, log: Broker) -> int:
    """The topic's end offset once the server has nothing pending and the offset is steady."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    last = -1
    while time.monotonic() < deadline:
        end = log.describe_topic(TOPIC).end_offsets[0]
        if end == last and server.pending() == 0:
            return end
        last = end
        time.sleep(0.25)
    msg = f"the API still had records pending {DRAIN_TIMEOUT_S:.0f} s after the load ended"
    raise RuntimeError(msg)


@dataclass(slots=True)
class Tally:
    """Records of all loads so far, warm-ups included."""

    acked: int = 0
    abandoned: int = 0


def run_phase(
    name: str,
    tally: Tally,
    server: ApiServer,
    log: Broker,
    wrk: str | None,
    bodies: list[bytes],
    bodies_file: Path,
    connections: int,
    per_request: int,
    seconds: int,
) -> Phase:
    url = f"{server.base}/topics/{TOPIC}"

    def load(duration: int) -> Load:
        if wrk is not None:
            return wrk_load(wrk, url, bodies_file, connections, duration)
        return httpx_load(url, bodies, connections, duration)

    warm = load(WARMUP_S)
    if warm.ok == 0:
        msg = (
            f"{name}: no request succeeded during the warm-up; the API's log:\n{server.log_tail()}"
        )
        raise RuntimeError(msg)
    before = wait_drained(server, log)
    appends_before = server.appends()
    assert server.process is not None
    cpu_before, started = Cpu.now(server.process.pid), time.perf_counter()
    measured = load(seconds)
    cpu = CpuShare.between(
        cpu_before, Cpu.now(server.process.pid), time.perf_counter() - started, wrk is not None
    )
    after = wait_drained(server, log)
    appends = server.appends() - appends_before

    stored, acked = after - before, measured.ok * per_request
    abandoned = measured.in_flight * per_request  # wrk drops these at its deadline, unanswered
    unknown = (measured.in_flight + measured.errors) * per_request  # stored or not
    extra = stored - acked  # records of unanswered requests that the server stored anyway
    consistent = 0 <= extra <= unknown and extra % per_request == 0
    if extra == 0:
        verdict = "equal"
    elif extra == abandoned:
        verdict = (
            f"equal to the acknowledged + the {measured.in_flight} requests ({abandoned:,} "
            "records) in flight when the client stopped at its deadline (stored, never answered)"
        )
    else:
        verdict = (
            f"{extra:,} more: {extra // per_request} of the {measured.in_flight} requests in "
            f"flight when the client stopped at its deadline and the {measured.errors} that met "
            "a socket error were stored, never answered"
        )
    print(
        f"{name}: end offset {before:,} → {after:,} (+{stored:,}); acknowledged "
        f"{measured.ok:,} × {per_request} = {acked:,} records (200 responses); {verdict}; "
        f"{measured.rejected} rejected and {measured.errors} failed requests; "
        + (
            f"{appends:,} broker appends ({stored / max(appends, 1):,.0f} records each) → "
            if API_WORKERS == 1  # /metrics counts per worker: one worker's is not the sum
            else f"broker appends not shown ({API_WORKERS} workers count apart) → "
        )
        + ("consistent" if consistent else "INCONSISTENT")
    )
    tally.acked += (warm.ok + measured.ok) * per_request
    tally.abandoned += (warm.in_flight + measured.in_flight) * per_request
    cores = os.cpu_count() or 1
    print(
        f"{name}: CPU, % of one core ({cores} cores = {100 * cores}%): API server "
        f"{cpu.server:.0f}%, load generator {cpu.client:.0f}%, other processes {cpu.others:.0f}%"
        + (" — the machine was shared, expect lower figures" if cpu.others > 20 else "")
    )
    if measured.rejected or measured.errors:
        print(
            f"{name}: WARNING: not every request succeeded; see the API's log:\n{server.log_tail()}"
        )
    if not consistent:
        msg = f"{name}: the log does not match the acknowledgements (see above)"
        raise RuntimeError(msg)
    return Phase(measured, per_request, appends, cpu)


# -- the benchmark ---------------------------------------------------------------------------


def run(quick: bool, duration: float | None = None, *, use_wrk: bool = True) -> list[Metric]:
    from pinpipe.broker.embedded import EmbeddedLog
    from pinpipe.config import EmbeddedLogSettings

    seconds = max(1, round(duration if duration is not None else (QUICK_S if quick else FULL_S)))
    cpu_before, started = Cpu.now(), time.perf_counter()
    limit = run_child("benchmarks.bench_api", "--work", "inprocess", "--duration", str(seconds))
    # The child's whole life (building bodies, warm-up) counts as its own, not as others'.
    limit_cpu = CpuShare.between(cpu_before, Cpu.now(), time.perf_counter() - started, True)
    limit_rate = limit["records"] / limit["seconds"]
    if limit["stored"] != limit["records"]:
        msg = f"in-process: appended {limit['records']:,} but the log grew {limit['stored']:,}"
        raise RuntimeError(msg)
    print(
        f"in-process limit: {limit['records']:,} records in {limit['seconds']:.1f} s — parse + "
        f"re-serialise {limit['parse_s']:.2f} s ({limit['records'] / limit['parse_s']:,.0f}/s), "
        f"append {limit['append_s']:.2f} s ({limit['records'] / limit['append_s']:,.0f}/s); "
        f"one record is {limit['mean_record_bytes']:.0f} bytes of compact JSON on average; "
        f"other processes used {limit_cpu.others:.0f}% of a core meanwhile"
    )

    wrk = find_wrk() if use_wrk else None
    if wrk is None:
        print(
            "no wrk: using an asyncio + httpx client in this process instead; it shares "
            "the CPUs with the server, so the HTTP figures are lower bounds"
        )
    batched, single, _ = build_bodies()
    with tempfile.TemporaryDirectory(prefix="pinpipe-bench-api-") as tmp:
        home = Path(tmp)
        batched_file, single_file = home / "batched.txt", home / "single.txt"
        batched_file.write_bytes(b"\n".join(batched) + b"\n")
        single_file.write_bytes(b"\n".join(single) + b"\n")
        log = EmbeddedLog(home / "broker.db", EmbeddedLogSettings(durability="fsync"))
        try:
            log.create_topic(TOPIC)
            with api_server(home) as server:
                client = f"wrk -t1 ({wrk})" if wrk else "asyncio + httpx (shares the CPUs)"
                print(
                    f"pinpipe api pid {server.process.pid if server.process else '?'} on "
                    f"{server.base}, embedded log (fsync) in {home}; load: {client}; warm-up "
                    f"{WARMUP_S} s, then {seconds} s per load"
                )
                tally = Tally()
                big = run_phase(
                    "batched",
                    tally,
                    server,
                    log,
                    wrk,
                    batched,
                    batched_file,
                    BATCHED_CONNECTIONS,
                    RECORDS_PER_REQUEST,
                    seconds,
                )
                one = run_phase(
                    "single",
                    tally,
                    server,
                    log,
                    wrk,
                    single,
                    single_file,
                    SINGLE_CONNECTIONS,
                    1,
                    seconds,
                )
                peak = server.peak_rss_mib()
                end = log.describe_topic(TOPIC).end_offsets[0]
                print(
                    f"topic {TOPIC!r} after all loads (warm-ups included): end offset {end:,}; "
                    f"acknowledged {tally.acked:,}"
                    + (
                        ""
                        if not tally.abandoned
                        else f" + {end - tally.acked:,} of the {tally.abandoned:,} records in "
                        "requests the client abandoned in flight at its deadlines"
                    )
                    + (" → equal" if end == tally.acked else "")
                )
        finally:
            log.close()

    via = "wrk" if wrk else "httpx, shared CPUs"
    batched_name = f"batched HTTP, {RECORDS_PER_REQUEST}/request, {BATCHED_CONNECTIONS} conns"
    single_name = f"single-record HTTP, {SINGLE_CONNECTIONS} conns"
    return [
        Metric(
            f"{batched_name} ({via})",
            big.records_per_s,
            "records/s",
            baseline=limit_rate,
            baseline_name="in-process",
            target=TARGET_BATCHED_RECORDS_PER_S,
        ),
        Metric(
            "batched HTTP as a share of the in-process limit",
            100 * big.records_per_s / limit_rate,
            "%",
            target=TARGET_BATCHED_SHARE_PCT,
        ),
        Metric("batched request latency p50", big.load.p50_ms, "ms", higher_is_better=False),
        Metric("batched request latency p99", big.load.p99_ms, "ms", higher_is_better=False),
        Metric(
            f"{single_name} ({via})",
            one.requests_per_s,
            "requests/s",
            target=TARGET_SINGLE_REQUESTS_PER_S,
        ),
        Metric("single-record latency p50", one.load.p50_ms, "ms", higher_is_better=False),
        Metric("single-record latency p99", one.load.p99_ms, "ms", higher_is_better=False),
        Metric(
            f"in-process limit: parse + append {RECORDS_PER_REQUEST}, no HTTP",
            limit_rate,
            "records/s",
        ),
        Metric(
            f"API peak RSS (VmHWM, largest of {API_WORKERS} workers)",
            peak,
            "MiB",
            higher_is_better=False,
        ),
        Metric(
            "CPU of other processes during the loads (max)",
            max(limit_cpu.others, big.cpu.others, one.cpu.others),
            "% of a core",
            higher_is_better=False,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_S} s per load, not {FULL_S}")
    parser.add_argument("--duration", type=float, help="seconds per measured load (whole)")
    parser.add_argument(
        "--no-wrk", action="store_true", help="use the asyncio + httpx client even if wrk is there"
    )
    parser.add_argument("--work", choices=["inprocess"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.work:
        seconds = args.duration if args.duration is not None else FULL_S
        print(json.dumps(work_inprocess(seconds, warmup=min(WARMUP_S, seconds))))
        return
    report("api ingestion", run(args.quick, args.duration, use_wrk=not args.no_wrk), "api.json")


if __name__ == "__main__":
    main()
