"""Object keys in the connector's layout, and the partitioners."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinpipe.broker import LogRecord
from pinpipe.sink import (
    DefaultPartitioner,
    SinkConfigError,
    TimePartitioner,
    object_key,
    parse_object_key,
    resolve_partitioner,
)


def record(timestamp_ms: int = 0, partition: int = 0) -> LogRecord:
    return LogRecord("u.geo", partition, 0, None, b"{}", timestamp_ms)


def test_key_is_the_connectors() -> None:
    """SPEC §3.4's example key."""
    key = object_key("129a67850695.pin", 0, 0)
    assert key == "topics/129a67850695.pin/partition=0/129a67850695.pin+0+0000000000.json"
    assert object_key("0a3c6c045333.pin", 0, 162).endswith("0a3c6c045333.pin+0+0000000162.json")


def test_zero_padding_and_longer_offsets() -> None:
    assert object_key("t", 3, 7).endswith("/partition=3/t+3+0000000007.json")
    assert object_key("t", 0, 9_999_999_999).endswith("t+0+9999999999.json")
    # String.format("%010d") does not truncate: an 11-digit offset is written in full.
    assert object_key("t", 0, 12_345_678_901).endswith("t+0+12345678901.json")


def test_extension_directory_and_topics_dir() -> None:
    assert object_key("t", 0, 5, extension="parquet").endswith("t+0+0000000005.parquet")
    assert object_key("t", 1, 5, encoded_partition="dt=2020-08-28/hour=03") == (
        "topics/t/dt=2020-08-28/hour=03/t+1+0000000005.json"
    )
    assert object_key("t", 0, 0, topics_dir="raw").startswith("raw/t/partition=0/")


@given(
    st.from_regex(r"[a-z0-9]{12}\.(pin|geo|user)", fullmatch=True),
    st.integers(0, 99),
    st.integers(0, 10**10 - 1),
)
def test_keys_parse_back(topic: str, partition: int, offset: int) -> None:
    assert parse_object_key(object_key(topic, partition, offset)) == (topic, partition, offset)


@given(st.lists(st.integers(0, 10**10 - 1), min_size=2, max_size=50, unique=True))
def test_offsets_sort_as_keys_sort(offsets: list[int]) -> None:
    """Within the 10-digit padding, listing keys in order lists objects in offset order."""
    keys = [object_key("u.pin", 0, o) for o in offsets]
    assert [parse_object_key(k)[2] for k in sorted(keys)] == sorted(offsets)


def test_default_partitioner() -> None:
    assert DefaultPartitioner().encode(record(partition=4), None) == "partition=4"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"timestamp": "2020-08-28 03:52:47"}, "dt=2020-08-28/hour=03"),  # the course's form
        ({"timestamp": "2020-08-28T23:59:59"}, "dt=2020-08-28/hour=23"),  # isoformat
        ({"timestamp": "2020-08-28T23:59:59+02:00"}, "dt=2020-08-28/hour=21"),  # to UTC
        ({"timestamp": 1_598_586_767_000}, "dt=2020-08-28/hour=03"),  # epoch ms
    ],
)
def test_time_partitioner_uses_the_timestamp_field(value: object, expected: str) -> None:
    assert TimePartitioner().encode(record(timestamp_ms=0), value) == expected


@pytest.mark.parametrize(
    "value",
    [{"date_joined": "2015-10-20 07:10:29"}, {"timestamp": "not a date"}, {"timestamp": None}, [1]],
)
def test_time_partitioner_falls_back_to_the_broker_timestamp(value: object) -> None:
    broker_ms = int(datetime(2024, 5, 6, 7, 8, tzinfo=UTC).timestamp() * 1000)
    assert TimePartitioner().encode(record(broker_ms), value) == "dt=2024-05-06/hour=07"


def test_unknown_partitioner_lists_the_valid_ones() -> None:
    with pytest.raises(SinkConfigError, match="default, time"):
        resolve_partitioner("field")
