"""Object keys in the Confluent S3 sink's layout, and the partitioners that shape them.

A key is ``<topics.dir>/<topic>/<encoded partition>/<topic>+<kafka partition>+<start offset>.<ext>``
(kafka-connect-storage-common defaults: ``/`` between directories, ``+`` in the file name, the
start offset zero-padded to ``filename.offset.zero.pad.width=10`` digits - longer offsets are
written in full, as ``String.format("%010d")`` does). The start offset is the offset of the
first record in the object.

Partitioners (``partitioner.class``) give the encoded partition of a record:

* ``default`` (DefaultPartitioner): ``partition=<kafka partition>``.
* ``time`` (like the connector's TimeBasedPartitioner, hourly): ``dt=YYYY-MM-DD/hour=HH`` in UTC,
  from the record's ``timestamp`` field when the value has one that parses (the geo records':
  ``2020-08-28 03:52:47``, the ISO form, or epoch milliseconds), else from the broker timestamp
  (pin and user records; as the connector's ``timestamp.extractor=RecordField`` with a fallback
  to ``Record``). Both are stored with the record, so a replay puts it in the same place.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pinpipe.broker.base import LogRecord
from pinpipe.records import parse_datetime
from pinpipe.sink.exceptions import SinkConfigError

PartitionerName = Literal["default", "time"]
PARTITIONERS: tuple[PartitionerName, ...] = ("default", "time")
#: ``topics.dir``'s default (StorageCommonConfig.TOPICS_DIR_DEFAULT).
TOPICS_DIR = "topics"
#: ``filename.offset.zero.pad.width``'s default.
OFFSET_WIDTH = 10


def object_key(
    topic: str,
    partition: int,
    start_offset: int,
    *,
    encoded_partition: str | None = None,
    extension: str = "json",
    topics_dir: str = TOPICS_DIR,
) -> str:
    """``topics/<topic>/partition=<p>/<topic>+<p>+<start offset:010d>.<extension>``."""
    directory = encoded_partition if encoded_partition is not None else f"partition={partition}"
    name = f"{topic}+{partition}+{start_offset:0{OFFSET_WIDTH}d}.{extension}"
    return (
        f"{topics_dir}/{topic}/{directory}/{name}" if topics_dir else f"{topic}/{directory}/{name}"
    )


def parse_object_key(key: str) -> tuple[str, int, int]:
    """``(topic, partition, start offset)`` of a key :func:`object_key` made."""
    name = key.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    topic, partition, offset = name.rsplit("+", 2)
    return topic, int(partition), int(offset)


class Partitioner(ABC):
    """Chooses the encoded partition (the directory below the topic) of a record."""

    name: ClassVar[PartitionerName]
    #: Whether ``encode`` looks at the record's value (then it is passed parsed).
    needs_value: ClassVar[bool] = False

    @abstractmethod
    def encode(self, record: LogRecord, value: Any) -> str:
        """The encoded partition of ``record`` (``value``: its parsed JSON, when needed)."""

    def directory(self, partition: int) -> str | None:
        """The encoded partition of every record of ``partition``, when it is one; else None."""
        return None


class DefaultPartitioner(Partitioner):
    """``partition=<kafka partition>``: one directory per topic partition."""

    name: ClassVar[PartitionerName] = "default"

    def encode(self, record: LogRecord, value: Any) -> str:
        return f"partition={record.partition}"

    def directory(self, partition: int) -> str | None:
        return f"partition={partition}"


class TimePartitioner(Partitioner):
    """``dt=YYYY-MM-DD/hour=HH`` (UTC) from the value's timestamp field, else the broker's."""

    name: ClassVar[PartitionerName] = "time"
    needs_value: ClassVar[bool] = True

    def __init__(self, field: str | None = "timestamp") -> None:
        self.field = field

    def timestamp(self, record: LogRecord, value: Any) -> datetime:
        """The record's time: the value's field when it parses, else the broker timestamp."""
        if self.field is not None and isinstance(value, dict):
            found = value.get(self.field)
            try:
                if isinstance(found, str):
                    return parse_datetime(found)
                if isinstance(found, int) and not isinstance(found, bool):
                    return datetime.fromtimestamp(found / 1000, UTC)
            except (ValueError, OverflowError, OSError):
                pass
        return datetime.fromtimestamp(record.timestamp_ms / 1000, UTC)

    def encode(self, record: LogRecord, value: Any) -> str:
        return self.timestamp(record, value).strftime("dt=%Y-%m-%d/hour=%H")


def resolve_partitioner(name: str | Partitioner) -> Partitioner:
    """The partitioner called ``name`` (or ``name`` itself when it is a Partitioner)."""
    if isinstance(name, Partitioner):
        return name
    if name == "default":
        return DefaultPartitioner()
    if name == "time":
        return TimePartitioner()
    msg = f"partitioner {name!r} is not one of {', '.join(PARTITIONERS)}"
    raise SinkConfigError(msg, hint="use default (partition=<n>) or time (dt=…/hour=…)")
