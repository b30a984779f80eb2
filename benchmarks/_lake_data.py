"""A lake of raw objects as the S3 sink leaves it, written straight from the generator.

For the batch benchmark: no API, no broker, no sink loop - the synthetic generator's rows, the
records' JSON codec, the sink's key function and ``Lake.put_many``. Per kind
``topics/<uid>.<kind>/partition=0/<uid>.<kind>+0+<start offset>.json``, each object holding
``flush_size`` records (the last one the rest, as ``pinpipe sink --once`` cuts it), one line per
record: ``records.dumps`` (compact, keys in source-column order, datetimes as
``YYYY-MM-DD HH:MM:SS``) and a newline. The sink re-encodes values as Jackson does, which changes
only how emoji (~2% of the pins: ``\\uD83D\\uDE4C`` there, raw UTF-8 here) and floats outside
1e-3..1e7 are spelled, not their values; doing that too would make the landing take 60% longer.

This process generates (the generator is sequential); each round of ``flush_size *
OBJECTS_PER_ROUND`` posts is encoded and written by a process forked for it, as many at once as
there are CPUs (the encoding costs more than the generating). Forked, a round's process has the
rows already: sending them to a worker pool would pickle them, which costs half the generating.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Mapping, Sequence
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
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
    context = multiprocessing.get_context("fork")
    running: list[BaseProcess] = []
    written = {"pin": 0, "geo": 0, "user": 0}
    for batch in generate(posts, seed=seed, batch_size=round_size):
        while len(running) >= len(os.sched_getaffinity(0)):
            wait([p.sentinel for p in running])
            running = [p for p in running if not _finished(p)]
        rows = {"pin": batch.pins, "geo": batch.geos, "user": batch.users}
        args = (str(lake_dir), user_id, written["pin"], rows, flush_size)
        process: BaseProcess = context.Process(target=write_round, args=args, daemon=True)
        process.start()
        running.append(process)
        for kind, kind_rows in rows.items():
            written[kind] += len(kind_rows)
    for process in running:
        process.join()
        _finished(process)
    return written


def _finished(process: BaseProcess) -> bool:
    """Whether ``process`` ended (RuntimeError when it failed; its traceback is on stderr)."""
    if process.exitcode is None:
        return False
    if process.exitcode != 0:
        msg = f"a landing round failed (exit code {process.exitcode}); see its traceback above"
        raise RuntimeError(msg)
    return True


def write_round(
    lake_dir: str,
    user_id: str,
    start: int,
    rows: Mapping[str, Sequence[tuple[Any, ...]]],
    flush_size: int,
) -> None:
    """Encode one round's rows (keys ``start``, ``start + 1`` …) and write their objects."""
    from pinpipe.lake import open_lake
    from pinpipe.naming import Names
    from pinpipe.records import RECORD_KINDS, dumps
    from pinpipe.sink.keys import object_key

    names = Names(user_id)
    objects: list[tuple[str, bytes]] = []
    for kind, records in RECORD_KINDS.items():
        columns, topic = records.column_names, names.topic(kind)
        lines = [dumps(dict(zip(columns, row, strict=True))) + b"\n" for row in rows[kind]]
        for offset in range(0, len(lines), flush_size):
            key = object_key(topic, 0, start + offset)
            objects.append((key, b"".join(lines[offset : offset + flush_size])))
    with open_lake(lake_dir) as lake:
        lake.put_many(objects)
