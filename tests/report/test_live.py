"""The live dashboard's snapshot, checked against the test's own reading of the pipeline the real
stages built (embedded log, sink objects, batch results, streaming Delta tables): offsets, the
sink's and the streamer's lag, Delta versions and rows, the batch run; then records produced,
sunk and streamed between two snapshots, on a copy of that pipeline."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from deltalake import DeltaTable

from pinpipe.broker import InMemoryBroker, OutRecord
from pinpipe.broker.embedded import EmbeddedLog
from pinpipe.config import Settings
from pinpipe.errors import UnknownTopicError
from pinpipe.report import ReportData
from pinpipe.report.charts import CHARTS, category_colours
from pinpipe.report.data import ResultSet
from pinpipe.report.live import LiveDashboard
from pinpipe.sink import run_sink
from pinpipe.stream import run_stream
from tests.landing import UID
from tests.report import BAD_PAYLOADS, settings_for

GROUP = f"connect-{UID}-connector"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def copy(tmp_path: Path, home: Path) -> Path:
    """A copy of the built pipeline that a test may add to."""
    return Path(shutil.copytree(home, tmp_path / "home"))


@pytest.fixture
def log(home: Path) -> Iterator[EmbeddedLog]:
    with EmbeddedLog(home / "broker.db") as opened:
        yield opened


def positions_in(table: Path) -> dict[int, int]:
    """The streamer's next positions, as the newest commit that carries them says."""
    for commit in DeltaTable(str(table)).history():
        if "pinpipe.positions" in commit:
            return {int(p): o for p, o in orjson.loads(commit["pinpipe.positions"]).items()}
    raise AssertionError(f"no positions in {table}")


def behind(log: EmbeddedLog, name: str, done: dict[int, int]) -> int:
    info = log.describe_topic(name)
    return sum(
        e - done.get(p, s)
        for p, (s, e) in enumerate(zip(info.start_offsets, info.end_offsets, strict=True))
    )


def test_snapshot_matches_the_pipeline(home: Path, log: EmbeddedLog, data: ReportData) -> None:
    dashboard = LiveDashboard(settings_for(home), log, log, ttl=0)
    dashboard.snapshot()
    dashboard.wait_for_lake()
    snapshot = dashboard.snapshot()
    orjson.dumps(snapshot)  # JSON as it is
    assert snapshot["user_id"] == UID
    assert snapshot["notes"] == []
    assert snapshot["backends"] == {"topics": "embedded", "streams": "embedded"}
    for topic, facts in zip(snapshot["topics"], data.topics, strict=True):
        info = log.describe_topic(topic["name"])
        assert topic["name"] == facts.name
        assert topic["end_offsets"] == list(info.end_offsets)
        assert topic["end_offset"] == sum(info.end_offsets) > 0
        assert topic["partitions"] == info.partitions
        committed = log.committed(GROUP, topic["name"])
        assert topic["consumer"]["committed"] == sum(committed.values())
        assert topic["consumer"]["lag"] == behind(log, topic["name"], committed) == 0
        assert topic["lake_objects"] == facts.lake_objects > 0
        assert len(topic["spark"]) == 60
    assert snapshot["lake"]["objects"] == sum(t.lake_objects for t in data.topics)
    for stream, streamed in zip(snapshot["streams"], data.streams, strict=True):
        assert stream["end_offset"] == sum(log.describe_topic(stream["name"]).end_offsets)
        positions = positions_in(home / "lake" / "delta" / f"{UID}_{stream['kind']}_table")
        assert stream["consumer"]["position"] == sum(positions.values())
        assert stream["consumer"]["lag"] == behind(log, stream["name"], positions) == 0
        assert streamed.table is not None
        assert stream["table"]["version"] == streamed.table.version
        assert stream["table"]["rows"] == streamed.table.rows
        assert stream["dead_letters"] == streamed.dead_letters
    assert snapshot["streams"][0]["dead_letters"] == len(BAD_PAYLOADS)
    for curated, cleaned in zip(snapshot["curated"], data.curated, strict=True):
        assert cleaned.table is not None
        assert (curated["table"]["version"], curated["table"]["rows"]) == (
            cleaned.table.version,
            cleaned.table.rows,
        )
    assert snapshot["batch"]["engine"] == data.batch.engine == "duckdb"
    assert snapshot["batch"]["finished_at"] == data.batch.finished_at
    assert [q["kind"] for q in snapshot["quality"]] == [q.kind for q in data.quality]
    for shown, quality in zip(snapshot["quality"], data.quality, strict=True):
        assert shown["rows_cleaned"] == quality.rows_cleaned
        assert shown["dead_letters"] == quality.dead_letters
        assert shown["nulled"] == sum(n for _, n in quality.nulled)


def test_offsets_rates_and_lag_follow_new_records(copy: Path) -> None:
    settings, clock = settings_for(copy), Clock()
    topic, stream = settings.names.topic("pin"), settings.names.stream("pin")
    rows = [orjson.dumps({"index": 10_000 + i, "title": f"pin {i}"}) for i in range(500)]
    with EmbeddedLog(copy / "broker.db") as log:
        dashboard = LiveDashboard(settings, log, log, ttl=0, clock=clock)
        dashboard.snapshot()
        dashboard.wait_for_lake()
        before = dashboard.snapshot()  # at the same moment: still one sample, and no rate
        assert before["topics"][0]["rate"] is None
        pin_table = before["streams"][0]["table"]

        log.append(topic, [OutRecord(v, partition=i % 2) for i, v in enumerate(rows)])
        log.append(stream, [OutRecord(v) for v in rows[:200]])
        clock.now += 5
        during = dashboard.snapshot()
        pin, pin_stream = during["topics"][0], during["streams"][0]
        assert pin["end_offset"] == before["topics"][0]["end_offset"] + 500
        assert pin["rate"] == pytest.approx(100.0)
        assert pin["spark"][-1] == pytest.approx(100.0)  # the last 5 s bucket
        assert pin["consumer"]["lag"] == 500
        assert pin_stream["rate"] == pytest.approx(40.0)
        assert pin_stream["consumer"]["lag"] == 200
        assert during["topics"][1]["rate"] == 0.0  # geo: nothing new

        run_sink(settings, once=True, broker=log, flush_size=100)
        run_stream(settings, once=True)
        clock.now += 10
        dashboard.snapshot()
        dashboard.wait_for_lake()
        after = dashboard.snapshot()
    pin, pin_stream = after["topics"][0], after["streams"][0]
    assert pin["consumer"]["lag"] == 0
    landed = [p for p in (copy / "lake" / "topics" / topic).rglob("*.json") if p.name[0] != "."]
    # 250 records per partition with flush.size 100: two full objects and the drained rest.
    assert pin["lake_objects"] == len(landed) == before["topics"][0]["lake_objects"] + 6
    assert pin_stream["consumer"]["lag"] == 0
    assert pin_stream["table"]["version"] > pin_table["version"]
    assert pin_stream["table"]["rows"] == pin_table["rows"] + 200  # new indexes: no duplicates
    assert pin["rate"] == pytest.approx(0.0)  # nothing appended in the last 10 s


def test_snapshots_are_shared_within_their_ttl(home: Path, log: EmbeddedLog) -> None:
    clock = Clock()
    dashboard = LiveDashboard(settings_for(home), log, log, ttl=1.0, clock=clock)
    first = dashboard.snapshot()
    clock.now += 0.5
    assert dashboard.snapshot() is first
    clock.now += 0.6
    assert dashboard.snapshot() is not first


def test_delta_facts_are_read_again_only_when_the_version_moves(
    home: Path, log: EmbeddedLog
) -> None:
    dashboard = LiveDashboard(settings_for(home), log, log, ttl=0)
    dashboard.snapshot()
    watch = dashboard._watches[f"delta/{UID}_pin_table"]
    state = watch.state()
    assert state is not None and state.positions
    assert watch.state() is state


def test_records_newest_first_over_partitions(home: Path, log: EmbeddedLog) -> None:
    settings = settings_for(home)
    dashboard = LiveDashboard(settings, log, log)
    topic = settings.names.topic("pin")
    shown = dashboard.records(topic, 5)
    everything = [r for p in range(2) for r in log.read(topic, p, 0, max_records=1_000_000)]
    everything.sort(key=lambda r: (r.timestamp_ms, r.offset, r.partition), reverse=True)
    assert [(r["partition"], r["offset"]) for r in shown["records"]] == [
        (r.partition, r.offset) for r in everything[:5]
    ]
    for record, stored in zip(shown["records"], everything, strict=False):
        assert record["value"] == orjson.loads(stored.value) and record["json"]
    # A stream, with a payload that is not JSON (the streaming job's dead letter).
    tail = dashboard.records(settings.names.stream("pin"), 100)["records"]
    assert [r["value"] for r in tail if not r["json"]] == ["not json"]
    assert [1, 2] in [r["value"] for r in tail]
    assert len(dashboard.records(topic, 10_000)["records"]) == 100  # at most 100
    with pytest.raises(UnknownTopicError):
        dashboard.records("no.such.topic", 5)


def test_batch_view_holds_every_question(home: Path, log: EmbeddedLog, data: ReportData) -> None:
    dashboard = LiveDashboard(settings_for(home), log, log)
    view = dashboard.batch()
    assert view["id"] == dashboard.snapshot()["batch"]["id"]
    assert [q["anchor"] for q in view["questions"]] == [f"q{i}" for i in range(1, 9)]
    results = ResultSet(data.results)
    colours = category_colours(results)
    for question in view["questions"]:
        build_chart, takeaway = CHARTS[question["anchor"]]
        assert question["chart"]["config"] == build_chart(results, colours).config
        assert question["takeaway"] == takeaway(results)
        for table in question["tables"]:
            assert len(table["rows"]) == len(data.result(table["name"]).rows)
    orjson.dumps(view)
    assert dashboard.batch() is view  # built once per batch run


def test_an_empty_home_is_not_an_error(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, user_id=UID, broker_url="memory://")
    with InMemoryBroker() as broker:
        dashboard = LiveDashboard(settings, broker, broker, ttl=0)
        snapshot = dashboard.snapshot()
        dashboard.wait_for_lake()
        snapshot = dashboard.snapshot()
        assert snapshot["notes"] == []
        assert [t["exists"] for t in snapshot["topics"]] == [False] * 3
        assert [t["end_offset"] for t in snapshot["streams"]] == [None] * 3
        assert snapshot["topics"][0]["lake_objects"] == 0
        assert [c["table"] for c in snapshot["curated"]] == [None] * 3
        assert snapshot["batch"] is None and snapshot["quality"] == []
        assert dashboard.batch() == {"id": None, "run": None, "questions": [], "notes": []}


def test_a_lake_without_tables_is_one_steady_note(tmp_path: Path) -> None:
    """A memory:// lake holds objects but no Delta tables: the same notes on every poll."""
    settings = Settings(
        home=tmp_path, user_id=UID, broker_url="memory://", lake_url="memory://live-test"
    )
    clock = Clock()
    with InMemoryBroker() as broker:
        dashboard = LiveDashboard(settings, broker, broker, ttl=0, clock=clock)
        notes = []
        for _ in range(3):
            notes.append(dashboard.snapshot()["notes"])
            clock.now += 1
    assert notes[0] == notes[1] == notes[2]
    assert len(notes[0]) == 7  # three curated, three streaming and the dead-letter table
    assert all("memory:// lake cannot hold tables" in note for note in notes[0])
