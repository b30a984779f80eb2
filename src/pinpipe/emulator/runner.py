"""A run from start to summary: check the API, read rows ahead, send them, count everything.

Faithful mode is the course's loop, one iteration at a time: sleep 0 or 1 s, then the pin, geo
and user rows of the drawn index, one request each, in that order, each awaited (with retries)
before the next; a stop lets the iteration's three requests finish. Load mode draws indexes
from ``random.Random(seed)`` over the source's key range; a producer packs each table's rows
into batches of ``batch_size``, and a bounded queue feeds ``concurrency`` workers, which pay
the token bucket (``rate``) and send.

A row a table lacks (a partial dump) is skipped for that table, counted, and warned about (the
first few per table). Stopping (:meth:`Emulator.stop`, Ctrl-C in the CLI): no new request
starts, requests in flight finish with their retries, what was not sent yet is counted as
``unsent``, and the summary is returned. Nothing is sent twice: every request carries its
idempotency key through all its retries.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from itertools import count, islice, repeat

import httpx

from pinpipe.emulator.base import (
    Clock,
    EmulationPlan,
    EmulationSummary,
    EmulatorError,
    SystemClock,
    Tally,
)
from pinpipe.emulator.client import ApiClient, SendResult, TokenBucket
from pinpipe.emulator.faithful import course_high, course_sequence, load_sequence
from pinpipe.emulator.payloads import course_body, course_route, load_body, load_route, value_bytes
from pinpipe.emulator.rows import DEFAULT_MAX_CACHED, RowReader, Rows, SourceShape, Step
from pinpipe.naming import KINDS, RecordKindName
from pinpipe.records import RECORD_KINDS
from pinpipe.source import Record

logger = logging.getLogger("pinpipe.emulator")

ProgressCallback = Callable[[Tally], None]
WarningCallback = Callable[[str], None]
Chunks = AsyncGenerator[tuple[list[Step], Rows[bytes]], None]

MISSING_WARNINGS = 10  # per table; further missing rows are only counted
FAITHFUL_CHUNK = 256  # iterations read ahead at a time in faithful mode
LOAD_CHUNK = 2_048  # at least this many iterations read ahead at a time in load mode


@dataclass(slots=True)
class _Request:
    target: str
    body: bytes
    key: str
    records: int


def _ignore(_: Tally) -> None:
    return None


class Emulator:
    """One emulator run; :meth:`run` it once (in any thread's event loop), :meth:`stop` it
    from anywhere. ``clock`` and ``transport`` are for tests: a clock that records sleeps, and
    an httpx transport such as ``httpx.ASGITransport(app)`` to drive the API in-process."""

    def __init__(
        self,
        plan: EmulationPlan,
        source_url: str,
        *,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        on_progress: ProgressCallback | None = None,
        on_warning: WarningCallback | None = None,
        max_cached: int = DEFAULT_MAX_CACHED,
    ) -> None:
        self.plan = plan
        self.source_url = source_url
        self.clock = clock or SystemClock()
        self.transport = transport
        self.on_progress = on_progress or _ignore
        self.on_warning = on_warning or logger.warning
        self.max_cached = max_cached
        self.tally = Tally(started=self.clock.monotonic(), targets=tuple(plan.targets.values()))
        self._halt = threading.Event()  # stop requested, or an error that ends the run
        self._interrupted = False
        self._error: EmulatorError | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._halted: asyncio.Event | None = None
        self._deadline: float | None = None

    # -- control ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop after the requests in flight; thread-safe (a signal handler may call it)."""
        self._interrupted = True
        self._halt_run()

    def _halt_run(self) -> None:
        self._halt.set()
        loop, halted = self._loop, self._halted
        if loop is not None and halted is not None and not loop.is_closed():
            loop.call_soon_threadsafe(halted.set)

    def _abort(self, error: EmulatorError) -> None:
        if self._error is None:
            self._error = error
        self._halt_run()

    def _done(self) -> bool:
        """No further iteration: stopped, failed, or past ``duration``."""
        if self._halt.is_set():
            return True
        return self._deadline is not None and self.clock.monotonic() >= self._deadline

    async def _pause(self, seconds: float) -> None:
        """Sleep on the clock (``sleep(0)`` too, as the course does), cut short by a stop."""
        halted = self._halted
        if halted is None or halted.is_set():
            return
        if seconds <= 0:
            await self.clock.sleep(0)
            return
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        waiter = asyncio.ensure_future(halted.wait())
        try:
            await asyncio.wait({sleeper, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waiter.cancel()

    # -- the run ---------------------------------------------------------------------------

    async def run(self) -> EmulationSummary:
        """Check the API, send, and return the summary; raises EmulatorError (or a
        SourceError) when the run cannot start or the API refuses it."""
        plan = self.plan
        self._loop = asyncio.get_running_loop()
        self._halted = asyncio.Event()
        if self._halt.is_set():
            self._halted.set()
        reader = RowReader(self.source_url, self._encoder(), max_cached=self.max_cached)
        try:
            async with ApiClient(plan, self.clock, transport=self.transport) as client:
                await client.check()
                shape = await reader.open()
                self.tally.started = self.clock.monotonic()
                if plan.duration is not None:
                    self._deadline = self.tally.started + plan.duration
                if plan.faithful:
                    await self._run_faithful(reader, client, shape)
                else:
                    await self._run_load(reader, client, shape)
        finally:
            await reader.close()
            self._loop = None
        if self._error is not None:
            raise self._error
        self.tally.interrupted = self._interrupted
        return EmulationSummary.from_tally(plan, self.tally, self.clock.monotonic())

    def _encoder(self) -> Callable[[RecordKindName, Record], bytes]:
        plan = self.plan
        if plan.faithful:
            return lambda kind, row: course_body(plan.mode, plan.target(kind), row)
        return lambda kind, row: value_bytes(row)

    # -- accounting ------------------------------------------------------------------------

    def _skip(self, kind: RecordKindName, target: str, index: int) -> None:
        skipped = self.tally.skipped[target] = self.tally.skipped[target] + 1
        table = RECORD_KINDS[kind].table
        if skipped <= MISSING_WARNINGS:
            self.on_warning(f"{table} has no row {index} (a partial dump?): not sent to {target}")
        if skipped == MISSING_WARNINGS:
            self.on_warning(f"further rows missing from {table} are skipped and counted quietly")

    def _account(self, target: str, records: int, result: SendResult) -> None:
        tally = self.tally
        tally.requests += result.attempts
        tally.retried += result.attempts - 1
        tally.observe(result.latencies)
        if result.ok:
            tally.sent[target] += records
            tally.replayed += result.replayed
        else:
            tally.failed += records
            tally.note_error(result.error or f"{target}: failed")
        self.on_progress(tally)

    # -- faithful mode ---------------------------------------------------------------------

    async def _run_faithful(
        self, reader: RowReader[bytes], client: ApiClient, shape: SourceShape
    ) -> None:
        plan = self.plan
        pairs = course_sequence(plan.seed, course_high(shape.size))
        todo = ((i, pause, index) for i, (pause, index) in enumerate(islice(pairs, plan.count)))
        async with aclosing(reader.read_ahead(todo, FAITHFUL_CHUNK)) as chunks:
            async for steps, rows in chunks:
                for iteration, pause, index in steps:
                    if self._done():
                        return
                    if plan.sleep:
                        await self._pause(pause)
                        if self._done():
                            return
                    for kind in KINDS:
                        target = plan.target(kind)
                        body = rows[kind][index]
                        if body is None:
                            self._skip(kind, target, index)
                            continue
                        method, path = course_route(plan.mode, target)
                        key = plan.idempotency_key(target, iteration)
                        result = await client.send(method, path, body, target=target, key=key)
                        self._account(target, 1, result)
                    self.tally.iterations += 1
                    self.on_progress(self.tally)

    # -- load mode -------------------------------------------------------------------------

    async def _run_load(
        self, reader: RowReader[bytes], client: ApiClient, shape: SourceShape
    ) -> None:
        plan = self.plan
        indexes = load_sequence(plan.seed, *shape.key_span())
        # (iteration, no pause, index), built in C
        todo = islice(zip(count(), repeat(0), indexes), plan.count)
        queue: asyncio.Queue[_Request | None] = asyncio.Queue(maxsize=plan.concurrency)
        bucket = TokenBucket(plan.rate, self.clock) if plan.rate else None
        workers = [
            asyncio.create_task(
                self._worker(queue, client, bucket, lane=n), name=f"pinpipe-emulate-{n}"
            )
            for n in range(plan.concurrency)
        ]
        try:
            chunk = max(LOAD_CHUNK, plan.batch_size * plan.concurrency)
            async with aclosing(reader.read_ahead(todo, chunk)) as chunks:
                await self._produce(chunks, queue)
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers)
        except BaseException:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            raise

    def _request(self, kind: RecordKindName, batch: list[tuple[int, bytes]]) -> _Request:
        target = self.plan.target(kind)
        key = self.plan.idempotency_key(target, batch[0][0], batch[-1][0])
        body = load_body(self.plan.mode, [value for _, value in batch])
        return _Request(target, body, key, len(batch))

    async def _produce(self, chunks: Chunks, queue: asyncio.Queue[_Request | None]) -> None:
        """Pack rows into per-table batches and queue them, until the count, the deadline
        or a stop; after a stop the partial batches stay unsent, otherwise they are queued."""
        buffers: dict[RecordKindName, list[tuple[int, bytes]]] = {kind: [] for kind in KINDS}
        async for steps, rows in chunks:
            if not await self._pack(steps, rows, buffers, queue):
                break
            self.on_progress(self.tally)
        for kind, buffer in buffers.items():
            if not buffer:
                continue
            if self._halt.is_set():
                self.tally.unsent += len(buffer)
            else:
                await queue.put(self._request(kind, buffer))
                buffer.clear()

    async def _pack(
        self,
        steps: list[Step],
        rows: Rows[bytes],
        buffers: dict[RecordKindName, list[tuple[int, bytes]]],
        queue: asyncio.Queue[_Request | None],
    ) -> bool:
        """Add one chunk's rows to the buffers, queueing full batches; False when done."""
        size = self.plan.batch_size
        tables = [(kind, rows[kind], buffers[kind]) for kind in KINDS]
        done = self._done
        for iteration, _, index in steps:
            if done():
                return False
            for kind, values, buffer in tables:
                value = values[index]
                if value is None:
                    self._skip(kind, self.plan.target(kind), index)
                    continue
                buffer.append((iteration, value))
                if len(buffer) >= size:
                    request = self._request(kind, buffer)
                    buffer.clear()
                    await queue.put(request)
            self.tally.iterations += 1
        return True

    async def _worker(
        self,
        queue: asyncio.Queue[_Request | None],
        client: ApiClient,
        bucket: TokenBucket | None,
        *,
        lane: int,
    ) -> None:
        method_path = {target: load_route(self.plan.mode, target) for target in self.tally.sent}
        while (request := await queue.get()) is not None:
            if bucket is not None and not self._halt.is_set():
                await self._pause(bucket.reserve(request.records))
            if self._halt.is_set():
                self.tally.unsent += request.records
                continue
            method, path = method_path[request.target]
            try:
                result = await client.send(
                    method, path, request.body, target=request.target, key=request.key, lane=lane
                )
            except EmulatorError as exc:
                self.tally.failed += request.records
                self._abort(exc)
                continue
            self._account(request.target, request.records, result)


def run_emulation(
    plan: EmulationPlan,
    source_url: str,
    *,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    on_progress: ProgressCallback | None = None,
    on_warning: WarningCallback | None = None,
) -> EmulationSummary:
    """Run one emulation in a new event loop and return its summary (``Emulator(...).run()``
    does the same in a running loop, and gives a handle to :meth:`Emulator.stop`)."""
    emulator = Emulator(
        plan,
        source_url,
        clock=clock,
        transport=transport,
        on_progress=on_progress,
        on_warning=on_warning,
    )
    return asyncio.run(emulator.run())
