from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pinpipe.records import GEO, PIN, USER, dumps, format_datetime, parse_datetime, to_payload


def test_column_orders_are_the_courses() -> None:
    assert PIN.column_names[0] == "index" and len(PIN.column_names) == 12
    assert GEO.column_names == ("ind", "timestamp", "latitude", "longitude", "country")
    assert USER.column_names == ("ind", "first_name", "last_name", "age", "date_joined")


def test_row_7528_is_444_bytes_with_newline(reference_dir: Path) -> None:
    """SPEC §9.2: the first S3 object (row 7528 plus '\\n') is 444 bytes."""
    with (reference_dir / "pinterest_data_observed_raw.jsonl").open() as fh:
        row = next(r for r in map(json.loads, fh) if r["index"] == 7528)
    payload = {name: row[name] for name in PIN.column_names}
    assert len(dumps(payload)) + 1 == 444


def test_payload_formats_datetimes_like_the_course() -> None:
    row = {"ind": 7528, "timestamp": datetime(2020, 8, 28, 3, 52, 47, tzinfo=UTC)}
    assert to_payload(row) == {"ind": 7528, "timestamp": "2020-08-28 03:52:47"}
    assert dumps(row) == b'{"ind":7528,"timestamp":"2020-08-28 03:52:47"}'


def test_non_utc_is_converted() -> None:
    value = datetime(2020, 1, 1, 1, 0, tzinfo=UTC).astimezone(
        __import__("datetime").timezone(timedelta(hours=2))
    )
    assert format_datetime(value) == "2020-01-01 01:00:00"


def test_both_datetime_forms_parse() -> None:
    expected = datetime(2020, 8, 28, 3, 52, 47, tzinfo=UTC)
    assert parse_datetime("2020-08-28 03:52:47") == expected
    assert parse_datetime("2020-08-28T03:52:47") == expected


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 1, 1)))  # noqa: DTZ001
def test_datetime_round_trip(value: datetime) -> None:
    aware = value.replace(microsecond=0, tzinfo=UTC)
    assert parse_datetime(format_datetime(aware)) == aware
