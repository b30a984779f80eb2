"""``pinpipe emulate batch|stream`` as a user meets it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pinpipe.broker.embedded import EmbeddedLog
from pinpipe.cli import _ErrorBoundary, root
from pinpipe.cli import emulate as emulate_cmd
from pinpipe.config import Settings
from tests.emulator.servers import ROOT, ApiServer, api_server
from tests.servers import free_port

runner = CliRunner()


def cli() -> typer.Typer:
    """The root command with ``emulate`` registered, as ``pinpipe.cli`` does."""
    app = typer.Typer(cls=_ErrorBoundary, pretty_exceptions_enable=False)
    app.callback()(root)
    app.add_typer(emulate_cmd.app, name="emulate")
    return app


@pytest.mark.parametrize("mode", ["batch", "stream"])
def test_help(mode: str) -> None:
    result = runner.invoke(cli(), ["emulate", mode, "--help"])
    assert result.exit_code == 0, result.output
    for option in ("--api", "--faithful", "--no-sleep", "--count", "--duration", "--rate"):
        assert option in result.output
    for option in ("--concurrency", "--batch-size", "--seed", "--api-key", "--json"):
        assert option in result.output


def test_bad_api_url_is_one_red_line(synthetic_source: str, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/test"
    for api in (dead, "localhost:8082"):
        result = runner.invoke(
            cli(),
            ["--home", str(tmp_path), "emulate", "batch", "--api", api, "--count", "3"],
            env={"PINPIPE_SOURCE_URL": synthetic_source},
        )
        assert result.exit_code == 1, result.output
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
        assert "Traceback" not in result.output


def test_faithful_rejects_load_options(synthetic_source: str) -> None:
    result = runner.invoke(
        cli(),
        ["emulate", "stream", "--faithful", "--batch-size", "10", "--api", "http://x"],
        env={"PINPIPE_SOURCE_URL": synthetic_source},
    )
    assert result.exit_code == 1 and "--faithful sends one row per request" in result.stderr


def test_default_api_url() -> None:
    assert emulate_cmd.default_api_url(Settings()) == "http://127.0.0.1:8082"
    wildcard = Settings(api={"host": "0.0.0.0", "port": 9000})  # noqa: S104
    assert emulate_cmd.default_api_url(wildcard) == "http://127.0.0.1:9000"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ApiServer]:
    with api_server(tmp_path / "api", "cli0test0uid") as running:
        yield running


@pytest.mark.integration
@pytest.mark.parametrize("mode", ["batch", "stream"])
def test_json_summary(server: ApiServer, reference_source: str, tmp_path: Path, mode: str) -> None:
    out = tmp_path / "summary.json"
    env = {"PINPIPE_SOURCE_URL": reference_source, "PINPIPE_USER_ID": server.user_id}
    faithful = ["--faithful", "--no-sleep", "--count", "5", "--json", str(out)]
    result = runner.invoke(cli(), ["emulate", mode, "--api", server.url, *faithful], env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(out.read_text())
    assert summary["mode"] == mode and summary["faithful"] is True
    assert summary["iterations"] == 5 and summary["records"] == 15 and summary["failed"] == 0
    assert set(summary["latency_ms"]) == {"p50", "p95", "p99"}
    assert "sent →" in result.stdout and "records/s" in result.stdout

    options = ["--count", "200", "--batch-size", "50", "--concurrency", "2", "--json", str(out)]
    load = runner.invoke(cli(), ["emulate", mode, "--api", server.url, *options], env=env)
    assert load.exit_code == 0, load.output
    summary = json.loads(out.read_text())
    assert summary["faithful"] is False and summary["failed"] == 0
    geo = f"{server.user_id}.geo" if mode == "batch" else f"streaming-{server.user_id}-geo"
    assert summary["sent"][geo] == 200


@pytest.mark.integration
def test_ctrl_c_stops_cleanly(server: ApiServer, synthetic_source: str, tmp_path: Path) -> None:
    """SIGINT: the requests in flight finish, the summary prints, exit 130, and the log holds
    exactly what the summary says was sent."""
    out = tmp_path / "summary.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINPIPE_")}
    env |= {"PINPIPE_SOURCE_URL": synthetic_source, "PINPIPE_USER_ID": server.user_id}
    script = "import sys; from tests.emulator.test_cli import cli; cli()(sys.argv[1:])"
    args = ["emulate", "batch", "--api", server.url, "--rate", "3000", "--batch-size", "50"]
    process = subprocess.Popen(
        [sys.executable, "-c", script, *args, "--json", str(out)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        # Start-up, then some sending: wait until records arrive (a loaded machine is slow).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            with EmbeddedLog(server.broker_path) as log:
                if log.describe_topic(f"{server.user_id}.pin").records:
                    break
            time.sleep(0.2)
        time.sleep(0.5)
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr.decode()
    assert b"stopping: finishing the requests in flight" in stderr
    assert b"interrupted" in stdout and b"Traceback" not in stderr
    summary = json.loads(out.read_text())
    assert summary["interrupted"] is True and summary["failed"] == 0 and summary["records"] > 0
    with EmbeddedLog(server.broker_path) as log:
        held = {topic: log.describe_topic(topic).records for topic in summary["sent"]}
    assert held == summary["sent"]
