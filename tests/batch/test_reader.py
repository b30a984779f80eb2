"""The raw reader: Arrow's fast path for clean objects, line by line with dead letters for the
rest (never Arrow on input that crashes it), the Databricks-inferred types."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pinpipe.batch.reader import list_raw_objects, parse_object, read_raw
from pinpipe.lake import open_lake
from pinpipe.naming import Names
from pinpipe.transform import raw_schema

GEO = raw_schema("geo")
KEY = "topics/u.geo/partition=0/u.geo+0+0000000000.json"


def geo(ind: int, **extra: object) -> dict[str, object]:
    return {
        "ind": ind,
        "timestamp": "2020-01-01 00:00:00",
        "latitude": 1.5,
        "longitude": -2.0,
        "country": "Chad",
        **extra,
    }


def lines(*values: object) -> bytes:
    return b"".join((v if isinstance(v, bytes) else orjson.dumps(v)) + b"\n" for v in values)


def test_clean_objects_keep_the_schema_order_and_ignore_unknown_fields() -> None:
    table, dead = parse_object(KEY, lines(geo(1, extra=[1]), {"country": "Mali"}, {}), GEO)
    assert dead == []
    assert table.schema == GEO
    assert table.to_pylist() == [
        geo(1),
        {"ind": None, "timestamp": None, "latitude": None, "longitude": None, "country": "Mali"},
        dict.fromkeys(GEO.names),
    ]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"null", "JSON null, not an object"),
        (b"[1]", "JSON array, not an object"),
        (b"7", "JSON number, not an object"),
        (b"{nope", "not JSON"),
        (b'{"ind": 1} null', "not JSON"),  # Arrow would read two rows here
        (b'{"ind": "one"}', "column 'ind': expected a 64-bit integer"),
        (b'{"ind": 1.5}', "column 'ind': expected a 64-bit integer"),
        (b'{"latitude": "north"}', "column 'latitude': expected a number"),
        (b'{"ind": true}', "column 'ind': expected a 64-bit integer"),
        (b'{"ind": 9223372036854775808}', "column 'ind': expected a 64-bit integer"),
        (b'{"ind": 1e19}', "column 'ind': expected a 64-bit integer"),
    ],
)
def test_bad_lines_become_dead_letters_and_the_rest_is_kept(line: bytes, reason: str) -> None:
    data = lines(geo(1)) + line + b"\n" + lines(geo(2))
    table, dead = parse_object(KEY, data, GEO)
    assert [r["ind"] for r in table.to_pylist()] == [1, 2]
    assert len(dead) == 1
    assert (dead[0].key, dead[0].line, dead[0].text) == (KEY, 2, line.decode())
    assert reason in dead[0].reason


def test_values_are_taken_as_spark_reads_them() -> None:
    data = lines({**geo(1), "ind": 2.0, "latitude": 3, "country": 5, "timestamp": {"t": 1}})
    data += b"\n   \n"  # blank lines are skipped, not counted
    table, dead = parse_object(KEY, data, GEO)
    assert dead == []
    assert table.to_pylist() == [
        {"ind": 2, "timestamp": '{"t":1}', "latitude": 3.0, "longitude": -2.0, "country": "5"}
    ]


def test_empty_objects_are_tolerated() -> None:
    for data in (b"", b"\n\n", b"  "):
        table, dead = parse_object(KEY, data, GEO)
        assert (table.num_rows, dead) == (0, [])


def test_a_null_line_never_reaches_arrow() -> None:
    """Arrow's JSON reader ends the process on a first value of null; run it in a child."""
    code = (
        "from pinpipe.batch.reader import parse_object\n"
        "from pinpipe.transform import raw_schema\n"
        "t, d = parse_object('k', b'null\\n{\"ind\": 1}\\n', raw_schema('geo'))\n"
        "print(t.num_rows, len(d))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout.split()) == (0, ["1", "1"])


_values = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=5)
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.dictionaries(st.sampled_from([*GEO.names, "x"]), _values, max_size=6),
            _values,
            st.lists(_values, max_size=2),
        ),
        max_size=6,
    )
)
def test_any_json_lines_give_rows_or_dead_letters_never_a_crash(values: list[object]) -> None:
    encoded = []
    for value in values:
        try:
            encoded.append(orjson.dumps(value))
        except orjson.JSONEncodeError:  # integers beyond 64 bits
            encoded.append(str(value).encode())
    data = b"\n".join(encoded)
    table, dead = parse_object(KEY, data, GEO)
    assert table.schema == GEO
    assert table.num_rows + len(dead) == len(values)


def test_read_raw_orders_by_key_then_line_and_counts(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path / "lake"))
    names = Names("u")
    base = "topics/u.geo/partition="
    lake.put_many(
        [
            (f"{base}1/u.geo+1+0000000000.json", lines(geo(5), geo(6))),
            (f"{base}0/u.geo+0+0000000002.json", lines(geo(3), b"[]")),
            (f"{base}0/u.geo+0+0000000000.json", lines(geo(1), geo(2))),
            ("topics/u.geo/partition=0/notes.txt", b"not an object"),
            ("topics/u.geoX/partition=0/u.geoX+0+0000000000.json", lines(geo(9))),
        ]
    )
    keys = list_raw_objects(lake, names, "geo")
    assert [k.rsplit("/", 2)[-2] for k in keys] == ["partition=0"] * 2 + ["partition=1"]
    sizes: list[int] = []
    read = read_raw(lake, "geo", keys, on_object=sizes.append, threads=2)
    assert [r["ind"] for r in read.table.to_pylist()] == [1, 2, 3, 5, 6]
    assert (read.objects, read.rows, len(read.dead_letters)) == (3, 5, 1)
    assert sorted(sizes) == sorted(len(lake.get(k)) for k in keys) and read.bytes == sum(sizes)
    empty = read_raw(lake, "pin", [])
    assert empty.rows == 0 and empty.table.schema == raw_schema("pin")
    assert isinstance(empty.table, pa.Table)
