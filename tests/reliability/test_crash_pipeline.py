"""The cross-stage crash test (issue 9): the API, the sink and the streamer are killed with
SIGKILL at random moments while both emulators run with retries; afterwards every acknowledged
record is in its topic or stream, in the lake and in the Delta tables exactly once.

The pipeline is the embedded one in ``tmp_path`` (one SQLite WAL log with fsync durability for
the topics and the streams, a local lake), with each service a process of its own, started as
``python -m pinpipe --home H api|sink|stream`` (not through ``pinpipe up``, whose supervisor
stops everything when one dies), so that one can die and come back on its own:

1. a 500-row synthetic source, the course's topics and streams, then the three services;
2. ``emulate batch`` and ``emulate stream`` (load mode, a fixed count, rate-limited) run in
   threads of this process. They are the library's :class:`~pinpipe.emulator.Emulator`, the one
   the CLI runs, with a longer retry budget than the CLI's fixed one: the CLI gives a request
   ten tries (at least ~11 s of backoff), and a restarted API took 5-25 s to import and answer
   on a busy two-core machine, so the CLI would fail records through no fault of the pipeline
   (``tests/emulator/test_server.py`` does the same). Every request still crosses real HTTP to
   the API process with its idempotency key;
3. the chaos loop: rounds of the three services in a seeded random order; each is killed a
   random moment after it showed it was working (the API answers /healthz; the sink committed
   or the streamer committed since its start, or a while passed), left down a random moment and
   restarted with the same argv (the API on the same port, waited for until healthy). At least
   ``min_rounds`` rounds, and more while the emulators run, up to ``max_rounds``;
4. the sink and the streamer catch up; SIGTERM stops all three (exit 0 after committing); a
   ``sink --once`` writes the last partial objects;
5. the checks: the emulators acknowledged every record of their plan (failed 0, unsent 0); each
   topic and stream holds exactly the plan's records (a multiset: rows repeat, and nothing is
   stored twice thanks to the idempotency keys); each topic partition is in the lake exactly
   once, object after object without gap or overlap, every object but the last of ``flush_size``
   records, with the log's records in order; each Delta table holds one cleaned row per distinct
   raw record of its stream (the streamer drops exact re-sends as the batch job does), the rows
   the test's own cleaning gives, and records the stream's end as its position.

``pytest --full`` (or ``PINPIPE_RELIABILITY=full``; see scale.py) runs a larger source, longer
emulators and more kill rounds; ``PINPIPE_CRASH_SEED`` picks another seed.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from deltalake import DeltaTable

from pinpipe.broker import LogRecord
from pinpipe.broker.embedded import EmbeddedLog
from pinpipe.cli.api_cmd import ensure_course_log
from pinpipe.config import Settings
from pinpipe.emulator import EmulationPlan, EmulationSummary, Emulator, Mode, RetryPolicy, Tally
from pinpipe.lake import Lake, open_lake
from pinpipe.naming import KINDS, RecordKindName
from pinpipe.sink import parse_object_key
from pinpipe.source import init_source
from pinpipe.stream.job import dead_letter_key, table_key
from pinpipe.stream.tables import DeltaTarget
from pinpipe.transform.base import sorted_rows
from tests.emulator.test_runner import expected_load
from tests.reliability.scale import SCALE as RUN_SCALE
from tests.servers import free_port
from tests.transform.reference import py_clean

ROOT = Path(__file__).resolve().parents[2]
FULL = RUN_SCALE.name == "full"
SEED = int(os.environ.get("PINPIPE_CRASH_SEED", "20250609"))
UID = "c4a5f0000009"
FLUSH_SIZE = 50
SERVICES = ("api", "sink", "stream")


@dataclass(frozen=True, slots=True)
class Scale:
    rows: int  # source rows per table
    iterations: int  # per emulator; each sends one row to each of three topics or streams
    rate: float  # records/s per emulator, so that the kills land while they run
    min_rounds: int  # rounds of kills (each service once per round) at least...
    max_rounds: int  # ...and at most, going on while the emulators run
    timeout: float  # for the emulators to finish, and for the stages to catch up


SCALE = (
    Scale(rows=2_000, iterations=8_000, rate=400, min_rounds=6, max_rounds=15, timeout=900)
    if FULL
    else Scale(rows=500, iterations=1_500, rate=150, min_rounds=2, max_rounds=3, timeout=300)
)
#: Per request: tries far beyond an API restart on a busy machine (see the module docstring).
RETRY = RetryPolicy(attempts=150, base=0.05, cap=1.0, timeout=15)
HEALTHY_WITHIN = 120.0  # seconds for a (re)started API to answer /healthz
BUSY_FALLBACK = 8.0  # a sink/streamer with nothing to do counts as working after this long


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PINPIPE_")}


# -- the services ----------------------------------------------------------------------------


class Service:
    """One ``python -m pinpipe`` service process, restartable with the same argv; each start
    logs to its own file. Ended by its PID only."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        logs: Path,
        ready: Callable[[Service], bool],
        progress: Callable[[], int],
    ) -> None:
        self.name, self.argv, self.logs = name, argv, logs
        self.ready_check, self.progress = ready, progress
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.started_at = 0.0
        self.progress_at_start = 0

    def start(self) -> None:
        assert not self.alive(), f"{self.name} is already running"
        self.starts += 1
        self.progress_at_start = self.progress()
        with (self.logs / f"{self.name}-{self.starts}.log").open("wb") as out:
            self.process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=_env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.started_at = time.monotonic()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def uptime(self) -> float:
        return time.monotonic() - self.started_at

    def check_running(self) -> None:
        """Fail when the process ended on its own (no one but the test ends it)."""
        assert self.process is not None
        code = self.process.poll()
        if code is not None:
            pytest.fail(f"{self.name} exited by itself with {code}:\n{self.log_tail()}")

    def working(self) -> bool:
        """Whether this start has shown it does its job (then a kill interrupts real work)."""
        self.check_running()
        return self.ready_check(self)

    def kill(self) -> int:
        """SIGKILL (a crash: no flush, no goodbye); the PID it had."""
        self.check_running()
        assert self.process is not None
        pid = self.process.pid
        os.kill(pid, signal.SIGKILL)
        self.process.wait(30)
        return pid

    def handles_sigterm(self) -> bool:
        """Whether the process catches SIGTERM yet (``/proc/PID/status`` SigCgt): a service
        still importing dies of it, with nothing read and nothing to commit."""
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
        return bool(int(caught.split()[1], 16) >> (signal.SIGTERM - 1) & 1)

    def terminate(self, timeout: float) -> int:
        """SIGTERM once the service handles it, and the exit code (a graceful stop commits
        what is written)."""
        deadline = time.monotonic() + timeout
        while not self.handles_sigterm():
            self.check_running()
            assert time.monotonic() < deadline, f"{self.name} never set its SIGTERM handler"
            time.sleep(0.05)
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{self.name} did not stop within {timeout} s of SIGTERM")

    def reap(self) -> None:
        """Cleanup on every path: kill the process if it still runs, and wait for it."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(30)

    def log_tail(self, lines: int = 40) -> str:
        log = self.logs / f"{self.name}-{self.starts}.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _api_healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_healthy(api: Service, url: str) -> None:
    deadline = time.monotonic() + HEALTHY_WITHIN
    while not _api_healthy(url):
        api.check_running()
        if time.monotonic() > deadline:
            pytest.fail(f"the API was not healthy within {HEALTHY_WITHIN} s:\n{api.log_tail()}")
        time.sleep(0.05)


def _busy(service: Service) -> bool:
    return service.progress() > service.progress_at_start or service.uptime() > BUSY_FALLBACK


# -- the emulators ---------------------------------------------------------------------------


class EmulatorRun:
    """One emulator in a thread of this process, its live tally and its outcome."""

    def __init__(self, plan: EmulationPlan, source_url: str) -> None:
        self.plan = plan
        self.records = 0
        self.summary: EmulationSummary | None = None
        self.error: BaseException | None = None
        self.emulator = Emulator(plan, source_url, on_progress=self._watch)
        self.thread = threading.Thread(target=self._run, name=f"emulate-{plan.mode}", daemon=True)

    def _watch(self, tally: Tally) -> None:
        self.records = tally.records

    def _run(self) -> None:
        try:
            self.summary = asyncio.run(self.emulator.run())
        except BaseException as exc:  # reported by the test
            self.error = exc

    def running(self) -> bool:
        return self.thread.is_alive()

    def stop(self, timeout: float) -> None:
        """Cleanup: no new request; those in flight end (while the API still runs)."""
        if self.running():
            self.emulator.stop()
            self.thread.join(timeout)


@dataclass(frozen=True, slots=True)
class Kill:
    service: str
    pid: int
    at: float  # seconds since the chaos began, at the kill
    uptime: float  # seconds the killed process had run
    down: float  # seconds it stayed down before its restart
    emulating: bool  # whether an emulator was still sending
    acknowledged: int  # records the API had acknowledged to the emulators by then


# -- reading back ----------------------------------------------------------------------------


def _read_partition(log: EmbeddedLog, topic: str, partition: int, end: int) -> list[LogRecord]:
    records: list[LogRecord] = []
    while len(records) < end:
        batch = log.read(topic, partition, len(records), 10_000)
        assert batch, f"{topic}[{partition}]: nothing to read at {len(records)} < {end}"
        records += batch
    return records


def _read_topic(log: EmbeddedLog, topic: str) -> list[list[LogRecord]]:
    """Every record of every partition of ``topic``, by partition."""
    ends = log.describe_topic(topic).end_offsets
    return [_read_partition(log, topic, p, end) for p, end in enumerate(ends)]


def _sink_progress(log: EmbeddedLog, group: str, topics: tuple[str, ...]) -> int:
    return sum(sum(log.committed(group, topic).values()) for topic in topics)


def _delta_commits(lake_dir: Path) -> int:
    return sum(1 for _ in lake_dir.glob("delta/*/_delta_log/*.json"))


def _sink_caught_up(log: EmbeddedLog, group: str, topics: tuple[str, ...]) -> bool:
    """Every complete object written: the committed offsets are the ends rounded down to the
    flush size (the rest is a partial object, which a continuous sink keeps in memory)."""
    for topic in topics:
        ends = log.describe_topic(topic).end_offsets
        committed = log.committed(group, topic)
        if any(committed.get(p, 0) < end - end % FLUSH_SIZE for p, end in enumerate(ends)):
            return False
    return True


def _stream_positions(settings: Settings, lake: Lake, kind: RecordKindName) -> dict[int, int]:
    stream = settings.names.stream(kind)
    resume = DeltaTarget(lake, table_key(settings, kind)).resume(stream)
    return {} if resume is None else resume.positions


def _stream_caught_up(settings: Settings, lake: Lake, log: EmbeddedLog) -> bool:
    for kind in KINDS:
        ends = log.describe_topic(settings.names.stream(kind)).end_offsets
        if _stream_positions(settings, lake, kind) != dict(enumerate(ends)):
            return False
    return True


def _diff(stored: Counter[bytes], expected: Counter[bytes]) -> str:
    missing, extra = expected - stored, stored - expected
    return (
        f"{sum(missing.values())} missing (e.g. {list(missing)[:2]}), "
        f"{sum(extra.values())} extra (e.g. {list(extra)[:2]})"
    )


def _check_lake(lake: Lake, topic: str, partitions: list[list[LogRecord]]) -> int:
    """The topic's objects cover each partition's offsets exactly once, in order, each object
    ``flush_size`` records but the last, each line the log's record; the records checked."""
    keys = lake.list(f"topics/{topic}/")
    by_partition: dict[int, list[tuple[int, str]]] = {}
    for key in keys:
        name, partition, start = parse_object_key(key)
        assert name == topic, key
        assert key == f"topics/{topic}/partition={partition}/{topic}+{partition}+{start:010d}.json"
        by_partition.setdefault(partition, []).append((start, key))
    assert set(by_partition) <= set(range(len(partitions))), f"{topic}: {sorted(by_partition)}"
    for p, records in enumerate(partitions):
        # Compared as JSON values: the sink writes Jackson's bytes (emoji as \uD83D\uDE00
        # escapes, Java's doubles), which tests/sink checks byte for byte.
        expected = [orjson.loads(r.value) for r in records]
        objects = sorted(by_partition.get(p, []))
        offset = 0
        for i, (start, key) in enumerate(objects):
            assert start == offset, f"{key}: starts at {start}, expected {offset} (gap/overlap)"
            lines = lake.get(key).splitlines(keepends=True)
            assert all(line.endswith(b"\n") for line in lines), f"{key}: a line without \\n"
            values = [orjson.loads(line) for line in lines]
            assert values == expected[start : start + len(lines)], f"{key}: not the log's records"
            if i < len(objects) - 1:
                assert len(lines) == FLUSH_SIZE, f"{key}: {len(lines)} records, not {FLUSH_SIZE}"
            offset += len(lines)
        assert offset == len(records), f"{topic}[{p}]: lake holds {offset} of {len(records)}"
    return sum(len(r) for r in partitions)


# -- the test --------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.timeout(3 * SCALE.timeout)
def test_kill_api_sink_and_streamer_at_random_moments_every_record_exactly_once(
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED)
    home, logs = tmp_path / "home", tmp_path / "logs"
    home.mkdir()
    logs.mkdir()
    config = tmp_path / "pinpipe.toml"  # the services' settings (not ./pinpipe.toml's)
    config.write_text(f'user_id = "{UID}"\n')
    settings = Settings(home=home, user_id=UID)
    names = settings.names
    init_source(settings.source_url, rows=SCALE.rows, seed=SEED % 1000)
    ensure_course_log(settings)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    group = f"connect-{UID}-connector"
    cli = [sys.executable, "-m", "pinpipe", "--config", str(config), "--home", str(home)]
    lake_dir = home / "lake"
    lake = open_lake(settings.lake_url)
    kills: list[Kill] = []
    runs: list[EmulatorRun] = []

    with ExitStack() as stack:
        log = stack.enter_context(EmbeddedLog(home / "broker.db"))
        services = {
            "api": Service(
                "api",
                [*cli, "api", "--host", "127.0.0.1", "--port", str(port)],
                logs,
                ready=lambda _: _api_healthy(url),
                progress=lambda: 0,
            ),
            "sink": Service(
                "sink",
                [*cli, "sink", "--flush-size", str(FLUSH_SIZE)],
                logs,
                ready=_busy,
                progress=lambda: _sink_progress(log, group, names.topics),
            ),
            "stream": Service(
                "stream",
                [*cli, "stream", "--trigger-interval", "0.2"],
                logs,
                ready=_busy,
                progress=lambda: _delta_commits(lake_dir),
            ),
        }
        for service in services.values():
            stack.callback(service.reap)  # on every path, by PID, after the emulators stop
        for service in services.values():
            service.start()
        _wait_healthy(services["api"], url)

        # -- the emulators, then the chaos while they run ------------------------------------
        modes: tuple[tuple[Mode, int], ...] = (("batch", SEED), ("stream", SEED + 1))
        for mode, seed in modes:
            plan = EmulationPlan(
                mode,
                url,
                UID,
                count=SCALE.iterations,
                rate=SCALE.rate,
                batch_size=25,
                concurrency=4,
                seed=seed,
                retry=RETRY,
            )
            runs.append(EmulatorRun(plan, settings.source_url))
        for run in runs:
            stack.callback(run.stop, 60)  # before the services are reaped
            run.thread.start()
        deadline = time.monotonic() + HEALTHY_WITHIN
        while not all(run.records for run in runs):  # past the preflight check, sending
            for run in runs:
                assert run.running() or run.records, f"{run.plan.mode}: {run.error!r}"
            assert time.monotonic() < deadline, "the emulators sent nothing"
            time.sleep(0.05)

        began = time.monotonic()
        rounds = 0
        while rounds < SCALE.max_rounds and (
            rounds < SCALE.min_rounds or any(run.running() for run in runs)
        ):
            order = list(SERVICES)
            rng.shuffle(order)
            for name in order:
                service = services[name]
                ready_by = time.monotonic() + HEALTHY_WITHIN
                while not service.working():
                    assert time.monotonic() < ready_by, f"{name} never got to work"
                    time.sleep(0.05)
                time.sleep(rng.uniform(0.1, 2.0))  # a random moment of its work
                for other in services.values():
                    other.check_running()
                at, uptime = time.monotonic() - began, service.uptime()
                emulating = any(run.running() for run in runs)
                acknowledged = sum(run.records for run in runs)
                pid = service.kill()
                down = rng.uniform(0.0, 1.0)
                kills.append(
                    Kill(
                        name,
                        pid,
                        round(at, 2),
                        round(uptime, 2),
                        round(down, 2),
                        emulating,
                        acknowledged,
                    )
                )
                time.sleep(down)
                service.start()
                if name == "api":
                    _wait_healthy(service, url)
            rounds += 1
        (tmp_path / "kills.json").write_text(json.dumps([asdict(k) for k in kills], indent=1))

        for run in runs:
            run.thread.join(SCALE.timeout)
            assert not run.running(), f"emulate {run.plan.mode} did not finish"
            assert run.error is None, f"emulate {run.plan.mode}: {run.error!r}"

        # -- catching up, a graceful stop, the last partial objects --------------------------
        deadline = time.monotonic() + SCALE.timeout
        while not (
            _sink_caught_up(log, group, names.topics) and _stream_caught_up(settings, lake, log)
        ):
            for service in services.values():
                service.check_running()
            assert time.monotonic() < deadline, "the sink or the streamer did not catch up"
            time.sleep(0.5)
        for service in services.values():
            code = service.terminate(120)
            assert code == 0, f"{service.name} exited {code} on SIGTERM:\n{service.log_tail()}"
        with (logs / "sink-drain.log").open("wb") as out:
            drain = subprocess.run(
                [*cli, "sink", "--once", "--flush-size", str(FLUSH_SIZE)],
                cwd=ROOT,
                env=_env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=SCALE.timeout,
                check=False,
            )
        drained = (logs / "sink-drain.log").read_text(errors="replace")
        assert drain.returncode == 0, drained

        # -- the checks ----------------------------------------------------------------------
        kill_log = "\n".join(str(k) for k in kills)
        per_service = Counter(k.service for k in kills)
        assert all(per_service[s] >= SCALE.min_rounds for s in SERVICES), kill_log
        assert len(kills) >= 3 * SCALE.min_rounds >= 6, kill_log

        expected: dict[str, Counter[bytes]] = {}
        acknowledged = 0
        for run in runs:
            summary = run.summary
            assert summary is not None
            targets = list(run.plan.targets.values())
            assert summary.failed == 0 and summary.unsent == 0, summary.errors
            assert not summary.interrupted
            assert summary.iterations == SCALE.iterations
            assert dict(summary.sent) == dict.fromkeys(targets, SCALE.iterations), summary.sent
            assert sum(summary.skipped.values()) == 0, summary.skipped
            acknowledged += summary.records
            expected |= expected_load(run.plan, settings.source_url)

        # every acknowledged record in its topic or stream exactly once (the plan's multiset)
        stored = {target: _read_topic(log, target) for target in expected}
        for target, partitions in stored.items():
            values = Counter(r.value for records in partitions for r in records)
            assert values == expected[target], f"{target}: {_diff(values, expected[target])}"

        # the topics in the lake: each offset in exactly one object, the log's bytes
        in_lake = sum(_check_lake(lake, topic, stored[topic]) for topic in names.topics)
        assert lake.list("topics/") == sorted(
            k for topic in names.topics for k in lake.list(f"topics/{topic}/")
        ), "objects of other topics (a dead-letter topic?) in the lake"

        # the streams in Delta: one cleaned row per distinct raw record, the streams' ends
        raw: dict[str, list[dict[str, Any]]] = {}
        distinct: dict[RecordKindName, set[bytes]] = {}
        for kind in KINDS:
            stream = names.stream(kind)
            distinct[kind] = {r.value for records in stored[stream] for r in records}
            raw[kind] = [orjson.loads(v) for v in sorted(distinct[kind])]
        cleaned = py_clean(raw)
        in_delta = 0
        for kind in KINDS:
            stream = names.stream(kind)
            ends = dict(enumerate(len(records) for records in stored[stream]))
            assert _stream_positions(settings, lake, kind) == ends, f"{stream}: position"
            table = DeltaTable(lake.table_uri(table_key(settings, kind))).to_pyarrow_table()
            inds = Counter(table.column("ind").to_pylist())
            key = "index" if kind == "pin" else "ind"
            wanted = Counter(row[key] for row in raw[kind])
            assert table.num_rows == len(distinct[kind]), f"{kind}: {table.num_rows} rows"
            assert inds == wanted, f"{kind}: not one row per distinct record ({inds - wanted})"
            assert sorted_rows(table) == cleaned[kind], f"{kind}: rows differ from the cleaning"
            in_delta += table.num_rows
        if (lake_dir / dead_letter_key(settings) / "_delta_log").exists():
            dead = DeltaTable(lake.table_uri(dead_letter_key(settings))).to_pyarrow_table()
            assert dead.num_rows == 0, dead.to_pylist()[:3]

        print(
            f"\ncrash pipeline (seed {SEED}, {'full' if FULL else 'ci'}): "
            f"{len(kills)} kills {dict(per_service)} "
            f"({sum(k.emulating for k in kills)} while emulating), "
            f"{acknowledged:,} records acknowledged and found exactly once in their topics "
            f"and streams, {in_lake:,} in the lake, {in_delta:,} distinct rows in Delta; "
            f"retries: {', '.join(f'{r.plan.mode} {r.summary.retried}' for r in runs if r.summary)}"
            f"\n{kill_log}"
        )
