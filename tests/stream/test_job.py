"""The streaming job, native engine: the same cleaning as the batch job, exactly once across
restarts and SIGKILLs, positions kept in the Delta tables' own commits."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from deltalake import DeltaTable

from pinpipe.broker import OutRecord
from pinpipe.broker.embedded import EmbeddedLog
from pinpipe.config import EmbeddedLogSettings, Settings
from pinpipe.lake import open_lake
from pinpipe.records import PIN
from pinpipe.stream import run_stream
from pinpipe.stream.job import dead_letter_key, table_key
from pinpipe.transform import CLEANING
from pinpipe.transform.base import sorted_rows
from tests.transform.reference import py_clean

Row = dict[str, Any]
BAD_PAYLOADS = [
    b"",
    b"not json",
    b"[1]",
    b'{"index": "x"}',
    b'{\n  "index": 99999,\n  "title": "multi-line"\n}',
]


def _settings(home: Path) -> Settings:
    return Settings(home=home, embedded={"durability": "none"})


def _log(settings: Settings) -> EmbeddedLog:
    return EmbeddedLog(settings.home / "broker.db", EmbeddedLogSettings(durability="none"))


def _table(settings: Settings, kind: str) -> DeltaTable:
    lake = open_lake(settings.lake_url)
    return DeltaTable(lake.table_uri(table_key(settings, kind)))  # type: ignore[arg-type]


def _produce(
    log: EmbeddedLog, settings: Settings, raw: dict[str, list[Row]], *, bad: bool = True
) -> None:
    for kind in CLEANING:
        name = settings.names.stream(kind)
        if name not in log.list_topics():
            log.create_topic(name, 2 if kind == "pin" else 1)
        values = [orjson.dumps(r) for r in raw[kind]]
        if kind == "pin" and bad:
            values += BAD_PAYLOADS
        for start in range(0, len(values), 1000):
            log.append(
                name,
                [
                    OutRecord(v, key=str(i).encode())
                    for i, v in enumerate(values[start : start + 1000])
                ],
            )


@pytest.fixture
def raw(reference_raw: dict[str, list[Row]]) -> dict[str, list[Row]]:
    """Real rows with exact re-sends (load_reference_raw puts them at the end of each frame)."""
    return {
        "pin": reference_raw["pin"],
        "geo": reference_raw["geo"][:3000],
        "user": reference_raw["user"][:3000],
    }


def test_once_cleans_like_the_batch_job_and_a_second_once_adds_nothing(
    tmp_path: Path, raw: dict[str, list[Row]]
) -> None:
    settings = _settings(tmp_path)
    with _log(settings) as log:
        _produce(log, settings, raw)
        info = run_stream(settings, once=True, broker=log, max_batch_records=400)
        assert info.stopped == "caught up"
        # Exact duplicates dropped across the whole stream; the multi-line payload is a record.
        multi_line = {**dict.fromkeys(PIN.column_names), "index": 99999, "title": "multi-line"}
        expected = py_clean({**raw, "pin": [*raw["pin"], multi_line]})
        versions = {}
        for kind in CLEANING:
            table = _table(settings, kind)
            assert sorted_rows(table.to_pyarrow_table()) == expected[kind], kind
            versions[kind] = table.version()
            assert info.summaries[kind].batches > 2  # several micro-batches, re-sends across them
        pin = info.summaries["pin"]
        assert pin.dead_letters == len(BAD_PAYLOADS) - 1  # the multi-line object is a record
        assert pin.records == len(raw["pin"]) + len(BAD_PAYLOADS)
        again = run_stream(settings, once=True, broker=log)
        assert again.records == 0
        assert {k: _table(settings, k).version() for k in CLEANING} == versions
    lake = open_lake(settings.lake_url)
    dead = DeltaTable(lake.table_uri(dead_letter_key(settings))).to_pyarrow_table().to_pylist()
    assert sorted(d["reason"] for d in dead) == sorted(
        [
            "empty payload",
            "a JSON array, not an object",
            "column 'index': expected a 64-bit integer, got the JSON string 'x'",
        ]
        + [r for r in (d["reason"] for d in dead) if r.startswith("not JSON")]
    )
    assert {d["payload"] for d in dead} >= {"not json", "[1]", '{"index": "x"}'}
    assert all(d["stream"] == settings.names.stream("pin") for d in dead)


def test_positions_live_in_the_table_commits(tmp_path: Path, raw: dict[str, list[Row]]) -> None:
    settings = _settings(tmp_path)
    with _log(settings) as log:
        _produce(log, settings, {k: v[:100] for k, v in raw.items()})
        run_stream(settings, once=True, broker=log)
        table = _table(settings, "geo")
        app = f"pinpipe-stream:{settings.names.stream('geo')}"
        batch = table.transaction_version(app)
        last = table.history(1)[0]
        assert last["pinpipe.batch"] == str(batch)
        assert orjson.loads(last["pinpipe.positions"]) == {"0": 100}


def test_latest_starts_at_the_end_of_the_first_start(
    tmp_path: Path, raw: dict[str, list[Row]]
) -> None:
    settings = _settings(tmp_path)
    with _log(settings) as log:
        _produce(log, settings, {k: v[:50] for k, v in raw.items()})
        first = run_stream(settings, once=True, broker=log, starting_position="latest")
        assert first.records == 0
        assert _table(settings, "user").to_pyarrow_table().num_rows == 0  # created, empty
        _produce(log, settings, {k: v[50:80] for k, v in raw.items()})
        run_stream(settings, once=True, broker=log, starting_position="latest")
        assert _table(settings, "user").to_pyarrow_table().num_rows == 30


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_and_duplicates_nothing(
    tmp_path: Path, raw: dict[str, list[Row]]
) -> None:
    """The streamer is killed with SIGKILL 12 times while records keep arriving; after a
    final --once every record is in its table exactly once (rows are unique here, so each
    record is one row)."""
    settings = _settings(tmp_path)
    unique = {
        k: list({r[("index" if k == "pin" else "ind")]: r for r in v}.values())
        for k, v in raw.items()
    }
    chunks = 12
    rng = random.Random(7)
    worker = Path(__file__).with_name("stream_worker.py")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    with _log(settings) as log:
        for run in range(chunks):
            part = {
                k: v[run * len(v) // chunks : (run + 1) * len(v) // chunks]
                for k, v in unique.items()
            }
            _produce(log, settings, part, bad=False)
            process = subprocess.Popen([sys.executable, str(worker), str(tmp_path)], env=env)
            try:
                time.sleep(rng.uniform(0.8, 2.5))
            finally:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        info = run_stream(settings, once=True, broker=log)
        assert info.stopped == "caught up"
    expected = py_clean(unique)
    for kind in CLEANING:
        rows = sorted_rows(_table(settings, kind).to_pyarrow_table())
        assert rows == expected[kind], kind


@pytest.mark.spark
@pytest.mark.slow
def test_both_engines_give_the_same_tables(
    tmp_path: Path, raw: dict[str, list[Row]], spark_session: object
) -> None:
    from pinpipe.stream.spark_job import run_stream_spark

    tables = {}
    for engine in ("native", "spark"):
        settings = _settings(tmp_path / engine)
        settings.home.mkdir()
        with _log(settings) as log:
            _produce(log, settings, {k: v[:1500] for k, v in raw.items()})
        if engine == "native":
            run_stream(settings, once=True, max_batch_records=500)
        else:
            info = run_stream_spark(settings, once=True, session=spark_session)
            assert info.summaries["pin"].dead_letters == len(BAD_PAYLOADS) - 1
        tables[engine] = {k: _table(settings, k).to_pyarrow_table() for k in CLEANING}
    for kind in CLEANING:
        native, spark = tables["native"][kind], tables["spark"][kind]
        assert native.schema.names == spark.schema.names
        assert sorted_rows(native) == sorted_rows(spark), kind
        assert native.num_rows > 0
