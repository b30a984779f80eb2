from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinpipe.broker import Broker, InMemoryBroker, OutRecord
from pinpipe.broker.embedded import EmbeddedLog
from pinpipe.broker.framing import decode_batch, encode_batch
from pinpipe.config import EmbeddedLogSettings
from pinpipe.errors import (
    BrokerError,
    BrokerUnavailableError,
    InvalidPartitionError,
    OffsetOutOfRangeError,
    Transient,
    UnknownTopicError,
)
from tests.broker.contract import BrokerContract

FSYNC = EmbeddedLogSettings(durability="fsync")


class TestEmbeddedLog(BrokerContract):
    @pytest.fixture
    def broker(self, tmp_path: Path) -> Iterator[Broker]:
        with EmbeddedLog(tmp_path / "broker.db", FSYNC) as broker:
            yield broker


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "log.db"


@pytest.fixture
def log(path: Path) -> Iterator[EmbeddedLog]:
    log = EmbeddedLog(path, FSYNC)
    yield log
    log.close()


def test_creates_parent_directories(tmp_path: Path) -> None:
    with EmbeddedLog(tmp_path / "a" / "b" / "log.db") as log:
        assert isinstance(log, EmbeddedLog)
        assert log.path == tmp_path / "a" / "b" / "log.db"
        assert log.path.is_file()


def test_survives_close_and_reopen(path: Path) -> None:
    with EmbeddedLog(path, FSYNC) as log:
        log.create_topic("pins", partitions=2)
        log.create_topic("geo")
        positions = log.append("pins", [OutRecord(b"v%d" % i, key=b"k%d" % i) for i in range(20)])
        log.commit("sink", "pins", {0: 3, 1: 1})
    with EmbeddedLog(path, FSYNC) as log:
        assert log.list_topics() == ["geo", "pins"]
        assert log.describe_topic("pins").records == 20
        for p in (0, 1):
            got = log.read("pins", p, 0, max_records=100)
            assert [r.offset for r in got] == [x.offset for x in positions if x.partition == p]
        by_position = {(r.partition, r.offset): r for p in (0, 1) for r in log.read("pins", p, 0)}
        for i, pos in enumerate(positions):
            record = by_position[pos.partition, pos.offset]
            assert (record.key, record.value) == (b"k%d" % i, b"v%d" % i)
        assert log.committed("sink", "pins") == {0: 3, 1: 1}


def test_a_second_object_on_the_file_sees_the_first(path: Path) -> None:
    with EmbeddedLog(path, FSYNC) as a, EmbeddedLog(path, FSYNC) as b:
        a.create_topic("pins")
        b.append("pins", [OutRecord(b"one"), OutRecord(b"two")])
        assert [r.value for r in a.read("pins", 0, 0)] == [b"one", b"two"]
        positions = a.append("pins", [OutRecord(b"three")])
        assert positions[0].offset == 2
        a.commit("sink", "pins", {0: 2})
        assert b.committed("sink", "pins") == {0: 2}
        assert b.lag("sink", "pins") == {0: 1}
        b.delete_topic("pins")
        assert a.list_topics() == []
        with pytest.raises(UnknownTopicError):
            a.append("pins", [OutRecord(b"four")])


def _append_worker(path: str, topic: str, worker: int, barrier: Barrier) -> None:
    with EmbeddedLog(path, FSYNC) as log:
        barrier.wait(timeout=60)
        for batch in range(200):
            log.append(topic, [OutRecord(b"%d-%d-%d" % (worker, batch, i)) for i in range(10)])


def test_processes_append_concurrently(path: Path) -> None:
    with EmbeddedLog(path, FSYNC) as log:
        log.create_topic("pins")
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(3)
    workers = [
        ctx.Process(target=_append_worker, args=(str(path), "pins", n, barrier)) for n in range(3)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0]

    with EmbeddedLog(path, FSYNC) as log:
        assert log.describe_topic("pins").end_offsets == (6000,)
        got = log.read("pins", 0, 0, max_records=10_000)
    assert [r.offset for r in got] == list(range(6000))
    values = [r.value.decode().split("-") for r in got]
    assert len({r.value for r in got}) == 6000
    for start in range(0, 6000, 10):  # every append landed whole and in order
        batch = values[start : start + 10]
        assert [v[:2] for v in batch] == [batch[0][:2]] * 10
        assert [int(v[2]) for v in batch] == list(range(10))
    for n in range(3):  # each process's appends are in its own order
        mine = [int(v[1]) for v in values if v[0] == str(n) and v[2] == "0"]
        assert mine == list(range(200))


def _append_in_child(log: EmbeddedLog) -> None:
    log.append("pins", [OutRecord(b"child")] * 5)
    log.close()


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_a_forked_child_opens_its_own_connections(log: EmbeddedLog) -> None:
    log.create_topic("pins")
    log.append("pins", [OutRecord(b"parent")] * 5)
    child = multiprocessing.get_context("fork").Process(target=_append_in_child, args=(log,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    log.append("pins", [OutRecord(b"parent")] * 5)  # the parent's connection still works
    got = log.read("pins", 0, 0, max_records=100)
    assert [r.offset for r in got] == list(range(15))
    assert [r.value for r in got] == [b"parent"] * 5 + [b"child"] * 5 + [b"parent"] * 5


def test_read_past_the_end_and_before_the_start(log: EmbeddedLog) -> None:
    log.create_topic("pins", partitions=2)
    log.append("pins", [OutRecord(b"a", partition=0)] * 3)
    assert log.read("pins", 0, 3) == []
    with pytest.raises(OffsetOutOfRangeError, match=r"offset 4 is outside 'pins'\[0\] \(0..3\)"):
        log.read("pins", 0, 4)
    with pytest.raises(OffsetOutOfRangeError):
        log.read("pins", 0, -1)
    with pytest.raises(OffsetOutOfRangeError):
        log.read("pins", 1, 1)
    with pytest.raises(InvalidPartitionError, match="no partition 2"):
        log.read("pins", 2, 0)


def test_read_from_inside_a_batch(log: EmbeddedLog) -> None:
    log.create_topic("pins")
    for start in (0, 10, 20):
        log.append("pins", [OutRecord(b"%d" % i) for i in range(start, start + 10)])
    got = log.read("pins", 0, 7, max_records=5)
    assert [(r.offset, r.value) for r in got] == [(i, b"%d" % i) for i in range(7, 12)]
    got = log.read("pins", 0, 15, max_records=100)
    assert [r.offset for r in got] == list(range(15, 30))
    assert [r.value for r in log.read("pins", 0, 29)] == [b"29"]
    assert log.read("pins", 0, 3, max_records=0) == []


def test_keys_none_and_empty_stay_distinct(log: EmbeddedLog) -> None:
    log.create_topic("pins")
    records = [
        OutRecord(b"a"),
        OutRecord(b"b", key=b""),
        OutRecord(b"", key=b"k"),
        OutRecord(b"c"),
        OutRecord(b"", key=b""),
    ]
    log.append("pins", records)
    for start in range(5):
        got = log.read("pins", 0, start)
        assert [(r.key, r.value) for r in got] == [(x.key, x.value) for x in records[start:]]


def test_partitions_like_the_in_memory_broker(log: EmbeddedLog) -> None:
    memory = InMemoryBroker()
    for broker in (log, memory):
        broker.create_topic("pins", partitions=3)
        broker.create_topic("geo", partitions=2)
    appends = [
        ("pins", [OutRecord(b"x"), OutRecord(b"y", key=b"user-1"), OutRecord(b"z", partition=2)]),
        ("geo", [OutRecord(b"g")] * 5),
        ("pins", [OutRecord(b"%d" % i, key=None if i % 3 else b"%d" % i) for i in range(30)]),
    ]
    for topic, records in appends:
        assert log.append(topic, records) == memory.append(topic, records)
    for p in range(3):
        ours = [(r.offset, r.key, r.value) for r in log.read("pins", p, 0)]
        assert ours == [(r.offset, r.key, r.value) for r in memory.read("pins", p, 0)]


def test_a_failed_append_leaves_nothing(log: EmbeddedLog) -> None:
    log.create_topic("pins", partitions=3)
    bad = [OutRecord(b"ok", partition=0), OutRecord(b"bad", partition=9), OutRecord(b"ok")]
    with pytest.raises(InvalidPartitionError, match="no partition 9"):
        log.append("pins", bad)
    # A failure inside the transaction, after the first partition's batch is written.
    log._connection().setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 1000)
    too_big = [OutRecord(b"small", partition=0), OutRecord(b"x" * 2000, partition=1)]
    with pytest.raises(BrokerError, match="fewer or smaller records") as exc:
        log.append("pins", too_big)
    assert str(log.path) in str(exc.value)
    assert log.describe_topic("pins").end_offsets == (0, 0, 0)
    [pos] = log.append("pins", [OutRecord(b"small", partition=0)])
    assert pos.offset == 0


@pytest.mark.parametrize(("durability", "level"), [("fsync", 2), ("os", 1), ("none", 0)])
def test_durability_modes(
    path: Path, durability: Literal["fsync", "os", "none"], level: int
) -> None:
    settings = EmbeddedLogSettings(durability=durability)
    log = EmbeddedLog(path, settings)
    with log:
        assert log._connection().execute("PRAGMA synchronous").fetchone() == (level,)
        assert log._connection().execute("PRAGMA journal_mode").fetchone() == ("wal",)
        log.create_topic("pins")
        log.append("pins", [OutRecord(b"a"), OutRecord(b"b")])
    with EmbeddedLog(path, settings) as again:
        assert [r.value for r in again.read("pins", 0, 0)] == [b"a", b"b"]


def test_delete_removes_records_and_group_offsets(log: EmbeddedLog) -> None:
    log.create_topic("pins")
    log.append("pins", [OutRecord(b"a")] * 4)
    log.commit("sink", "pins", {0: 4})
    log.delete_topic("pins")
    with pytest.raises(UnknownTopicError):
        log.committed("sink", "pins")
    log.create_topic("pins", partitions=2)
    assert log.committed("sink", "pins") == {}
    assert log.describe_topic("pins").end_offsets == (0, 0)
    assert log._connection().execute("SELECT count(*) FROM batches").fetchone() == (0,)


def test_commit_upserts_and_checks_partitions(log: EmbeddedLog) -> None:
    log.create_topic("pins", partitions=2)
    log.commit("sink", "pins", {0: 5})
    log.commit("sink", "pins", {0: 7, 1: 2})
    assert log.committed("sink", "pins") == {0: 7, 1: 2}
    with pytest.raises(InvalidPartitionError):
        log.commit("sink", "pins", {2: 1})
    assert log.committed("sink", "pins") == {0: 7, 1: 2}


def test_not_a_database_names_the_path_and_the_fix(path: Path) -> None:
    path.write_bytes(b"certainly not SQLite\n" * 100)
    with pytest.raises(BrokerError) as exc:
        EmbeddedLog(path)
    assert str(path) in str(exc.value)
    assert "move the file away" in str(exc.value)
    assert path.read_bytes() == b"certainly not SQLite\n" * 100


def test_another_sqlite_database_is_refused(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE pins (id INTEGER)")
    conn.close()
    with pytest.raises(BrokerError, match="not a pinpipe embedded log") as exc:
        EmbeddedLog(path)
    assert str(path) in str(exc.value)


def test_a_locked_file_is_a_transient_error(path: Path) -> None:
    with EmbeddedLog(path, EmbeddedLogSettings(busy_timeout_ms=50)) as log:
        log.create_topic("pins")
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(BrokerUnavailableError, match="busy_timeout_ms=50") as exc:
                log.append("pins", [OutRecord(b"a")])
            assert isinstance(exc.value, Transient)
            assert log.read("pins", 0, 0) == []  # WAL: readers do not wait for the writer
        finally:
            other.close()
        assert log.append("pins", [OutRecord(b"a")])[0].offset == 0


def test_closed_log_says_so(log: EmbeddedLog) -> None:
    log.close()
    with pytest.raises(BrokerError, match="is closed"):
        log.list_topics()


@given(
    st.lists(
        st.tuples(st.none() | st.binary(max_size=8), st.binary(max_size=16)),
        min_size=1,
        max_size=20,
    ),
    st.data(),
)
def test_batch_framing_round_trips(
    pairs: list[tuple[bytes | None, bytes]], data: st.DataObject
) -> None:
    payload = encode_batch([OutRecord(value, key=key) for key, value in pairs])
    start = data.draw(st.integers(0, len(pairs)))
    stop = data.draw(st.integers(start, len(pairs)))
    keys, values = decode_batch(payload, len(pairs), start, stop)
    assert list(zip(keys, values, strict=True)) == pairs[start:stop]
