"""Request bodies: the course's byte-exact ones and load mode's spliced batches."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pinpipe.emulator.payloads import (
    batch_body,
    course_batch_body,
    course_route,
    course_stream_body,
    load_route,
    stream_body,
    value_bytes,
)

ROW: dict[str, Any] = {
    "ind": 7528,
    "first_name": "Zoë",  # non-ASCII: \u-escaped by the course, raw UTF-8 when stored
    "age": 20,
    "date_joined": datetime(2015, 10, 24, 11, 23, 51, tzinfo=UTC),
    "latitude": -89.9787,
}
FORMATTED = {**ROW, "date_joined": "2015-10-24 11:23:51"}


def test_course_bodies_are_json_dumps_defaults() -> None:
    assert course_batch_body(ROW) == json.dumps({"records": [{"value": FORMATTED}]}).encode()
    assert b'"Zo\\u00eb"' in course_batch_body(ROW)
    body = {"StreamName": "streaming-u-user", "Data": FORMATTED, "PartitionKey": "partition-1"}
    assert course_stream_body("streaming-u-user", ROW) == json.dumps(body).encode()


def test_routes() -> None:
    assert course_route("batch", "u.pin") == ("POST", "/topics/u.pin")
    assert course_route("stream", "streaming-u-pin") == ("PUT", "/streams/streaming-u-pin/record")
    assert load_route("batch", "u.pin") == ("POST", "/topics/u.pin")
    assert load_route("stream", "streaming-u-pin") == ("PUT", "/streams/streaming-u-pin/records")


def test_value_bytes_are_compact_utf8() -> None:
    compact = json.dumps(FORMATTED, separators=(",", ":"), ensure_ascii=False).encode()
    assert value_bytes(ROW) == compact


rows = st.lists(
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.one_of(
            st.integers(-(2**53), 2**53), st.text(max_size=20), st.none(), st.floats(-1e9, 1e9)
        ),
        max_size=4,
    ),
    min_size=1,
    max_size=5,
)


@given(rows)
def test_batch_bodies_parse_to_the_rows(values: list[dict[str, Any]]) -> None:
    encoded = [value_bytes(v) for v in values]
    assert json.loads(batch_body(encoded)) == {"records": [{"value": v} for v in values]}
    assert json.loads(stream_body(encoded)) == {
        "records": [{"data": v, "partition-key": "partition-1"} for v in values]
    }
