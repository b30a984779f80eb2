"""The broker contract as tests; every backend's test module subclasses BrokerContract.

A subclass provides the ``broker`` fixture. Names are unique per test (no teardown needed),
so the same server can serve a whole session.
"""

from __future__ import annotations

import threading
import uuid
from typing import ClassVar

import pytest

from pinpipe.broker import Broker, IdempotentAppender, KeyedSpan, LogRecord, OutRecord
from pinpipe.broker.partitioner import partition_for_key
from pinpipe.errors import (
    InvalidNameError,
    InvalidPartitionError,
    TopicExistsError,
    UnknownTopicError,
)


class BrokerContract:
    #: the backend assigns keyed records with Kafka's murmur2 partitioner
    kafka_partitioning: ClassVar[bool] = True
    #: reading past the end raises OffsetOutOfRangeError (Kinesis cannot tell)
    checks_read_range: ClassVar[bool] = True

    @pytest.fixture
    def name(self) -> str:
        return f"t-{uuid.uuid4().hex[:12]}"

    @pytest.fixture
    def topic(self, broker: Broker, name: str) -> str:
        broker.create_topic(name)
        return name

    def test_create_list_describe_delete(self, broker: Broker, name: str) -> None:
        broker.create_topic(name, partitions=3)
        assert name in broker.list_topics()
        info = broker.describe_topic(name)
        assert (info.name, info.partitions, info.records) == (name, 3, 0)
        assert info.end_offsets == info.start_offsets
        with pytest.raises(TopicExistsError):
            broker.create_topic(name)
        broker.delete_topic(name)
        assert name not in broker.list_topics()
        with pytest.raises(UnknownTopicError):
            broker.describe_topic(name)
        with pytest.raises(UnknownTopicError):
            broker.delete_topic(name)

    @pytest.mark.parametrize("bad", ["", "a b", "a/b", "x" * 300, "ü"])
    def test_invalid_names(self, broker: Broker, bad: str) -> None:
        with pytest.raises(InvalidNameError):
            broker.create_topic(bad)

    def test_unknown_topic(self, broker: Broker, name: str) -> None:
        with pytest.raises(UnknownTopicError):
            broker.append(name, [OutRecord(b"{}")])
        with pytest.raises(UnknownTopicError):
            broker.read(name, 0, 0)

    def test_append_then_read_in_order(self, broker: Broker, topic: str) -> None:
        values = [f'{{"n":{i},"s":"héllo ✓"}}'.encode() for i in range(25)]
        first = broker.append(topic, [OutRecord(v) for v in values[:10]])
        second = broker.append(topic, [OutRecord(v) for v in values[10:]])
        positions = first + second
        assert [p.partition for p in positions] == [0] * 25
        offsets = [p.offset for p in positions]
        assert offsets == sorted(offsets) and len(set(offsets)) == 25
        start = broker.describe_topic(topic).start_offsets[0]
        got = broker.read(topic, 0, start, max_records=1000)
        assert [r.value for r in got] == values
        assert [r.offset for r in got] == offsets
        assert all(r.topic == topic and r.partition == 0 for r in got)
        assert all(r.timestamp_ms > 1_600_000_000_000 for r in got)

    def test_read_from_an_offset_and_max_records(self, broker: Broker, topic: str) -> None:
        positions = broker.append(topic, [OutRecord(str(i).encode()) for i in range(10)])
        got = broker.read(topic, 0, positions[4].offset, max_records=3)
        assert [r.value for r in got] == [b"4", b"5", b"6"]
        rest = broker.read(topic, 0, got[-1].offset + 1, max_records=100)
        assert [r.value for r in rest] == [b"7", b"8", b"9"]
        assert broker.read(topic, 0, rest[-1].offset + 1) == []

    def test_end_offsets_follow_appends(self, broker: Broker, topic: str) -> None:
        positions = broker.append(topic, [OutRecord(b"a"), OutRecord(b"b")])
        assert broker.end_offsets(topic)[0] > positions[-1].offset
        assert broker.describe_topic(topic).records == 2

    def test_keys_choose_partitions(self, broker: Broker, name: str) -> None:
        broker.create_topic(name, partitions=4)
        keys = [f"key-{i}".encode() for i in range(40)]
        positions = broker.append(name, [OutRecord(b"v", key=k) for k in keys])
        by_key = dict(zip(keys, (p.partition for p in positions), strict=True))
        again = broker.append(name, [OutRecord(b"w", key=k) for k in keys])
        assert [p.partition for p in again] == [by_key[k] for k in keys]
        if self.kafka_partitioning:
            assert all(by_key[k] == partition_for_key(k, 4) for k in keys)
        keyed = broker.read(name, by_key[keys[0]], 0, max_records=1000)
        assert keys[0] in [r.key for r in keyed]

    def test_explicit_partition(self, broker: Broker, name: str) -> None:
        broker.create_topic(name, partitions=2)
        [pos] = broker.append(name, [OutRecord(b"x", partition=1)])
        assert pos.partition == 1

    def test_all_or_nothing(self, broker: Broker, topic: str) -> None:
        with pytest.raises(InvalidPartitionError):
            broker.append(topic, [OutRecord(b"ok"), OutRecord(b"bad", partition=7)])
        assert broker.describe_topic(topic).records == 0

    def test_large_batch_round_trip(self, broker: Broker, topic: str) -> None:
        values = [(b'{"i":%d,"pad":"' % i) + b"x" * 300 + b'"}' for i in range(2_000)]
        for start in range(0, 2_000, 500):
            broker.append(topic, [OutRecord(v) for v in values[start : start + 500]])
        got: list[LogRecord] = []
        offset = broker.describe_topic(topic).start_offsets[0]
        while len(got) < 2_000:
            batch = broker.read(topic, 0, offset, max_records=700)
            assert batch, "the log ended early"
            got += batch
            offset = batch[-1].offset + 1
        assert [r.value for r in got] == values

    def test_concurrent_appends_get_distinct_offsets(self, broker: Broker, topic: str) -> None:
        results: list[int] = []
        lock = threading.Lock()

        def worker(n: int) -> None:
            for _ in range(10):
                positions = broker.append(topic, [OutRecord(f"{n}".encode())] * 5)
                with lock:
                    results.extend(p.offset for p in positions)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(results) == len(set(results)) == 200
        assert broker.describe_topic(topic).records == 200

    def test_consumer_group_commits(self, broker: Broker, topic: str) -> None:
        if not broker.supports_groups:
            pytest.skip(f"{broker.backend} keeps no consumer-group offsets")
        positions = broker.append(topic, [OutRecord(b"a"), OutRecord(b"b"), OutRecord(b"c")])
        assert broker.committed("students", topic) == {}
        assert broker.lag("students", topic) == {0: 3}
        broker.commit("students", topic, {0: positions[1].offset + 1})
        assert broker.committed("students", topic) == {0: positions[1].offset + 1}
        assert broker.lag("students", topic) == {0: 1}
        assert broker.committed("other", topic) == {}

    def test_idempotent_append(self, broker: Broker, topic: str) -> None:
        if not isinstance(broker, IdempotentAppender):
            pytest.skip(f"{broker.backend} has no atomic idempotency keys")
        first = broker.append_keyed(
            topic,
            [OutRecord(b"a"), OutRecord(b"b"), OutRecord(b"c")],
            [KeyedSpan("k1", 0, 2), KeyedSpan("k2", 2, 1)],
        )
        assert broker.lookup_keys(topic, ["k1", "k2", "nope"]) == {
            "k1": first[:2],
            "k2": first[2:],
        }
        # A retry of k1 together with a new request k3: only k3 is written.
        again = broker.append_keyed(
            topic,
            [OutRecord(b"a"), OutRecord(b"b"), OutRecord(b"d")],
            [KeyedSpan("k1", 0, 2), KeyedSpan("k3", 2, 1)],
        )
        assert again[:2] == first[:2]
        assert broker.describe_topic(topic).records == 4
        got = broker.read(topic, 0, 0, max_records=10)
        assert [r.value for r in got] == [b"a", b"b", b"c", b"d"]
        assert broker.lookup_keys(topic, ["k3"]) == {"k3": again[2:]}
