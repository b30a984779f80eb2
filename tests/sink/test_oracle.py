"""Against Java itself (javac + Jackson jars from ~/.m2; skipped where they are absent)."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from pinpipe.records import PIN
from pinpipe.sink import EncodeError, JsonFormat
from tests.sink import jackson_oracle

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def java() -> None:
    reason = jackson_oracle.missing()
    if reason:
        pytest.skip(f"the Java reference cannot run: {reason}")


def test_generated_values_match_java(java: None) -> None:
    values = jackson_oracle.EDGE_CASES + jackson_oracle.generated(count=300, seed=11)
    fmt = JsonFormat("connect")
    for raw, expected in zip(values, jackson_oracle.oracle(values), strict=True):
        if expected == "NULL":
            with pytest.raises(EncodeError):
                fmt.encode(raw)
        else:
            assert fmt.encode(raw) == expected, raw


def test_row_7528_as_the_connector_writes_it(java: None, reference_dir: Path) -> None:
    """The real first pin object: 444 bytes in either order, Java's bytes in connect order."""
    with (reference_dir / "pinterest_data_observed_raw.jsonl").open() as fh:
        row = next(r for r in map(json.loads, fh) if r["index"] == 7528)
    value = orjson.dumps({name: row[name] for name in PIN.column_names})
    (expected,) = jackson_oracle.oracle([value])
    assert isinstance(expected, bytes) and len(expected) == 444
    assert JsonFormat("connect").encode(value) == expected
    assert JsonFormat("received").encode(value) == value + b"\n"
