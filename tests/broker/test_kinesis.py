"""The Kinesis broker against a real moto server on 127.0.0.1 (no SDK mocking)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest

from pinpipe.broker import Broker, OutRecord
from pinpipe.broker.kinesis import KinesisBroker
from pinpipe.broker.kinesis_put import UNKEYED_PARTITION_KEY, put_all
from pinpipe.config import KinesisSettings
from pinpipe.errors import (
    BackpressureError,
    BrokerError,
    BrokerUnavailableError,
    InvalidPartitionError,
    RecordTooLargeError,
    UnknownTopicError,
)
from pinpipe.naming import Names
from pinpipe.records import dumps
from tests.broker.contract import BrokerContract
from tests.moto_server import fake_aws_credentials
from tests.servers import free_port

if TYPE_CHECKING:
    from mypy_boto3_kinesis.type_defs import PutRecordsRequestEntryTypeDef

pytestmark = [pytest.mark.integration, pytest.mark.kinesis]

REGION = "us-east-1"
#: Row 10794 of pinterest_data, the README example row (SPEC §1.5).
PIN_10794 = {
    "index": 10794,
    "unique_id": "c4bd2577-a7bb-4409-bb7a-17d5ed7e1cf1",
    "title": "TireBuyer",
    "description": "Nissan GT-R. Sick.",
    "poster_name": "Ray Uyemura",
    "follower_count": "437",
    "tag_list": "Lowrider,Old Vintage Cars,Antique Cars,Austin Martin,Nissan Gtr Black,Jaguar,"
    "1959 Cadillac,Cadillac Ct6,Old School Cars",
    "is_image_or_video": "image",
    "image_src": "https://i.pinimg.com/originals/0d/29/9f/0d299f3df020395aa7ce8387f40fbeed.jpg",
    "downloaded": 1,
    "save_location": "Local save in /data/vehicles",
    "category": "vehicles",
}


@pytest.fixture(scope="module")
def endpoint(moto_endpoint: str) -> str:
    return moto_endpoint


@pytest.fixture(scope="module")
def kinesis(endpoint: str) -> Iterator[KinesisBroker]:
    with KinesisBroker(REGION, KinesisSettings(endpoint_url=endpoint)) as broker:
        yield broker


@pytest.fixture
def raw(endpoint: str):
    """A plain boto3 client on the same server, to look at what Kinesis holds."""
    client = boto3.client("kinesis", region_name=REGION, endpoint_url=endpoint)
    yield client
    client.close()


def unique(prefix: str = "k") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class TestKinesisBroker(BrokerContract):
    kafka_partitioning = False  # Kinesis hashes partition keys with MD5
    checks_read_range = False  # past the end reads as "not written yet"

    @pytest.fixture
    def broker(self, kinesis: KinesisBroker) -> Broker:
        return kinesis


# -- the course's shape --------------------------------------------------------------------


def test_course_put_shape_reads_back_byte_exact(kinesis: KinesisBroker, raw) -> None:
    stream = Names(uuid.uuid4().hex[:12]).stream("pin")  # streaming-<uid>-pin
    kinesis.create_topic(stream)
    data = dumps(PIN_10794)  # what API Gateway's $input.json('$.Data') sends: compact JSON
    assert data.startswith(b'{"index":10794,"unique_id":') and b", " not in data
    keyed, unkeyed = kinesis.append(stream, [OutRecord(data, key=b"partition-1"), OutRecord(data)])
    got = kinesis.read(stream, 0, 0)
    assert [(r.key, r.value) for r in got] == [(b"partition-1", data)] * 2
    assert json.loads(got[0].value) == PIN_10794
    assert [r.offset for r in got] == [keyed.offset, unkeyed.offset]
    # What Kinesis itself holds, seen by a plain client: the JSON bytes and the course's key.
    iterator = raw.get_shard_iterator(
        StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    held = raw.get_records(ShardIterator=iterator)["Records"]
    assert [(r["PartitionKey"], r["Data"]) for r in held] == [(UNKEYED_PARTITION_KEY, data)] * 2


def test_sequence_numbers_are_decimal_strings_of_the_offsets(kinesis: KinesisBroker, raw) -> None:
    stream = unique()
    kinesis.create_topic(stream)
    positions = kinesis.append(stream, [OutRecord(b"%d" % i) for i in range(5)])
    iterator = raw.get_shard_iterator(
        StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    held = raw.get_records(ShardIterator=iterator)["Records"]
    assert [r["SequenceNumber"] for r in held] == [str(p.offset) for p in positions]
    assert [int(r["SequenceNumber"]) for r in held] == [p.offset for p in positions]
    # AWS-sized sequence numbers (56 digits) survive the int round trip exactly.
    aws = "49590338271490256608559692538361571095921575989136588898"
    assert str(int(aws)) == aws


def test_read_resumes_from_last_plus_one_without_repeats_or_gaps(
    kinesis: KinesisBroker,
) -> None:
    stream = unique()
    kinesis.create_topic(stream, partitions=3)
    records = [OutRecord(b"v%d" % i, key=b"user-%d" % (i % 17)) for i in range(900)]
    positions = kinesis.append(stream, records[:400]) + kinesis.append(stream, records[400:])
    for partition in range(3):
        expected = [
            (p.offset, r.value)
            for r, p in zip(records, positions, strict=True)
            if p.partition == partition
        ]
        got, offset = [], kinesis.describe_topic(stream).start_offsets[partition]
        while batch := kinesis.read(stream, partition, offset, max_records=37):
            assert len(batch) <= 37
            got += batch
            offset = batch[-1].offset + 1
        assert [(r.offset, r.value) for r in got] == expected
        assert kinesis.read(stream, partition, offset) == []


def test_end_offset_is_where_new_records_appear(kinesis: KinesisBroker) -> None:
    stream = unique()
    kinesis.create_topic(stream)
    kinesis.append(stream, [OutRecord(b"old")])
    end = kinesis.end_offsets(stream)[0]
    assert kinesis.read(stream, 0, end) == []
    [pos] = kinesis.append(stream, [OutRecord(b"new")])
    assert pos.offset >= end
    assert [r.value for r in kinesis.read(stream, 0, end)] == [b"new"]
    assert kinesis.end_offsets(stream)[0] > pos.offset


# -- append limits ---------------------------------------------------------------------------


def test_append_splits_requests_at_500_records_and_5_mib(kinesis: KinesisBroker) -> None:
    stream = unique()
    kinesis.create_topic(stream)
    many = [OutRecord(b"%d" % i) for i in range(1_234)]  # the server rejects > 500 per call
    big = [OutRecord(bytes([65 + i]) * 900_000) for i in range(7)]  # 6.3 MB > 5 MiB per call
    positions = kinesis.append(stream, many) + kinesis.append(stream, big)
    assert len(positions) == 1_241
    assert kinesis.describe_topic(stream).records == 1_241
    tail = kinesis.read(stream, 0, positions[1_234].offset, max_records=10)
    assert [r.value for r in tail] == [r.value for r in big]


def test_append_checks_every_record_before_writing(kinesis: KinesisBroker) -> None:
    stream = unique()
    kinesis.create_topic(stream, partitions=2)
    bad_batches = {
        InvalidPartitionError: [OutRecord(b"ok"), OutRecord(b"x", partition=2)],
        RecordTooLargeError: [OutRecord(b"ok"), OutRecord(b"x" * 2**20)],
        BrokerError: [OutRecord(b"ok"), OutRecord(b"x", key=b"\xff\xfe")],
    }
    for error, batch in bad_batches.items():
        with pytest.raises(error, match=stream):
            kinesis.append(stream, batch)
    with pytest.raises(BrokerError, match="256"):
        kinesis.append(stream, [OutRecord(b"x", key=b"k" * 257)])
    assert kinesis.describe_topic(stream).records == 0


def test_explicit_partition_lands_on_that_shard(kinesis: KinesisBroker) -> None:
    stream = unique()
    kinesis.create_topic(stream, partitions=4)
    positions = kinesis.append(stream, [OutRecord(b"%d" % p, partition=p) for p in range(4)])
    assert [p.partition for p in positions] == [0, 1, 2, 3]
    for p in range(4):
        assert [r.value for r in kinesis.read(stream, p, 0)] == [b"%d" % p]


# -- streams ---------------------------------------------------------------------------------


def test_shard_count_and_on_demand_from_settings(endpoint: str) -> None:
    on_demand = KinesisSettings(endpoint_url=endpoint, on_demand=True)
    provisioned = KinesisSettings(endpoint_url=endpoint, shard_count=3)
    with (
        KinesisBroker(REGION, on_demand) as od,
        KinesisBroker(REGION, provisioned) as prov,
    ):
        a, b, c = unique(), unique(), unique()
        od.create_topic(a)  # on-demand: Kinesis picks the shards (moto: 4)
        od.create_topic(b, partitions=2)  # an explicit count means provisioned
        prov.create_topic(c)
        assert od.describe_topic(a).partitions == 4
        assert od.describe_topic(b).partitions == 2
        assert prov.describe_topic(c).partitions == 3


def test_list_topics_sorted_and_complete(kinesis: KinesisBroker) -> None:
    names = sorted(unique("list") for _ in range(12))
    for name in reversed(names):
        kinesis.create_topic(name)
    listed = kinesis.list_topics()
    assert listed == sorted(listed)
    assert set(names) <= set(listed)


def test_consumer_groups_are_not_a_kinesis_feature(kinesis: KinesisBroker) -> None:
    stream = unique()
    kinesis.create_topic(stream)
    for call in (
        lambda: kinesis.commit("students", stream, {0: 1}),
        lambda: kinesis.committed("students", stream),
        lambda: kinesis.lag("students", stream),
    ):
        with pytest.raises(BrokerError, match="students") as info:
            call()
        assert "Delta table" in str(info.value)


def test_read_unknown_partition_and_deleted_stream(kinesis: KinesisBroker) -> None:
    stream = unique()
    kinesis.create_topic(stream, partitions=2)
    with pytest.raises(InvalidPartitionError, match=r"0\.\.1"):
        kinesis.read(stream, 2, 0)
    kinesis.delete_topic(stream)
    with pytest.raises(UnknownTopicError):
        kinesis.read(stream, 0, 0)
    with pytest.raises(UnknownTopicError):
        kinesis.append(stream, [OutRecord(b"x")])


def test_unreachable_endpoint_fails_fast() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    with (
        fake_aws_credentials(),
        KinesisBroker(
            REGION, KinesisSettings(endpoint_url=url), connect_timeout=1, max_attempts=1
        ) as broker,
    ):
        with pytest.raises(BrokerUnavailableError, match=url):
            broker.list_topics()
        with pytest.raises(BrokerUnavailableError, match="some-stream"):
            broker.append("some-stream", [OutRecord(b"x")])
    assert time.monotonic() - started < 5


def test_missing_credentials_say_how_to_set_them(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    with KinesisBroker(REGION, KinesisSettings(endpoint_url=endpoint)) as broker:
        with pytest.raises(BrokerError, match="credentials") as info:
            broker.list_topics()
    assert "AWS_PROFILE" in str(info.value)


# -- retrying failed PutRecords entries (our own boundary, a fake `send`) -------------------


def test_put_all_resends_only_failed_entries_in_input_order() -> None:
    entries: list[PutRecordsRequestEntryTypeDef] = [
        {"Data": b"%d" % i, "PartitionKey": "k"} for i in range(5)
    ]
    calls: list[list[bytes]] = []
    sequence = iter(range(100, 200))

    def send(batch):
        calls.append([e["Data"] for e in batch])
        throttled = {b"1", b"3"} if len(calls) < 3 else set()
        return [
            {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow down"}
            if e["Data"] in throttled
            else {"ShardId": "shardId-000000000000", "SequenceNumber": str(next(sequence))}
            for e in batch
        ]

    sleeps: list[float] = []
    result = put_all(send, entries, stream="s", sleep=sleeps.append)
    assert calls == [[b"0", b"1", b"2", b"3", b"4"], [b"1", b"3"], [b"1", b"3"]]
    assert [seq for _, seq in result] == [100, 103, 101, 104, 102]
    assert len(sleeps) == 2 and sleeps[0] < sleeps[1]


def test_put_all_gives_up_with_backpressure_after_the_others_landed() -> None:
    entries: list[PutRecordsRequestEntryTypeDef] = [
        {"Data": b"a", "PartitionKey": "k"},
        {"Data": b"b", "PartitionKey": "k"},
    ]

    def send(batch):
        return [
            {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow down"}
            if e["Data"] == b"b"
            else {"ShardId": "shardId-000000000000", "SequenceNumber": "1"}
            for e in batch
        ]

    sleeps: list[float] = []
    with pytest.raises(BackpressureError, match="1 of 2 records") as info:
        put_all(send, entries, stream="s", attempts=4, sleep=sleeps.append)
    assert info.value.retry_after > 0 and len(sleeps) == 3
    assert "1 were written" in str(info.value)


def test_put_all_kms_errors_are_terminal() -> None:
    def send(batch):
        return [{"ErrorCode": "KMSAccessDeniedException", "ErrorMessage": "no"} for _ in batch]

    with pytest.raises(BrokerError, match="KMSAccessDeniedException"):
        put_all(send, [{"Data": b"a", "PartitionKey": "k"}], stream="s", sleep=lambda _: None)
