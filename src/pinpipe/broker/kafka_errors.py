"""What librdkafka's errors mean for a pinpipe user: each becomes a pinpipe error that names the
topic, the cluster and the fix (an unreachable cluster is a retryable BrokerUnavailableError)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pinpipe.errors import (
    BackpressureError,
    BrokerError,
    BrokerUnavailableError,
    InvalidNameError,
    InvalidPartitionError,
    OffsetOutOfRangeError,
    PinpipeError,
    RecordTooLargeError,
    TopicExistsError,
    UnknownTopicError,
)

if TYPE_CHECKING:
    from confluent_kafka import KafkaError

# Errors that mean "the cluster cannot be reached", whatever the request was.
UNREACHABLE_ERRORS = frozenset(
    "_TRANSPORT _ALL_BROKERS_DOWN _RESOLVE _TIMED_OUT _MSG_TIMED_OUT _WAIT_COORD REQUEST_TIMED_OUT"
    " NETWORK_EXCEPTION BROKER_NOT_AVAILABLE LEADER_NOT_AVAILABLE NOT_LEADER_FOR_PARTITION"
    " COORDINATOR_NOT_AVAILABLE NOT_COORDINATOR COORDINATOR_LOAD_IN_PROGRESS NOT_ENOUGH_REPLICAS"
    " NOT_ENOUGH_REPLICAS_AFTER_APPEND".split()
)
# Reported through error_cb when no broker can be reached: fail fast instead of waiting.
DOWN_ERRORS = frozenset("_ALL_BROKERS_DOWN _RESOLVE _AUTHENTICATION _SSL".split())
AUTH_ERRORS = frozenset(
    "_AUTHENTICATION _SSL SASL_AUTHENTICATION_FAILED TOPIC_AUTHORIZATION_FAILED"
    " GROUP_AUTHORIZATION_FAILED CLUSTER_AUTHORIZATION_FAILED".split()
)


def unavailable(bootstrap: str, reason: str, down: KafkaError | None) -> BrokerUnavailableError:
    """The cluster cannot be reached; ``down`` is the last all-brokers-down report, if any."""
    detail = f"{reason}; {down.str()}" if down is not None else reason
    msg = f"cannot reach Kafka at {bootstrap}: {detail}"
    return BrokerUnavailableError(
        msg, hint="check broker_url and that the cluster is up (and kafka.security)"
    )


def kafka_error(
    error: KafkaError, *, topic: str | None, bootstrap: str, down: KafkaError | None
) -> PinpipeError:
    """The pinpipe error for a librdkafka error of a call on ``topic``."""
    name = error.name()
    where = f"topic {topic!r} on " if topic else ""
    if name == "TOPIC_ALREADY_EXISTS" and topic:
        return TopicExistsError(topic)
    if name in ("UNKNOWN_TOPIC_OR_PART", "_UNKNOWN_TOPIC") and topic:
        return UnknownTopicError(topic)
    if name in ("INVALID_TOPIC_EXCEPTION", "TOPIC_EXCEPTION"):
        return InvalidNameError(str(error.str()), hint="Kafka's topic naming rules apply")
    if name in ("_UNKNOWN_PARTITION", "INVALID_PARTITIONS"):
        msg = f"{where}Kafka: {error.str()}"
        return InvalidPartitionError(msg, hint="check the topic's partition count")
    if name in ("MSG_SIZE_TOO_LARGE", "_MSG_SIZE_TOO_LARGE", "RECORD_LIST_TOO_LARGE"):
        msg = f"a record is too large for {where}Kafka: {error.str()}"
        return RecordTooLargeError(msg, hint="keep records under message.max.bytes (1 MB)")
    if name == "_QUEUE_FULL":
        msg = f"the producer queue for {bootstrap} is full"
        return BackpressureError(msg, retry_after=1.0)
    if name == "OFFSET_OUT_OF_RANGE":
        msg = f"{where}Kafka: {error.str()}"
        return OffsetOutOfRangeError(msg, hint="read from the start or the end offset")
    if name in AUTH_ERRORS:
        msg = f"Kafka at {bootstrap} refused access: {error.str()}"
        return BrokerError(msg, hint="check kafka.security and its credentials or IAM policy")
    if name in UNREACHABLE_ERRORS:
        return unavailable(bootstrap, str(error.str()), down)
    msg = f"{where}Kafka at {bootstrap} failed: {name}: {error.str()}"
    return BrokerError(msg, hint="see the Kafka error code")
