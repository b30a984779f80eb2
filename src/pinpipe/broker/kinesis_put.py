"""Writing to Kinesis: PutRecords entries checked against Kinesis' limits, batches within
them, and the retry of failed entries (Kinesis cannot make a PutRecords call atomic)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pinpipe.broker.base import OutRecord
from pinpipe.errors import BackpressureError, BrokerError, RecordTooLargeError

if TYPE_CHECKING:
    from mypy_boto3_kinesis.type_defs import (
        PutRecordsRequestEntryTypeDef,
        PutRecordsResultEntryTypeDef,
    )

#: The partition key of records appended without a key (the course's emulator uses it).
UNKEYED_PARTITION_KEY = "partition-1"
#: PutRecords limits: records and bytes (data + partition keys) per request, bytes per record.
MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 5 * 2**20
MAX_RECORD_BYTES = 2**20
MAX_KEY_CHARS = 256
#: Per-record error codes of PutRecords worth retrying.
RETRYABLE_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "InternalFailure", "KMSThrottlingException"}
)


@dataclass(frozen=True, slots=True)
class Shard:
    shard_id: str
    starting_hash_key: str
    starting_sequence: int


def put_all(
    send: Callable[[list[PutRecordsRequestEntryTypeDef]], list[PutRecordsResultEntryTypeDef]],
    entries: Sequence[PutRecordsRequestEntryTypeDef],
    *,
    stream: str,
    attempts: int = 8,
    base_delay: float = 0.05,
    max_delay: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[tuple[str, int]]:
    """Send one PutRecords batch, re-sending only the failed entries with exponential backoff.

    Returns ``(shard id, sequence number)`` per entry, in input order. ``send`` is one
    PutRecords call (its result entries in request order). After ``attempts`` calls with
    entries still failing it raises :class:`BackpressureError`; the entries that succeeded
    stay written (Kinesis cannot take them back). A KMS error other than throttling is
    terminal and raises :class:`BrokerError` at once.
    """
    results: list[tuple[str, int] | None] = [None] * len(entries)
    pending = list(range(len(entries)))
    code = message = ""
    for attempt in range(attempts):
        failed = []
        answers = send([entries[i] for i in pending])
        for i, answer in zip(pending, answers, strict=True):
            if "ErrorCode" in answer or "SequenceNumber" not in answer:
                code, message = answer.get("ErrorCode", "?"), answer.get("ErrorMessage", "")
                if code not in RETRYABLE_CODES:
                    msg = f"Kinesis rejected a record for stream {stream!r}: {code}: {message}"
                    raise BrokerError(msg, hint="check the stream's KMS key and its policy")
                failed.append(i)
            else:
                results[i] = (answer.get("ShardId", ""), int(answer["SequenceNumber"]))
        if not failed:
            break
        pending = failed
        if attempt + 1 < attempts:
            delay = min(max_delay, base_delay * 2**attempt)
            sleep(delay * (0.5 + random.random() / 2))  # noqa: S311 - jitter, not crypto
    else:
        landed = len(entries) - len(pending)
        msg = (
            f"{len(pending)} of {len(entries)} records for stream {stream!r} were still rejected "
            f"after {attempts} attempts ({code}: {message}); the other {landed} were written, "
            "so appending the whole batch again duplicates them"
        )
        raise BackpressureError(msg, retry_after=max_delay)
    return [r for r in results if r is not None]


def batches(
    entries: list[PutRecordsRequestEntryTypeDef],
) -> Iterator[list[PutRecordsRequestEntryTypeDef]]:
    """Consecutive runs of at most MAX_BATCH_RECORDS entries and MAX_BATCH_BYTES bytes."""
    batch: list[PutRecordsRequestEntryTypeDef] = []
    size = 0
    for entry in entries:
        data = entry["Data"]
        assert isinstance(data, bytes)  # noqa: S101 - built by _entry
        entry_size = len(data) + len(entry.get("PartitionKey", "").encode())
        if batch and (len(batch) == MAX_BATCH_RECORDS or size + entry_size > MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(entry)
        size += entry_size
    if batch:
        yield batch


def entry(
    topic: str, shards: list[Shard], n: int, record: OutRecord
) -> PutRecordsRequestEntryTypeDef:
    """The PutRecords entry of a record, checked against Kinesis' limits before any write."""
    try:
        key = UNKEYED_PARTITION_KEY if record.key is None else record.key.decode()
    except UnicodeDecodeError as exc:
        msg = f"record {n} for stream {topic!r} has a key that is not UTF-8: {record.key!r}"
        raise BrokerError(msg, hint="Kinesis partition keys are text; nothing written") from exc
    if not 1 <= len(key) <= MAX_KEY_CHARS:
        msg = f"record {n} for stream {topic!r} has a {len(key)}-character key"
        hint = f"Kinesis partition keys have 1-{MAX_KEY_CHARS} characters; nothing written"
        raise BrokerError(msg, hint=hint)
    size = len(record.value) + len(key.encode())
    if size > MAX_RECORD_BYTES:
        msg = f"record {n} for stream {topic!r} has {size} bytes (data + partition key)"
        raise RecordTooLargeError(msg, hint="Kinesis takes at most 1 MiB; nothing written")
    entry: PutRecordsRequestEntryTypeDef = {"Data": record.value, "PartitionKey": key}
    if record.partition is not None:
        entry["ExplicitHashKey"] = shards[record.partition].starting_hash_key
    return entry
