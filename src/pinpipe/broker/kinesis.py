"""Amazon Kinesis Data Streams as a broker (boto3), for ``kinesis://REGION`` URLs.

How Kinesis maps onto the contract of :mod:`pinpipe.broker.base`:

* stream = topic; partition ``i`` = the ``i``-th *open* shard ordered by shard id (for a stream
  that was never resharded that is ``shardId-%012d % i``).
* offset = the record's sequence number as an int; ``str(offset)`` is the SequenceNumber.
  Sequence numbers grow within a shard but are not contiguous on AWS (moto numbers 1, 2, 3, ...).
* ``start_offsets[p]`` = the shard's StartingSequenceNumber; ``end_offsets[p]`` = the last
  sequence number in the shard + 1 (see :meth:`KinesisBroker.describe_topic`).
* ``read(offset)`` returns records with sequence number >= offset, so the usual resume from
  ``last.offset + 1`` becomes ``AFTER_SEQUENCE_NUMBER last.offset`` (what the KCL does).
* A record without a key is sent with partition key ``"partition-1"`` (the course's key) and
  reads back with that key; Kinesis hashes keys with MD5, not Kafka's murmur2.
* Kinesis keeps no consumer-group offsets: ``commit``/``committed``/``lag`` raise. pinpipe's
  streaming job keeps its position inside the Delta table it writes.

Credentials come only from the standard AWS chain (environment, profile, SSO, instance role).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from pinpipe.broker.base import (
    BackendName,
    Broker,
    LogRecord,
    OutRecord,
    Position,
    TopicInfo,
    validate_stream_name,
)
from pinpipe.broker.kinesis_put import Shard, batches, entry, put_all
from pinpipe.config import KinesisSettings
from pinpipe.errors import (
    BrokerError,
    ConfigError,
    InvalidPartitionError,
    MissingExtraError,
    OffsetOutOfRangeError,
)

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        WaiterError,
    )
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    _feature = "the Kinesis broker"
    raise MissingExtraError(_feature, "aws", "boto3") from exc

# botocore is importable from here on.
from pinpipe.broker.kinesis_errors import NOT_FOUND, code_of, kinesis_error

if TYPE_CHECKING:
    from mypy_boto3_kinesis.client import KinesisClient
    from mypy_boto3_kinesis.literals import ShardIteratorTypeType
    from mypy_boto3_kinesis.type_defs import (
        GetRecordsOutputTypeDef,
        GetShardIteratorInputTypeDef,
        PutRecordsRequestEntryTypeDef,
        PutRecordsResultEntryTypeDef,
        RecordTypeDef,
        WaiterConfigTypeDef,
    )

#: GetRecords returns at most this many records per call.
MAX_GET_RECORDS = 10_000
#: Where describe looks for a shard's last record: the last 10 s, 10 min, then everything.
TAIL_WINDOWS_S: tuple[float | None, ...] = (10.0, 600.0, None)
_NO_GROUPS_HINT = (
    "Kinesis keeps no consumer offsets; pinpipe's streaming job stores its position in the "
    "Delta table it writes (app transaction), so resume with read() from that position"
)


class _IteratorExpiredError(Exception):
    """GetRecords with an iterator older than 5 minutes; the reader takes a new one."""


def _at_tip(page: GetRecordsOutputTypeDef, limit: int) -> bool:
    """Whether a GetRecords page reached the newest record (or the end of a closed shard)."""
    caught_up = page.get("MillisBehindLatest", 0) == 0 and len(page["Records"]) < limit
    return caught_up or not page.get("NextShardIterator")


class KinesisBroker(Broker):
    """Kinesis streams through boto3; see the module docstring for the mapping.

    Approximations, because Kinesis has no "next sequence number" API and its sequence numbers
    have gaps:

    * ``describe_topic().end_offsets[p]`` is the shard's last sequence number + 1, found by
      reading the tail of the shard (from 10 s ago, else 10 min ago, else the trim horizon);
      it is greater than the offset of every record appended before the call. An empty shard
      (or one whose records all expired) reports ``end == start``.
    * ``TopicInfo.records`` (end - start) is exact on moto, whose sequence numbers are
      contiguous, and meaningless on AWS: count records by reading them.
    * AWS accepts in GetShardIterator only sequence numbers of its own format (the low digits
      hold a version and the shard), so neither ``n - 1`` nor ``n + 1`` of a record's ``n`` is
      valid. ``read`` therefore tries AFTER ``offset - 1``, then AT ``offset``, and only for an
      offset that is neither a record's nor a record's + 1 scans from the trim horizon.

    ``append`` cannot be atomic for more than one record: PutRecords accepts or rejects each
    entry on its own. pinpipe checks everything it can before the first request (partitions,
    key and record sizes), then re-sends failed entries until every record lands; when entries
    still fail after ``put_attempts`` tries it raises :class:`BackpressureError` *after* the
    others were written. Records re-sent after a throttle land after later records of the
    same batch, so offsets follow input order only when no retry happened.
    """

    backend: ClassVar[BackendName] = "kinesis"
    supports_groups: ClassVar[bool] = False
    #: PutRecords calls per batch before giving up, and the backoff between them.
    put_attempts: ClassVar[int] = 8
    put_base_delay: ClassVar[float] = 0.05
    put_max_delay: ClassVar[float] = 2.0
    #: Waiting for CreateStream/DeleteStream: seconds between DescribeStream polls, polls.
    wait_delay: ClassVar[int] = 1
    wait_attempts: ClassVar[int] = 300

    def __init__(
        self,
        region: str,
        settings: KinesisSettings | None = None,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_attempts: int = 4,
    ) -> None:
        self._settings = settings or KinesisSettings()
        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": max_attempts, "mode": "standard"},
            max_pool_connections=20,
        )
        try:
            session = boto3.session.Session(region_name=region)
            self._client: KinesisClient = session.client(
                "kinesis", endpoint_url=self._settings.endpoint_url, config=config
            )
        except (BotoCoreError, ValueError) as exc:
            msg = f"cannot set up a Kinesis client for region {region!r}: {exc}"
            raise ConfigError(
                msg, hint="check the region in kinesis://REGION and kinesis.endpoint_url"
            ) from exc
        self.endpoint = self._client.meta.endpoint_url
        self._lock = threading.Lock()
        self._shard_cache: dict[str, list[Shard]] = {}

    # -- errors ------------------------------------------------------------------------------

    @contextmanager
    def _errors(self, stream: str | None, action: str) -> Iterator[None]:
        """Translate botocore's exceptions into pinpipe's (naming the stream and the fix)."""
        try:
            yield
        except (ClientError, BotoCoreError) as exc:
            if stream and isinstance(exc, ClientError) and code_of(exc) == NOT_FOUND:
                with self._lock:
                    self._shard_cache.pop(stream, None)
            raise kinesis_error(exc, stream=stream, action=action, endpoint=self.endpoint) from exc

    # -- shards ------------------------------------------------------------------------------

    def _list_shards(self, stream: str) -> list[Shard]:
        shards: list[Shard] = []
        token: str | None = None
        with self._errors(stream, "ListShards"):
            while True:
                if token:
                    page = self._client.list_shards(NextToken=token, MaxResults=1000)
                else:
                    page = self._client.list_shards(StreamName=stream, MaxResults=1000)
                for shard in page["Shards"]:
                    seq = shard["SequenceNumberRange"]
                    if "EndingSequenceNumber" in seq:
                        continue  # closed by a reshard: no longer written
                    start = int(seq["StartingSequenceNumber"])
                    key = shard["HashKeyRange"]["StartingHashKey"]
                    shards.append(Shard(shard["ShardId"], key, start))
                token = page.get("NextToken")
                if not token:
                    break
        shards.sort(key=lambda s: s.shard_id)
        with self._lock:
            self._shard_cache[stream] = shards
        return shards

    def _shards(self, stream: str, partitions: Iterable[int] = ()) -> list[Shard]:
        """The open shards (cached), re-listed once if one of ``partitions`` is missing."""
        with self._lock:
            shards = self._shard_cache.get(stream)
        if shards is None:
            shards = self._list_shards(stream)
        for p in partitions:
            if not 0 <= p < len(shards):
                shards = self._list_shards(stream)
                if not 0 <= p < len(shards):
                    msg = f"stream {stream!r} has no partition (shard) {p}"
                    raise InvalidPartitionError(msg, hint=f"use 0..{len(shards) - 1}")
        return shards

    def _partition_of(self, stream: str, shard_id: str) -> int:
        for partition, shard in enumerate(self._list_shards(stream)):
            if shard.shard_id == shard_id:
                return partition
        msg = f"stream {stream!r} wrote to shard {shard_id}, which is not open any more"
        raise BrokerError(msg, hint="the stream was resharded while appending; describe it again")

    # -- topics ------------------------------------------------------------------------------

    def create_topic(self, name: str, partitions: int | None = None) -> None:
        """CreateStream and wait until ACTIVE.

        ``partitions`` given: a provisioned stream with that many shards. Not given: on-demand
        when ``settings.on_demand``, else ``settings.shard_count`` provisioned shards.
        """
        validate_stream_name(name)
        if partitions is not None and partitions < 1:
            msg = f"partitions={partitions} must be at least 1"
            raise InvalidPartitionError(msg, hint="pass a positive shard count")
        with self._errors(name, "CreateStream"):
            if partitions is None and self._settings.on_demand:
                self._client.create_stream(
                    StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"}
                )
            else:
                self._client.create_stream(
                    StreamName=name,
                    ShardCount=partitions or self._settings.shard_count,
                    StreamModeDetails={"StreamMode": "PROVISIONED"},
                )
        self._wait(name, exists=True)
        with self._lock:
            self._shard_cache.pop(name, None)

    def delete_topic(self, name: str) -> None:
        """DeleteStream (its enhanced fan-out consumers too) and wait until it is gone."""
        with self._lock:
            self._shard_cache.pop(name, None)
        with self._errors(name, "DeleteStream"):
            self._client.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
        self._wait(name, exists=False)

    def _wait(self, name: str, *, exists: bool) -> None:
        what = "become ACTIVE" if exists else "disappear"
        config: WaiterConfigTypeDef = {
            "Delay": self.wait_delay,
            "MaxAttempts": self.wait_attempts,
        }
        waiter = (
            self._client.get_waiter("stream_exists")
            if exists
            else self._client.get_waiter("stream_not_exists")
        )
        with self._errors(name, "DescribeStream"):
            try:
                waiter.wait(StreamName=name, WaiterConfig=config)
            except WaiterError as exc:
                seconds = self.wait_delay * self.wait_attempts
                msg = f"stream {name!r} did not {what} within {seconds} s: {exc}"
                raise BrokerError(msg, hint="check it in the AWS console, then retry") from exc

    def list_topics(self) -> list[str]:
        names: list[str] = []
        with self._errors(None, "ListStreams"):
            page = self._client.list_streams(Limit=1000)
            while True:
                names += page["StreamNames"]
                if not page.get("HasMoreStreams") or not page["StreamNames"]:
                    break
                if token := page.get("NextToken"):
                    page = self._client.list_streams(NextToken=token)
                else:  # older servers (moto) page by name only
                    last = page["StreamNames"][-1]
                    page = self._client.list_streams(Limit=1000, ExclusiveStartStreamName=last)
        return sorted(set(names))

    def describe_topic(self, name: str) -> TopicInfo:
        """Open shards with their starting sequence numbers and last sequence number + 1.

        Costs one ListShards plus, per shard, a few GetShardIterator/GetRecords calls over the
        shard's most recent records (see the class docstring).
        """
        shards = self._list_shards(name)
        starts = tuple(s.starting_sequence for s in shards)
        ends = []
        for shard in shards:
            last = self._last_sequence(name, shard)
            ends.append(shard.starting_sequence if last is None else last + 1)
        return TopicInfo(name, starts, tuple(ends))

    def _last_sequence(self, stream: str, shard: Shard) -> int | None:
        """The highest sequence number in the shard, reading only its tail where possible."""
        for window in TAIL_WINDOWS_S:
            request: GetShardIteratorInputTypeDef = {
                "StreamName": stream,
                "ShardId": shard.shard_id,
                "ShardIteratorType": "TRIM_HORIZON",
            }
            if window is not None:
                request["ShardIteratorType"] = "AT_TIMESTAMP"
                request["Timestamp"] = datetime.now(UTC) - timedelta(seconds=window)
            with self._errors(stream, "GetShardIterator"):
                iterator: str | None = self._client.get_shard_iterator(**request)["ShardIterator"]
            last: int | None = None
            while iterator:
                page = self._get_records(stream, iterator, MAX_GET_RECORDS)
                if page["Records"]:
                    last = int(page["Records"][-1]["SequenceNumber"])
                if _at_tip(page, MAX_GET_RECORDS):
                    break
                iterator = page.get("NextShardIterator")
            if last is not None:
                return last
        return None

    # -- records -----------------------------------------------------------------------------

    def _get_records(self, stream: str, iterator: str, limit: int) -> GetRecordsOutputTypeDef:
        with self._errors(stream, "GetRecords"):
            try:
                return self._client.get_records(ShardIterator=iterator, Limit=limit)
            except ClientError as exc:
                if code_of(exc) == "ExpiredIteratorException":
                    raise _IteratorExpiredError from exc
                raise

    def _iterator(self, stream: str, shard: Shard, offset: int) -> str:
        """A shard iterator at the first record with sequence number >= ``offset``.

        AFTER ``offset - 1`` first (valid when ``offset`` is a previous record + 1, the usual
        resume), then AT ``offset`` (valid when it is a record's own number). AWS rejects
        other numbers; then the read starts at the trim horizon and skips lower numbers
        itself, which costs a scan of the shard.
        """
        attempts: list[tuple[ShardIteratorTypeType, int]] = []
        if offset > max(shard.starting_sequence, 0):
            attempts = [("AFTER_SEQUENCE_NUMBER", offset - 1), ("AT_SEQUENCE_NUMBER", offset)]
        with self._errors(stream, "GetShardIterator"):
            for kind, number in attempts:
                try:
                    return self._client.get_shard_iterator(
                        StreamName=stream,
                        ShardId=shard.shard_id,
                        ShardIteratorType=kind,
                        StartingSequenceNumber=str(number),
                    )["ShardIterator"]
                except ClientError as exc:
                    if code_of(exc) != "InvalidArgumentException":
                        raise
            return self._client.get_shard_iterator(
                StreamName=stream, ShardId=shard.shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]

    def read(
        self, topic: str, partition: int, offset: int, max_records: int = 500
    ) -> list[LogRecord]:
        """Up to ``max_records`` records of one shard with sequence number >= ``offset``.

        GetRecords is called until ``max_records`` are read or the tip of the shard is reached
        (MillisBehindLatest == 0 on a short page). Reading past the end returns ``[]``: Kinesis
        cannot tell "past the end" from "not written yet". Keys are the partition keys as UTF-8.
        """
        shard = self._shards(topic, [partition])[partition]
        if offset < 0:
            msg = f"offset {offset} is outside {topic!r}[{partition}] (offsets are >= 0)"
            raise OffsetOutOfRangeError(msg, hint="read from the start offset (describe)")
        if max_records < 1:
            return []
        out: list[LogRecord] = []
        next_offset = offset
        iterator: str | None = self._iterator(topic, shard, next_offset)
        while iterator and len(out) < max_records:
            limit = min(MAX_GET_RECORDS, max_records - len(out))
            try:
                page = self._get_records(topic, iterator, limit)
            except _IteratorExpiredError:  # an iterator lives 5 minutes: take a new one
                iterator = self._iterator(topic, shard, next_offset)
                continue
            for record in page["Records"]:
                seq = int(record["SequenceNumber"])
                if seq >= next_offset:  # lower only when started at the trim horizon
                    out.append(self._log_record(topic, partition, seq, record))
                    next_offset = seq + 1
            if _at_tip(page, limit):
                break
            iterator = page.get("NextShardIterator")
        return out[:max_records]

    @staticmethod
    def _log_record(topic: str, partition: int, seq: int, record: RecordTypeDef) -> LogRecord:
        arrived = record.get("ApproximateArrivalTimestamp")
        timestamp_ms = round(arrived.timestamp() * 1000) if arrived else int(time.time() * 1000)
        key = record.get("PartitionKey")
        return LogRecord(
            topic,
            partition,
            seq,
            key.encode() if key is not None else None,
            record["Data"],
            timestamp_ms,
        )

    def append(self, topic: str, records: Sequence[OutRecord]) -> list[Position]:
        """PutRecords in batches of <= 500 records / 5 MiB; see the class docstring on atomicity.

        Every record is checked before the first request: an explicit ``partition`` must be an
        open shard (it is sent as that shard's starting hash key), a key must be 1-256
        characters of UTF-8 (``None`` sends ``"partition-1"``), data + key at most 1 MiB.
        """
        shards = self._shards(topic, {r.partition for r in records if r.partition is not None})
        entries = [entry(topic, shards, n, record) for n, record in enumerate(records)]
        index = {shard.shard_id: p for p, shard in enumerate(shards)}
        positions: list[Position] = []
        for batch in batches(entries):
            for shard_id, seq in put_all(
                lambda chunk: self._put_records(topic, chunk),
                batch,
                stream=topic,
                attempts=self.put_attempts,
                base_delay=self.put_base_delay,
                max_delay=self.put_max_delay,
            ):
                partition = index.get(shard_id)
                if partition is None:
                    partition = self._partition_of(topic, shard_id)
                positions.append(Position(partition, seq))
        return positions

    def _put_records(
        self, topic: str, entries: list[PutRecordsRequestEntryTypeDef]
    ) -> list[PutRecordsResultEntryTypeDef]:
        with self._errors(topic, "PutRecords"):
            return self._client.put_records(StreamName=topic, Records=entries)["Records"]

    # -- consumer groups: not a Kinesis feature ---------------------------------------------

    def commit(self, group: str, topic: str, offsets: Mapping[int, int]) -> None:
        msg = f"cannot commit group {group!r} on stream {topic!r}: Kinesis has no consumer groups"
        raise BrokerError(msg, hint=_NO_GROUPS_HINT)

    def committed(self, group: str, topic: str) -> dict[int, int]:
        msg = f"no committed offsets of group {group!r} on stream {topic!r}: Kinesis keeps none"
        raise BrokerError(msg, hint=_NO_GROUPS_HINT)

    def lag(self, group: str, topic: str) -> dict[int, int]:
        msg = f"no lag of group {group!r} on stream {topic!r}: Kinesis keeps no group offsets"
        raise BrokerError(msg, hint=_NO_GROUPS_HINT)

    def close(self) -> None:
        self._client.close()
