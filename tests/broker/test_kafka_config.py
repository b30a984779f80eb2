"""The exact librdkafka configuration pinpipe hands confluent-kafka for each ``kafka.security``,
and the MSK IAM token callback with the real ``aws_msk_iam_sasl_signer`` (it signs locally with
the credentials in the environment; the role variant assumes the role on moto server's STS).

librdkafka itself then checks each dict: it refuses unknown properties and bad values when a
client is created, and for MSK IAM it calls ``oauth_cb`` and takes the token it returns.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import certifi
import pytest
from pydantic import SecretStr

from pinpipe.broker.kafka_config import MskIamToken, client_config
from pinpipe.config import KafkaSettings
from pinpipe.errors import ConfigError
from tests.moto_server import fake_aws_credentials
from tests.servers import free_port

BASE = {"bootstrap.servers": "b-1:9092,b-2:9092", "client.id": "pinpipe"}


@pytest.fixture
def aws_env() -> Iterator[None]:
    with fake_aws_credentials():
        yield


def decode_token(token: str) -> tuple[str, dict[str, str]]:
    """The signer's token: a base64url (unpadded) presigned URL; returns (host, query)."""
    assert "=" not in token and "+" not in token and "/" not in token
    url = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.path == "/"
    return parts.netloc, {k: v[0] for k, v in parse_qs(parts.query).items()}


# -- the dict per security mode ----------------------------------------------------------------


def test_plaintext() -> None:
    assert client_config("b-1:9092,b-2:9092") == BASE | {"security.protocol": "PLAINTEXT"}


def test_ssl() -> None:
    assert client_config("b-1:9092,b-2:9092", KafkaSettings(security="ssl")) == BASE | {
        "security.protocol": "SSL"
    }
    with_ca = client_config(
        "b-1:9092,b-2:9092", KafkaSettings(security="ssl", ca_location="/etc/ca.pem")
    )
    assert with_ca == BASE | {"security.protocol": "SSL", "ssl.ca.location": "/etc/ca.pem"}


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_ssl(mechanism: Any) -> None:
    settings = KafkaSettings(
        security="sasl-ssl",
        sasl_mechanism=mechanism,
        username="pinpipe",
        password=SecretStr("s3cret"),
        ca_location="/etc/ca.pem",
    )
    assert client_config("b-1:9092,b-2:9092", settings) == BASE | {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": mechanism,
        "sasl.username": "pinpipe",
        "sasl.password": "s3cret",
        "ssl.ca.location": "/etc/ca.pem",
    }


def test_msk_iam() -> None:
    settings = KafkaSettings(
        security="msk-iam", region="eu-west-1", role_arn="arn:aws:iam::123456789012:role/r"
    )
    config = client_config("b-1:9092,b-2:9092", settings)
    token = config.pop("oauth_cb")
    assert config == BASE | {"security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER"}
    assert isinstance(token, MskIamToken)
    assert (token.region, token.role_arn) == ("eu-west-1", "arn:aws:iam::123456789012:role/r")


def test_passthrough_wins_and_replication_factor_is_pinpipes() -> None:
    settings = KafkaSettings(
        security="msk-iam", client_config={"sasl.mechanism": "X", "replication.factor": "3"}
    )
    config = client_config("b:9098", settings)
    assert config["sasl.mechanism"] == "X" and "replication.factor" not in config


@pytest.mark.parametrize(
    ("username", "password"), [(None, None), ("pinpipe", None), (None, SecretStr("s3cret"))]
)
def test_sasl_ssl_needs_username_and_password(
    username: str | None, password: SecretStr | None
) -> None:
    settings = KafkaSettings(security="sasl-ssl", username=username, password=password)
    with pytest.raises(ConfigError) as caught:
        client_config("b:9096", settings)
    assert "kafka.username and kafka.password" in caught.value.message
    assert "PINPIPE_KAFKA__PASSWORD" in str(caught.value.hint)


def test_password_is_never_in_the_settings_repr() -> None:
    settings = KafkaSettings(security="sasl-ssl", username="u", password=SecretStr("s3cret"))
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings.model_dump())


# -- the MSK IAM token, signed for real ----------------------------------------------------------


@pytest.mark.usefixtures("aws_env")
def test_msk_iam_token_from_the_credential_chain() -> None:
    before = time.time()
    token, expiry = MskIamToken("eu-west-1")(None)
    assert isinstance(token, str) and isinstance(expiry, float)
    assert before + 890 < expiry < time.time() + 910  # seconds, not the signer's milliseconds
    host, query = decode_token(token)
    assert host == "kafka.eu-west-1.amazonaws.com"
    assert query["Action"] == "kafka-cluster:Connect"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    key, _day, region, service, request = query["X-Amz-Credential"].split("/")
    assert (key, region, service, request) == (
        "testing",
        "eu-west-1",
        "kafka-cluster",
        "aws4_request",
    )
    assert query["X-Amz-Security-Token"] == "testing"
    assert query["X-Amz-Expires"] == "900"
    assert len(query["X-Amz-Signature"]) == 64
    assert query["User-Agent"].startswith("aws-msk-iam-sasl-signer-python/")


@pytest.mark.integration
@pytest.mark.aws
def test_msk_iam_token_assumes_the_role(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``kafka.role_arn`` the signer first assumes the role (STS, here moto server's), like
    ``awsRoleArn`` in the course's client.properties: the token carries the role's session."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_endpoint)
    role = "arn:aws:iam::123456789012:role/1232252d77df-ec2-access-role"
    token, _expiry = MskIamToken("us-east-1", role)("")
    _host, query = decode_token(token)
    key = query["X-Amz-Credential"].split("/")[0]
    assert key != "testing" and key.startswith("ASIA")  # temporary credentials of the role
    assert query["X-Amz-Security-Token"] not in ("", "testing")


# -- librdkafka takes each dict ----------------------------------------------------------------


def closed_bootstrap() -> str:
    return f"127.0.0.1:{free_port()}"


@pytest.mark.parametrize(
    "settings",
    [
        KafkaSettings(),
        KafkaSettings(security="ssl", ca_location=certifi.where()),
        KafkaSettings(security="sasl-ssl", username="u", password=SecretStr("p")),
        KafkaSettings(
            security="sasl-ssl", sasl_mechanism="PLAIN", username="u", password=SecretStr("p")
        ),
    ],
    ids=["plaintext", "ssl", "scram", "plain"],
)
def test_librdkafka_accepts_the_config(settings: KafkaSettings) -> None:
    from confluent_kafka import Producer

    producer = Producer(client_config(closed_bootstrap(), settings) | {"logger": _Quiet()})
    producer.flush(0)


@pytest.mark.usefixtures("aws_env")
def test_librdkafka_calls_the_msk_iam_token_callback() -> None:
    from confluent_kafka import Producer

    config = client_config(closed_bootstrap(), KafkaSettings(security="msk-iam"))
    signer = config["oauth_cb"]
    tokens: list[tuple[str, float]] = []

    def recording(oauthbearer_config: str | None) -> tuple[str, float]:
        tokens.append(signer(oauthbearer_config))
        return tokens[-1]

    errors: list[Any] = []
    config |= {"oauth_cb": recording, "error_cb": errors.append, "logger": _Quiet()}
    producer = Producer(config)
    deadline = time.monotonic() + 5
    while not tokens and time.monotonic() < deadline:
        producer.poll(0.1)
    assert len(tokens) == 1
    host, _query = decode_token(tokens[0][0])
    assert host == "kafka.us-east-1.amazonaws.com"
    # Only the closed port is reported; a token librdkafka could not use would be an error too.
    assert all(e.name() in ("_TRANSPORT", "_ALL_BROKERS_DOWN") for e in errors), errors


class _Quiet:
    """A logger for librdkafka that drops its connection-refused lines."""

    def log(self, *_args: Any, **_kwargs: Any) -> None:
        return None
