"""The CLI as a user meets it: help everywhere, one error boundary, config and source commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pinpipe.cli import app
from pinpipe.errors import ConfigError

runner = CliRunner()
README = Path(__file__).resolve().parents[2] / "README.md"


def command_paths() -> list[list[str]]:
    paths: list[list[str]] = [[]]
    for group in app.registered_groups:
        assert group.name is not None and group.typer_instance is not None
        paths.append([group.name])
        for command in group.typer_instance.registered_commands:
            name = command.name or command.callback.__name__  # type: ignore[union-attr]
            paths.append([group.name, name])
    for command in app.registered_commands:
        paths.append([command.name or command.callback.__name__])  # type: ignore[union-attr]
    return paths


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "pinpipe")
def test_every_command_has_help_and_is_documented(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    if path:
        assert f"pinpipe {' '.join(path)}" in README.read_text(), f"document {path} in README"


def test_help_runs_as_a_subprocess() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pinpipe", "--help"], capture_output=True, text=True, check=True
    )
    assert "source" in out.stdout and "demo" in out.stdout


def test_error_boundary_prints_one_red_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--config", str(tmp_path / "nope.toml"), "config", "show"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert "does not exist" in lines[0] and "--config" in lines[0]


def test_debug_shows_the_exception(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["--debug", "--config", str(tmp_path / "nope.toml"), "config", "show"]
    )
    assert isinstance(result.exception, ConfigError)


def test_config_show_masks_and_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pinpipe.toml").write_text('user_id = "abc123"\n')
    monkeypatch.setenv("PINPIPE_SOURCE_URL", "mysql+pymysql://admin:hunter2@db:3306/pinterest_data")
    result = runner.invoke(app, ["--home", str(tmp_path / "h"), "config", "show", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["user_id"] == "abc123"
    assert shown["home"] == str(tmp_path / "h")
    assert shown["source_url"] == "mysql+pymysql://admin:***@db:3306/pinterest_data"
    assert "hunter2" not in result.output
    table = runner.invoke(app, ["--home", str(tmp_path / "h"), "config", "show"])
    assert "hunter2" not in table.output and "abc123" in table.output


def test_invalid_config_names_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINPIPE_ENGINE", "pandas")
    result = runner.invoke(app, ["--home", str(tmp_path), "config", "show"])
    assert result.exit_code == 1
    assert "'engine'" in result.stderr and "'duckdb'" in result.stderr


def test_source_init_stats_and_refusal(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path)]
    result = runner.invoke(app, [*home, "source", "init", "--rows", "600", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "source.db").exists()
    stats = runner.invoke(app, [*home, "source", "stats", "--json"])
    assert stats.exit_code == 0, stats.output
    data = json.loads(stats.stdout)
    assert data["rows"] == {"pin": 600, "geo": 600, "user": 600}
    assert data["blocks_contiguous"] is True
    again = runner.invoke(app, [*home, "source", "init", "--rows", "10"])
    assert again.exit_code == 1 and "--replace" in again.stderr
    replaced = runner.invoke(app, [*home, "source", "init", "--rows", "10", "--replace"])
    assert replaced.exit_code == 0, replaced.output


def test_source_load_bad_file_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "user.csv"
    bad.write_text("ind,first_name,last_name,age,date_joined\n0,A,B,old,2015-10-21 00:00:00\n")
    result = runner.invoke(app, ["--home", str(tmp_path), "source", "load", "--user", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:2 column 'age'" in result.stderr


def test_stats_on_empty_home_says_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--home", str(tmp_path), "source", "stats"])
    assert result.exit_code == 0
    assert "no table" in result.output


def test_demo_runs_every_stage_then_reruns_safely(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path / "demo")]
    first = runner.invoke(app, [*home, "demo", "--rows", "400", "--count", "50"])
    assert first.exit_code == 0, first.output
    assert "generating 400 synthetic posts" in first.output
    assert "category blocks contiguous" in first.output
    assert "ingestion API on http://127.0.0.1:" in first.output
    _check_demo_artefacts(tmp_path / "demo", posted=50)
    second = runner.invoke(app, [*home, "demo", "--count", "20"])
    assert second.exit_code == 0, second.output
    assert "already there" in second.output
    assert "70 records" in second.output
    _check_demo_artefacts(tmp_path / "demo", posted=70)


def _check_demo_artefacts(home: Path, posted: int) -> None:
    """Every artefact the demo's summary names is there and holds what was posted."""
    from deltalake import DeltaTable

    from pinpipe.batch import read_quality, read_result
    from pinpipe.lake import open_lake
    from pinpipe.transform import QUERIES

    uid = "1232252d77df"
    assert (home / "source.db").exists()
    lake = home / "lake"
    for kind in ("pin", "geo", "user"):
        objects = list((lake / "topics" / f"{uid}.{kind}" / "partition=0").iterdir())
        assert len(objects) == posted, kind  # flush.size 1: one object per record
        curated = DeltaTable(str(lake / "curated" / kind)).to_pyarrow_table()
        assert 0 < curated.num_rows <= posted
        streamed = DeltaTable(str(lake / "delta" / f"{uid}_{kind}_table")).to_pyarrow_table()
        assert 0 < streamed.num_rows <= posted
        # The stream carried the same rows as the topics, cleaned by the same models.
        assert streamed.num_rows == curated.num_rows, kind
    opened = open_lake(str(lake))
    quality = read_quality(opened)
    assert {k: q["rows_read"] for k, q in quality["kinds"].items()} == dict.fromkeys(
        ("pin", "geo", "user"), posted
    )
    for name in QUERIES:
        read_result(opened, name)  # stored (parquet), readable
        assert (lake / "results" / f"{name}.csv").exists()
    page = (home / "report.html").read_text()
    assert all(name in page for name in QUERIES)
    assert f"{posted * 3:,}" in page  # records across the three topics
