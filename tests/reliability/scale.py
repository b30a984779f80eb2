"""How big the reliability tests run: CI counts by default, larger ones on demand.

``pytest tests/reliability --full`` (the option is declared in tests/conftest.py, which sets
the variable) or ``PINPIPE_RELIABILITY=full pytest tests/reliability`` runs the larger counts.
The variable is read once, when this module is imported: the suite's autouse fixture removes every
``PINPIPE_*`` variable from the environment while a test runs, so reading it later would always
see the default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ENV_VAR = "PINPIPE_RELIABILITY"


@dataclass(frozen=True, slots=True)
class Scale:
    """Counts and durations of one scale."""

    name: str
    #: schemathesis: hypothesis examples per operation and generation mode, in each phase.
    fuzz_examples: int
    #: schemathesis: the least number of cases the whole run must have sent.
    fuzz_min_cases: int
    #: overload: seconds of measuring capacity, then of offering twice that load.
    measure_seconds: float
    overload_seconds: float
    #: hypothesis: examples of the record → lake → clean round-trip, per kind.
    roundtrip_examples: int
    #: hypothesis: examples of clean's idempotence, per kind.
    idempotence_examples: int
    #: hypothesis: examples of each lake-key property.
    key_examples: int


CI = Scale(
    name="ci",
    fuzz_examples=8,
    fuzz_min_cases=500,
    measure_seconds=3.0,
    overload_seconds=8.0,
    roundtrip_examples=40,
    idempotence_examples=80,
    key_examples=300,
)
FULL = Scale(
    name="full",
    fuzz_examples=60,
    fuzz_min_cases=4000,
    measure_seconds=6.0,
    overload_seconds=45.0,
    roundtrip_examples=400,
    idempotence_examples=1000,
    key_examples=5000,
)


def _chosen() -> Scale:
    value = os.environ.get(ENV_VAR, "").strip().lower()
    if value in ("", "ci"):
        return CI
    if value == "full":
        return FULL
    msg = f"{ENV_VAR}={value!r}: use 'full' (or 'ci', the default)"
    raise ValueError(msg)


#: The scale of this run (read at import time; see the module docstring).
SCALE = _chosen()
