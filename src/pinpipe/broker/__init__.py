"""The log behind topics and streams: a contract and its backends, chosen by URL."""

from __future__ import annotations

from pinpipe.broker.base import (
    Broker,
    IdempotentAppender,
    KeyedSpan,
    LogRecord,
    OutRecord,
    Position,
    TopicInfo,
    validate_group_name,
    validate_stream_name,
    validate_topic_name,
)
from pinpipe.broker.factory import open_broker
from pinpipe.broker.memory import InMemoryBroker

__all__ = [
    "Broker",
    "IdempotentAppender",
    "InMemoryBroker",
    "KeyedSpan",
    "LogRecord",
    "OutRecord",
    "Position",
    "TopicInfo",
    "open_broker",
    "validate_group_name",
    "validate_stream_name",
    "validate_topic_name",
]
