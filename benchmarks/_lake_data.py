"""A lake of raw objects as the S3 sink leaves it, written straight from the generator.

For the batch benchmark: no API, no broker, no sink loop - the synthetic generator's rows, the
records' JSON codec, the sink's object format and key function, and ``Lake.put_many``. Per kind
``topics/<uid>.<kind>/partition=0/<uid>.<kind>+0+<start offset>.json``, each object holding
``flush_size`` records (the last one the rest, as ``pinpipe sink --once`` cuts it), one JSON line
per record as the sink writes it (keys in source-column order, datetimes as
``YYYY-MM-DD HH:MM:SS``, Jackson's forms of emoji and numbers).

This process generates (the generator is sequential) while worker processes encode and write
rounds of ``flush_size * OBJECTS_PER_ROUND`` posts: encoding costs about twice the generating.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

#: Objects per kind in one round (one ``put_many``, one durability barrier).
OBJECTS_PER_ROUND = 100


def land_posts(
    lake_dir: Path, posts: int, *, user_id: str, seed: int = 0, flush_size: int = 1000
) -> dict[str, int]:
    """Write ``posts`` generated posts (a pin, a geo and a user record each) into the local
    lake at ``lake_dir``; returns the records written per kind."""
    from pinpipe.source import generate

    round_size = flush_size * OBJECTS_PER_ROUND
    workers = max(1, min(len(os.sched_getaffinity(0)), -(-posts // round_size)))
    written = {"pin": 0, "geo": 0, "user": 0}
    context = multiprocessing.get_context("fork")  # spawn would re-run the caller's __main__
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        running: set[Future[dict[str, int]]] = set()
        start = 0
        for batch in generate(posts, seed=seed, batch_size=round_size):
            if len(running) >= 2 * workers:  # bounded: rounds wait as rows, not in a queue
                done, running = wait(running, return_when=FIRST_COMPLETED)
                _add(written, done)
            rows = {"pin": batch.pins, "geo": batch.geos, "user": batch.users}
            running.add(pool.submit(write_round, str(lake_dir), user_id, start, rows, flush_size))
            start += len(batch.pins)
        _add(written, wait(running).done)
    return written


def _add(written: dict[str, int], done: set[Future[dict[str, int]]]) -> None:
    for future in done:
        for kind, count in future.result().items():
            written[kind] += count


def write_round(
    lake_dir: str,
    user_id: str,
    start: int,
    rows: Mapping[str, Sequence[tuple[Any, ...]]],
    flush_size: int,
) -> dict[str, int]:
    """Encode one round's rows (keys ``start``, ``start + 1`` …) and write their objects."""
    from pinpipe.lake import open_lake
    from pinpipe.naming import Names
    from pinpipe.records import RECORD_KINDS, dumps
    from pinpipe.sink import JsonFormat
    from pinpipe.sink.keys import object_key

    names = Names(user_id)
    fmt = JsonFormat()
    encode = fmt.encoder()
    objects: list[tuple[str, bytes]] = []
    for kind, records in RECORD_KINDS.items():
        columns, topic = records.column_names, names.topic(kind)
        lines = [encode(dumps(dict(zip(columns, row, strict=True)))) for row in rows[kind]]
        for offset in range(0, len(lines), flush_size):
            key = object_key(topic, 0, start + offset)
            objects.append((key, fmt.serialize(lines[offset : offset + flush_size])))
    with open_lake(lake_dir) as lake:
        lake.put_many(objects)
    return {kind: len(rows[kind]) for kind in RECORD_KINDS}
