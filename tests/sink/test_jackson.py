"""The JSON bytes: what Kafka Connect's JsonConverter + the S3 sink's JsonFormat write.

``jackson_cases.jsonl`` holds Java's own output (tests/sink/oracle, Jackson 2.17 on Java 17) for
edge cases and generated values; ``test_oracle.py`` re-runs Java where it is installed.
"""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinpipe.sink import EncodeError, JsonFormat
from pinpipe.sink.jackson import encode, hashmap_order, java_double, java_hash, parse

CASES = Path(__file__).with_name("jackson_cases.jsonl")


def line(raw: bytes, field_order: str = "received") -> bytes:
    return JsonFormat(field_order).encode(raw)  # type: ignore[arg-type]


# -- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "java"),
    [
        (1.0, "1.0"),  # orjson: 1.0
        (-0.0, "-0.0"),  # orjson: -0.0
        (0.0, "0.0"),
        (100.0, "100.0"),
        (0.001, "0.001"),  # plain from 1e-3 ...
        (9999999.0, "9999999.0"),  # ... to below 1e7
        (1e7, "1.0E7"),  # orjson: 10000000.0
        (1234567890.0, "1.23456789E9"),
        (0.0001, "1.0E-4"),  # orjson: 0.0001
        (1.5e-5, "1.5E-5"),  # orjson: 0.000015
        (1e21, "1.0E21"),  # orjson: 1e+21
        (1e16, "1.0E16"),  # orjson: 1e+16
        (-88.8298, "-88.8298"),  # a course latitude: the same everywhere
        (161304845894623136.0, "1.61304845894623136E17"),  # JDK <= 18: exact digits below 2^63
        (2e23, "2.0E23"),  # above 2^63 pinpipe prints the shortest (Java 17: 1.9999999999999998E23)
        (5e-324, "4.9E-324"),  # two digits, the closer to the exact value
        (math.inf, "Infinity"),
    ],
)
def test_java_double(value: float, java: str) -> None:
    assert java_double(value) == java


def test_number_rule_in_records() -> None:
    assert line(b'{"a":1,"b":1.0,"c":1e21,"d":-0.0,"e":-0}') == (
        b'{"a":1,"b":1.0,"c":1.0E21,"d":-0.0,"e":0}\n'
    )
    assert line(b"[1E2, 1e400, 9223372036854775807]") == b'[100.0,"Infinity",9223372036854775807]\n'


@pytest.mark.parametrize("big", [b"9223372036854775808", b"-9223372036854775809", b"1" * 30])
def test_integers_beyond_64_bits_cannot_be_encoded(big: bytes) -> None:
    with pytest.raises(EncodeError, match="64-bit"):
        line(b'{"n":' + big + b"}")


# -- strings ---------------------------------------------------------------------------------


def test_non_ascii_is_raw_utf8_but_emoji_are_surrogate_escapes() -> None:
    value = '{"t":"héllo ✓ 中 \u2028 \x7f 😀"}'.encode()
    assert line(value) == '{"t":"héllo ✓ 中 \u2028 \x7f \\uD83D\\uDE00"}\n'.encode()


def test_control_characters_and_quotes() -> None:
    raw = json.dumps({"s": '\x00\b\t\n\x0b\f\r\x1f"\\/'}).encode()
    assert line(raw) == b'{"s":"\\u0000\\b\\t\\n\\u000B\\f\\r\\u001F\\"\\\\/"}\n'


def test_lone_surrogates_are_escaped_as_jackson_does() -> None:
    assert line(b'"\\ud800x"') == b'"\\uD800x"\n'


# -- structure -------------------------------------------------------------------------------


def test_compact_key_order_received_and_nested() -> None:
    spaced = b'{ "z" : 1 , "a" : { "y" : [ 1 , 2 , { "b" : null } ] , "x" : true } }'
    assert line(spaced) == b'{"z":1,"a":{"y":[1,2,{"b":null}],"x":true}}\n'


def test_connect_order_is_javas_hashmap_order() -> None:
    # Java: new HashMap<>() of these keys iterates a, b, z (buckets by String.hashCode()).
    assert line(b'{"z":1,"b":2,"a":3}', "connect") == b'{"a":3,"b":2,"z":1}\n'
    assert java_hash("index") == 100346066  # "index".hashCode()
    keys = tuple(f"k{i}" for i in range(40))  # forces two resizes
    assert sorted(hashmap_order(keys)) == sorted(keys)


def test_duplicate_keys_keep_the_last_value_in_the_first_place() -> None:
    assert line(b'{"a":1,"b":2,"a":3}') == b'{"a":3,"b":2}\n'


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"   ", "empty"),
        (b"null", "null"),
        (b"not json", "not valid JSON"),
        (b'{"a":1} trailing', "not valid JSON"),  # Jackson would read {"a":1}: pinpipe refuses
        (b'{"a":NaN}', "not valid JSON"),
        (b"\xff\xfe", "UTF-8"),
        (b'{"a":' * 2000 + b"1" + b"}" * 2000, "JSON"),
    ],
)
def test_values_that_cannot_be_encoded(raw: bytes, reason: str) -> None:
    with pytest.raises(EncodeError, match=reason):
        line(raw)


def test_scalars_and_arrays_are_written_like_objects() -> None:
    assert line(b'"text"') == b'"text"\n'
    assert line(b"42") == b"42\n"
    assert line(b"[true,false]") == b"[true,false]\n"


# -- against Java ----------------------------------------------------------------------------


def java_cases() -> list[tuple[bytes, bytes | str]]:
    rows = [json.loads(text) for text in CASES.read_text().splitlines()[1:]]
    return [
        (base64.b64decode(v), base64.b64decode(w) if w[:4] not in ("NULL", "ERR ") else w)
        for v, w in rows
    ]


def test_bytes_equal_javas_on_the_recorded_cases() -> None:
    """Field order ``connect``: byte-identical to the Java reference on every recorded case."""
    cases = java_cases()
    assert len(cases) > 100
    for raw, java in cases:
        if java == "NULL":
            with pytest.raises(EncodeError):
                line(raw, "connect")
        else:
            assert isinstance(java, bytes)
            assert line(raw, "connect") == java, raw
            # received order: the same bytes, fields in another order
            assert len(line(raw)) == len(java)


# -- properties ------------------------------------------------------------------------------

_bmp_text = st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs", "Cc")))
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(min_value=1e-3, max_value=9.9e6) | st.floats(min_value=-9.9e6, max_value=-1e-3),
    _bmp_text,
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_bmp_text, inner, max_size=5),
    max_leaves=20,
)


@given(_values)
def test_in_the_common_domain_it_is_orjson(value: Any) -> None:
    """BMP text without control characters, ints, floats in 1e-3..1e7: orjson's bytes."""
    assert encode(value) == orjson.dumps(value)


@given(
    st.recursive(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-(2**63), 2**63 - 1),
            st.floats(allow_nan=False, allow_infinity=False),
            st.text(),
        ),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=20,
    )
)
def test_what_is_written_parses_back_to_the_value(value: Any) -> None:
    assert parse(encode(value)) == value
    assert parse(encode(value, "connect")) == value
