"""Hypothesis round-trips and invariants of the batch path, in process (no servers).

(a) A pin/geo/user record → the JSON body the emulator posts (course or load mode) → parsed as
    the API parses it → appended to an embedded log → written to a local lake by the S3 sink →
    read by the batch reader: the raw row is the record's raw values (Databricks' inferred
    types: datetimes as ``YYYY-MM-DD HH:MM:SS`` strings), and cleaning it on DuckDB gives what
    the plain-Python reference (tests/transform/reference.py) gives.
(b) Clean is idempotent, in the formulation that holds for these models: map a cleaned row back
    to the raw shape (``ind`` → ``index``, a count → its digits, coordinates → latitude and
    longitude, a timestamp → its string, ``user_name`` → first and last name split at its first
    space) and clean again. Deduplication is of *raw* rows, before cleaning (SPEC §5.2, the
    course's canonical order), so two raw rows that differ only in what cleaning erases (the
    ``T`` form of a datetime, ``""`` against a placeholder) are two equal cleaned rows: the
    second pass drops that duplicate. So clean∘unclean∘clean(x) is distinct(clean(x)), and from
    there on a fixpoint — not the multiset clean(x) (test_dedup_is_of_raw_rows shows why).
(c) The sink's object keys sort as the records' offsets do: parse back to (topic, partition,
    offset), and in lexicographic order they list (partition, offset) order within the key's
    fixed widths (10 offset digits, one partition digit), which the course's one-partition
    topics never leave. Past them the Confluent layout's order is not numeric
    (test_listing_beyond_the_padding_is_in_offset_order documents what that does to the
    batch reader's listing).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinpipe.api.body import parse_json
from pinpipe.api.rest_proxy import parse_records
from pinpipe.batch.reader import list_raw_objects, read_raw
from pinpipe.broker.embedded import EmbeddedLog
from pinpipe.config import EmbeddedLogSettings, Settings
from pinpipe.emulator.payloads import batch_body, course_batch_body, value_bytes
from pinpipe.lake import open_lake
from pinpipe.naming import KINDS, Names, RecordKindName
from pinpipe.records import (
    CATEGORIES,
    IMAGE_SRC_ERROR,
    NO_DESCRIPTION,
    NO_DESCRIPTION_STORY,
    NO_TAGS,
    NO_TITLE,
    RECORD_KINDS,
    STORY_FORMAT,
    USER_INFO_ERROR,
    format_datetime,
)
from pinpipe.sink import object_key, parse_object_key, run_sink
from pinpipe.transform import DuckDBEngine
from pinpipe.transform.base import Row
from tests.reliability.scale import SCALE
from tests.transform.reference import py_clean

UID = "1232252d77df"
NAMES = Names(UID)
MAX_RECORD_BYTES = 2**20
SAVE_PREFIX = "Local save in "
PLACEHOLDERS = (
    NO_TITLE,
    NO_DESCRIPTION_STORY,
    NO_DESCRIPTION,
    USER_INFO_ERROR,
    NO_TAGS,
    IMAGE_SRC_ERROR,
    STORY_FORMAT,
    "",
)
INT64 = st.integers(-(2**63), 2**63 - 1)
#: Any text a database column can hold: every code point but lone surrogates (which UTF-8, and
#: so MySQL's utf8mb4 and JSON, cannot carry), control characters and NUL included.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
#: MySQL's DATETIME range (1000-9999), whole seconds (the payload's form has no fraction).
DATETIMES = st.datetimes(
    min_value=datetime(1000, 1, 1),  # noqa: DTZ001 - bounds are naive; values get UTC below
    max_value=datetime(9999, 12, 31, 23, 59, 59),  # noqa: DTZ001
    timezones=st.just(UTC),
).map(lambda d: d.replace(microsecond=0))
FLOATS = st.floats(allow_nan=False, allow_infinity=False)  # JSON has neither
#: The course's follower counts ("940", "26k", "1M"), within the INTEGER (32-bit) they are cast
#: to - as Spark's ``cast("int")`` in SPEC §5.3 - plus the scraper's placeholder and "".
FOLLOWERS = st.one_of(
    st.integers(0, 2**31 - 1).map(str),
    st.integers(0, (2**31 - 1) // 1000).map(lambda n: f"{n}k"),
    st.integers(0, (2**31 - 1) // 1_000_000).map(lambda n: f"{n}M"),
    st.sampled_from([USER_INFO_ERROR, ""]),
    st.none(),
)
#: A save location: the scraper's "Local save in <path>" (path non-empty and free of the
#: marker: see test_an_empty_save_path_cleans_as_the_reference_does) or anything else.
SAVE_LOCATIONS = st.one_of(
    TEXT.filter(lambda t: t != "" and SAVE_PREFIX not in t).map(lambda t: SAVE_PREFIX + t),
    TEXT.filter(lambda t: SAVE_PREFIX not in t),
    st.none(),
)


def pin_text() -> st.SearchStrategy[str | None]:
    """A pin string column: any text, any of the scraper's placeholders (in any column, where
    only some are placeholders of that column), or NULL."""
    return st.one_of(TEXT, st.sampled_from(PLACEHOLDERS), st.none())


PIN = st.fixed_dictionaries(
    {
        "index": INT64,
        "unique_id": pin_text(),
        "title": pin_text(),
        "description": pin_text(),
        "poster_name": pin_text(),
        "follower_count": FOLLOWERS,
        "tag_list": pin_text(),
        "is_image_or_video": pin_text(),
        "image_src": pin_text(),
        "downloaded": INT64,
        "save_location": SAVE_LOCATIONS,
        "category": st.one_of(st.sampled_from(CATEGORIES), pin_text()),
    }
)
GEO = st.fixed_dictionaries(
    {
        "ind": INT64,
        "timestamp": DATETIMES,
        "latitude": FLOATS,
        "longitude": FLOATS,
        # Not "": see test_an_empty_country_cleans_as_the_reference_does.
        "country": st.one_of(TEXT.filter(bool), st.none()),
    }
)
USER = st.fixed_dictionaries(
    {
        "ind": INT64,
        "first_name": TEXT,
        "last_name": TEXT,
        "age": INT64,
        "date_joined": DATETIMES,
    }
)
RECORDS: dict[RecordKindName, st.SearchStrategy[dict[str, Any]]] = {
    "pin": PIN,
    "geo": GEO,
    "user": USER,
}


def rows_with_resends(kind: RecordKindName) -> st.SearchStrategy[list[dict[str, Any]]]:
    """1-6 records, some possibly sent again (an exact re-send, as the emulator's are)."""

    def resend(rows: list[dict[str, Any]]) -> st.SearchStrategy[list[dict[str, Any]]]:
        again = st.lists(st.sampled_from(rows), max_size=2)
        return again.map(lambda extra: rows + extra)

    return st.lists(RECORDS[kind], min_size=1, max_size=6).flatmap(resend)


def raw_values(kind: RecordKindName, row: dict[str, Any]) -> Row:
    """The row as Databricks infers it from the lake's JSON: datetimes as the payload's
    strings, every other value as it is."""
    return {
        c.name: format_datetime(row[c.name]) if c.type == "datetime" else row[c.name]
        for c in RECORD_KINDS[kind].columns
    }


def canonical(rows: list[Row]) -> list[tuple[Any, ...]]:
    """Rows as comparable tuples in a fixed order (-0.0 as 0.0, lists as tuples)."""

    def value(v: Any) -> Any:
        if isinstance(v, float):
            return v + 0.0
        if isinstance(v, list):
            return tuple(value(x) for x in v)
        return v

    tuples = [tuple((k, value(v)) for k, v in row.items()) for row in rows]
    return sorted(tuples, key=repr)


_ENGINE: list[DuckDBEngine] = []


def clean(kind: RecordKindName, raw: list[Row] | pa.Table) -> list[Row]:
    """``raw`` cleaned on DuckDB (one in-memory engine for the module: a new one per example
    would cost more than the cleaning)."""
    if not _ENGINE:
        _ENGINE.append(DuckDBEngine())
    engine = _ENGINE[0]
    engine.load_raw(kind, raw)
    engine.clean([kind])
    return engine.table(kind)


@pytest.fixture(scope="module", autouse=True)
def _close_engine() -> Iterator[None]:
    yield
    while _ENGINE:
        _ENGINE.pop().close()


def examples(count: int) -> settings:
    """Bounded (see scale.py), deterministic, no example database, no deadline."""
    return settings(
        max_examples=count,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# -- (a) record → JSON → log → lake → raw → clean ---------------------------------------------


def land(kind: RecordKindName, bodies: list[bytes], flush_size: int, home: Path) -> list[Row]:
    """POST bodies as the API takes them, into an embedded log; sink them; read them back."""
    settings_ = Settings(home=home, user_id=UID)
    topic = NAMES.topic(kind)
    with EmbeddedLog(home / "broker.db", EmbeddedLogSettings(durability="none")) as log:
        for other in KINDS:
            log.create_topic(NAMES.topic(other))
        for body in bodies:
            records, _ = parse_records(parse_json(body), MAX_RECORD_BYTES)
            log.append(topic, records)
        with open_lake(str(home / "lake")) as lake:
            info = run_sink(settings_, once=True, broker=log, lake=lake, flush_size=flush_size)
            assert info.dead_letters == 0
            keys = list_raw_objects(lake, NAMES, kind)
            read = read_raw(lake, kind, keys)
    assert not read.dead_letters, read.dead_letters
    rows: list[Row] = read.table.to_pylist()
    return rows


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@examples(SCALE.roundtrip_examples)
@given(data=st.data(), course=st.booleans(), flush_size=st.integers(1, 4))
def test_a_record_reaches_the_lake_and_cleans_as_the_reference(
    kind: RecordKindName, data: st.DataObject, course: bool, flush_size: int
) -> None:
    rows = data.draw(rows_with_resends(kind), label="rows")
    if course:  # the course's emulator: one json.dumps request per row
        bodies = [course_batch_body(row) for row in rows]
    else:  # load mode: one request of compact values
        bodies = [batch_body([value_bytes(row) for row in rows])]
    expected = [raw_values(kind, row) for row in rows]
    with tempfile.TemporaryDirectory() as home:
        landed = land(kind, bodies, flush_size, Path(home))
    assert landed == expected  # in offset order: key order, then line order
    raw: dict[str, list[Row]] = {k: expected if k == kind else [] for k in KINDS}
    assert canonical(clean(kind, landed)) == canonical(py_clean(raw)[kind])


# -- (b) clean is idempotent --------------------------------------------------------------------


def unclean(kind: RecordKindName, row: Row) -> Row:
    """A cleaned row in the raw shape, so cleaning can take it again."""
    if kind == "pin":
        followers = row["follower_count"]
        return {
            "index": row["ind"],
            **{k: v for k, v in row.items() if k not in ("ind", "follower_count")},
            "follower_count": None if followers is None else str(followers),
            "downloaded": 1,
        }
    if kind == "geo":
        latitude, longitude = row["coordinates"]
        stamp = row["timestamp"]
        return {
            "ind": row["ind"],
            "timestamp": None if stamp is None else format_datetime(stamp),
            "latitude": latitude,
            "longitude": longitude,
            "country": row["country"],
        }
    first, _, last = (row["user_name"] or "").partition(" ")
    stamp = row["date_joined"]
    return {
        "ind": row["ind"],
        "first_name": first if row["user_name"] is not None else None,
        "last_name": last if row["user_name"] is not None else None,
        "age": row["age"],
        "date_joined": None if stamp is None else format_datetime(stamp),
    }


def distinct(rows: list[Row]) -> list[tuple[Any, ...]]:
    return sorted(set(canonical(rows)), key=repr)


def raw_frames(kind: RecordKindName) -> st.SearchStrategy[list[Row]]:
    """Raw frames as the lake holds them: records' raw values, datetimes in either payload
    form (SPEC §2.5: "2020-08-28 03:52:47" and "2020-08-28T03:52:47"), with re-sends."""

    def variant(row: dict[str, Any]) -> st.SearchStrategy[Row]:
        raw = raw_values(kind, row)
        stamp = {"geo": "timestamp", "user": "date_joined"}.get(kind)
        if stamp is None:
            return st.just(raw)
        return st.sampled_from([raw, {**raw, stamp: raw[stamp].replace(" ", "T")}])

    return rows_with_resends(kind).flatmap(
        lambda rows: st.tuples(*(variant(row) for row in rows)).map(list)
    )


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@examples(SCALE.idempotence_examples)
@given(data=st.data())
def test_clean_is_idempotent(kind: RecordKindName, data: st.DataObject) -> None:
    raw = data.draw(raw_frames(kind), label="raw")
    once = clean(kind, raw)
    twice = clean(kind, [unclean(kind, row) for row in once])
    assert canonical(twice) == distinct(once)
    thrice = clean(kind, [unclean(kind, row) for row in twice])
    assert canonical(thrice) == canonical(twice)


def test_dedup_is_of_raw_rows() -> None:
    """Why (b) compares with distinct(clean(x)): a geo record re-sent with the ISO datetime
    form is a different raw row, so both are kept, and they clean to the same row (SPEC §5.2:
    drop exact duplicates before cleaning, as the course does)."""
    row = {"ind": 1, "latitude": 1.5, "longitude": -2.0, "country": "Chad"}
    raw = [{**row, "timestamp": "2020-08-28 03:52:47"}, {**row, "timestamp": "2020-08-28T03:52:47"}]
    once = clean("geo", raw)
    assert len(once) == 2 and once[0] == once[1]
    assert len(clean("geo", [unclean("geo", r) for r in once])) == 1


# -- where the SQL and the reference disagree -------------------------------------------------


def test_an_empty_country_cleans_as_the_reference_does() -> None:
    raw = [{"ind": 1, "timestamp": "2020-08-28 03:52:47", "latitude": 0.0, "longitude": 0.0}]
    raw[0]["country"] = ""
    frames = {"pin": [], "geo": raw, "user": []}
    assert clean("geo", raw) == py_clean(frames)["geo"]


def test_an_empty_save_path_cleans_as_the_reference_does() -> None:
    raw = [{"index": 1, "unique_id": "u", "save_location": SAVE_PREFIX, "category": "art"}]
    frames = {"pin": raw, "geo": [], "user": []}
    full = [{c.name: r.get(c.name) for c in RECORD_KINDS["pin"].columns} for r in raw]
    assert clean("pin", full) == py_clean({**frames, "pin": full})["pin"]


# -- (c) lake keys sort in offset order -------------------------------------------------------

TOPICS = st.from_regex(r"[a-zA-Z0-9._-]{1,40}", fullmatch=True).filter(
    lambda t: t not in (".", "..")
)
#: Inside the key's fixed widths: one partition digit, ten offset digits.
PADDED = st.tuples(st.integers(0, 9), st.integers(0, 10**10 - 1))
#: Anything: a partition up to Kafka's practical maximum, an offset up to Long.MAX_VALUE.
ANY_POSITION = st.tuples(st.integers(0, 100_000), st.integers(0, 2**63 - 1))


def sink_key(topic: str, position: tuple[int, int]) -> str:
    return object_key(topic, position[0], position[1])


@examples(SCALE.key_examples)
@given(topic=TOPICS, positions=st.lists(ANY_POSITION, min_size=1, max_size=20))
def test_a_key_parses_back_to_its_topic_partition_and_offset(
    topic: str, positions: list[tuple[int, int]]
) -> None:
    for position in positions:
        assert parse_object_key(sink_key(topic, position)) == (topic, *position)


@examples(SCALE.key_examples)
@given(topic=TOPICS, positions=st.lists(PADDED, min_size=2, max_size=30, unique=True))
def test_keys_sort_in_partition_then_offset_order(
    topic: str, positions: list[tuple[int, int]]
) -> None:
    keys = [sink_key(topic, p) for p in positions]
    assert [parse_object_key(k)[1:] for k in sorted(keys)] == sorted(positions)


@examples(SCALE.key_examples)
@given(
    topic=TOPICS,
    partition=st.integers(0, 100_000),
    offsets=st.lists(st.integers(0, 10**10 - 1), min_size=2, max_size=30, unique=True),
)
def test_within_a_partition_keys_sort_in_offset_order(
    topic: str, partition: int, offsets: list[int]
) -> None:
    keys = [object_key(topic, partition, o) for o in offsets]
    assert [parse_object_key(k)[2] for k in sorted(keys)] == sorted(offsets)


def test_listing_beyond_the_padding_is_in_offset_order(tmp_path: Path) -> None:
    topic = NAMES.topic("pin")
    positions = [(2, 0), (2, 9_999_999_999), (2, 10_000_000_000), (10, 0)]
    with open_lake(str(tmp_path / "lake")) as lake:
        for position in positions:
            lake.put_atomic(sink_key(topic, position), b'{"index":1}\n')
        listed = list_raw_objects(lake, NAMES, "pin")
    assert [parse_object_key(k)[1:] for k in listed] == positions
