"""The synthetic source data: every structural invariant of SPEC §1, and its statistics
compared with the real course tables (../shared/reference_data, via ``reference_dir``)."""

from __future__ import annotations

import csv
import json
import random
import re
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from pinpipe.records import (
    CATEGORIES,
    GEO,
    IMAGE_SRC_ERROR,
    NO_DESCRIPTION,
    NO_DESCRIPTION_STORY,
    NO_TAGS,
    NO_TITLE,
    PIN,
    STORY_FORMAT,
    USER,
    USER_INFO_ERROR,
)
from pinpipe.source import synthetic, vocabulary
from pinpipe.source.synthetic import DEFAULT_ROWS, SourceBatch, generate

P = {name: i for i, name in enumerate(PIN.column_names)}
G = {name: i for i, name in enumerate(GEO.column_names)}
U = {name: i for i, name in enumerate(USER.column_names)}

TS_MIN, TS_MAX = (
    datetime(2017, 10, 19, 15, 13, 42, tzinfo=UTC),
    datetime(2022, 10, 19, 17, 54, 26, tzinfo=UTC),
)
DJ_MIN, DJ_MAX = (
    datetime(2015, 10, 21, 3, 17, 47, tzinfo=UTC),
    datetime(2017, 10, 20, 10, 44, 26, tzinfo=UTC),
)
IMAGE_RE = re.compile(
    r"https://i\.pinimg\.com/originals/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{32})\.(jpg|png|webp)"
)
THUMB_RE = re.compile(
    r"https://i\.pinimg\.com/videos/thumbnails/originals/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{32})\.0000001\.jpg"
)
FOLLOWERS_RE = re.compile(r"(0|[1-9]\d{0,2})|([1-9]\d{0,2})k|([1-9]\d*)M")
UUID4_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


class Data(NamedTuple):
    pins: list[tuple[Any, ...]]
    geos: list[tuple[Any, ...]]
    users: list[tuple[Any, ...]]


def collect(rows: int, seed: int = 0, batch_size: int = 10_000) -> Data:
    data = Data([], [], [])
    for batch in generate(rows, seed=seed, batch_size=batch_size):
        assert isinstance(batch, SourceBatch)
        assert len(batch.pins) == len(batch.geos) == len(batch.users) <= batch_size
        data.pins.extend(batch.pins)
        data.geos.extend(batch.geos)
        data.users.extend(batch.users)
    return data


@pytest.fixture(scope="module")
def data() -> Data:
    return collect(DEFAULT_ROWS)


@pytest.fixture(scope="module")
def scaled() -> Data:
    return collect(50_000, seed=3)


def pct(count: int, total: int) -> float:
    return 100 * count / total


def bucket(age: int) -> str:
    return "18-24" if age <= 24 else "25-35" if age <= 35 else "36-50" if age <= 50 else "50+"


def sig_digits(x: float) -> int:
    text = f"{abs(x):.12f}".rstrip("0").replace(".", "").lstrip("0")
    return len(text)


def blocks(pins: list[tuple[Any, ...]]) -> list[tuple[str, int, int]]:
    """(category, first index, last index) of each maximal run of one category."""
    runs: list[tuple[str, int, int]] = []
    for pin in pins:
        cat, index = pin[P["category"]], pin[P["index"]]
        if runs and runs[-1][0] == cat:
            runs[-1] = (cat, runs[-1][1], index)
        else:
            runs.append((cat, index, index))
    return runs


def check_invariants(d: Data, rows: int) -> None:
    """Every per-row rule of SPEC §1, on every row."""
    assert len(d.pins) == len(d.geos) == len(d.users) == rows
    poster_user: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
    user_poster: dict[tuple[Any, ...], set[str]] = defaultdict(set)
    user_geo: dict[tuple[Any, ...], set[tuple[Any, ...]]] = defaultdict(set)
    poster_kilos: dict[str, set[int]] = defaultdict(set)
    seen_ts: set[datetime] = set()
    seen_uid: set[str] = set()
    for n, (pin, geo, user) in enumerate(zip(d.pins, d.geos, d.users, strict=True)):
        assert len(pin) == len(PIN.column_names) and len(geo) == 5 and len(user) == 5
        assert pin[P["index"]] == geo[G["ind"]] == user[U["ind"]] == n
        (_, uid, title, desc, poster, followers, tags, kind, src, downloaded, save, cat) = pin
        assert all(isinstance(v, str) for v in (uid, title, desc, poster, followers, tags, kind))
        assert isinstance(downloaded, int) and downloaded in (0, 1)
        assert UUID4_RE.fullmatch(uid) and uuid.UUID(uid).version == 4
        assert uid not in seen_uid
        seen_uid.add(uid)
        assert cat in CATEGORIES and save == f"Local save in /data/{cat}"
        assert kind in ("image", "video", STORY_FORMAT)
        assert (downloaded == 0) == (src == IMAGE_SRC_ERROR)
        if src == IMAGE_SRC_ERROR:
            assert kind == STORY_FORMAT
        elif kind == "image":
            m = IMAGE_RE.fullmatch(src)
            assert m and m[4][:6] == m[1] + m[2] + m[3], src
        else:
            m = THUMB_RE.fullmatch(src)
            assert m and m[4][:6] == m[1] + m[2] + m[3], src
        if kind == STORY_FORMAT:
            assert desc == NO_DESCRIPTION_STORY
        else:
            assert desc not in (NO_DESCRIPTION_STORY, "")
        if desc.endswith("…\xa0"):
            assert len(desc) <= 179 and not desc[:-2].endswith(" ")
        if tags != NO_TAGS:
            parts = tags.split(",")
            assert len(parts) in (8, 9) and len(set(parts)) == len(parts), tags
            assert all(p and p == p.strip() for p in parts)
        if poster == USER_INFO_ERROR:
            assert (title, desc, followers, tags) == (
                NO_TITLE,
                NO_DESCRIPTION_STORY,
                USER_INFO_ERROR,
                NO_TAGS,
            )
            assert (kind, src, downloaded) == (STORY_FORMAT, IMAGE_SRC_ERROR, 0)
        else:
            assert title and title != NO_TITLE
            m = FOLLOWERS_RE.fullmatch(followers)
            assert m, followers
            if m[2]:
                poster_kilos[poster].add(int(m[2]))
        ident = user[1:]
        poster_user[poster].add(ident)
        user_poster[ident].add(poster)
        user_geo[ident].add(geo[2:])
        _, ts, lat, lon, country = geo
        assert isinstance(ts, datetime) and ts.tzinfo is not None and ts.utcoffset() == timedelta(0)
        assert ts.microsecond == 0 and TS_MIN <= ts <= TS_MAX
        assert ts not in seen_ts
        seen_ts.add(ts)
        assert isinstance(lat, float) and -89.9796 <= lat <= 89.9946 and sig_digits(lat) <= 6
        assert isinstance(lon, float) and -179.908 <= lon <= 179.935 and sig_digits(lon) <= 6
        assert isinstance(country, str) and country in vocabulary.COUNTRIES
        _, first, last, age, joined = user
        assert isinstance(first, str) and isinstance(last, str) and first and last
        assert isinstance(age, int) and 20 <= age <= 60
        assert isinstance(joined, datetime) and joined.utcoffset() == timedelta(0)
        assert joined.microsecond == 0 and DJ_MIN <= joined <= DJ_MAX
        assert ts - joined >= timedelta(days=18)
    # One identity per poster, both ways, and one geo identity per user identity.
    assert all(len(v) == 1 for v in poster_user.values())
    assert all(len(v) == 1 for v in user_poster.values())
    assert all(len(v) == 1 for v in user_geo.values())
    assert len({next(iter(v)) for v in user_geo.values()}) == len(user_geo)
    # A poster's follower count jitters by at most one (in k) between posts.
    assert all(max(v) - min(v) <= 2 for v in poster_kilos.values())
    # Category blocks: contiguous, alphabetical.
    cats = [cat for cat, _, _ in blocks(d.pins)]
    assert cats == sorted(set(cats))


def test_default_invariants(data: Data) -> None:
    check_invariants(data, DEFAULT_ROWS)


def test_default_blocks(data: Data) -> None:
    runs = blocks(data.pins)
    assert [cat for cat, _, _ in runs] == list(CATEGORIES)
    assert all(700 <= last - first + 1 <= 1050 for _, first, last in runs)


def test_scaled_invariants_and_blocks(scaled: Data) -> None:
    check_invariants(scaled, 50_000)
    runs = blocks(scaled.pins)
    starts = [*vocabulary.REAL_BLOCK_STARTS, vocabulary.REAL_ROWS]
    for (cat, first, last), real_cat, lo, hi in zip(
        runs, CATEGORIES, starts[:-1], starts[1:], strict=True
    ):
        assert cat == real_cat
        assert abs((last - first + 1) - (hi - lo) * 50_000 / vocabulary.REAL_ROWS) <= 2
    users = len({u[1:] for u in scaled.users})
    assert abs(users / 50_000 - 5_307 / 11_154) < 0.05 * 5_307 / 11_154


def test_distributions(data: Data) -> None:
    n = len(data.pins)
    kinds = Counter(p[P["is_image_or_video"]] for p in data.pins)
    assert 88 <= pct(kinds["image"], n) <= 92.5 and 2 <= pct(kinds["video"], n) <= 4
    assert 30 <= pct(sum(p[P["description"]].endswith("…\xa0") for p in data.pins), n) <= 42
    assert 1 <= pct(sum(p[P["poster_name"]].endswith(" ") for p in data.pins), n) <= 3.5
    titles = [p[P["title"]] for p in data.pins]
    assert any(t.endswith(" ") for t in titles)
    assert any(re.search("[\U0001f300-\U0001faff\u2600-\u27bf]", t) for t in titles)
    lats, lons = [g[G["latitude"]] for g in data.geos], [g[G["longitude"]] for g in data.geos]
    assert (
        72 <= pct(sum(x < 0 for x in lats), n) <= 86
        and 72 <= pct(sum(x < 0 for x in lons), n) <= 86
    )
    countries = Counter(g[G["country"]] for g in data.geos)
    assert 220 <= len(countries) <= 243
    assert all(c.startswith("A") for c, _ in countries.most_common(3))
    # Prolific posters are young early-alphabet users who joined early (min of k draws).
    per_user = Counter(u[1:] for u in data.users)
    top = [ident for ident, _ in per_user.most_common(10) if ident[0] != USER_INFO_ERROR]
    assert sum(ident[2] <= 25 for ident in top) >= 7
    assert sum(ident[0][0] <= "C" for ident in top) >= 7


# --- versus the real course tables ---------------------------------------------------------


def real_raw_pins(reference_dir: Path) -> list[dict[str, Any]]:
    """The 1,540 clean raw reads (rows not only from kdragoi's partially cleaned display)."""
    with (reference_dir / "pinterest_data_observed_raw.jsonl").open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return [r for r in rows if not all(s.startswith("kdragoi/") for s in r["_sources"])]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_blocks_match_real_ids(data: Data, reference_dir: Path) -> None:
    with (reference_dir / "pinterest_data_observed_raw.jsonl").open(encoding="utf-8") as f:
        observed = [json.loads(line) for line in f]
    for row in observed:
        assert data.pins[row["index"]][P["category"]] == row["category"], row["index"]


def test_placeholder_rates_match_real(data: Data, reference_dir: Path) -> None:
    real = real_raw_pins(reference_dir)
    assert len(real) > 1_000
    checks = {
        "story description": lambda p: p["description"] == NO_DESCRIPTION_STORY,
        "no description": lambda p: p["description"] == NO_DESCRIPTION,
        "image src error": lambda p: p["image_src"] == IMAGE_SRC_ERROR,
        "no tags": lambda p: p["tag_list"] == NO_TAGS,
        "user info error": lambda p: p["poster_name"] == USER_INFO_ERROR,
        "story": lambda p: p["is_image_or_video"] == STORY_FORMAT,
        "video": lambda p: p["is_image_or_video"] == "video",
        "cut description": lambda p: p["description"].endswith("…\xa0"),
    }
    ours = [dict(zip(PIN.column_names, p, strict=True)) for p in data.pins]
    for name, check in checks.items():
        real_rate = pct(sum(map(check, real)), len(real))
        our_rate = pct(sum(map(check, ours)), len(ours))
        assert abs(our_rate - real_rate) <= 1.5, (name, our_rate, real_rate)


def test_user_and_geo_distributions_match_real(data: Data, reference_dir: Path) -> None:
    users, geos = (
        read_csv(reference_dir / "user_data.csv"),
        read_csv(reference_dir / "geolocation_data.csv"),
    )
    real_ages = Counter(bucket(int(u["age"])) for u in users)
    our_ages = Counter(bucket(u[U["age"]]) for u in data.users)
    real_joins = Counter(u["date_joined"][:4] for u in users)
    our_joins = Counter(str(u[U["date_joined"]].year) for u in data.users)
    real_posts = Counter(g["timestamp"][:4] for g in geos)
    our_posts = Counter(str(g[G["timestamp"]].year) for g in data.geos)
    pairs = ((real_ages, our_ages), (real_joins, our_joins), (real_posts, our_posts))
    for real, ours in pairs:
        assert set(ours) <= set(real)
        for key in real:
            assert abs(pct(ours[key], len(data.users)) - pct(real[key], len(users))) <= 3, key
    real_users = len({(u["first_name"], u["last_name"], u["age"], u["date_joined"]) for u in users})
    our_users = len({u[1:] for u in data.users})
    assert abs(our_users - real_users) <= 0.1 * real_users
    assert len({p[P["poster_name"]] for p in data.pins}) == our_users
    real_neg = pct(sum(float(g["latitude"]) < 0 for g in geos), len(geos))
    assert abs(pct(sum(g[G["latitude"]] < 0 for g in data.geos), len(data.geos)) - real_neg) <= 5


def test_vocabulary_countries_are_the_real_set(reference_dir: Path) -> None:
    geos = read_csv(reference_dir / "geolocation_data.csv")
    assert set(vocabulary.COUNTRIES) == {g["country"] for g in geos}


# --- determinism, batching, sizes ----------------------------------------------------------


def test_deterministic_per_seed() -> None:
    assert collect(3_000, seed=7) == collect(3_000, seed=7)
    other = collect(3_000, seed=8)
    first = collect(3_000, seed=7)
    assert first.pins != other.pins and first.geos != other.geos and first.users != other.users


def test_default_seed_is_stable(data: Data) -> None:
    assert collect(DEFAULT_ROWS) == data


def test_batch_size_does_not_change_the_data() -> None:
    whole = collect(2_500, seed=1, batch_size=100_000)
    for size in (1_000, 333, 7):
        sizes = [len(b.pins) for b in generate(2_500, seed=1, batch_size=size)]
        assert all(s == size for s in sizes[:-1]) and 0 < sizes[-1] <= size
        assert collect(2_500, seed=1, batch_size=size) == whole


@pytest.mark.parametrize("rows", [1, 2, 13, 100])
def test_tiny_sizes(rows: int) -> None:
    d = collect(rows)
    check_invariants(d, rows)
    if rows == 13:
        assert [p[P["category"]] for p in d.pins] == list(CATEGORIES)


def test_no_rows_no_batches() -> None:
    assert list(generate(0)) == []


@pytest.mark.parametrize(("rows", "batch_size"), [(-1, 10), (synthetic.MAX_ROWS + 1, 10), (10, 0)])
def test_bad_arguments_raise_at_call(rows: int, batch_size: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        generate(rows, batch_size=batch_size)


def test_streams_millions_lazily() -> None:
    batch = next(generate(5_000_000, seed=2, batch_size=100))
    assert len(batch.pins) == 100 and batch.pins[0][P["index"]] == 0


# --- building blocks -----------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 3, 7, 274, 1_000, 4_097])
def test_permutation_is_a_bijection(size: int) -> None:
    permute = synthetic._permutation(size, random.Random(size))
    assert sorted(permute(i) for i in range(size)) == list(range(size))


def test_poster_names_are_unique_even_past_exhausted_families() -> None:
    namer = synthetic._Namer(random.Random(5))
    rnd = random.Random(6).random
    names = [namer(rnd) for _ in range(120_000)]
    assert len(set(names)) == len(names)
    assert USER_INFO_ERROR not in names


def test_vocabulary_supports_unique_names() -> None:
    word = re.compile(r"[A-Z][a-z]+")
    for key in ("first", "last", "adj", "noun", "person", "brand"):
        words = vocabulary.NAME_WORDS[key]
        assert len(set(words)) == len(words) and all(word.fullmatch(w) for w in words), key
    assert not set(vocabulary.BRAND_ADJECTIVES) & set(vocabulary.FIRST_NAMES)
    assert "The" not in vocabulary.BRAND_ADJECTIVES and "The" not in vocabulary.FIRST_NAMES
    assert all("|" not in t for t in vocabulary.TAGLINES)
    assert len(set(vocabulary.TAGLINES)) == len(vocabulary.TAGLINES)
    assert abs(sum(share for share, _, _ in vocabulary.NAME_SHAPES) - 0.81) < 1e-9


def test_vocabulary_categories() -> None:
    assert list(vocabulary.CATEGORY_VOCAB) == list(CATEGORIES)
    for cat, v in vocabulary.CATEGORY_VOCAB.items():
        assert not set(v["tags_a"]) & set(v["tags_b"]), cat
        assert len(set(v["tags_a"])) >= 5 and len(set(v["tags_b"])) >= 4
        assert all("," not in t and t == t.strip() for t in v["tags_a"] + v["tags_b"])
        assert v["topics"] and v["sents"] and all("{t}" in s for s in v["sents"])
