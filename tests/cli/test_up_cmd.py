"""``pinpipe up`` end to end as a user runs it: records posted through the API reach the lake
and the Delta tables, SIGTERM/SIGINT stop everything cleanly (exit 0), a dead service stops the
rest (exit 1); and ``pinpipe api`` alone exits 0 on SIGTERM."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError
from typer.testing import CliRunner

from pinpipe.cli import app
from pinpipe.naming import Names
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
NAMES = Names("1232252d77df")
KAFKA_JSON = "application/vnd.kafka.json.v2+json"
STARTED = re.compile(r"^up +\| (\w+) started \(pid (\d+)\)$", re.MULTILINE)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PINPIPE_")}


def _wait(check: Callable[[], bool], what: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout} s; output:\n{log.read_text()}")
        time.sleep(0.2)


class Up:
    """``python -m pinpipe --home HOME up --port PORT …`` writing to HOME/up.log."""

    def __init__(self, home: Path, process: subprocess.Popen[bytes], port: int) -> None:
        self.home, self.process, self.port = home, process, port
        self.url = f"http://127.0.0.1:{port}"
        self.log = home / "up.log"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def pids(self) -> dict[str, int]:
        return {name: int(pid) for name, pid in STARTED.findall(self.output())}

    def healthy(self) -> bool:
        assert self.process.poll() is None, self.output()
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def wait_started(self, *names: str) -> None:
        _wait(self.healthy, "the API did not answer", self.log)
        _wait(lambda: set(names) <= set(self.pids()), f"{names} were not started", self.log)

    def stop(self, sig: signal.Signals, timeout: float = 90) -> int:
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"pinpipe up did not stop within {timeout} s:\n{self.output()}")


@contextlib.contextmanager
def pinpipe_up(home: Path, *args: str) -> Iterator[Up]:
    """Run ``pinpipe up``; on the way out it is stopped (SIGTERM, then SIGKILL for it and the
    services it started, by their pids) if a test left it running."""
    port = free_port()
    command = [sys.executable, "-m", "pinpipe", "--home", str(home), "up", "--port", str(port)]
    with (home / "up.log").open("wb") as log:
        process = subprocess.Popen(
            [*command, "--grace", "20", *args],
            cwd=ROOT,
            env=_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    up = Up(home, process, port)
    try:
        yield up
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                _kill_all(up)


def _kill_all(up: Up) -> None:
    """SIGKILL ``up`` and the services it started (they live in process groups of their own)."""
    up.process.kill()
    up.process.wait(10)
    for pid in up.pids().values():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


def _geo_rows(home: Path) -> list[dict[str, Any]]:
    table = home / "lake" / "delta" / NAMES.delta_table("geo")
    try:  # the directory appears before the first commit is in the log
        return DeltaTable(str(table)).to_pyarrow_table().to_pylist()
    except TableNotFoundError:
        return []


def _lake_pins(home: Path) -> list[dict[str, Any]]:
    objects = sorted((home / "lake" / "topics" / NAMES.topic("pin")).rglob("*.json"))
    return [orjson.loads(line) for o in objects for line in o.read_bytes().splitlines()]


def _post(up: Up, indexes: range) -> None:
    """One pin through the REST Proxy route and one geo through the Kinesis-style route each."""
    with httpx.Client(base_url=up.url, timeout=10) as client:
        for i in indexes:
            pin = {"index": i, "title": f"pin {i}", "category": "travel"}
            body = orjson.dumps({"records": [{"value": pin}]})
            response = client.post(
                f"/topics/{NAMES.topic('pin')}", content=body, headers={"Content-Type": KAFKA_JSON}
            )
            assert response.status_code == 200, response.text
            geo = {"ind": i, "country": "Chad", "latitude": 1.5, "longitude": -2.5}
            stream = NAMES.stream("geo")
            put = {"StreamName": stream, "Data": geo, "PartitionKey": f"partition-{i}"}
            response = client.put(f"/streams/{stream}/record", json=put)
            assert response.status_code == 200, response.text


@pytest.mark.integration
def test_records_flow_to_the_lake_and_delta_then_sigterm_exits_0(tmp_path: Path) -> None:
    with pinpipe_up(tmp_path) as up:
        up.wait_started("api", "sink", "stream")
        _post(up, range(5))
        _wait(lambda: len(_lake_pins(tmp_path)) == 5, "the sink did not write 5 objects", up.log)
        _wait(lambda: len(_geo_rows(tmp_path)) == 5, "the streamer did not append 5", up.log)
        code = up.stop(signal.SIGTERM)
        output = up.output()
    assert code == 0, output
    assert sorted(p["index"] for p in _lake_pins(tmp_path)) == list(range(5))
    assert sorted(r["ind"] for r in _geo_rows(tmp_path)) == list(range(5))
    assert re.search(
        rf"^REST Proxy v2 +POST {up.url}/topics/1232252d77df.pin\|geo\|user", output, re.M
    )
    for line in (
        "api    | created 1232252d77df.pin",
        "up     | api ready in",
        "sink   | stopped: committed what was written",
        "stream | stream: 5 records in",
        "every service stopped cleanly",
    ):
        assert line in output, f"{line!r} not in:\n{output}"
    stopping = re.findall(r"^up +\| stopping (\w+) ", output, re.MULTILINE)
    assert stopping == ["api", "sink", "stream"]
    stopped = re.findall(r"^up +\| (\w+) stopped \(exit 0\)$", output, re.MULTILINE)
    assert stopped == ["api", "sink", "stream"]
    for line in output.splitlines():  # every service line has its prefix, padded
        assert not line.startswith(("api |", "sink |")), line


@pytest.mark.integration
def test_a_killed_sink_stops_the_others_and_exits_1(tmp_path: Path) -> None:
    with pinpipe_up(tmp_path) as up:
        up.wait_started("api", "sink", "stream")
        pids = up.pids()
        os.kill(pids["sink"], signal.SIGKILL)
        try:
            code = up.process.wait(90)
        except subprocess.TimeoutExpired:
            pytest.fail(f"pinpipe up did not stop after the sink died:\n{up.output()}")
        output = up.output()
    assert code == 1, output
    assert "sink ended on its own (signal SIGKILL); stopping the others" in output
    assert re.search(r"^up +\| api stopped \(exit 0\)$", output, re.MULTILINE), output
    # the streamer may still be importing when it is stopped: dying of that SIGTERM is clean
    stream = r"^up +\| stream stopped \((exit 0|signal SIGTERM)\)$"
    assert re.search(stream, output, re.MULTILINE), output
    assert not any(_alive(pid) for pid in pids.values())


@pytest.mark.integration
def test_sigint_stops_cleanly_too(tmp_path: Path) -> None:
    """SIGINT (Ctrl-C) takes the same path as SIGTERM; the API alone keeps this test short."""
    with pinpipe_up(tmp_path, "--no-sink", "--no-stream") as up:
        up.wait_started("api")
        code = up.stop(signal.SIGINT)
        output = up.output()
    assert code == 0, output
    assert set(up.pids()) == {"api"}
    assert re.findall(r"^up +\| (\w+) stopped \(exit 0\)$", output, re.MULTILINE) == ["api"]
    assert "Ctrl-C (or kill -TERM" in output and "stops api, gracefully" in output


@pytest.mark.integration
def test_pinpipe_api_alone_exits_0_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "pinpipe", "--home", str(tmp_path), "api", "--port", str(port)]
    log = tmp_path / "api.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=_env(), stdout=out, stderr=out)
    try:

        def healthy() -> bool:
            assert process.poll() is None, log.read_text()
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        _wait(healthy, "pinpipe api did not answer", log)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_port_in_use_fails_fast_and_names_the_port(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = CliRunner().invoke(
            app, ["--home", str(tmp_path), "up", "--port", str(port)], env={"COLUMNS": "200"}
        )
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.output
    assert "--port" in result.output
    assert not (tmp_path / "broker.db").exists()  # nothing was started


@pytest.mark.integration
def test_demo_keep_running_leaves_the_services_up(tmp_path: Path) -> None:
    """``pinpipe demo --keep-running``: after the demo, the API (on the demo's port), the sink
    and the streamer keep running until SIGTERM, which stops them cleanly."""
    command = [sys.executable, "-m", "pinpipe", "--home", str(tmp_path), "demo"]
    with (tmp_path / "up.log").open("wb") as log:
        process = subprocess.Popen(
            [*command, "--rows", "200", "--count", "10", "--keep-running"],
            cwd=ROOT,
            env=_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        demo_api = re.compile(r"ingestion API on http://127\.0\.0\.1:(\d+)")
        _wait(
            lambda: bool(demo_api.search((tmp_path / "up.log").read_text())),
            "no API",
            tmp_path / "up.log",
        )
        port = int(demo_api.findall((tmp_path / "up.log").read_text())[0])
        up = Up(tmp_path, process, port)
        up.wait_started("api", "sink", "stream")
        assert "demo done" in up.output()
        before = len(_lake_pins(tmp_path))
        _post(up, range(1000, 1005))
        _wait(lambda: len(_lake_pins(tmp_path)) == before + 5, "the sink did not land", up.log)
        _wait(lambda: {1000, 1004} <= {r["ind"] for r in _geo_rows(tmp_path)}, "no rows", up.log)
        assert up.stop(signal.SIGTERM) == 0, up.output()
        assert "every service stopped cleanly" in up.output()
    finally:
        if process.poll() is None:
            _kill_all(Up(tmp_path, process, 0))
