"""JSON bodies: orjson's speed without losing big integers."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinpipe.api.body import encode_json, parse_json


@pytest.mark.parametrize(
    "text",
    [
        '{"records":[{"value":{"big":123456789012345678901234}}]}',
        '{"records":[{"value":{"neg":-123456789012345678901234}}]}',
        "[1,\n 98765432109876543210]",
        "123456789012345678901",
    ],
)
def test_integers_beyond_64_bits_stay_exact(text: str) -> None:
    assert parse_json(text.encode()) == json.loads(text)
    assert (
        encode_json(parse_json(text.encode()))
        == json.dumps(json.loads(text), separators=(",", ":")).encode()
    )


def test_digit_runs_inside_strings_are_plain_strings() -> None:
    text = '{"image_src":"https://x/0d299f3df020395aa7ce8387f40fbeed12345678901234567890.jpg"}'
    assert parse_json(text.encode()) == json.loads(text)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )
)
def test_parses_like_the_standard_library(value: object) -> None:
    body = json.dumps(value).encode()
    assert parse_json(body) == value
