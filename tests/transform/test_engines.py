"""Both engines on the course's real rows, checked row for row against plain Python
(tests/transform/reference.py); the Spark engine runs the same models transpiled by SQLGlot."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from pinpipe.transform import (
    CLEANING,
    MODELS,
    QUERIES,
    BatchResult,
    DuckDBEngine,
    Engine,
    TransformError,
    load_sql,
)
from tests.transform.reference import (
    AGE_GROUPS,
    PIN_COLUMNS,
    TIES_GEO,
    TIES_PIN,
    TIES_USER,
    Row,
    load_reference_raw,
    py_clean,
    py_queries,
)

ENGINE_NAMES = ("duckdb", pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow]))


@pytest.fixture(scope="module", params=ENGINE_NAMES)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if request.param == "duckdb":
        with DuckDBEngine() as duckdb_engine:
            yield duckdb_engine
        return
    from pinpipe.transform.spark_engine import SparkEngine

    with SparkEngine(session=request.getfixturevalue("spark_session")) as spark_engine:
        yield spark_engine


@pytest.fixture(scope="module")
def raw(reference_dir: Path) -> dict[str, list[Row]]:
    return load_reference_raw(reference_dir)


@pytest.fixture(scope="module")
def result(engine: Engine, raw: dict[str, list[Row]]) -> BatchResult:
    return engine.run(raw["pin"], raw["geo"], raw["user"])


@pytest.fixture(scope="module")
def expected_clean(raw: dict[str, list[Row]]) -> dict[str, list[Row]]:
    return py_clean(raw)


@pytest.fixture(scope="module")
def expected_queries(expected_clean: dict[str, list[Row]]) -> dict[str, list[Row]]:
    return py_queries(expected_clean)


# -- tests ------------------------------------------------------------------------------------


def test_models_are_listed_and_load() -> None:
    assert MODELS[:3] == ("clean_pin", "clean_geo", "clean_user")
    assert len(QUERIES) == 9
    for model in MODELS:
        text = load_sql(model)
        assert text and not text.endswith(";")
        assert "QUANTILE" not in text.upper()
    with pytest.raises(KeyError):
        load_sql("nope")


@pytest.mark.parametrize("kind", CLEANING)
def test_cleaned_rows_match_python(
    kind: str, result: BatchResult, expected_clean: dict[str, list[Row]]
) -> None:
    assert result.cleaned[kind] == expected_clean[kind]  # type: ignore[index]


def test_dedup_drops_exact_resends(raw: dict[str, list[Row]], result: BatchResult) -> None:
    assert len(result.cleaned["pin"]) == len(raw["pin"]) - 50 == 1959
    assert len(result.cleaned["geo"]) == len(result.cleaned["user"]) == 11154
    for rows in result.cleaned.values():
        inds = [r["ind"] for r in rows]
        assert len(inds) == len(set(inds))


def test_spec_9_cleaning_checks(result: BatchResult) -> None:
    pins = {r["ind"]: r for r in result.cleaned["pin"]}
    assert all(tuple(r) == PIN_COLUMNS for r in pins.values())
    assert pins[5494]["follower_count"] == 26000  # "26k"
    assert pins[159]["follower_count"] == 1_000_000  # "1M"
    assert pins[10794]["follower_count"] == 437
    assert 940 in {r["follower_count"] for r in pins.values()}  # "940", the largest plain value
    assert pins[1691]["save_location"] == "/data/christmas"
    assert pins[10794]["save_location"] == "/data/vehicles"
    assert pins[480]["description"] is None  # "No description available"
    assert pins[7528] == {
        "ind": 7528,
        "unique_id": "fbe53c66-3442-4773-b19e-d3ec6f54dddf",
        "title": None,
        "description": None,
        "follower_count": None,  # "User Info Error"
        "poster_name": None,
        "tag_list": None,
        "is_image_or_video": "multi-video(story page format)",
        "image_src": None,
        "save_location": "/data/mens-fashion",
        "category": "mens-fashion",
    }
    geo = {r["ind"]: r for r in result.cleaned["geo"]}
    assert geo[2418]["coordinates"] == [-88.4642, -171.061]
    assert geo[2418]["timestamp"] == datetime(2022, 5, 27, 11, 30, 59, tzinfo=UTC)
    assert geo[7]["timestamp"].tzinfo is UTC  # row 7 was sent in the ISO "T" form
    users = {r["ind"]: r for r in result.cleaned["user"]}
    assert users[2015]["user_name"] == "Christopher Bradshaw"
    assert tuple(users[2015]) == ("ind", "user_name", "age", "date_joined")
    assert tuple(geo[2418]) == ("ind", "country", "coordinates", "timestamp")


@pytest.mark.parametrize("name", QUERIES)
def test_query_matches_python(
    name: str, result: BatchResult, expected_queries: dict[str, list[Row]]
) -> None:
    assert result.queries[name] == expected_queries[name]


def test_spec_9_query_checks(result: BatchResult) -> None:
    q = result.queries
    assert {r["post_year"] for r in q["popular_category_by_year"]} == {2018, 2019, 2020, 2021, 2022}
    for name in ("users_joined_by_year", "median_followers_by_join_year"):
        assert [r["post_year"] for r in q[name]] == [2015, 2016, 2017]
    q8 = q["median_followers_by_age_group_and_join_year"]
    assert {r["post_year"] for r in q8} == {2015, 2016, 2017}
    assert [r["age_group"] for r in q8] == [g for g in AGE_GROUPS for _ in range(3)]
    assert q["users_joined_by_year"] == [  # distinct users per join year (SPEC §1.4)
        {"post_year": 2015, "number_users_joined": 841},
        {"post_year": 2016, "number_users_joined": 2760},
        {"post_year": 2017, "number_users_joined": 1706},
    ]
    followers = {r["follower_count"] for r in result.cleaned["pin"]}
    medians = [
        r["median_follower_count"] for name in QUERIES if name.startswith("median") for r in q[name]
    ]
    assert medians and all(m in followers for m in medians)
    assert len(q["country_with_most_followed_user"]) == 1


def test_ties_are_kept_and_q3b_breaks_them_by_country(engine: Engine) -> None:
    got = engine.run(TIES_PIN, TIES_GEO, TIES_USER).queries
    assert got["country_with_most_followed_user"] == [
        {"country": "American Samoa", "follower_count": 8_000_000}
    ]
    assert got["most_followed_user_by_country"] == [
        {"country": "American Samoa", "poster_name": "p1", "follower_count": 8_000_000},
        {"country": "Angola", "poster_name": "p0", "follower_count": 8_000_000},
        {"country": "Chad", "poster_name": "p5", "follower_count": 7},
    ]
    assert got["popular_category_by_country"] == [
        {"country": "American Samoa", "category": "beauty", "category_count": 2},
        {"country": "Angola", "category": "art", "category_count": 2},
        {"country": "Chad", "category": "art", "category_count": 1},
        {"country": "Chad", "category": "travel", "category_count": 1},
    ]
    # Even count of non-NULL values (8M, 8M, 1k, 2k, 7): the lower middle, an actual value.
    assert got["median_followers_by_age_group"] == [
        {"age_group": "18-24", "median_follower_count": 2000}
    ]
    assert got["users_joined_by_year"] == [{"post_year": 2016, "number_users_joined": 1}]


def test_pyarrow_input_and_errors(
    engine: Engine, raw: dict[str, list[Row]], result: BatchResult
) -> None:
    frames = [pa.Table.from_pylist(raw[kind][:300]) for kind in CLEANING]
    got = engine.run(*frames)
    assert got.cleaned["user"] == result.cleaned["user"][: len(got.cleaned["user"])]
    with pytest.raises(TransformError, match="unknown query"):
        engine.query("clean_pin")
    # Missing columns are NULL; a column of the wrong type is an error naming the frame.
    assert engine.load_raw("geo", pa.table({"ind": [1]})) == 1
    with pytest.raises(TransformError, match="raw geo"):
        engine.load_raw("geo", pa.table({"ind": ["one"]}))


def test_empty_frames_give_empty_tables_and_results(engine: Engine) -> None:
    got = engine.run([], [], [])
    assert got.cleaned == {"pin": [], "geo": [], "user": []}
    assert all(rows == [] for rows in got.queries.values())
    assert engine.count("pin") == 0


def test_dedup_is_on_raw_rows_only(engine: Engine) -> None:
    """A re-send in the other datetime form is not an exact raw duplicate (SPEC §5.2)."""
    geo = [*TIES_GEO, {**TIES_GEO[0], "timestamp": "2019-01-01T00:00:00"}, TIES_GEO[1]]
    assert engine.load_raw("geo", geo) == 8
    engine.load_raw("pin", TIES_PIN)
    engine.load_raw("user", TIES_USER)
    engine.clean()
    assert [r["ind"] for r in engine.table("geo")] == [0, 0, 1, 2, 3, 4, 5]
    assert engine.count("raw_geo") == 8
    assert engine.count("geo") == 7


def test_unparsable_datetimes_become_null(engine: Engine) -> None:
    geo = [{**TIES_GEO[0], "timestamp": "not a time"}, TIES_GEO[1]]
    user = [{**TIES_USER[0], "date_joined": "2016-13-45 00:00:00"}]
    engine.run(TIES_PIN, geo, user)
    assert [r["timestamp"] for r in engine.table("geo")] == [
        None,
        datetime(2019, 1, 1, tzinfo=UTC),
    ]
    assert engine.table("user")[0]["date_joined"] is None
