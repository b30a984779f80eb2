"""``pinpipe sink`` through Typer's CliRunner (in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pinpipe.broker.embedded import EmbeddedLog
from tests.sink.conftest import append_json
from tests.sink.sink_worker import cli_app

runner = CliRunner()
UID = "feedbeef0001"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    with EmbeddedLog(tmp_path / "broker.db") as log:
        for kind in ("pin", "geo", "user"):
            log.create_topic(f"{UID}.{kind}")
        append_json(log, f"{UID}.pin", [{"index": i} for i in range(5)] + [b"oops"])
    return tmp_path


def invoke(home: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(
        cli_app(), ["--home", str(home), "sink", *args], env={"PINPIPE_USER_ID": UID}
    )
    return result.exit_code, result.output


def test_once_prints_the_summary_table(home: Path) -> None:
    code, out = invoke(home, "--once", "--flush-size", "2")
    assert code == 0, out
    assert f"{UID}.pin" in out and "total" in out and f"connect-{UID}-connector" in out
    assert "0:6" in out  # the committed offset, past the dead letter
    keys = sorted(
        p.name for p in (home / "lake" / "topics" / f"{UID}.pin" / "partition=0").iterdir()
    )
    assert keys == [f"{UID}.pin+0+{o:010d}.json" for o in (0, 2, 4)]


def test_json_summary(home: Path) -> None:
    code, out = invoke(home, "--once", "--json", "--name", "nightly", "--format", "json")
    assert code == 0, out
    summary = json.loads(out[out.index("{") :])
    assert summary["group"] == "connect-nightly" and summary["stopped"] == "drained"
    pin = next(t for t in summary["topics"] if t["topic"] == f"{UID}.pin")
    assert (pin["records"], pin["objects"], pin["dead_letters"], pin["offsets"]) == (
        5,
        5,
        1,
        {"0": 6},
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "avro"],
        ["--flush-size", "0"],
        ["--partitioner", "field"],
        ["--field-order", "x"],
    ],
)
def test_bad_options_are_usage_errors(home: Path, args: list[str]) -> None:
    code, _ = invoke(home, "--once", *args)
    assert code == 2


def test_sink_errors_are_one_red_line(home: Path) -> None:
    code, out = invoke(home, "--once", "--topics-regex", "(")
    assert code == 1 and "does not compile" in out


def test_help_documents_the_options() -> None:
    result = runner.invoke(cli_app(), ["sink", "--help"])
    assert result.exit_code == 0
    for option in ("--once", "--flush-size", "--rotate-interval-ms", "--partitioner", "--format"):
        assert option in result.output
