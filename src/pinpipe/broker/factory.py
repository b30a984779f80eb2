"""Opening the broker a URL names: ``embedded://PATH``, ``kafka://HOST:PORT[,…]``,
``kinesis://REGION``, ``memory://`` (tests)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pinpipe.broker.base import Broker
from pinpipe.config import Settings
from pinpipe.errors import ConfigError


def open_broker(url: str, settings: Settings) -> Broker:
    """The broker behind ``url`` (``settings.broker_url`` or ``settings.streams_url``)."""
    parts = urlsplit(url)
    if parts.scheme == "embedded":
        from pinpipe.broker.embedded import EmbeddedLog

        return EmbeddedLog(parts.netloc + parts.path, settings.embedded)
    if parts.scheme == "kafka":
        from pinpipe.broker.kafka import KafkaBroker

        return KafkaBroker(parts.netloc, settings.kafka)
    if parts.scheme == "kinesis":
        from pinpipe.broker.kinesis import KinesisBroker

        return KinesisBroker(parts.netloc or "us-east-1", settings.kinesis)
    if parts.scheme == "memory":
        from pinpipe.broker.memory import InMemoryBroker

        return InMemoryBroker()
    msg = f"broker URL {url!r} has an unknown scheme {parts.scheme!r}"
    raise ConfigError(msg, hint="use embedded://PATH, kafka://HOST:PORT or kinesis://REGION")
