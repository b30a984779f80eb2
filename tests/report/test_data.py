"""The report's facts, each checked against the test's own reading of the broker and the lake:
records per topic and stream, raw objects, every Delta table's version, rows, files and last
commit, the quality summary and every result row."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from deltalake import DeltaTable

import pinpipe
from pinpipe.batch import read_quality, read_result
from pinpipe.broker.embedded import EmbeddedLog
from pinpipe.lake import open_lake
from pinpipe.report import ReportData, ReportError, build_report
from pinpipe.report.data import DeltaFacts
from pinpipe.transform import QUERIES
from pinpipe.transform.base import rows_of
from tests.landing import UID
from tests.report import BAD_PAYLOADS, RESENDS, STREAM_ROWS, settings_for


def _check_table(facts: DeltaFacts | None, uri: Path) -> None:
    """The facts equal what reading the whole table says."""
    assert facts is not None, uri
    table = DeltaTable(str(uri))
    assert facts.uri == str(uri)
    assert facts.version == table.version()
    assert facts.rows == table.to_pyarrow_table().num_rows
    files = table.file_uris()
    assert facts.files == len(files)
    assert facts.size_bytes == sum(os.path.getsize(f) for f in files)
    stamp = table.history(1)[0]["timestamp"]
    assert facts.last_commit == datetime.fromtimestamp(stamp / 1000, UTC)


def test_run_facts(data: ReportData, home: Path) -> None:
    assert data.user_id == UID
    assert data.version == pinpipe.__version__
    assert datetime.now(UTC) - data.generated_at < timedelta(minutes=5)
    assert data.generated_at.tzinfo is UTC
    stored = read_quality(open_lake(str(home / "lake")))
    assert data.batch.engine == stored["engine"] == "duckdb"
    assert data.batch.finished_at == datetime.fromisoformat(stored["finished_at"])
    assert data.batch.seconds == stored["seconds"]
    assert data.lake_url == str(home / "lake")
    assert data.notes == ()


def test_topics_match_the_broker_and_the_lake(data: ReportData, home: Path) -> None:
    with EmbeddedLog(home / "broker.db") as log:
        for facts in data.topics:
            assert facts.name == f"{UID}.{facts.kind}"
            info = log.describe_topic(facts.name)
            assert facts.records == info.records > 0
            assert facts.partitions == info.partitions
            folder = home / "lake" / "topics" / facts.name
            objects = [p for p in folder.rglob("*.json") if not p.name.startswith(".")]
            assert facts.lake_objects == len(objects) > 0
    assert [t.partitions for t in data.topics] == [2, 1, 1]


def test_curated_tables_match_delta(data: ReportData, home: Path) -> None:
    assert [c.kind for c in data.curated] == ["pin", "geo", "user"]
    for curated in data.curated:
        _check_table(curated.table, home / "lake" / "curated" / curated.kind)


def test_streams_and_their_tables_match(data: ReportData, home: Path) -> None:
    dead_uri = home / "lake" / "delta" / f"{UID}_dead_letters"
    _check_table(data.dead_letter_table, dead_uri)
    dead_rows = DeltaTable(str(dead_uri)).to_pyarrow_table().to_pylist()
    with EmbeddedLog(home / "broker.db") as log:
        for facts in data.streams:
            assert facts.name == f"streaming-{UID}-{facts.kind}"
            assert facts.records == log.describe_topic(facts.name).records
            _check_table(facts.table, home / "lake" / "delta" / f"{UID}_{facts.kind}_table")
            assert facts.dead_letters == sum(r["stream"] == facts.name for r in dead_rows)
    by_kind = {s.kind: s for s in data.streams}
    assert by_kind["pin"].records == STREAM_ROWS + RESENDS + len(BAD_PAYLOADS)
    assert by_kind["pin"].dead_letters == len(BAD_PAYLOADS)
    assert by_kind["geo"].dead_letters == by_kind["user"].dead_letters == 0
    assert all(s.table is not None and s.table.version > 1 for s in data.streams)  # batches


def test_quality_is_the_stored_summary(data: ReportData, home: Path) -> None:
    stored = read_quality(open_lake(str(home / "lake")))["kinds"]
    assert [q.kind for q in data.quality] == list(stored)
    for facts in data.quality:
        values = stored[facts.kind]
        for key in (
            "objects",
            "bytes",
            "lines",
            "rows_read",
            "dead_letters",
            "duplicates_dropped",
            "rows_cleaned",
        ):
            assert getattr(facts, key) == values[key], (facts.kind, key)
        assert dict(facts.nulled) == values["nulled"]
    pin = data.quality[0]
    assert pin.dead_letters == 3 and pin.duplicates_dropped > 0


def test_results_are_the_stored_results(data: ReportData, home: Path) -> None:
    lake = open_lake(str(home / "lake"))
    assert [r.name for r in data.results] == list(QUERIES)
    for result in data.results:
        stored = read_result(lake, result.name)
        assert result.columns == tuple(stored.column_names)
        assert list(result.rows) == [tuple(row.values()) for row in rows_of(stored)]
        assert data.result(result.name) is result
    assert data.result("users_joined_by_year").numeric == (True, True)
    assert data.result("popular_category_by_country").numeric == (False, False, True)


def test_parts_not_run_yet_are_facts_and_nothing_is_created(home: Path, tmp_path: Path) -> None:
    """Only a lake with batch results: no broker file, no streams, no streaming tables."""
    shutil.copytree(home / "lake" / "results", tmp_path / "lake" / "results")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    data = build_report(settings_for(tmp_path))
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert all(t.records is None and t.lake_objects == 0 for t in data.topics)
    assert all(c.table is None for c in data.curated)
    assert all(s.records is None and s.table is None for s in data.streams)
    assert data.dead_letter_table is None
    assert len(data.results) == len(QUERIES)
    assert data.notes == ()


def test_no_batch_result_is_an_error_that_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(ReportError) as caught:
        build_report(settings_for(tmp_path))
    assert caught.value.hint == "run `pinpipe batch` first"
    assert "no batch result" in caught.value.message


def test_a_missing_result_is_named(home: Path, tmp_path: Path) -> None:
    shutil.copytree(home / "lake" / "results", tmp_path / "lake" / "results")
    (tmp_path / "lake" / "results" / "users_joined_by_year.parquet").unlink()
    with pytest.raises(ReportError, match="users_joined_by_year") as caught:
        build_report(settings_for(tmp_path))
    assert "pinpipe batch" in str(caught.value.hint)
