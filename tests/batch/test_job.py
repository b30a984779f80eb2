"""The batch job on the course's real rows, landed in the lake by the sink: curated Delta
tables, results and the quality summary match the test's own Python computation, row for row,
on DuckDB; and Spark, through the DAG's stages, leaves outputs identical to DuckDB's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from pinpipe.batch import (
    BatchOutputError,
    read_curated,
    read_quality,
    read_result,
    run_batch,
    run_clean,
    run_queries,
)
from pinpipe.batch.quality import NULLABLE_SOURCES
from pinpipe.config import Settings
from pinpipe.lake import open_lake
from pinpipe.transform import CLEANING, QUERIES
from pinpipe.transform.base import rows_of, sorted_rows
from tests.batch.conftest import make_engine
from tests.landing import NOT_RECORDS
from tests.transform.reference import Row, py_clean, py_queries

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:deltalake")


def _distinct(rows: list[Row]) -> list[Row]:
    return list({tuple(r.items()): r for r in rows}.values())


def _present(row: Row, source: str) -> bool:
    if source == "first_name || ' ' || last_name":
        return row["first_name"] is not None and row["last_name"] is not None
    return row.get(source.strip('"')) is not None


def expected_quality(raw: dict[str, list[Row]]) -> dict[str, dict[str, Any]]:
    clean = py_clean(raw)
    expected: dict[str, dict[str, Any]] = {}
    for kind in CLEANING:
        distinct = _distinct(raw[kind])
        expected[kind] = {
            "rows_read": len(raw[kind]),
            "duplicates_dropped": len(raw[kind]) - len(distinct),
            "rows_cleaned": len(clean[kind]),
            "nulled": {
                column: sum(_present(r, source) for r in distinct)
                - sum(r[column] is not None for r in clean[kind])
                for column, source in NULLABLE_SOURCES[kind].items()
            },
        }
    return expected


def test_batch_matches_python_on_real_rows(
    lake_settings: Settings, reference_raw: dict[str, list[Row]]
) -> None:
    # On DuckDB; Spark's outputs equal DuckDB's (test_both_engines_leave_identical_outputs) and
    # its whole-batch results equal Python's (tests/aws/test_databricks.py, the exported notebook).
    report = run_batch(lake_settings, engine="duckdb")
    lake = open_lake(lake_settings.lake_url)
    clean = py_clean(reference_raw)
    for kind in CLEANING:
        assert sorted_rows(read_curated(lake, kind)) == clean[kind], kind
    expected = py_queries(clean)
    for name in QUERIES:
        assert rows_of(read_result(lake, name)) == expected[name], name
        assert rows_of(report.results[name]) == expected[name], name
    # SPEC §1.4's distinct users per join year, read back from the stored CSV.
    csv_text = lake.get("results/users_joined_by_year.csv").decode()
    assert csv_text.splitlines() == [
        '"post_year","number_users_joined"',
        "2015,841",
        "2016,2760",
        "2017,1706",
    ]
    # The quality summary: what the test computes itself, and the three refused lines.
    quality = report.quality.to_dict()
    for kind_name, values in expected_quality(reference_raw).items():
        for key, value in values.items():
            assert quality[kind_name][key] == value, (kind_name, key)
    assert quality["pin"]["dead_letters"] == len(NOT_RECORDS)
    assert quality["pin"]["nulled"]["follower_count"] > 0
    assert quality["geo"]["dead_letters"] == quality["user"]["dead_letters"] == 0
    assert quality["pin"]["objects"] == 6 and quality["geo"]["objects"] == 23  # 500 a file
    stored = read_quality(lake)
    assert stored["engine"] == "duckdb"
    assert stored["kinds"] == quality


def test_dead_letters_name_the_object_the_line_and_the_reason(lake_settings: Settings) -> None:
    report = run_batch(lake_settings, engine="duckdb")
    lake = open_lake(lake_settings.lake_url)
    assert len(report.dead_letter_objects) == 1
    key = report.dead_letter_objects[0]
    assert key.startswith("dead_letters/topics/129a67850695.pin/partition=1/")
    letters = [orjson.loads(line) for line in lake.get(key).splitlines()]
    raw_key = key.removeprefix("dead_letters/")
    raw_lines = lake.get(raw_key).splitlines()
    assert [raw_lines[d["line"] - 1] for d in letters] == NOT_RECORDS
    assert [d["text"].encode() for d in letters] == NOT_RECORDS
    assert all(d["object"] == raw_key for d in letters)
    assert "JSON array" in letters[0]["reason"]
    assert "JSON string" in letters[1]["reason"]
    assert "'index'" in letters[2]["reason"] and "seven" in letters[2]["reason"]


def test_a_rerun_replaces_the_outputs(lake_settings: Settings) -> None:
    first = run_batch(lake_settings, engine="duckdb")
    second = run_batch(lake_settings, engine="duckdb")
    lake = open_lake(lake_settings.lake_url)
    assert read_curated(lake, "pin").num_rows == first.quality.kinds["pin"].rows_cleaned
    assert second.quality == first.quality
    from deltalake import DeltaTable

    assert DeltaTable(lake.table_uri("curated/pin")).version() == 1  # two overwrite commits


def test_an_empty_lake_gives_empty_outputs_and_query_errors_before_a_run(
    tmp_path: Path,
) -> None:
    settings = Settings(home=tmp_path, user_id="0a1b2c3d4e5f")
    lake = open_lake(settings.lake_url)
    with pytest.raises(BatchOutputError, match="pinpipe batch"):
        read_result(lake, "users_joined_by_year")
    with pytest.raises(BatchOutputError, match="pinpipe batch"):
        read_curated(lake, "pin")
    with pytest.raises(BatchOutputError, match="unknown query"):
        read_result(lake, "nope")
    # An empty object and an all-NULL record are tolerated.
    lake.put_atomic("topics/0a1b2c3d4e5f.geo/partition=0/0a1b2c3d4e5f.geo+0+0000000000.json", b"")
    lake.put_atomic(
        "topics/0a1b2c3d4e5f.user/partition=0/0a1b2c3d4e5f.user+0+0000000000.json", b"{}\n"
    )
    report = run_batch(settings, engine="duckdb")
    assert report.rows_read == {"pin": 0, "geo": 0, "user": 1}
    assert all(table.num_rows == 0 for table in report.results.values())
    assert read_curated(lake, "user").to_pylist() == [
        {"ind": None, "user_name": None, "age": None, "date_joined": None}
    ]


@pytest.mark.spark
@pytest.mark.slow
def test_both_engines_leave_identical_outputs(
    tmp_path: Path, landed_lake_dir: Path, request: pytest.FixtureRequest
) -> None:
    import shutil

    # DuckDB in one run, Spark through the DAG's stages (clean each kind, then the queries from
    # the curated tables): equal outputs cover Spark's stage path too, so the stage test below
    # runs on DuckDB only (each Spark batch costs about a minute of the suite).
    outputs = {}
    for name in ("duckdb", "spark"):
        lake_dir = tmp_path / name
        shutil.copytree(landed_lake_dir, lake_dir)
        settings = Settings(home=tmp_path, user_id="129a67850695", lake_url=str(lake_dir))
        with make_engine(name, request) as engine:
            if name == "duckdb":
                run_batch(settings, engine=engine)
            else:
                for kind in CLEANING:
                    run_clean(settings, kind, engine=engine)
                run_queries(settings, engine=engine)
        lake = open_lake(str(lake_dir))
        outputs[name] = (
            {kind: read_curated(lake, kind) for kind in CLEANING},
            {query: read_result(lake, query) for query in QUERIES},
            {key: lake.get(key) for key in lake.list("results/") if key.endswith(".csv")},
            read_quality(lake)["kinds"],
        )
    (d_curated, d_results, d_csv, d_quality), (s_curated, s_results, s_csv, s_quality) = (
        outputs["duckdb"],
        outputs["spark"],
    )
    for kind in CLEANING:
        assert d_curated[kind].schema.names == s_curated[kind].schema.names
        assert d_curated[kind].schema.types == s_curated[kind].schema.types, kind
        assert sorted_rows(d_curated[kind]) == sorted_rows(s_curated[kind]), kind
    for query in QUERIES:
        assert rows_of(d_results[query]) == rows_of(s_results[query]), query
    assert d_csv == s_csv
    assert d_quality == s_quality


def test_the_stages_one_by_one_give_what_one_run_gives(
    lake_settings: Settings, request: pytest.FixtureRequest
) -> None:
    """The DAG's tasks (clean_<kind> in separate processes, then queries) leave the outputs of
    a single run: each curated commit carries its kind's quality counts for the queries stage."""
    # Spark's stages: test_both_engines_leave_identical_outputs
    with make_engine("duckdb", request) as engine:
        lake = open_lake(lake_settings.lake_url)
        whole = run_batch(lake_settings, engine=engine)
        whole_quality = read_quality(lake)
        cleaned = {kind: run_clean(lake_settings, kind, engine=engine) for kind in CLEANING}
        assert {k: c.quality for k, c in cleaned.items()} == whole.quality.kinds
        assert [c.version for c in cleaned.values()] == [1, 1, 1]
        # A fresh engine: the queries stage reads only the curated tables back.
        with make_engine(engine.name, request) as fresh:
            answered = run_queries(lake_settings, engine=fresh)
        for name in QUERIES:
            assert rows_of(answered.results[name]) == rows_of(whole.results[name]), name
            assert rows_of(read_result(lake, name)) == rows_of(whole.results[name]), name
        stored = read_quality(lake)
        assert stored["kinds"] == whole_quality["kinds"]
        assert stored["dead_letter_objects"] == whole.dead_letter_objects
        curated = {kind: {"engine": "duckdb", "version": 1} for kind in CLEANING}
        assert stored["curated"] == curated


def test_queries_need_the_curated_tables_of_a_clean_stage(lake_settings: Settings) -> None:
    with pytest.raises(BatchOutputError, match="no curated pin table"):
        run_queries(lake_settings, engine="duckdb")
    lake = open_lake(lake_settings.lake_url)
    for kind in CLEANING:
        run_clean(lake_settings, kind, engine="duckdb")
    # A table overwritten by someone else (no pinpipe counts in its commit) is refused.
    from deltalake import write_deltalake

    write_deltalake(lake.table_uri("curated/geo"), read_curated(lake, "geo"), mode="overwrite")
    with pytest.raises(BatchOutputError, match=r"curated geo table .* no pinpipe quality counts"):
        run_queries(lake_settings, engine="duckdb")
