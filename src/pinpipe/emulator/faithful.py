"""The row sequences: the course's seeded (sleep, row) pairs, and load mode's seeded rows.

The course runs ``random.seed(100)`` once, then per iteration ``sleep(random.randrange(0, 2))``
and ``random.randint(0, 11000)`` (SPEC §2.1–2.2). :func:`course_sequence` makes the same calls
in the same order on its own ``random.Random`` (no global state), so it yields the course's
pairs: (0, 7528), (1, 2863), (1, 5730), (1, 8304), (0, 8731), …

The course draws from ``0..11000`` on its 11,154-row tables, so ids 11001..11153 are never sent.
On a source of another size (``n`` = largest key + 1) the upper bound is scaled to the same
share, ``n * 11000 // 11154`` (1,000 rows: 0..986); on 11,154 rows it is exactly 11,000 and the
sequence is the course's.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

COURSE_SEED = 100
COURSE_ROWS = 11_154
COURSE_HIGH = 11_000


def course_high(rows: int) -> int:
    """The course's ``randint`` upper bound scaled to a source of ``rows`` dense keys."""
    if rows <= 0:
        msg = f"rows={rows} must be positive"
        raise ValueError(msg)
    return COURSE_HIGH if rows == COURSE_ROWS else rows * COURSE_HIGH // COURSE_ROWS


def course_sequence(seed: int = COURSE_SEED, high: int = COURSE_HIGH) -> Iterator[tuple[int, int]]:
    """The course's endless (sleep seconds, row index) pairs: sleep first, then the row."""
    rng = random.Random(seed)  # noqa: S311 - the course's reproducible sequence, not crypto
    randrange, randint = rng.randrange, rng.randint
    while True:
        pause = randrange(0, 2)
        yield pause, randint(0, high)


def load_sequence(seed: int, low: int, high: int) -> Iterator[int]:
    """Load mode's endless row indexes, uniform over ``low..high``: ``random.Random(seed)``'s
    ``choices`` drawn 4,096 at a time (a quarter of the cost of one ``randint`` per row)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test load, not crypto
    keys = range(low, high + 1)
    while True:
        yield from rng.choices(keys, k=4_096)
