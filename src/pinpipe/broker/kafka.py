"""Topics on Apache Kafka or Amazon MSK, through confluent-kafka (librdkafka).

The broker contract maps onto Kafka directly: topics and partitions are Kafka's, offsets are
Kafka offsets, a consumer group's committed offset is Kafka's (the next offset to read).

* Topics: ``AdminClient`` create/delete/list; offsets from a consumer's watermarks.
* ``append``: one idempotent producer (``enable.idempotence``, ``acks=all``) per instance, with
  the ``murmur2_random`` partitioner, so a keyed record lands on the partition the Java client
  (and pinpipe's embedded log) chooses. The call returns when every record is acknowledged by
  all in-sync replicas, in input order.
* ``read``: a cached consumer ``assign``-ed to one partition at the offset asked for; it keeps
  its position between reads, so a reader walking a partition forward does not refetch.
* ``commit``/``committed``: a consumer per group (``group.id``) that never joins the group: it
  only stores and fetches offsets (Kafka allows this while the group has no active members).

Security comes from :class:`~pinpipe.config.KafkaSettings`; :func:`client_config` builds the
librdkafka properties (plaintext, SSL, SASL/SCRAM or PLAIN, and MSK IAM through
``aws-msk-iam-sasl-signer-python``'s OAUTHBEARER token).
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from pinpipe.broker.base import (
    BackendName,
    Broker,
    LogRecord,
    OutRecord,
    Position,
    TopicInfo,
    validate_group_name,
    validate_topic_name,
)
from pinpipe.broker.kafka_config import (
    CONSUMER_CONFIG,
    IAM_FEATURE,
    PRODUCER_CONFIG,
    REPLICATION_FACTOR_KEY,
    client_config,
)
from pinpipe.broker.kafka_errors import DOWN_ERRORS, kafka_error, unavailable
from pinpipe.config import KafkaSettings
from pinpipe.errors import (
    BrokerError,
    BrokerUnavailableError,
    ConfigError,
    InvalidPartitionError,
    MissingExtraError,
    OffsetOutOfRangeError,
    RecordTooLargeError,
    UnknownTopicError,
)

if TYPE_CHECKING:
    from confluent_kafka import Consumer, KafkaError, Message, Producer
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.admin._metadata import ClusterMetadata, TopicMetadata

log = logging.getLogger(__name__)
_FEATURE = "the Kafka broker"


def _require_confluent_kafka(settings: KafkaSettings) -> None:
    if importlib.util.find_spec("confluent_kafka") is None:
        raise MissingExtraError(_FEATURE, "kafka", "confluent_kafka")
    if (
        settings.security == "msk-iam"
        and importlib.util.find_spec("aws_msk_iam_sasl_signer") is None
    ):
        raise MissingExtraError(IAM_FEATURE, "kafka", "aws_msk_iam_sasl_signer")


class KafkaBroker(Broker):
    """A Kafka (or MSK) cluster as a pinpipe broker; ``bootstrap_servers`` is ``host:port,…``.

    ``timeout`` bounds every call that waits on the cluster (metadata, offsets, commits, a read
    without progress); an unreachable cluster fails fast with BrokerUnavailableError.
    """

    backend: ClassVar[BackendName] = "kafka"

    def __init__(
        self,
        bootstrap_servers: str,
        settings: KafkaSettings | None = None,
        *,
        timeout: float = 10.0,
    ) -> None:
        self.settings = settings or KafkaSettings()
        _require_confluent_kafka(self.settings)
        self.bootstrap_servers = bootstrap_servers
        self.timeout = timeout
        self._config: dict[str, Any] = (
            {"allow.auto.create.topics": False}
            | client_config(bootstrap_servers, self.settings)
            | {"logger": logging.getLogger(f"{__name__}.librdkafka"), "error_cb": self._on_error}
        )
        self._producer_config = PRODUCER_CONFIG | self._config
        delivery_ms = self._producer_config.get(
            "delivery.timeout.ms", self._producer_config["message.timeout.ms"]
        )
        try:
            self._delivery_timeout = float(delivery_ms) / 1000
            self._replication = int(self.settings.client_config.get(REPLICATION_FACTOR_KEY, -1))
        except ValueError as exc:
            msg = f"kafka.client_config has a value that is not a number: {exc}"
            hint = "message.timeout.ms and replication.factor take whole numbers"
            raise ConfigError(msg, hint=hint) from exc
        self._lock = threading.Lock()  # guards creating the cached clients
        self._read_lock = threading.Lock()  # one read at a time on the shared reader
        self._admin: AdminClient | None = None
        self._producer: Producer | None = None
        self._reader: Consumer | None = None
        self._offsets: Consumer | None = None
        self._reader_at: tuple[str, int, int] | None = None  # where the reader will continue
        self._groups: dict[str, Consumer] = {}
        self._down: KafkaError | None = None

    # -- clients --------------------------------------------------------------------------

    def _on_error(self, error: KafkaError) -> None:
        if error.name() in DOWN_ERRORS:
            self._down = error
        log.debug("kafka %s: %s", self.bootstrap_servers, error)

    def _admin_client(self) -> AdminClient:
        with self._lock:
            if self._admin is None:
                from confluent_kafka.admin import AdminClient

                self._admin = AdminClient(self._config)
            return self._admin

    def _producer_client(self) -> Producer:
        with self._lock:
            if self._producer is None:
                from confluent_kafka import Producer

                self._producer = Producer(self._producer_config)
            return self._producer

    def _consumer(self, group: str) -> Consumer:
        from confluent_kafka import Consumer

        return Consumer(CONSUMER_CONFIG | self._config | {"group.id": group})

    def _reader_client(self) -> Consumer:
        with self._lock:
            if self._reader is None:
                self._reader = self._consumer("pinpipe-reader")  # never commits, never joins
            return self._reader

    def _offsets_client(self) -> Consumer:
        # Not the reader: a broker answers one connection's requests in order, so a watermark
        # query would wait behind the reader's pending fetch (up to fetch.wait.max.ms).
        with self._lock:
            if self._offsets is None:
                self._offsets = self._consumer("pinpipe-offsets")  # never commits, never joins
            return self._offsets

    def _group_client(self, group: str) -> Consumer:
        with self._lock:
            if group not in self._groups:
                self._groups[group] = self._consumer(group)
            return self._groups[group]

    # -- errors ---------------------------------------------------------------------------

    def _raise(self, error: KafkaError, *, topic: str | None = None) -> NoReturn:
        raise kafka_error(error, topic=topic, bootstrap=self.bootstrap_servers, down=self._down)

    def _unavailable(self, reason: str) -> NoReturn:
        raise unavailable(self.bootstrap_servers, reason, self._down)

    def _call(self, what: str, fn: Any, *args: Any, topic: str | None = None) -> Any:
        """Run a blocking client call, mapping KafkaException to pinpipe errors."""
        from confluent_kafka import KafkaException

        try:
            return fn(*args)
        except KafkaException as exc:
            self._raise(exc.args[0], topic=topic)
        except RuntimeError as exc:  # closed client
            msg = f"{what} on Kafka at {self.bootstrap_servers} failed: {exc}"
            raise BrokerError(msg, hint="the broker was closed; create a new one") from exc

    def _metadata(self, topic: str | None = None) -> ClusterMetadata:
        """Cluster metadata (one topic's, or all), failing fast when no broker answers."""
        from confluent_kafka import KafkaException

        admin = self._admin_client()
        deadline = time.monotonic() + self.timeout
        wait = 0.25
        while True:
            try:
                metadata = admin.list_topics(topic, timeout=min(wait, self.timeout))
            except KafkaException as exc:
                error: KafkaError = exc.args[0]
                if error.name() not in ("_TRANSPORT", "_TIMED_OUT"):
                    self._raise(error, topic=topic)
                admin.poll(0)  # serves error_cb, which records _ALL_BROKERS_DOWN and the like
                if self._down is not None or time.monotonic() + wait > deadline:
                    self._unavailable(str(error.str()))
                wait *= 2
                continue
            self._down = None
            return metadata

    def _topic(self, name: str) -> TopicMetadata:
        metadata = self._metadata(name).topics.get(name)
        if metadata is None:
            raise UnknownTopicError(name)
        if metadata.error is not None:
            self._raise(metadata.error, topic=name)
        return metadata

    def _partitions(self, name: str) -> int:
        return len(self._topic(name).partitions)

    # -- topics ---------------------------------------------------------------------------

    def create_topic(self, name: str, partitions: int = 1) -> None:
        from confluent_kafka.admin import NewTopic  # type: ignore[attr-defined]  # not in stubs

        validate_topic_name(name)
        if partitions < 1:
            msg = f"partitions={partitions} must be at least 1"
            raise InvalidPartitionError(msg, hint="pass a positive partition count")
        self._metadata()  # fail fast when unreachable
        new = NewTopic(name, num_partitions=partitions, replication_factor=self._replication)
        futures = self._admin_client().create_topics(
            [new], operation_timeout=self.timeout, request_timeout=self.timeout
        )
        self._call("create topic", futures[name].result, topic=name)

    def delete_topic(self, name: str) -> None:
        self._metadata()
        futures = self._admin_client().delete_topics(
            [name], operation_timeout=self.timeout, request_timeout=self.timeout
        )
        self._call("delete topic", futures[name].result, topic=name)

    def list_topics(self) -> list[str]:
        return sorted(t for t in self._metadata().topics if not t.startswith("__"))

    def describe_topic(self, name: str) -> TopicInfo:
        count = len(self._topic(name).partitions)
        marks = [self._watermarks(name, p) for p in range(count)]
        return TopicInfo(name, tuple(lo for lo, _ in marks), tuple(hi for _, hi in marks))

    def _watermarks(self, topic: str, partition: int) -> tuple[int, int]:
        from confluent_kafka import TopicPartition

        client = self._offsets_client()
        tp = TopicPartition(topic, partition)
        marks = self._call(
            "get offsets", client.get_watermark_offsets, tp, self.timeout, False, topic=topic
        )
        if marks is None:
            self._unavailable(f"no offsets for {topic}[{partition}] within {self.timeout:g} s")
        low, high = marks
        return int(low), int(high)

    # -- records --------------------------------------------------------------------------

    def append(self, topic: str, records: Sequence[OutRecord]) -> list[Position]:
        # Validate everything the cluster would reject before producing anything, so a bad batch
        # writes nothing. Kafka cannot make a batch that spans partitions atomic without a
        # transactional producer. Measured on the mock cluster, transactions cost ~1.5 ms per
        # append (3-4x slower for 1-50 records, equal at 500), and each commit marker takes an
        # offset in every partition it touches, so offsets stop being dense and a topic's record
        # count stops being exact; so they are not used. What remains is a broker-side failure
        # mid-batch (a partition without a leader for longer than message.timeout.ms): this call
        # then raises and some of the records may be written; the idempotent producer still
        # guarantees no duplicates and no reordering within the call.
        if not records:
            self._partitions(topic)
            return []
        partitions = self._partitions(topic)
        limit = int(self._config.get("message.max.bytes", 1_000_000))
        for record in records:
            if record.partition is not None and not 0 <= record.partition < partitions:
                msg = f"topic {topic!r} has no partition {record.partition}"
                raise InvalidPartitionError(msg, hint=f"use 0..{partitions - 1}")
            size = len(record.value) + len(record.key or b"")
            if size > limit:
                msg = f"a {size}-byte record is over the {limit}-byte limit of topic {topic!r}"
                raise RecordTooLargeError(msg, hint="split the record or raise message.max.bytes")
        return self._produce(topic, records)

    def _produce(self, topic: str, records: Sequence[OutRecord]) -> list[Position]:
        from confluent_kafka import KafkaException

        producer = self._producer_client()
        results: list[Position | KafkaError | None] = [None] * len(records)
        pending = [len(records)]
        done = threading.Event()
        guard = threading.Lock()

        def delivered(index: int, error: KafkaError | None, message: Message) -> None:
            if error is None:
                results[index] = Position(int(message.partition() or 0), int(message.offset() or 0))
            else:
                results[index] = error
            with guard:
                pending[0] -= 1
                if pending[0] == 0:
                    done.set()

        for index, record in enumerate(records):
            kwargs: dict[str, Any] = {"on_delivery": functools.partial(delivered, index)}
            if record.partition is not None:
                kwargs["partition"] = record.partition
            while True:
                try:
                    producer.produce(topic, record.value, record.key, **kwargs)
                    break
                except BufferError:  # the local queue is full: let deliveries drain it
                    producer.poll(0.05)
                except KafkaException as exc:
                    self._raise(exc.args[0], topic=topic)
        # Wait for our own delivery reports. flush() sends at once, ignoring linger.ms, so one
        # record costs one round trip while a big batch still leaves as one request; its short
        # timeout matters when other threads keep the queue busy: whichever thread flushes runs
        # the callbacks, and each thread waits on its own event.
        wait_until = time.monotonic() + self._delivery_timeout + self.timeout
        while not done.is_set():
            producer.flush(0.01)
            if time.monotonic() > wait_until:
                self._unavailable(f"{pending[0]} of {len(records)} records unacknowledged")
        positions = [r for r in results if isinstance(r, Position)]
        for result in results:
            if result is not None and not isinstance(result, Position):
                if result.fatal():  # the idempotent producer is fenced or broken: start anew
                    self._drop_producer()
                self._raise(result, topic=topic)
        return positions

    def _drop_producer(self) -> None:
        with self._lock:
            self._producer = None

    def read(
        self, topic: str, partition: int, offset: int, max_records: int = 500
    ) -> list[LogRecord]:
        from confluent_kafka import TopicPartition

        try:
            low, high = self._watermarks(topic, partition)
        except (UnknownTopicError, InvalidPartitionError, BrokerUnavailableError):
            count = self._partitions(topic)  # the precise error: no topic, or no partition
            if not 0 <= partition < count:
                msg = f"topic {topic!r} has no partition {partition}"
                raise InvalidPartitionError(msg, hint=f"use 0..{count - 1}") from None
            raise
        if not low <= offset <= high:
            msg = f"offset {offset} is outside {topic!r}[{partition}] ({low}..{high})"
            raise OffsetOutOfRangeError(msg, hint="read from the start or the end offset")
        end = min(high, offset + max(max_records, 0))
        if offset >= end:
            return []
        with self._read_lock:
            reader = self._reader_client()
            if self._reader_at != (topic, partition, offset):
                # Fetch the topic's metadata first: else librdkafka may skip the refresh an
                # assign triggers (one already in flight) and start fetching on its 1 s timer.
                self._call("metadata", reader.list_topics, topic, self.timeout, topic=topic)
                self._call("assign", reader.assign, [TopicPartition(topic, partition, offset)])
            self._reader_at = None
            out: list[LogRecord] = []
            next_offset = offset
            deadline = time.monotonic() + self.timeout
            while next_offset < end:
                batch = self._call("consume", reader.consume, end - next_offset, 0.5, topic=topic)
                progressed = False
                for message in batch:
                    error = message.error()
                    if error is not None:
                        if error.name() == "_PARTITION_EOF":
                            continue
                        self._raise(error, topic=topic)
                    at = int(message.offset() or 0)
                    if message.topic() != topic or message.partition() != partition:
                        continue  # left over from an earlier assignment
                    if at < next_offset:
                        continue
                    if at >= end:  # past a gap (transaction markers); reposition next time
                        return out
                    _, timestamp = message.timestamp()
                    out.append(
                        LogRecord(
                            topic, partition, at, message.key(), message.value() or b"", timestamp
                        )
                    )
                    next_offset = at + 1
                    progressed = True
                if not progressed:
                    if out:  # a gap at the end of the range (control records): what we have
                        return out
                    if time.monotonic() > deadline:
                        self._unavailable(f"no records from {topic}[{partition}] at {offset}")
            if end < high:  # more to read: keep the fetched-ahead records for the next call
                self._reader_at = (topic, partition, end)
            else:  # caught up: stop fetching in the background until the next read
                self._call("unassign", reader.unassign)
            return out

    # -- consumer groups ------------------------------------------------------------------

    def commit(self, group: str, topic: str, offsets: Mapping[int, int]) -> None:
        from confluent_kafka import TopicPartition

        validate_group_name(group)
        count = self._partitions(topic)
        for p in offsets:
            if not 0 <= p < count:
                msg = f"topic {topic!r} has no partition {p}"
                raise InvalidPartitionError(msg, hint=f"use 0..{count - 1}")
        if not offsets:
            return
        consumer = self._group_client(group)
        tps = [TopicPartition(topic, p, o) for p, o in sorted(offsets.items())]
        try:
            result = self._call("commit", lambda: consumer.commit(offsets=tps, asynchronous=False))
        except BrokerError as exc:
            if not any(n in exc.message for n in ("UNKNOWN_MEMBER_ID", "ILLEGAL_GENERATION")):
                raise
            msg = f"consumer group {group!r} has active members on Kafka, so pinpipe cannot commit"
            raise BrokerError(msg, hint="stop the group's consumers or use another group") from exc
        for tp in result or []:
            if tp.error is not None:
                self._raise(tp.error, topic=topic)

    def committed(self, group: str, topic: str) -> dict[int, int]:
        from confluent_kafka import TopicPartition

        validate_group_name(group)
        count = self._partitions(topic)
        consumer = self._group_client(group)
        tps = [TopicPartition(topic, p) for p in range(count)]
        result = self._call("committed", consumer.committed, tps, self.timeout, topic=topic)
        out = {}
        for tp in result:
            if tp.error is not None:
                self._raise(tp.error, topic=topic)
            if tp.offset >= 0:  # OFFSET_INVALID (-1001): never committed
                out[tp.partition] = tp.offset
        return out

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
            consumers = [*self._groups.values(), self._reader, self._offsets]
            self._groups, self._reader, self._offsets, self._admin = {}, None, None, None
        if producer is not None:
            left = producer.flush(self.timeout)
            if left:
                log.warning("%d records to %s were not delivered", left, self.bootstrap_servers)
        for consumer in consumers:
            if consumer is not None:
                consumer.close()

    def __repr__(self) -> str:
        return f"KafkaBroker({self.bootstrap_servers!r}, security={self.settings.security!r})"
