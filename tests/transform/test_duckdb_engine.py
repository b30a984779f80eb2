"""The DuckDB engine on the course's real rows, checked row for row against plain Python."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pinpipe.records import (
    GEO,
    IMAGE_SRC_ERROR,
    NO_DESCRIPTION,
    NO_DESCRIPTION_STORY,
    NO_TAGS,
    NO_TITLE,
    PIN,
    USER,
    USER_INFO_ERROR,
    parse_datetime,
)
from pinpipe.transform import CLEANING, MODELS, QUERIES, load_sql
from pinpipe.transform.duckdb_engine import (
    BatchResult,
    DuckDBEngine,
    TransformError,
    clean_and_query,
    raw_from_jsonl_files,
)

Row = dict[str, Any]
PIN_COLUMNS = (
    "ind",
    "unique_id",
    "title",
    "description",
    "follower_count",
    "poster_name",
    "tag_list",
    "is_image_or_video",
    "image_src",
    "save_location",
    "category",
)
AGE_GROUPS = ("18-24", "25-35", "36-50", "+50")


# -- raw frames from the reference data -------------------------------------------------------


def _read_csv(path: Path, ints: Iterable[str], floats: Iterable[str] = ()) -> list[Row]:
    ints, floats = set(ints), set(floats)
    with path.open(newline="", encoding="utf-8") as fh:
        rows = []
        for record in csv.DictReader(fh):
            record.pop("")  # the unnamed pandas index column
            rows.append(
                {
                    k: int(v) if k in ints else float(v) if k in floats else v
                    for k, v in record.items()
                }
            )
    return rows


@pytest.fixture(scope="module")
def raw(reference_dir: Path) -> dict[str, list[Row]]:
    pin = raw_from_jsonl_files([reference_dir / "pinterest_data_observed_raw.jsonl"])
    pin = [{k: v for k, v in row.items() if not k.startswith("_")} for row in pin]
    geo = _read_csv(reference_dir / "geolocation_data.csv", ["ind"], ["latitude", "longitude"])
    user = _read_csv(reference_dir / "user_data.csv", ["ind", "age"])
    assert list(pin[0]) == list(PIN.column_names)
    assert list(geo[0]) == list(GEO.column_names)
    assert list(user[0]) == list(USER.column_names)
    # Both datetime forms occur in payloads (SPEC §2.5): every 7th row in the ISO "T" form.
    for rows, key in ((geo, "timestamp"), (user, "date_joined")):
        for i in range(0, len(rows), 7):
            rows[i] = {**rows[i], key: rows[i][key].replace(" ", "T")}
    # An empty string in a couple of string columns becomes NULL (SPEC §5.3).
    pin[1] = {**pin[1], "title": "", "tag_list": ""}
    # Exact re-sends (SPEC §5.2): some rows twice or three times, at the end of each frame.
    pin += pin[:40] + pin[100:110]
    geo += geo[:60] + geo[:5]
    user += user[500:560]
    return {"pin": pin, "geo": geo, "user": user}


@pytest.fixture(scope="module")
def result(raw: dict[str, list[Row]]) -> BatchResult:
    return clean_and_query(raw["pin"], raw["geo"], raw["user"])


# -- the test's own implementation of each rule -------------------------------------------------

PLACEHOLDERS = {
    "title": {NO_TITLE},
    "description": {NO_DESCRIPTION_STORY, NO_DESCRIPTION},
    "poster_name": {USER_INFO_ERROR},
    "follower_count": {USER_INFO_ERROR},
    "tag_list": {NO_TAGS},
    "image_src": {IMAGE_SRC_ERROR},
}


def _distinct(rows: list[Row]) -> list[Row]:
    seen: dict[tuple[Any, ...], Row] = {}
    for row in rows:
        seen.setdefault(tuple(row.items()), row)
    return list(seen.values())


def _followers(text: str | None) -> int | None:
    if text is None:
        return None
    if text.endswith("k"):
        return int(text[:-1]) * 1000
    if text.endswith("M"):
        return int(text[:-1]) * 1_000_000
    return int(text)


def py_clean_pin(row: Row) -> Row:
    values = {
        k: None if isinstance(v, str) and (v == "" or v in PLACEHOLDERS.get(k, ())) else v
        for k, v in row.items()
    }
    save = values["save_location"]
    return {
        "ind": values["index"],
        "unique_id": values["unique_id"],
        "title": values["title"],
        "description": values["description"],
        "follower_count": _followers(values["follower_count"]),
        "poster_name": values["poster_name"],
        "tag_list": values["tag_list"],
        "is_image_or_video": values["is_image_or_video"],
        "image_src": values["image_src"],
        "save_location": save.removeprefix("Local save in ") if save else None,
        "category": values["category"],
    }


def py_clean_geo(row: Row) -> Row:
    return {
        "ind": row["ind"],
        "country": row["country"],
        "coordinates": [row["latitude"], row["longitude"]],
        "timestamp": parse_datetime(row["timestamp"]),
    }


def py_clean_user(row: Row) -> Row:
    return {
        "ind": row["ind"],
        "user_name": f"{row['first_name']} {row['last_name']}",
        "age": row["age"],
        "date_joined": parse_datetime(row["date_joined"]),
    }


def py_clean(raw: dict[str, list[Row]]) -> dict[str, list[Row]]:
    cleaners: dict[str, Callable[[Row], Row]] = {
        "pin": py_clean_pin,
        "geo": py_clean_geo,
        "user": py_clean_user,
    }
    return {
        kind: sorted((cleaners[kind](r) for r in _distinct(raw[kind])), key=lambda r: r["ind"])
        for kind in CLEANING
    }


def age_group(age: int) -> str:
    if age <= 24:
        return "18-24"
    if age <= 35:
        return "25-35"
    if age <= 50:
        return "36-50"
    return "+50"


def discrete_median(values: Iterable[int | None]) -> int | None:
    """The smallest v with at least half of the (non-NULL) values <= v."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    return ordered[(len(ordered) + 1) // 2 - 1]


def _top(counts: Counter[tuple[Any, Any]], key_name: str, value_name: str) -> list[Row]:
    best: dict[Any, int] = defaultdict(int)
    for (key, _), n in counts.items():
        best[key] = max(best[key], n)
    return sorted(
        (
            {key_name: key, value_name: value, "category_count": n}
            for (key, value), n in counts.items()
            if n == best[key]
        ),
        key=lambda r: (r[key_name], r[value_name]),
    )


def py_queries(clean: dict[str, list[Row]]) -> dict[str, list[Row]]:
    geo: dict[int, list[Row]] = defaultdict(list)
    for g in clean["geo"]:
        geo[g["ind"]].append(g)
    user: dict[int, list[Row]] = defaultdict(list)
    for u in clean["user"]:
        user[u["ind"]].append(u)
    # Inner joins on ind, with SQL's multiplicity.
    pin_geo = [(p, g) for p in clean["pin"] for g in geo.get(p["ind"], ())]
    pin_user = [(p, u) for p in clean["pin"] for u in user.get(p["ind"], ())]
    joined_years = [(p, u, u["date_joined"].year) for p, u in pin_user]
    joined_years = [(p, u, y) for p, u, y in joined_years if 2015 <= y <= 2020]
    group_order = {g: i for i, g in enumerate(AGE_GROUPS)}

    q1 = _top(Counter((g["country"], p["category"]) for p, g in pin_geo), "country", "category")
    by_year = Counter(
        (g["timestamp"].year, p["category"])
        for p, g in pin_geo
        if 2018 <= g["timestamp"].year <= 2022
    )
    q2 = _top(by_year, "post_year", "category")

    max_by_country: dict[str, int] = {}
    for p, g in pin_geo:
        if p["follower_count"] is not None:
            max_by_country[g["country"]] = max(
                max_by_country.get(g["country"], 0), p["follower_count"]
            )
    q3a_set = {
        (g["country"], p["poster_name"], p["follower_count"])
        for p, g in pin_geo
        if p["follower_count"] is not None and p["follower_count"] == max_by_country[g["country"]]
    }
    q3a = [
        {"country": c, "poster_name": n, "follower_count": f}
        for c, n, f in sorted(q3a_set, key=lambda t: (t[0], t[1] is None, t[1] or ""))
    ]
    top_country = min(max_by_country.items(), key=lambda kv: (-kv[1], kv[0]))
    q3b = [{"country": top_country[0], "follower_count": top_country[1]}]

    counts4 = Counter((age_group(u["age"]), p["category"]) for p, u in pin_user)
    q4 = sorted(
        _top(counts4, "age_group", "category"),
        key=lambda r: (group_order[r["age_group"]], r["category"]),
    )

    followers_by_group: dict[str, list[int | None]] = defaultdict(list)
    for p, u in pin_user:
        followers_by_group[age_group(u["age"])].append(p["follower_count"])
    q5 = [
        {"age_group": g, "median_follower_count": discrete_median(followers_by_group[g])}
        for g in AGE_GROUPS
        if g in followers_by_group
    ]

    users = {
        (u["user_name"], u["age"], u["date_joined"])
        for u in clean["user"]
        if 2015 <= u["date_joined"].year <= 2020
    }
    per_year = Counter(d.year for _, _, d in users)
    q6 = [{"post_year": y, "number_users_joined": n} for y, n in sorted(per_year.items())]

    by_join: dict[int, list[int | None]] = defaultdict(list)
    by_group_join: dict[tuple[str, int], list[int | None]] = defaultdict(list)
    for p, u, y in joined_years:
        by_join[y].append(p["follower_count"])
        by_group_join[(age_group(u["age"]), y)].append(p["follower_count"])
    q7 = [
        {"post_year": y, "median_follower_count": discrete_median(v)}
        for y, v in sorted(by_join.items())
    ]
    q8 = [
        {"age_group": g, "post_year": y, "median_follower_count": discrete_median(v)}
        for (g, y), v in sorted(
            by_group_join.items(), key=lambda kv: (group_order[kv[0][0]], kv[0][1])
        )
    ]
    return dict(zip(QUERIES, (q1, q2, q3a, q3b, q4, q5, q6, q7, q8), strict=True))


@pytest.fixture(scope="module")
def expected_clean(raw: dict[str, list[Row]]) -> dict[str, list[Row]]:
    return py_clean(raw)


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
    name: str, result: BatchResult, expected_clean: dict[str, list[Row]]
) -> None:
    assert result.queries[name] == py_queries(expected_clean)[name]


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


TIES_PIN = [
    {"index": i, "unique_id": f"u{i}", "poster_name": f"p{i}", "follower_count": f, "category": c}
    for i, f, c in [
        (0, "8M", "art"),
        (1, "8M", "beauty"),
        (2, "1k", "art"),
        (3, "2k", "beauty"),
        (4, "", "art"),
        (5, "7", "travel"),
    ]
]
TIES_GEO = [
    {"ind": i, "timestamp": "2019-01-01 00:00:00", "latitude": 0.0, "longitude": 0.0, "country": c}
    for i, c in enumerate(["Angola", "American Samoa", "Angola", "American Samoa", "Chad", "Chad"])
]
TIES_USER = [
    {"ind": i, "first_name": "A", "last_name": "B", "age": 20, "date_joined": "2016-01-01T00:00:00"}
    for i in range(6)
]


def test_ties_are_kept_and_q3b_breaks_them_by_country() -> None:
    with DuckDBEngine() as engine:
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


def test_pyarrow_input_and_errors(raw: dict[str, list[Row]], result: BatchResult) -> None:
    pa = pytest.importorskip("pyarrow")
    frames = [pa.Table.from_pylist(raw[kind][:300]) for kind in CLEANING]
    with DuckDBEngine() as engine:
        got = engine.run(*frames)
        assert got.cleaned["user"] == result.cleaned["user"][: len(got.cleaned["user"])]
        with pytest.raises(TransformError, match="unknown query"):
            engine.query("clean_pin")
        with pytest.raises(TransformError, match="raw geo"):
            engine.load_raw("geo", pa.table({"ind": [1]}))


def test_raw_from_jsonl_files_rejects_non_objects(tmp_path: Path) -> None:
    good = tmp_path / "a.json"
    good.write_text('{"ind": 1}\n\n{"ind": 2}\n', encoding="utf-8")
    assert raw_from_jsonl_files([good, good]) == [{"ind": 1}, {"ind": 2}] * 2
    bad = tmp_path / "b.json"
    bad.write_text("[1]\n", encoding="utf-8")
    with pytest.raises(TransformError, match=r"b\.json:1"):
        raw_from_jsonl_files([bad])
    bad.write_text("{nope\n", encoding="utf-8")
    with pytest.raises(TransformError, match="not JSON"):
        raw_from_jsonl_files([bad])
    assert json.loads('{"a": 1}') == {"a": 1}


def test_dedup_is_on_raw_rows_only() -> None:
    """A re-send in the other datetime form is not an exact raw duplicate (SPEC §5.2)."""
    geo = [*TIES_GEO, {**TIES_GEO[0], "timestamp": "2019-01-01T00:00:00"}, TIES_GEO[1]]
    with DuckDBEngine() as engine:
        assert engine.load_raw("geo", geo) == 8
        engine.load_raw("pin", TIES_PIN)
        engine.load_raw("user", TIES_USER)
        engine.clean()
        assert [r["ind"] for r in engine.table("geo")] == [0, 0, 1, 2, 3, 4, 5]


def test_insert_without_pyarrow(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    with DuckDBEngine() as engine:
        with_arrow = engine.run(TIES_PIN, TIES_GEO, TIES_USER)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "pyarrow" else real_find_spec(name, *a),
    )
    assert clean_and_query(TIES_PIN, TIES_GEO, TIES_USER) == with_arrow
