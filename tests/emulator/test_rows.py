"""The prefetching reader: rows read ahead in chunks, encoded once, cached, gaps as None."""

from __future__ import annotations

from contextlib import aclosing
from itertools import islice

import pytest

from pinpipe.emulator import EmulatorError, load_sequence
from pinpipe.emulator.rows import RowReader, SourceShape
from pinpipe.source import SourceReader

pytestmark = pytest.mark.anyio


def encode(kind: str, row: dict[str, object]) -> str:
    key = "index" if kind == "pin" else "ind"
    return f"{kind}:{row[key]}"


async def test_reads_ahead_and_caches(synthetic_source: str) -> None:
    reader = RowReader(synthetic_source, encode)
    shape = await reader.open()
    try:
        assert shape.counts == {"pin": 3_000, "geo": 3_000, "user": 3_000}
        assert shape.key_span() == (0, 2_999) and shape.size == 3_000
        steps = ((i, 0, n) for i, n in enumerate(islice(load_sequence(3, 0, 2_999), 40_000)))
        seen = 0
        reads_after: list[int] = []
        async with aclosing(reader.read_ahead(steps, 2_000)) as chunks:
            async for batch, rows in chunks:
                for _, _, n in batch:
                    assert rows["pin"][n] == f"pin:{n}" and rows["user"][n] == f"user:{n}"
                seen += len(batch)
                reads_after.append(reader.db_reads)
        assert seen == 40_000
        # Later chunks hit the cache: the database is read less and less, then not at all.
        assert reads_after[-1] == reads_after[-3] < 3 * len(reads_after)
    finally:
        await reader.close()


async def test_gaps_and_the_cache_bound(reference_source: str) -> None:
    reader = RowReader(reference_source, encode, max_cached=100)
    shape = await reader.open()
    try:
        assert shape.counts["pin"] == 1_959 and shape.key_ranges["pin"] == (4, 10_997)
        assert shape.size == 11_154  # geo and user are complete
        rows = await reader.fetch([0, 7528, 11_153])
        assert rows["pin"] == {0: None, 7528: "pin:7528", 11_153: None}
        assert rows["geo"] == {0: "geo:0", 7528: "geo:7528", 11_153: "geo:11153"}
        await reader.fetch(range(1_000, 1_500))
        assert all(len(cache) <= 100 for cache in reader._cache.values())
        again = await reader.fetch([7528])  # evicted, read again
        assert again["user"] == {7528: "user:7528"}
    finally:
        await reader.close()
    with SourceReader(reference_source) as source:
        assert source.row("pin", 0) is None


def test_an_empty_source_is_an_error() -> None:
    shape = SourceShape(
        dict.fromkeys(("pin", "geo", "user"), 0), dict.fromkeys(("pin", "geo", "user"))
    )
    with pytest.raises(EmulatorError, match="no rows"):
        shape.key_span()
