"""What one running API holds: its brokers, their writers, metadata caches, consumers, metrics."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from typing import NoReturn

import anyio.to_thread
from starlette.requests import Request

from pinpipe.api.consumer_registry import ConsumerRegistry
from pinpipe.api.metrics import Metrics
from pinpipe.api.writer import CoalescingWriter
from pinpipe.broker.base import Broker
from pinpipe.broker.factory import open_broker
from pinpipe.config import Settings
from pinpipe.errors import BrokerUnavailableError, TopicExistsError, UnknownTopicError

METADATA_TTL_S = 2.0


@dataclass(frozen=True, slots=True)
class _Cached:
    partitions: int
    expires: float


class PartitionCache:
    """Partition counts of topics, cached for ``ttl`` seconds (one describe per miss)."""

    def __init__(self, broker: Broker, ttl: float = METADATA_TTL_S) -> None:
        self.broker = broker
        self.ttl = ttl
        self._cached: dict[str, _Cached] = {}
        self._loading: dict[str, asyncio.Future[int]] = {}

    async def partitions(self, topic: str, *, create: bool = False) -> int:
        """The topic's partition count; UnknownTopicError unless ``create`` makes it."""
        hit = self._cached.get(topic)
        if hit is not None and hit.expires > time.monotonic():
            return hit.partitions
        loading = self._loading.get(topic)
        if loading is not None:
            return await asyncio.shield(loading)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        future.add_done_callback(lambda f: None if f.cancelled() else f.exception())
        self._loading[topic] = future
        try:
            count = await anyio.to_thread.run_sync(self._describe, topic, create)
        except BaseException as exc:
            future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
            raise
        finally:
            del self._loading[topic]
        self._cached[topic] = _Cached(count, time.monotonic() + self.ttl)
        future.set_result(count)
        return count

    def _describe(self, topic: str, create: bool) -> int:
        try:
            return self.broker.describe_topic(topic).partitions
        except UnknownTopicError:
            if not create:
                raise
        try:
            self.broker.create_topic(topic)
        except TopicExistsError:
            pass
        return self.broker.describe_topic(topic).partitions

    def forget(self, topic: str) -> None:
        self._cached.pop(topic, None)


class ApiState:
    """The brokers (given, or opened from the settings' URLs) and everything built on them."""

    def __init__(self, settings: Settings, topics: Broker | None, streams: Broker | None) -> None:
        self.settings = settings
        self.api = settings.api
        if streams is None and topics is not None and settings.streams_url == settings.broker_url:
            streams = topics
        if topics is None and streams is not None and settings.streams_url == settings.broker_url:
            topics = streams
        self._topics = topics
        self._streams = streams
        self._owned: list[Broker] = []
        self.metrics = Metrics()
        self.consumers = ConsumerRegistry()
        self.iterator_secret = secrets.token_bytes(32)
        self.started = time.time()
        self._writers: dict[int, CoalescingWriter] = {}
        self._caches: dict[int, PartitionCache] = {}

    @property
    def topics(self) -> Broker:
        if self._topics is None:
            _not_open("topics")
        return self._topics

    @property
    def streams(self) -> Broker:
        if self._streams is None:
            _not_open("streams")
        return self._streams

    @property
    def is_open(self) -> bool:
        return self._topics is not None and self._streams is not None

    async def open(self) -> None:
        """Open the brokers not given to create_app (the same one when the URLs are equal)."""
        if self._topics is None:
            self._topics = await anyio.to_thread.run_sync(
                open_broker, self.settings.broker_url, self.settings
            )
            self._owned.append(self._topics)
            if self.settings.streams_url == self.settings.broker_url and self._streams is None:
                self._streams = self._topics
        if self._streams is None:
            self._streams = await anyio.to_thread.run_sync(
                open_broker, self.settings.streams_url, self.settings
            )
            self._owned.append(self._streams)

    async def close(self) -> None:
        """Write what is queued, then close the brokers this state opened."""
        for writer in list(self._writers.values()):
            await writer.close()
        self._writers.clear()
        owned, self._owned = self._owned, []
        for broker in owned:
            await anyio.to_thread.run_sync(broker.close)
            if self._topics is broker:
                self._topics = None
            if self._streams is broker:
                self._streams = None

    def writer(self, broker: Broker) -> CoalescingWriter:
        writer = self._writers.get(id(broker))
        if writer is None:
            writer = CoalescingWriter(broker, max_pending_records=self.api.max_pending_records)
            self._writers[id(broker)] = writer
        return writer

    def writers(self) -> list[CoalescingWriter]:
        return list(self._writers.values())

    def partitions(self, broker: Broker) -> PartitionCache:
        cache = self._caches.get(id(broker))
        if cache is None:
            cache = self._caches[id(broker)] = PartitionCache(broker)
        return cache

    def forget_topic(self, broker: Broker, topic: str) -> None:
        """After a create or delete through the API: drop cached metadata and keys."""
        self.partitions(broker).forget(topic)
        writer = self._writers.get(id(broker))
        if writer is not None and writer.key_store is not None:
            writer.key_store.forget_topic(topic)


def _not_open(what: str) -> NoReturn:
    msg = f"the {what} broker is not open (the API is starting or stopping)"
    raise BrokerUnavailableError(msg, hint="retry in a moment")


def api_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.pinpipe
    return state
