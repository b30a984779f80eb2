"""Stream payloads → a raw Arrow frame of one kind, and the payloads that are not records.

The payloads of a micro-batch are joined into one JSON-lines buffer and read by the batch
job's reader (:func:`pinpipe.batch.reader.parse_object`), so a streamed record is typed
exactly as the same record read from the lake - Arrow's fast path when every payload is a
one-line object, line by line otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from pinpipe.batch.reader import MAX_DEAD_LETTER_TEXT, parse_object
from pinpipe.broker import LogRecord
from pinpipe.naming import RecordKindName
from pinpipe.transform import raw_schema


@dataclass(frozen=True, slots=True)
class BadPayload:
    """A payload of a stream that is not a record of its kind."""

    partition: int
    offset: int
    reason: str
    payload: str


def _text(value: bytes) -> str:
    return value[:MAX_DEAD_LETTER_TEXT].decode("utf-8", errors="replace")


def decode(
    kind: RecordKindName, stream: str, records: Sequence[LogRecord]
) -> tuple[pa.Table, list[BadPayload]]:
    """The records' payloads as a raw frame of ``kind`` (in record order), and the bad ones."""
    schema = raw_schema(kind)
    bad: list[BadPayload] = []
    good: list[LogRecord] = []
    for record in records:
        if record.value.strip():
            good.append(record)
        else:
            bad.append(BadPayload(record.partition, record.offset, "empty payload", ""))
    if any(b"\n" in r.value or b"\r" in r.value for r in good):
        # A payload spread over lines (pretty-printed JSON): read each on its own.
        parts = [_decode_one(kind, stream, r, schema, bad) for r in good]
        tables = [t for t in parts if t.num_rows]
        return (pa.concat_tables(tables) if tables else schema.empty_table()), bad
    table, dead = parse_object(stream, b"\n".join(r.value for r in good), schema)
    for letter in dead:
        record = good[letter.line - 1]
        bad.append(BadPayload(record.partition, record.offset, letter.reason, letter.text))
    return table, bad


def _decode_one(
    kind: RecordKindName,
    stream: str,
    record: LogRecord,
    schema: pa.Schema,
    bad: list[BadPayload],
) -> pa.Table:
    # Raw line breaks can only be whitespace between tokens (inside strings they are escaped).
    one_line = record.value.replace(b"\r", b" ").replace(b"\n", b" ")
    table, dead = parse_object(stream, one_line, schema)
    if dead or table.num_rows != 1:
        reason = dead[0].reason if dead else "more than one JSON value"
        bad.append(BadPayload(record.partition, record.offset, reason, _text(record.value)))
        return schema.empty_table()
    return table
