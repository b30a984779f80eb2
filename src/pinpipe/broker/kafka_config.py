"""The librdkafka client properties pinpipe builds from ``KafkaSettings``: address, security
(plaintext, SSL, SASL/SSL, MSK IAM over SASL OAUTHBEARER) and the passthrough properties."""

from __future__ import annotations

from typing import Any

from pinpipe.config import KafkaSettings
from pinpipe.errors import ConfigError, MissingExtraError

IAM_FEATURE = "MSK IAM authentication"

PRODUCER_CONFIG: dict[str, Any] = {
    "enable.idempotence": True,  # no duplicates or reordering on retries; implies acks=all
    "acks": "all",
    "partitioner": "murmur2_random",  # the Java client's partitioner for keyed records
    "linger.ms": 5,  # batches concurrent appends; a call's own flush() does not wait for it
    "message.timeout.ms": 30_000,
}
CONSUMER_CONFIG: dict[str, Any] = {
    "enable.auto.commit": False,
    "enable.auto.offset.store": False,
    "fetch.wait.max.ms": 10,  # a reader at the end of a partition is not kept waiting long
    "queued.max.messages.kbytes": 16_384,
}

#: pinpipe's own key in ``KafkaSettings.client_config`` (removed before librdkafka sees it):
#: the replication factor of topics pinpipe creates. Default: the cluster's
#: ``default.replication.factor`` (1 on a one-broker cluster, usually 3 on MSK).
REPLICATION_FACTOR_KEY = "replication.factor"


class MskIamToken:
    """``oauth_cb`` for MSK IAM: a fresh signed token from the AWS credential chain.

    With ``role_arn`` the role is assumed first (like ``awsRoleArn`` in the course's
    ``client.properties``). Returns ``(token, expiry in seconds since the epoch)``, the form
    confluent-kafka expects; the signer gives milliseconds.
    """

    def __init__(self, region: str, role_arn: str | None = None) -> None:
        self.region = region
        self.role_arn = role_arn

    def __call__(self, _oauthbearer_config: str | None = None) -> tuple[str, float]:
        try:
            from aws_msk_iam_sasl_signer import (  # type: ignore[import-untyped]  # no stubs
                MSKAuthTokenProvider,
            )
        except ImportError as exc:
            raise MissingExtraError(IAM_FEATURE, "kafka", "aws_msk_iam_sasl_signer") from exc
        if self.role_arn:
            token, expiry_ms = MSKAuthTokenProvider.generate_auth_token_from_role_arn(
                self.region, self.role_arn
            )
        else:
            token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(self.region)
        return str(token), float(expiry_ms) / 1000

    def __repr__(self) -> str:
        return f"MskIamToken(region={self.region!r}, role_arn={self.role_arn!r})"


def client_config(bootstrap: str, settings: KafkaSettings | None = None) -> dict[str, Any]:
    """The librdkafka properties shared by every client: address, security, passthrough.

    The SASL password goes into this dict unmasked (librdkafka needs it); never log the dict.
    ``settings.client_config`` is applied last and wins, except pinpipe's own
    ``replication.factor`` key, which is not a client property and is left out.
    """
    settings = settings or KafkaSettings()
    config: dict[str, Any] = {"bootstrap.servers": bootstrap, "client.id": "pinpipe"}
    if settings.security == "plaintext":
        config["security.protocol"] = "PLAINTEXT"
    elif settings.security == "ssl":
        config["security.protocol"] = "SSL"
    elif settings.security == "sasl-ssl":
        if not settings.username or settings.password is None:
            msg = "kafka.security = 'sasl-ssl' needs kafka.username and kafka.password"
            raise ConfigError(
                msg, hint="set PINPIPE_KAFKA__USERNAME and PINPIPE_KAFKA__PASSWORD (or [kafka])"
            )
        config |= {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": settings.sasl_mechanism,
            "sasl.username": settings.username,
            "sasl.password": settings.password.get_secret_value(),
        }
    else:  # msk-iam: the IAM signer's token over SASL OAUTHBEARER (port 9098 on MSK)
        config |= {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "OAUTHBEARER",
            "oauth_cb": MskIamToken(settings.region, settings.role_arn),
        }
    if settings.ca_location:
        config["ssl.ca.location"] = settings.ca_location
    config |= {k: v for k, v in settings.client_config.items() if k != REPLICATION_FACTOR_KEY}
    return config
