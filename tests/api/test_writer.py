"""Group commit, backpressure and idempotent ingest, through the HTTP routes."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import ClassVar

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from pinpipe.api.idempotency import KeyStore
from pinpipe.api.writer import CoalescingWriter
from pinpipe.broker import Broker, InMemoryBroker, KeyedSpan, LogRecord, OutRecord, Position
from pinpipe.broker.base import BackendName, IdempotentAppender, TopicInfo
from tests.api.conftest import ClientFactory, state_of, unique
from tests.api.payloads import ends, kafka_error, kinesis_error, produce, values_in

pytestmark = pytest.mark.anyio


async def test_concurrent_requests_are_coalesced(
    client: httpx.AsyncClient, app: Starlette, topics_broker: Broker, topic: str
) -> None:
    responses: dict[int, httpx.Response] = {}

    async def post(i: int) -> None:
        responses[i] = await produce(client, topic, [{"i": i}])

    async with anyio.create_task_group() as tasks:
        for i in range(200):
            tasks.start_soon(post, i)
    offsets = {}
    for i, response in responses.items():
        assert response.status_code == 200, response.text
        [entry] = response.json()["offsets"]
        offsets[i] = (entry["partition"], entry["offset"])
    assert sorted(o for _, o in offsets.values()) == list(range(200))  # distinct, contiguous
    for i, (partition, offset) in offsets.items():
        [record] = topics_broker.read(topic, partition, offset, 1)
        assert record.value == f'{{"i":{i}}}'.encode()  # each answer says where its record is
    writer = state_of(app).writer(topics_broker)
    assert writer.stats.appends < 200  # group commit happened
    assert writer.pending == 0


class SlowBroker(InMemoryBroker):
    """Appends take ``delay`` seconds (a disk that cannot keep up)."""

    delay: ClassVar[float] = 0.3

    def append(self, topic: str, records: Sequence[OutRecord]) -> list[Position]:
        time.sleep(self.delay)
        return super().append(topic, records)

    def append_keyed(
        self, topic: str, records: Sequence[OutRecord], spans: Sequence[KeyedSpan]
    ) -> list[Position]:
        time.sleep(self.delay)
        return super().append_keyed(topic, records, spans)


async def test_backpressure(client_for: ClientFactory) -> None:
    broker = SlowBroker()
    broker.create_topic("slow.pin")
    broker.create_topic("slow-stream")
    responses: dict[int, httpx.Response] = {}
    async with client_for(topics=broker, max_pending_records=3) as client:

        async def post(i: int) -> None:
            responses[i] = await produce(client, "slow.pin", [{"i": i}])

        async def put(i: int) -> None:
            body = {"Data": {"i": i}, "PartitionKey": "k"}
            responses[i] = await client.put("/streams/slow-stream/record", json=body)

        async with anyio.create_task_group() as tasks:
            for i in range(20):
                tasks.start_soon(post, i)
            for i in range(100, 110):
                tasks.start_soon(put, i)
        accepted = {i for i, r in responses.items() if r.status_code == 200}
        refused = {i for i, r in responses.items() if r.status_code != 200}
        assert accepted and refused
        for i in refused:
            if i < 100:
                kafka_error(responses[i], 429, 42901)
            else:
                kinesis_error(responses[i], 400, "ProvisionedThroughputExceededException")
            assert int(responses[i].headers["retry-after"]) >= 1
        stored = values_in(broker, "slow.pin") + values_in(broker, "slow-stream")
        assert sorted(stored) == sorted(f'{{"i":{i}}}'.encode() for i in accepted)
        later = await produce(client, "slow.pin", [{"i": "later"}])  # the backlog drained
        assert later.status_code == 200


async def test_same_key_twice_writes_once(
    client: httpx.AsyncClient, topics_broker: Broker, topic: str
) -> None:
    key = {"Idempotency-Key": "order-1"}
    first = await produce(client, topic, ["a", "b"], headers=key)
    again = await produce(client, topic, ["a", "b"], headers=key)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert values_in(topics_broker, topic) == [b'"a"', b'"b"']
    other = await produce(client, topic, ["c"], headers={"Idempotency-Key": "order-2"})
    assert other.json()["offsets"][0]["offset"] == 2


async def test_concurrent_same_key_writes_once(
    client: httpx.AsyncClient, topics_broker: Broker, topic: str
) -> None:
    responses: list[httpx.Response] = []

    async def post() -> None:
        responses.append(await produce(client, topic, ["once"], headers={"Idempotency-Key": "k"}))

    async with anyio.create_task_group() as tasks:
        for _ in range(30):
            tasks.start_soon(post)
    assert {r.status_code for r in responses} == {200}
    assert len({r.text for r in responses}) == 1
    assert values_in(topics_broker, topic) == [b'"once"']


async def test_failed_request_does_not_use_up_its_key(
    client: httpx.AsyncClient, topics_broker: Broker
) -> None:
    name = unique("later.")
    key = {"Idempotency-Key": "retry-me"}
    kafka_error(await produce(client, name, [1], headers=key), 404, 40401)
    topics_broker.create_topic(name)
    assert (await produce(client, name, [1], headers=key)).status_code == 200
    assert (await produce(client, name, [1], headers=key)).status_code == 200
    assert values_in(topics_broker, name) == [b"1"]


async def test_keys_are_per_topic_and_validated(
    client: httpx.AsyncClient, topics_broker: Broker, topic: str
) -> None:
    other = unique("other.")
    topics_broker.create_topic(other)
    key = {"Idempotency-Key": "shared"}
    assert (await produce(client, topic, [1], headers=key)).status_code == 200
    assert (await produce(client, other, [2], headers=key)).status_code == 200
    assert values_in(topics_broker, other) == [b"2"]
    for bad in ("has space", "x" * 256, ""):
        response = await produce(client, topic, [3], headers={"Idempotency-Key": bad})
        kafka_error(response, 422, 42201)
    assert ends(topics_broker, topic) == {0: 1}


async def test_stream_puts_are_idempotent(
    client: httpx.AsyncClient, streams_broker: Broker, stream: str
) -> None:
    before = ends(streams_broker, stream)[0]
    key = {"Idempotency-Key": "put-1"}
    body = {"Data": {"a": 1}, "PartitionKey": "partition-1"}
    single = await client.put(f"/streams/{stream}/record", json=body, headers=key)
    again = await client.put(f"/streams/{stream}/record", json=body, headers=key)
    assert single.status_code == 200
    assert single.json() == again.json()
    batch = {"records": [{"data": 1, "partition-key": "a"}, {"data": 2, "partition-key": "b"}]}
    key = {"Idempotency-Key": "puts-1"}
    first = await client.put(f"/streams/{stream}/records", json=batch, headers=key)
    again = await client.put(f"/streams/{stream}/records", json=batch, headers=key)
    assert first.json() == again.json()
    stored = streams_broker.read(stream, 0, before, 10)
    assert [r.value for r in stored] == [b'{"a":1}', b"1", b"2"]  # three records, not six
    assert single.json()["SequenceNumber"] == str(stored[0].offset)
    assert [r["SequenceNumber"] for r in first.json()["Records"]] == [
        str(r.offset) for r in stored[1:]
    ]
    bad = await client.put(
        f"/streams/{stream}/record", json=body, headers={"Idempotency-Key": "a b"}
    )
    kinesis_error(bad, 400, "ValidationException")


class PlainBroker(Broker):
    """A broker without IdempotentAppender (like Kafka and Kinesis): the API keeps the keys."""

    backend: ClassVar[BackendName] = "memory"

    def __init__(self) -> None:
        self.inner = InMemoryBroker()
        self.appends = 0
        self.lock = threading.Lock()

    def create_topic(self, name: str, partitions: int = 1) -> None:
        self.inner.create_topic(name, partitions)

    def delete_topic(self, name: str) -> None:
        self.inner.delete_topic(name)

    def list_topics(self) -> list[str]:
        return self.inner.list_topics()

    def describe_topic(self, name: str) -> TopicInfo:
        return self.inner.describe_topic(name)

    def append(self, topic: str, records: Sequence[OutRecord]) -> list[Position]:
        with self.lock:
            self.appends += 1
        return self.inner.append(topic, records)

    def read(
        self, topic: str, partition: int, offset: int, max_records: int = 500
    ) -> list[LogRecord]:
        return self.inner.read(topic, partition, offset, max_records)

    def commit(self, group: str, topic: str, offsets: Mapping[int, int]) -> None:
        self.inner.commit(group, topic, offsets)

    def committed(self, group: str, topic: str) -> dict[int, int]:
        return self.inner.committed(group, topic)


async def test_in_process_key_store_for_other_brokers(client_for: ClientFactory) -> None:
    broker = PlainBroker()
    assert not isinstance(broker, IdempotentAppender)
    broker.create_topic("plain.pin")
    broker.create_topic("plain-stream")
    async with client_for(topics=broker) as client:
        responses: list[httpx.Response] = []

        async def post() -> None:
            headers = {"Idempotency-Key": "same"}
            responses.append(await produce(client, "plain.pin", ["v"], headers=headers))

        async with anyio.create_task_group() as tasks:
            for _ in range(10):
                tasks.start_soon(post)
        assert len({r.text for r in responses}) == 1
        assert values_in(broker, "plain.pin") == [b'"v"']
        body = {"Data": 1, "PartitionKey": "k"}
        for _ in range(2):
            put = await client.put(
                "/streams/plain-stream/record", json=body, headers={"Idempotency-Key": "s"}
            )
            assert put.json()["SequenceNumber"] == "0"
        assert ends(broker, "plain-stream") == {0: 1}
        deleted = await client.delete("/streams/plain-stream")  # a new stream starts afresh
        assert deleted.status_code == 200
        await client.post("/streams/plain-stream")
        put = await client.put(
            "/streams/plain-stream/record", json=body, headers={"Idempotency-Key": "s"}
        )
        assert put.headers.get("idempotent-replayed") is None
        assert ends(broker, "plain-stream") == {0: 1}


def test_key_store_is_bounded() -> None:
    store = KeyStore(max_keys=2)
    store.put("t", "a", [Position(0, 0)])
    store.put("t", "b", [Position(0, 1)])
    assert store.get("t", "a") == [Position(0, 0)]  # a is now the most recent
    store.put("t", "c", [Position(0, 2)])
    assert store.get("t", "b") is None
    assert len(store) == 2


async def test_batch_failure_fails_every_request_and_writes_nothing() -> None:
    class Failing(InMemoryBroker):
        def append(self, topic: str, records: Sequence[OutRecord]) -> list[Position]:
            from pinpipe.errors import BrokerUnavailableError

            msg = "disk on fire"
            raise BrokerUnavailableError(msg, hint="call the fire brigade")

    broker = Failing()
    broker.create_topic("t")
    writer = CoalescingWriter(broker, max_pending_records=100)
    results: list[BaseException | None] = []

    async def write(i: int) -> None:
        try:
            await writer.write("t", [OutRecord(str(i).encode())], None)
            results.append(None)
        except Exception as exc:
            results.append(exc)

    async with anyio.create_task_group() as tasks:
        for i in range(10):
            tasks.start_soon(write, i)
    assert len(results) == 10 and all(r is not None for r in results)
    assert writer.pending == 0
    assert broker.describe_topic("t").records == 0
    await writer.close()


async def test_unavailable_broker_is_503(client_for: ClientFactory) -> None:
    class Down(InMemoryBroker):
        def append(self, topic: str, records: Sequence[OutRecord]) -> list[Position]:
            from pinpipe.errors import BrokerUnavailableError

            msg = "cannot reach the broker"
            raise BrokerUnavailableError(msg, hint="start it")

    broker = Down()
    broker.create_topic("down.pin")
    async with client_for(topics=broker, allow_5xx=True) as client:
        response = await produce(client, "down.pin", [1])
        kafka_error(response, 503, 50301)
        assert response.headers["retry-after"] == "1"
        put = await client.put("/streams/down.pin/record", json={"Data": 1, "PartitionKey": "k"})
        kinesis_error(put, 503, "ServiceUnavailable")


async def test_one_bad_request_does_not_fail_its_batch() -> None:
    from pinpipe.errors import InvalidPartitionError

    class Shrunk(InMemoryBroker):
        """The topic lost partition 1 after the API validated the request (stale metadata)."""

        def append(self, topic: str, records: Sequence[OutRecord]) -> list[Position]:
            if any(r.partition == 1 for r in records):
                msg = "topic 't' has no partition 1"
                raise InvalidPartitionError(msg, hint="use 0..0")
            return super().append(topic, records)

    broker = Shrunk()
    broker.create_topic("t")
    writer = CoalescingWriter(broker, max_pending_records=100)
    written: dict[int, list[Position]] = {}
    failed: dict[int, Exception] = {}

    async def write(i: int) -> None:
        record = OutRecord(str(i).encode(), partition=1 if i == 3 else None)
        try:
            written[i] = (await writer.write("t", [record], None)).positions
        except InvalidPartitionError as exc:
            failed[i] = exc

    async with anyio.create_task_group() as tasks:
        for i in range(6):
            tasks.start_soon(write, i)
    assert list(failed) == [3]
    assert sorted(p[0].offset for p in written.values()) == [0, 1, 2, 3, 4]
    assert writer.pending == 0
    assert writer.stats.appends == 5  # the batch failed whole, then went one by one
    await writer.close()
