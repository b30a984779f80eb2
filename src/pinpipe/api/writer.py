"""Group commit: one writer task per broker turns many produce requests into few appends.

A durable append costs an fsync, so one append per request caps ingest at the disk's
transaction rate. Instead each request puts ``(topic, records, idempotency key, future)`` on a
queue and waits; one task per broker repeatedly

1. takes everything queued (whole requests, up to ``max_batch_records``),
2. groups it by topic and de-duplicates idempotency keys within the batch,
3. calls ``broker.append`` (``append_keyed`` for an IdempotentAppender) once per topic, in a
   worker thread so the event loop keeps accepting requests,
4. resolves every request's future with its own slice of the positions, or every request of
   that append with the error: an append is all-or-nothing, so nothing partial is acknowledged.

While an append runs, new requests pile up and go into the next one: the busier the API, the
bigger the batches. Requests are validated before they are queued, so an append only fails for
broker-level reasons.

Backpressure: records queued or being appended count as pending. A request that would take the
pending count past ``max_pending_records`` is refused at once with BackpressureError (HTTP 429 /
Kinesis ProvisionedThroughputExceeded) and nothing of it is queued, so memory stays bounded by
``max_pending_records`` plus one request. ``Retry-After`` is the time the backlog takes to drain
at the recently measured append rate.

Idempotency: see :mod:`pinpipe.api.idempotency`. A request whose key is in flight waits for the
first request's result; a key already stored returns its original positions without queueing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass

import anyio.to_thread

from pinpipe.api.idempotency import KeyStore
from pinpipe.broker.base import Broker, IdempotentAppender, KeyedSpan, OutRecord, Position
from pinpipe.errors import BackpressureError, BrokerError, BrokerUnavailableError, Transient

DEFAULT_MAX_BATCH_RECORDS = 20_000

logger = logging.getLogger("pinpipe.api")


def _interrupted() -> BrokerUnavailableError:
    msg = "the write was interrupted (the API is stopping); it may or may not have been stored"
    return BrokerUnavailableError(msg, hint="retry with the same Idempotency-Key")


def _fail(future: asyncio.Future[list[Position]], exc: Exception) -> None:
    """Settle ``future`` with ``exc`` without a reference cycle.

    The raising frame holds ``future``, and the exception's traceback holds that frame: a cycle
    that keeps each refused request's records alive until the cyclic collector runs, which the
    server runs rarely (see ``cli/api_cmd.py``). Under overload RSS grew 156 -> 661 MiB in the
    overload test before this. The future gets the exception without the traceback, and the
    caller drops its ``future`` before re-raising.
    """
    exc.__traceback__ = None
    future.set_exception(exc)


@dataclass(slots=True)
class _Request:
    topic: str
    records: list[OutRecord]
    key: str | None
    future: asyncio.Future[list[Position]]


@dataclass(slots=True)
class WriteResult:
    positions: list[Position]
    replayed: bool = False


@dataclass(slots=True)
class WriterStats:
    appends: int = 0
    records: int = 0
    replays: int = 0
    rate: float = 0.0  # records/s of recent appends (exponential moving average)
    last_batch: int = 0


class CoalescingWriter:
    """Coalesces produce requests for one broker; see the module docstring."""

    def __init__(
        self,
        broker: Broker,
        *,
        max_pending_records: int,
        max_batch_records: int = DEFAULT_MAX_BATCH_RECORDS,
        key_store: KeyStore | None = None,
    ) -> None:
        self.broker = broker
        self.max_pending_records = max_pending_records
        self.max_batch_records = max_batch_records
        self.keyed = isinstance(broker, IdempotentAppender)
        self.key_store = None if self.keyed else (key_store or KeyStore())
        self.stats = WriterStats()
        self._queue: deque[_Request] = deque()
        self._pending = 0
        self._wakeup = asyncio.Event()
        self._appended = asyncio.Event()
        self._inflight: dict[tuple[str, str], asyncio.Future[list[Position]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def pending(self) -> int:
        """Records queued or being appended."""
        return self._pending

    async def write(self, topic: str, records: list[OutRecord], key: str | None) -> WriteResult:
        """Append ``records`` to ``topic`` (coalesced with other requests); their positions."""
        if key is None:
            future = self._enqueue(topic, records, None)
            return WriteResult(list(await asyncio.shield(future)))
        first = self._inflight.get((topic, key))
        if first is not None:
            self.stats.replays += 1
            return WriteResult(list(await asyncio.shield(first)), replayed=True)
        future = asyncio.get_running_loop().create_future()
        self._inflight[(topic, key)] = future
        future.add_done_callback(lambda f: self._settled(topic, key, f))
        try:
            stored = await self._lookup(topic, key)
        except BaseException as exc:
            _fail(future, exc if isinstance(exc, Exception) else _interrupted())
            del future  # see _fail
            raise
        if stored is not None:
            future.set_result(stored)
            self.stats.replays += 1
            return WriteResult(list(stored), replayed=True)
        try:
            self._enqueue(topic, records, key, future)
        except Exception as exc:
            _fail(future, exc)
            del future  # see _fail
            raise
        return WriteResult(list(await asyncio.shield(future)))

    def _settled(self, topic: str, key: str, future: asyncio.Future[list[Position]]) -> None:
        if self._inflight.get((topic, key)) is future:
            del self._inflight[(topic, key)]
        if not future.cancelled():
            future.exception()  # mark retrieved: waiters may have gone away

    async def _lookup(self, topic: str, key: str) -> list[Position] | None:
        if self.key_store is not None:
            return self.key_store.get(topic, key)
        if not isinstance(self.broker, IdempotentAppender):
            return None
        found = await anyio.to_thread.run_sync(self.broker.lookup_keys, topic, [key])
        return found.get(key)

    def _enqueue(
        self,
        topic: str,
        records: list[OutRecord],
        key: str | None,
        future: asyncio.Future[list[Position]] | None = None,
    ) -> asyncio.Future[list[Position]]:
        if self._closed:
            msg = "the API is shutting down"
            raise BrokerUnavailableError(msg, hint="retry against a running instance")
        count = len(records)
        if self._pending and self._pending + count > self.max_pending_records:
            raise self._backlog_full()
        if future is None:
            future = asyncio.get_running_loop().create_future()
            future.add_done_callback(lambda f: None if f.cancelled() else f.exception())
        self._pending += count
        self._queue.append(_Request(topic, records, key, future))
        self._wakeup.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="pinpipe-writer")
        return future

    def refuse_when_full(self) -> None:
        """Refuse a write up front when the backlog is already at its limit.

        Called before the body is read: under overload most requests are refused, and parsing
        each 500-record body only to refuse it took the event loop's time from the accepted
        ones (acknowledged throughput fell to ~12k records/s at twice capacity).
        """
        if self._pending >= self.max_pending_records:
            raise self._backlog_full()

    def _backlog_full(self) -> BackpressureError:
        msg = (
            f"{self._pending} records are waiting for the broker "
            f"(api.max_pending_records={self.max_pending_records})"
        )
        return BackpressureError(msg, retry_after=self.retry_after())

    def retry_after(self) -> float:
        """Seconds the current backlog needs at the recent append rate (at least 1)."""
        if self.stats.rate <= 0:
            return 1.0
        return min(60.0, max(1.0, self._pending / self.stats.rate))

    async def wait_appended(self, timeout: float) -> None:
        """Return after the next append completes, or after ``timeout`` seconds."""
        event = self._appended
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                batch = self._take_batch()
                try:
                    await self._flush(batch)
                except Exception as exc:  # a bug here must not leave requests waiting forever
                    logger.exception("the writer failed a batch")
                    for request in batch:
                        if not request.future.done():
                            request.future.set_exception(exc)

    def _take_batch(self) -> list[_Request]:
        batch = [self._queue.popleft()]
        size = len(batch[0].records)
        while self._queue and size + len(self._queue[0].records) <= self.max_batch_records:
            request = self._queue.popleft()
            size += len(request.records)
            batch.append(request)
        return batch

    async def _flush(self, batch: list[_Request]) -> None:
        by_topic: dict[str, list[_Request]] = {}
        for request in batch:
            by_topic.setdefault(request.topic, []).append(request)
        for topic, requests in by_topic.items():
            await self._append(topic, requests)

    async def _append(self, topic: str, requests: list[_Request]) -> None:
        writing: list[_Request] = []
        duplicate_of: dict[int, _Request] = {}  # id(request) -> the batch's first with its key
        by_key: dict[str, _Request] = {}
        for request in requests:
            first = by_key.get(request.key) if request.key is not None else None
            if first is not None:
                duplicate_of[id(request)] = first
                continue
            if request.key is not None:
                by_key[request.key] = request
            writing.append(request)
        records = [record for request in writing for record in request.records]
        count = sum(len(r.records) for r in requests)
        started = time.perf_counter()
        split = False
        try:
            slices = await anyio.to_thread.run_sync(self._append_sync, topic, writing, records)
        except BaseException as exc:
            # One request's problem (say a partition the topic lost since it was validated) must
            # not fail the others: nothing was written, so append them one by one instead.
            split = len(requests) > 1 and isinstance(exc, BrokerError)
            split = split and not isinstance(exc, Transient)
            failure = exc if isinstance(exc, Exception) else _interrupted()
            for request in [] if split else requests:
                if not request.future.done():
                    request.future.set_exception(failure)
            if not isinstance(exc, Exception):
                raise
        else:
            self._record_rate(len(records), time.perf_counter() - started)
            written = {id(r): positions for r, positions in zip(writing, slices, strict=True)}
            for request in requests:
                positions = written[id(duplicate_of.get(id(request), request))]
                if request.key is not None and self.key_store is not None:
                    self.key_store.put(topic, request.key, positions)
                if not request.future.done():
                    request.future.set_result(positions)
        finally:
            if not split:
                self._pending -= count
                event, self._appended = self._appended, asyncio.Event()
                event.set()
        if split:
            self._pending -= count - len(records)  # the duplicates; the rest count down below
            for request in writing:
                await self._append(topic, [request])
            for request in requests:
                first = duplicate_of.get(id(request))
                if first is None or request.future.done():
                    continue
                error = first.future.exception()
                if error is not None:
                    request.future.set_exception(error)
                else:
                    request.future.set_result(first.future.result())

    def _append_sync(
        self, topic: str, requests: list[_Request], records: list[OutRecord]
    ) -> list[list[Position]]:
        """In a worker thread: one append for all ``requests``; each request's positions."""
        spans: list[KeyedSpan] = []
        bounds: list[tuple[int, int]] = []
        start = 0
        for request in requests:
            bounds.append((start, start + len(request.records)))
            if request.key is not None:
                spans.append(KeyedSpan(request.key, start, len(request.records)))
            start += len(request.records)
        if spans and isinstance(self.broker, IdempotentAppender):
            positions = self.broker.append_keyed(topic, records, spans)
            # The broker is the authority: a key another process wrote first keeps its records.
            stored = self.broker.lookup_keys(topic, [span.key for span in spans])
        else:
            positions = self.broker.append(topic, records)
            stored = {}
        return [
            stored.get(request.key, positions[lo:hi])
            if request.key is not None
            else positions[lo:hi]
            for request, (lo, hi) in zip(requests, bounds, strict=True)
        ]

    def _record_rate(self, records: int, seconds: float) -> None:
        self.stats.appends += 1
        self.stats.records += records
        self.stats.last_batch = records
        if records and seconds > 0:
            rate = records / seconds
            self.stats.rate = rate if self.stats.rate <= 0 else 0.8 * self.stats.rate + 0.2 * rate

    async def close(self, timeout: float = 10.0) -> None:
        """Refuse new requests, write what is queued (up to ``timeout`` s), stop the task."""
        self._closed = True
        deadline = time.monotonic() + timeout
        while self._pending and time.monotonic() < deadline and self._task is not None:
            await self.wait_appended(0.05)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        while self._queue:
            request = self._queue.popleft()
            self._pending -= len(request.records)
            if not request.future.done():
                msg = "the API shut down before the records were written"
                request.future.set_exception(BrokerUnavailableError(msg, hint="retry them"))
