"""``pinpipe batch`` and ``pinpipe query`` as a user runs them on a landed lake."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from pinpipe.cli import app
from pinpipe.transform import QUERIES

runner = CliRunner()
UID = "129a67850695"


def _home(tmp_path: Path, landed_lake_dir: Path) -> list[str]:
    shutil.copytree(landed_lake_dir, tmp_path / "lake")
    return ["--home", str(tmp_path)]


def test_query_before_any_batch_says_what_to_do(tmp_path: Path) -> None:
    env = {"PINPIPE_USER_ID": UID}
    result = runner.invoke(app, ["--home", str(tmp_path), "query", "users_joined_by_year"], env=env)
    assert result.exit_code == 1
    assert "run `pinpipe batch` first" in result.output
    result = runner.invoke(app, ["--home", str(tmp_path), "query", "nope"], env=env)
    assert result.exit_code == 1 and "the queries are: popular_category_by_country" in result.output


def test_batch_prints_results_and_query_reads_them_back(
    tmp_path: Path, landed_lake_dir: Path
) -> None:
    home = _home(tmp_path, landed_lake_dir)
    env = {"PINPIPE_USER_ID": UID, "COLUMNS": "200"}
    result = runner.invoke(app, [*home, "batch"], env=env)
    assert result.exit_code == 0, result.output
    for name in QUERIES:
        assert name in result.output
    assert "data quality" in result.output and "duplicates dropped" in result.output
    assert "→ NULL: follower_count" in result.output
    assert "3 lines in 1 objects under dead_letters/" in result.output

    result = runner.invoke(app, [*home, "query", "users_joined_by_year", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"post_year": 2015, "number_users_joined": 841},
        {"post_year": 2016, "number_users_joined": 2760},
        {"post_year": 2017, "number_users_joined": 1706},
    ]
    result = runner.invoke(app, [*home, "query"], env=env)
    assert result.exit_code == 0 and "results of the duckdb run" in result.output
    assert all(name in result.output for name in QUERIES)
    result = runner.invoke(app, [*home, "query", "popular_category_by_country"], env=env)
    assert "more rows: pinpipe query popular_category_by_country --all" in result.output
    result = runner.invoke(app, [*home, "query", "popular_category_by_country", "--all"], env=env)
    assert "more rows" not in result.output


def test_batch_json_summary(tmp_path: Path, landed_lake_dir: Path) -> None:
    home = _home(tmp_path, landed_lake_dir)
    result = runner.invoke(
        app, [*home, "batch", "--engine", "duckdb", "--json"], env={"PINPIPE_USER_ID": UID}
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["engine"] == "duckdb"
    assert summary["quality"]["pin"]["dead_letters"] == 3
    assert summary["results"]["country_with_most_followed_user"][0]["country"]
    assert set(summary["curated"]) == {"pin", "geo", "user"}
