"""The AWS profiles in examples/: each loads and validates, holds no secret, and builds the
client configuration and the export target the settings describe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pinpipe.aws import AwsTarget
from pinpipe.broker.kafka_config import MskIamToken, client_config
from pinpipe.config import load_settings
from pinpipe.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SECRET = re.compile(r"(password|secret|token|api_keys)\s*=|token=[^$<]", re.IGNORECASE)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_example_loads_and_holds_no_secret(path: Path) -> None:
    settings = load_settings(path)
    assert settings.user_id == "1232252d77df"
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.lstrip().startswith("#"):
            assert not SECRET.search(line), f"{path.name}:{number}: {line}"


def test_the_aws_profile() -> None:
    settings = load_settings(EXAMPLES / "aws.toml")
    assert settings.broker_url.startswith("kafka://b-1.pinterestmskcluster.")
    assert settings.streams_url == "kinesis://us-east-1"
    assert settings.lake_url == "s3://user-1232252d77df-bucket"
    assert settings.engine == "spark" and settings.kinesis.on_demand
    config = client_config(settings.broker_url.removeprefix("kafka://"), settings.kafka)
    assert config["sasl.mechanism"] == "OAUTHBEARER"
    assert isinstance(config["oauth_cb"], MskIamToken)
    assert config["bootstrap.servers"].count(":9098") == 3
    target = AwsTarget.build(settings)
    assert target.bootstrap_servers == settings.broker_url.removeprefix("kafka://")
    assert (target.client_auth, target.region, target.bucket) == (
        "IAM",
        "us-east-1",
        "user-1232252d77df-bucket",
    )
    assert target.batch_notebook == "/Shared/pinpipe/pinpipe_batch"


def test_the_sasl_profile_takes_its_password_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = EXAMPLES / "msk-sasl.toml"
    with pytest.raises(ConfigError, match=r"kafka\.password"):
        settings = load_settings(path)
        client_config(settings.broker_url.removeprefix("kafka://"), settings.kafka)
    monkeypatch.setenv("PINPIPE_KAFKA__PASSWORD", "from-the-env")
    settings = load_settings(path)
    config = client_config(settings.broker_url.removeprefix("kafka://"), settings.kafka)
    assert (config["sasl.mechanism"], config["sasl.username"]) == ("SCRAM-SHA-512", "pinpipe")
    assert config["sasl.password"] == "from-the-env"
    assert "from-the-env" not in str(settings.display())
