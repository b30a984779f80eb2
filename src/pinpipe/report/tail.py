"""The newest records of a topic or stream, for the live dashboard's records panel."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from pinpipe.broker import Broker, LogRecord

#: The most records one request may ask for.
MAX_RECORDS = 100


def tail(broker: Broker, name: str, limit: int) -> list[LogRecord]:
    """The newest ``limit`` records of ``name`` over all its partitions, newest first (by
    append time, then offset). Reads at most ``limit`` records per partition.

    On Kinesis, ``end - limit`` is a sequence number only on a stream whose numbers are
    contiguous (moto); AWS may refuse it, which surfaces as the broker's error."""
    info = broker.describe_topic(name)
    found: list[LogRecord] = []
    for partition, (start, end) in enumerate(
        zip(info.start_offsets, info.end_offsets, strict=True)
    ):
        offset = max(start, end - limit)
        if end > offset:
            found.extend(broker.read(name, partition, offset, max_records=limit))
    found.sort(key=lambda r: (r.timestamp_ms, r.offset, r.partition), reverse=True)
    return found[:limit]


def record_json(record: LogRecord) -> dict[str, Any]:
    """A record for the page: its value parsed where it is JSON, else as text."""
    try:
        value: Any = orjson.loads(record.value)
        is_json = True
    except orjson.JSONDecodeError:
        value, is_json = record.value.decode("utf-8", "replace"), False
    return {
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": datetime.fromtimestamp(record.timestamp_ms / 1000, UTC),
        "key": None if record.key is None else record.key.decode("utf-8", "replace"),
        "json": is_json,
        "value": value,
    }
