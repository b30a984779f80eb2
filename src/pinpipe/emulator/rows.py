"""The prefetching reader: source rows fetched in chunks ahead of the sender, encoded once,
cached.

The sequence of row indexes is known in advance (it is seeded), so while one chunk of
iterations is being sent, the next chunk's rows are already being read — on one thread of
its own that owns the database connection, so the event loop never waits on the database.
Each row is encoded once (the request body or the compact JSON value) and kept in a bounded
cache; a key a table lacks (a partial dump) is cached as ``None``. The course's source is
11,154 rows per table, so after a few chunks every row is in memory and the database is idle.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import Generic, TypeVar

from pinpipe.emulator.base import EmulatorError
from pinpipe.naming import KINDS, RecordKindName
from pinpipe.source import Record, SourceReader

T = TypeVar("T")
R = TypeVar("R")

#: (iteration, seconds to sleep before it, row index)
Step = tuple[int, int, int]
#: Encoded rows of one chunk: kind -> row index -> encoded row, or None when the table lacks it
Rows = dict[RecordKindName, dict[int, T | None]]

DEFAULT_MAX_CACHED = 300_000  # rows per table: ~150 MB of pin JSON at most


@dataclass(frozen=True, slots=True)
class SourceShape:
    """Row counts and key ranges of the three tables."""

    counts: dict[RecordKindName, int]
    key_ranges: dict[RecordKindName, tuple[int, int] | None]

    def key_span(self) -> tuple[int, int]:
        """The smallest and largest key over the tables; EmulatorError when all are empty."""
        ranges = [r for r in self.key_ranges.values() if r is not None]
        if not ranges:
            msg = "the source database has no rows"
            raise EmulatorError(msg, hint="run `pinpipe source init` or `pinpipe source load`")
        return min(low for low, _ in ranges), max(high for _, high in ranges)

    @property
    def size(self) -> int:
        """Rows of the course's dense ids ``0..n-1`` that cover every table: largest key + 1."""
        return self.key_span()[1] + 1


class RowReader(Generic[T]):
    """Reads and caches encoded rows of the source at ``url``; ``open()`` first, ``close()``
    at the end."""

    def __init__(
        self,
        url: str,
        encode: Callable[[RecordKindName, Record], T],
        *,
        max_cached: int = DEFAULT_MAX_CACHED,
    ) -> None:
        self.url = url
        self.encode = encode
        self.max_cached = max_cached
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pinpipe-source")
        self._reader: SourceReader | None = None
        self._cache: dict[RecordKindName, dict[int, T | None]] = {kind: {} for kind in KINDS}
        self.db_reads = 0  # queries made (for tests and the curious)

    async def _in_thread(self, fn: Callable[[], R]) -> R:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    async def open(self) -> SourceShape:
        def run() -> SourceShape:
            reader = self._reader = SourceReader(self.url)
            counts = {kind: reader.count(kind) for kind in KINDS}
            return SourceShape(counts, {kind: reader.key_range(kind) for kind in KINDS})

        return await self._in_thread(run)

    async def close(self) -> None:
        def run() -> None:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

        await self._in_thread(run)
        self._pool.shutdown(wait=True)

    async def fetch(self, keys: Collection[int]) -> Rows[T]:
        """The encoded rows of these keys in every table (None where a table lacks one)."""
        return await self._in_thread(lambda: self._fetch(set(keys)))

    def _fetch(self, keys: set[int]) -> Rows[T]:
        """In the reader's thread, which alone touches the cache and the connection."""
        reader = self._reader
        if reader is None:
            msg = "the row reader is not open"
            raise RuntimeError(msg)
        rows: Rows[T] = {}
        for kind in KINDS:
            cache = self._cache[kind]
            got = {k: cache[k] for k in keys if k in cache}
            missing = [k for k in keys if k not in got]
            if missing:
                self.db_reads += 1
                found = reader.rows(kind, missing)
                for key in missing:
                    row = found.get(key)
                    got[key] = cache[key] = None if row is None else self.encode(kind, row)
                while len(cache) > self.max_cached:  # oldest first (dicts keep insert order)
                    del cache[next(iter(cache))]
            rows[kind] = got
        return rows

    async def read_ahead(
        self, steps: Iterator[Step], chunk: int
    ) -> AsyncGenerator[tuple[list[Step], Rows[T]], None]:
        """``(steps, rows)`` a chunk at a time, the next chunk's rows read while this one is
        used. Close it (``contextlib.aclosing``) when stopping early."""

        def take() -> list[Step]:
            return list(islice(steps, chunk))

        batch = take()
        pending = asyncio.ensure_future(self.fetch([s[2] for s in batch])) if batch else None
        try:
            while batch and pending is not None:
                rows = await pending
                following = take()
                pending = (
                    asyncio.ensure_future(self.fetch([s[2] for s in following]))
                    if following
                    else None
                )
                yield batch, rows
                batch = following
        finally:
            if pending is not None:
                pending.cancel()
