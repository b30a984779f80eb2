"""The course's real rows landed in a lake the way the pipeline lands them: produced to the
three topics of an embedded log and written by the S3 sink (``run_sink``), plus a few JSON
lines that are not records (the batch job's dead letters)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from pinpipe.broker import OutRecord
from pinpipe.broker.embedded import EmbeddedLog
from pinpipe.config import EmbeddedLogSettings, Settings
from pinpipe.sink import run_sink
from pinpipe.transform import CLEANING

UID = "129a67850695"
#: JSON the sink passes through (it is JSON; compact already, as the sink writes it) but that
#: is not a pin record: dead letters of the batch job.
NOT_RECORDS = [b"[1,2]", b'"just text"', b'{"index":"seven","title":"x"}']


def produce_rows(log: EmbeddedLog, settings: Settings, raw: dict[str, list[dict[str, Any]]]) -> int:
    """Produce ``raw`` to the course's three topics (pin on two partitions, NOT_RECORDS at the
    end of partition 1); returns the number of records produced."""
    produced = 0
    for kind in CLEANING:
        topic = settings.names.topic(kind)
        partitions = 2 if kind == "pin" else 1
        log.create_topic(topic, partitions)
        records = [
            OutRecord(orjson.dumps(row), partition=i % partitions)
            for i, row in enumerate(raw[kind])
        ]
        if kind == "pin":
            records += [OutRecord(value, partition=1) for value in NOT_RECORDS]
        log.append(topic, records)
        produced += len(records)
    return produced


def land_rows(home: Path, raw: dict[str, list[dict[str, Any]]]) -> Path:
    """:func:`produce_rows` into ``home/broker.db`` and sink it into ``home/lake`` with
    flush.size 500; returns the lake."""
    settings = Settings(home=home, user_id=UID)
    with EmbeddedLog(home / "broker.db", EmbeddedLogSettings(durability="none")) as log:
        produce_rows(log, settings, raw)
        run_sink(settings, once=True, broker=log, flush_size=500)
    return home / "lake"
