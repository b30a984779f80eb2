"""Crashes at each step of the commit order, injected in-process, and what the restart does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from pinpipe.broker.embedded import EmbeddedLog
from pinpipe.config import Settings
from pinpipe.lake import Lake, LakeError, open_lake
from pinpipe.sink import parse_object_key, run_sink
from tests.sink.conftest import append_json, lake_contents


class Crash(BaseException):
    """The process dying: nothing after it runs (BaseException, so no handler catches it)."""


class CrashingLake(Lake):
    """Writes the first ``after`` objects of a put_many, then dies."""

    after: int | None = None

    def put_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        if self.after is not None and len(items) > self.after:
            super().put_many(items[: self.after])
            raise Crash
        super().put_many(items)


class CrashingLog(EmbeddedLog):
    """Dies at the first offset commit (after the objects and dead letters are written)."""

    crash_on_commit = False

    def commit(self, group: str, topic: str, offsets: Mapping[int, int]) -> None:
        if self.crash_on_commit:
            raise Crash
        super().commit(group, topic, offsets)


@pytest.fixture
def uid() -> str:
    return "abcdef012345"


@pytest.fixture
def setup(tmp_path: Path, uid: str) -> tuple[Settings, CrashingLog, CrashingLake]:
    settings = Settings(home=tmp_path, user_id=uid)
    log = CrashingLog(tmp_path / "broker.db")
    log.create_topic(f"{uid}.pin")
    values: list[Any] = [{"index": i, "t": "é" * (i % 5)} for i in range(20)]
    values[6] = b"not json"
    append_json(log, f"{uid}.pin", values)
    local = open_lake(settings.lake_url)
    lake = CrashingLake(local.url, local.scheme, str(Path(settings.lake_url)))
    return settings, log, lake


def offsets_in(lake: Lake, topic: str) -> list[int]:
    """Every offset the objects hold (each record's ``index`` is its offset), checking that
    each object starts with the record of its key's offset."""
    found = []
    for key, data in lake_contents(lake, f"topics/{topic}/").items():
        indexes = [orjson.loads(line)["index"] for line in data.splitlines()]
        assert indexes[0] == parse_object_key(key)[2]
        found += indexes
    return found


def dead_letters(log: EmbeddedLog, topic: str) -> list[int]:
    return [orjson.loads(r.value)["offset"] for r in log.read(f"{topic}.dlq", 0, 0, 100)]


def test_crash_in_the_middle_of_writing_objects(
    setup: tuple[Settings, CrashingLog, CrashingLake], uid: str
) -> None:
    settings, log, lake = setup
    lake.after = 2
    with pytest.raises(Crash):
        run_sink(settings, once=True, broker=log, lake=lake, flush_size=3)
    assert log.committed(f"connect-{uid}-connector", f"{uid}.pin") == {}
    before = lake_contents(lake)
    assert len(before) == 2
    lake.after = None
    run_sink(settings, once=True, broker=log, lake=lake, flush_size=3)
    after = lake_contents(lake)
    assert {k: after[k] for k in before} == before  # the same keys, the same bytes
    assert sorted(offsets_in(lake, f"{uid}.pin")) == [o for o in range(20) if o != 6]
    assert dead_letters(log, f"{uid}.pin") == [6]


def test_crash_after_writing_before_committing(
    setup: tuple[Settings, CrashingLog, CrashingLake], uid: str
) -> None:
    """Objects and the dead letter are written, the commit is lost: the replay rewrites the
    same objects and appends the dead letter once (the embedded log keeps idempotency keys)."""
    settings, log, lake = setup
    log.crash_on_commit = True
    with pytest.raises(Crash):
        run_sink(settings, once=True, broker=log, lake=lake, flush_size=3, max_records=10)
    before = lake_contents(lake)
    assert before and dead_letters(log, f"{uid}.pin") == [6]
    log.crash_on_commit = False
    info = run_sink(settings, once=True, broker=log, lake=lake, flush_size=3)
    assert info.records == 19  # everything was read again
    after = lake_contents(lake)
    assert {k: after[k] for k in before} == before
    assert sorted(offsets_in(lake, f"{uid}.pin")) == [o for o in range(20) if o != 6]
    assert dead_letters(log, f"{uid}.pin") == [6]


def test_open_groups_are_reread_not_written(
    setup: tuple[Settings, CrashingLog, CrashingLake], uid: str
) -> None:
    """A daemon stopped mid-group commits the group's start; the restart completes it."""
    import threading

    settings, log, lake = setup
    stop = threading.Event()
    info = run_sink(
        settings,
        broker=log,
        lake=lake,
        flush_size=8,
        stop=stop,
        on_progress=lambda _: stop.set(),  # stop after the first round
    )
    assert info.stopped == "stopped"
    # 19 good records: two full groups of 8 (offsets 0-8 with the dead letter, 9-16) and an
    # open group from 17 on, which is not written: the commit is its first offset.
    assert [parse_object_key(k)[2] for k in lake.list()] == [0, 9]
    assert log.committed(info.group, f"{uid}.pin") == {0: 17}
    run_sink(settings, once=True, broker=log, lake=lake, flush_size=8)
    assert [parse_object_key(k)[2] for k in lake.list()] == [0, 9, 17]
    assert sorted(offsets_in(lake, f"{uid}.pin")) == [o for o in range(20) if o != 6]


class FailingLake(Lake):
    """A lake whose writes fail (a full disk, a revoked credential)."""

    def put_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        msg = "disk full"
        raise LakeError(msg, hint="free some space")


def test_a_failed_background_commit_stops_the_sink_without_committing(
    setup: tuple[Settings, CrashingLog, CrashingLake], uid: str
) -> None:
    import threading

    settings, log, lake = setup
    failing = FailingLake(lake.url, lake.scheme, str(Path(settings.lake_url)))
    stop, rounds = threading.Event(), []

    def progress(_: object) -> None:
        rounds.append(1)
        if len(rounds) == 3:  # round 2 caught up and committed in the background
            stop.set()

    with pytest.raises(LakeError, match="disk full"):
        run_sink(settings, broker=log, lake=failing, flush_size=3, stop=stop, on_progress=progress)
    assert log.committed(f"connect-{uid}-connector", f"{uid}.pin") == {}
    assert log.list_topics() == [f"{uid}.pin"]  # no dead letter was written either
