"""``pinpipe doctor`` as a user runs it: the table, the JSON, the exit codes."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from typer.testing import CliRunner

from pinpipe.cli import app
from tests.servers import free_port

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


def test_a_fresh_home_lists_what_to_create(tmp_path: Path) -> None:
    env = WIDE | {"PINPIPE_API__PORT": str(free_port())}
    result = runner.invoke(app, ["--home", str(tmp_path), "doctor"], env=env)
    assert result.exit_code == 0, result.output
    for text in ("source", "missing", "pinpipe source init", "pinpipe topics create", "ok"):
        assert text in result.output
    assert "6 checks" in result.output and "3 missing, 0 failed" in result.output
    strict = runner.invoke(app, ["--home", str(tmp_path), "doctor", "--strict"], env=env)
    assert strict.exit_code == 1


def test_all_ok_after_the_fixes(tmp_path: Path) -> None:
    env = WIDE | {"PINPIPE_API__PORT": str(free_port())}
    home = ["--home", str(tmp_path)]
    for command in (
        ["source", "init", "--rows", "20"],
        ["topics", "create"],
        ["streams", "create"],
    ):
        assert runner.invoke(app, [*home, *command], env=env).exit_code == 0
    result = runner.invoke(app, [*home, "doctor", "--strict", "--json"], env=env)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert [c["status"] for c in shown["checks"]] == ["ok"] * 6
    assert {c["component"] for c in shown["checks"]} == {
        "source",
        "topics",
        "streams",
        "lake",
        "engine",
        "api",
    }


def test_an_unreachable_broker_exits_1(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
        env = WIDE | {
            "PINPIPE_BROKER_URL": f"kafka://{address}",
            "PINPIPE_STREAMS_URL": f"embedded://{tmp_path / 'broker.db'}",
            "PINPIPE_API__PORT": str(free_port()),
        }
        result = runner.invoke(
            app, ["--home", str(tmp_path), "doctor", "--timeout", "3", "--json"], env=env
        )
    assert result.exit_code == 1
    topics = next(c for c in json.loads(result.stdout)["checks"] if c["component"] == "topics")
    assert topics["status"] == "failed" and address in topics["detail"]
    assert "broker_url" in topics["fix"]
