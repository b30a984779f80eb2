"""The sink as a process: killed with SIGKILL at random moments, stopped with SIGTERM.

The crash test is the exactly-once acceptance test: a sink process (``pinpipe sink``, flush.size
7) over an embedded log of three topics (one with two partitions) that keeps growing while it
runs is killed with SIGKILL at a random moment and restarted, again and again; then a clean
``--once`` drains the rest. Every offset of every partition must then be in exactly one object,
each object must hold the expected bytes, and every object but a partition's last (the drain's)
must hold exactly 7 records - a crash never leaves a short or stale object behind.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from pinpipe.broker.embedded import EmbeddedLog
from pinpipe.config import EmbeddedLogSettings, Settings
from pinpipe.lake import open_lake
from pinpipe.sink import parse_object_key, run_sink
from tests.sink.conftest import append_json

ROOT = Path(__file__).resolve().parents[2]
CYCLES = 12
FLUSH_SIZE = 7
UID = "c0ffee000001"
TOPICS = {f"{UID}.pin": 1, f"{UID}.geo": 2, f"{UID}.user": 1}


def worker(home: Path, *args: str, **popen: Any) -> subprocess.Popen[bytes]:
    """``pinpipe --home HOME sink ARGS`` in a child process (``--direct``: without the CLI)."""
    env = {**os.environ, "PINPIPE_USER_ID": UID, "PINPIPE_EMBEDDED__DURABILITY": "os"}
    command = [sys.executable, "-m", "tests.sink.sink_worker"]
    if args[:1] == ("--direct",):
        command += ["--direct", str(home), UID, *args[1:]]
    else:
        command += ["--home", str(home), "sink", *args]
    return subprocess.Popen(command, cwd=ROOT, env=env, **popen)


def value(rng: random.Random, n: int) -> dict[str, Any]:
    """A record in the domain where the expected bytes are plain compact JSON."""
    return {
        "ind": n,
        "title": rng.choice(["épingle", "Weihnachten ✓", "中文", "plain", ""]) + str(n),
        "latitude": round(rng.uniform(-90, 90), 4),
        "count": rng.randint(-(10**9), 10**9),
        "tags": [rng.random() < 0.5, None],
    }


class Appender(threading.Thread):
    """Appends small batches to random topic partitions until stopped."""

    def __init__(self, log: EmbeddedLog, rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.log, self.rng, self.stopped, self.count = log, rng, threading.Event(), 0

    def append(self, n: int) -> None:
        topic = self.rng.choice(list(TOPICS))
        partition = self.rng.randrange(TOPICS[topic])
        append_json(
            self.log,
            topic,
            [value(self.rng, self.count + i) for i in range(n)],
            partition=partition,
        )
        self.count += n

    def run(self) -> None:
        while not self.stopped.wait(self.rng.uniform(0.002, 0.02)):
            self.append(self.rng.randint(1, 25))


def check_exactly_once(home: Path, log: EmbeddedLog) -> int:
    lake = open_lake(str(home / "lake"))
    keys = lake.list()
    total = 0
    for topic, partitions in TOPICS.items():
        for p in range(partitions):
            end = log.describe_topic(topic).end_offsets[p]
            records = log.read(topic, p, 0, end + 1)
            expected = [orjson.dumps(orjson.loads(r.value)) + b"\n" for r in records]
            prefix = f"topics/{topic}/partition={p}/"
            mine = [k for k in keys if k.startswith(prefix)]
            seen: list[int] = []
            for i, key in enumerate(mine):
                start = parse_object_key(key)[2]
                lines = lake.get(key).splitlines(keepends=True)
                assert lines == expected[start : start + len(lines)], key
                if i < len(mine) - 1:
                    assert len(lines) == FLUSH_SIZE, key
                seen += range(start, start + len(lines))
            assert seen == list(range(end)), f"{topic}[{p}]: offsets not exactly once"
            total += end
    return total


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.timeout(120)
def test_sigkill_at_random_moments_then_once_is_exactly_once(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("SINK_CRASH_SEED", "20240615")))
    with EmbeddedLog(tmp_path / "broker.db", EmbeddedLogSettings(durability="os")) as log:
        for topic, partitions in TOPICS.items():
            log.create_topic(topic, partitions)
        appender = Appender(log, rng)
        for _ in range(60):
            appender.append(rng.randint(10, 40))  # a backlog of ~1,500 to start with
        appender.start()
        kills = 0
        try:
            for _ in range(CYCLES):
                proc = worker(
                    tmp_path,
                    "--direct",
                    str(FLUSH_SIZE),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
                assert proc.stdout is not None and proc.stdout.readline() == b"started\n"
                time.sleep(rng.uniform(0.05, 1.0))  # mid-backlog, or while it keeps up
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    kills += 1
                _, err = proc.communicate(timeout=10)
                assert proc.returncode in (-signal.SIGKILL, 0), err.decode()
        finally:
            appender.stopped.set()
            appender.join(timeout=10)
        assert kills >= 10
        committed = log.committed(f"connect-{UID}-connector", f"{UID}.pin")
        assert committed, "no run got as far as a commit: the kills came too early"
        info = run_sink(
            Settings(home=tmp_path, user_id=UID), once=True, broker=log, flush_size=FLUSH_SIZE
        )
        assert info.stopped == "drained"
        total = check_exactly_once(tmp_path, log)
    assert total == appender.count >= 3000


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.timeout(60)
def test_sigterm_commits_what_is_written_and_exits_0(tmp_path: Path) -> None:
    """A long-running sink stopped by SIGTERM: complete objects are committed, the partial
    group is not written (its records are read again on the next start), exit code 0."""
    with EmbeddedLog(tmp_path / "broker.db") as log:
        log.create_topic(f"{UID}.pin")
        append_json(log, f"{UID}.pin", [{"ind": i} for i in range(12)])
        proc = worker(tmp_path, "--flush-size", "5", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        group = f"connect-{UID}-connector"
        deadline = time.monotonic() + 30
        while log.committed(group, f"{UID}.pin") != {0: 10}:
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err.decode()
        assert b"total" in out and b"stopped" in out
        lake = open_lake(str(tmp_path / "lake"))
        assert [parse_object_key(k)[2] for k in lake.list()] == [0, 5]
        assert log.committed(group, f"{UID}.pin") == {0: 10}
        info = run_sink(Settings(home=tmp_path, user_id=UID), once=True, broker=log, flush_size=5)
        assert info.records == 2
        assert [parse_object_key(k)[2] for k in lake.list()] == [0, 5, 10]
