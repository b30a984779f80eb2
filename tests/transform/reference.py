"""The test's own plain-Python implementation of every cleaning rule and every query (SPEC §5–6),
and the raw frames built from the course's real rows that the engines are checked on."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

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
from pinpipe.transform import CLEANING, QUERIES

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


def raw_from_jsonl_files(paths: Iterable[Path]) -> list[Row]:
    return [json.loads(line) for path in paths for line in path.read_text().splitlines() if line]


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


def load_reference_raw(reference_dir: Path) -> dict[str, list[Row]]:
    """The course's real rows as raw frames, with both datetime forms, empty strings and exact
    re-sends mixed in (what the lake holds after an emulator run)."""
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
