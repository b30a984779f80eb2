"""The S3 sink connector: topics → lake objects with the Confluent connector's keys and bytes.

``run_sink(settings, …) -> SinkInfo`` is the entry point (``pinpipe sink``); the commit order
that makes it exactly-once is written down in :mod:`pinpipe.sink.base`.
"""

from __future__ import annotations

from pinpipe.sink.base import BatchingSink, DeadLetter, LakeObject
from pinpipe.sink.connector import (
    DEFAULT_DLQ,
    LakeSink,
    SinkInfo,
    SinkProgress,
    TopicSummary,
    run_sink,
    stop_on_signals,
)
from pinpipe.sink.exceptions import EncodeError, SinkConfigError, SinkError
from pinpipe.sink.formats import Format, JsonFormat, ParquetFormat, resolve_format
from pinpipe.sink.keys import (
    DefaultPartitioner,
    Partitioner,
    TimePartitioner,
    object_key,
    parse_object_key,
    resolve_partitioner,
)

__all__ = [
    "DEFAULT_DLQ",
    "BatchingSink",
    "DeadLetter",
    "DefaultPartitioner",
    "EncodeError",
    "Format",
    "JsonFormat",
    "LakeObject",
    "LakeSink",
    "ParquetFormat",
    "Partitioner",
    "SinkConfigError",
    "SinkError",
    "SinkInfo",
    "SinkProgress",
    "TimePartitioner",
    "TopicSummary",
    "object_key",
    "parse_object_key",
    "resolve_format",
    "resolve_partitioner",
    "run_sink",
    "stop_on_signals",
]
