"""KafkaBroker against librdkafka's mock Kafka cluster (real protocol over TCP on 127.0.0.1).

The cluster runs in a child process (tests/kafka_mock.py) for the whole module; every test uses
fresh topic and group names, so no test sees another's records. The ``client_config`` tests at
the bottom need no cluster.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from pinpipe.broker import Broker, OutRecord
from pinpipe.broker.kafka import KafkaBroker
from pinpipe.broker.kafka_config import MskIamToken, client_config
from pinpipe.broker.partitioner import partition_for_key
from pinpipe.config import KafkaSettings
from pinpipe.errors import (
    BrokerUnavailableError,
    ConfigError,
    InvalidPartitionError,
    MissingExtraError,
    OffsetOutOfRangeError,
    RecordTooLargeError,
    UnknownTopicError,
)
from tests.broker.contract import BrokerContract
from tests.kafka_mock import kafka_mock_cluster

# Short timeouts, so a failure shows in seconds rather than in librdkafka's minutes. KafkaBroker
# never joins a group (it only commits and fetches offsets), so no session timeout applies.
FAST = {"socket.connection.setup.timeout.ms": "3000", "message.timeout.ms": "10000"}


def _broker(bootstrap: str) -> KafkaBroker:
    return KafkaBroker(bootstrap, KafkaSettings(client_config=FAST), timeout=10.0)


@pytest.fixture(scope="module")
def shared_broker(kafka_bootstrap: str) -> Iterator[KafkaBroker]:
    """One instance for the contract tests: an idempotent producer takes ~0.5 s to get its
    producer id (librdkafka retries the first InitProducerId after 500 ms), once per instance."""
    with _broker(kafka_bootstrap) as broker:
        yield broker


@pytest.mark.integration
@pytest.mark.kafka
class TestKafkaBroker(BrokerContract):
    @pytest.fixture
    def broker(self, shared_broker: KafkaBroker) -> Broker:
        return shared_broker

    def test_read_past_end(self, broker: Broker, topic: str) -> None:
        broker.append(topic, [OutRecord(b"a")])
        with pytest.raises(OffsetOutOfRangeError):
            broker.read(topic, 0, 5)

    def test_read_bad_partition(self, broker: Broker, topic: str) -> None:
        with pytest.raises(InvalidPartitionError):
            broker.read(topic, 3, 0)

    def test_commit_unknown_topic(self, broker: Broker, name: str) -> None:
        with pytest.raises(UnknownTopicError):
            broker.commit("students", name, {0: 1})

    def test_too_large_record_writes_nothing(self, broker: Broker, topic: str) -> None:
        with pytest.raises(RecordTooLargeError):
            broker.append(topic, [OutRecord(b"ok"), OutRecord(b"x" * 1_000_001)])
        assert broker.describe_topic(topic).records == 0

    def test_sequential_reads_continue(self, broker: Broker, topic: str) -> None:
        broker.append(topic, [OutRecord(str(i).encode()) for i in range(30)])
        got, offset = [], 0
        while batch := broker.read(topic, 0, offset, max_records=7):
            got += [r.value for r in batch]
            offset = batch[-1].offset + 1
        assert got == [str(i).encode() for i in range(30)]
        broker.append(topic, [OutRecord(b"late")])
        assert [r.value for r in broker.read(topic, 0, offset)] == [b"late"]


@pytest.mark.integration
@pytest.mark.kafka
def test_group_offsets_are_shared_between_instances(kafka_bootstrap: str) -> None:
    """A producer in this process, a commit by one instance, read back by another."""
    from confluent_kafka import Producer

    topic, group = f"t-{uuid.uuid4().hex[:12]}", f"g-{uuid.uuid4().hex[:8]}"
    with _broker(kafka_bootstrap) as first:
        first.create_topic(topic, partitions=2)
        producer = Producer({"bootstrap.servers": kafka_bootstrap, "partitioner": "murmur2_random"})
        for i in range(10):
            producer.produce(topic, f"v{i}".encode(), f"k{i}".encode())
        assert producer.flush(10) == 0
        ends = first.end_offsets(topic)
        assert sum(ends.values()) == 10
        assert ends == {
            p: sum(partition_for_key(f"k{i}".encode(), 2) == p for i in range(10)) for p in (0, 1)
        }
        first.commit(group, topic, {0: ends[0]})
    with _broker(kafka_bootstrap) as second:
        assert second.committed(group, topic) == {0: ends[0]}
        assert second.lag(group, topic) == {0: 0, 1: ends[1]}
        records = second.read(topic, 1, 0, max_records=100)
        assert {r.key for r in records} == {
            f"k{i}".encode() for i in range(10) if partition_for_key(f"k{i}".encode(), 2) == 1
        }


@pytest.mark.integration
@pytest.mark.kafka
def test_three_broker_cluster() -> None:
    """Partitions led by different brokers; the default replication factor is the cluster's."""
    with kafka_mock_cluster(brokers=3) as bootstrap, _broker(bootstrap) as broker:
        assert len(bootstrap.split(",")) == 3
        broker.create_topic("spread", partitions=6)
        keys = [f"user-{i}".encode() for i in range(60)]
        positions = broker.append("spread", [OutRecord(b"x", key=k) for k in keys])
        assert [p.partition for p in positions] == [partition_for_key(k, 6) for k in keys]
        info = broker.describe_topic("spread")
        assert (info.partitions, info.records) == (6, 60)
        for p in range(6):
            got = broker.read("spread", p, 0, max_records=100)
            assert [r.key for r in got] == [k for k in keys if partition_for_key(k, 6) == p]


@pytest.mark.integration
@pytest.mark.kafka
def test_unreachable_cluster_fails_fast() -> None:
    with socket.socket() as sock:  # a port nothing listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
        with _broker(address) as broker:
            started = time.monotonic()
            with pytest.raises(BrokerUnavailableError, match=address):
                broker.list_topics()
            with pytest.raises(BrokerUnavailableError, match=address):
                broker.append("t", [OutRecord(b"x")])
            assert time.monotonic() - started < 5


# -- no cluster needed -----------------------------------------------------------------------


@pytest.mark.parametrize("module", ["confluent_kafka", "aws_msk_iam_sasl_signer"])
def test_missing_extra(monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == module else real(name, *a)
    )
    with pytest.raises(MissingExtraError, match=module) as caught:
        KafkaBroker("b:9098", KafkaSettings(security="msk-iam"))
    assert caught.value.extra == "kafka"


def test_config_plaintext() -> None:
    config = client_config("b1:9092,b2:9092")
    assert config["bootstrap.servers"] == "b1:9092,b2:9092"
    assert config["security.protocol"] == "PLAINTEXT"
    assert not any(k.startswith("sasl.") for k in config)


def test_config_ssl_with_ca() -> None:
    config = client_config("b:9094", KafkaSettings(security="ssl", ca_location="/etc/ca.pem"))
    assert config["security.protocol"] == "SSL"
    assert config["ssl.ca.location"] == "/etc/ca.pem"


def test_config_sasl_ssl_passes_the_password_unmasked() -> None:
    settings = KafkaSettings(
        security="sasl-ssl",
        sasl_mechanism="SCRAM-SHA-512",
        username="alice",
        password=SecretStr("s3cret"),
    )
    config = client_config("b:9096", settings)
    assert config["security.protocol"] == "SASL_SSL"
    assert config["sasl.mechanism"] == "SCRAM-SHA-512"
    assert (config["sasl.username"], config["sasl.password"]) == ("alice", "s3cret")
    assert "s3cret" not in repr(settings)


def test_config_sasl_ssl_needs_credentials() -> None:
    with pytest.raises(ConfigError, match=r"kafka\.username"):
        client_config("b:9096", KafkaSettings(security="sasl-ssl", username="alice"))


def test_config_msk_iam() -> None:
    settings = KafkaSettings(
        security="msk-iam", region="eu-west-2", role_arn="arn:aws:iam::1:role/ec2-access-role"
    )
    config = client_config("b-1.msk:9098", settings)
    assert config["security.protocol"] == "SASL_SSL"
    assert config["sasl.mechanism"] == "OAUTHBEARER"
    token = config["oauth_cb"]
    assert isinstance(token, MskIamToken) and callable(token)
    assert (token.region, token.role_arn) == ("eu-west-2", "arn:aws:iam::1:role/ec2-access-role")
    assert "sasl.password" not in config


def test_msk_iam_token_converts_expiry_to_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider  # type: ignore[import-untyped]

    calls = []

    def from_role(region: str, role_arn: str) -> tuple[str, int]:
        calls.append((region, role_arn))
        return "signed-token", 1_700_000_900_000

    monkeypatch.setattr(MSKAuthTokenProvider, "generate_auth_token_from_role_arn", from_role)
    monkeypatch.setattr(
        MSKAuthTokenProvider, "generate_auth_token", lambda region: ("plain", 1_000)
    )
    assert MskIamToken("us-east-1", "arn:r")("ignored") == ("signed-token", 1_700_000_900.0)
    assert calls == [("us-east-1", "arn:r")]
    assert MskIamToken("us-east-1")(None) == ("plain", 1.0)


def test_config_client_config_overrides_last() -> None:
    settings = KafkaSettings(
        security="ssl",
        client_config={
            "security.protocol": "SASL_SSL",
            "linger.ms": "20",
            "replication.factor": "3",
        },
    )
    config = client_config("b:9092", settings)
    assert config["security.protocol"] == "SASL_SSL"
    assert config["linger.ms"] == "20"
    assert "replication.factor" not in config  # pinpipe's own key, not a librdkafka property
