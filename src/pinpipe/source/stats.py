"""Key distributions of the source tables, computed in SQL so they stay fast at millions of rows.

They are the numbers SPEC §1 gives for the real course tables, so a user can compare a synthetic
or loaded database with the original at a glance.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinpipe.naming import RecordKindName
from pinpipe.records import (
    IMAGE_SRC_ERROR,
    NO_DESCRIPTION,
    NO_DESCRIPTION_STORY,
    NO_TAGS,
    NO_TITLE,
    USER_INFO_ERROR,
)
from pinpipe.source.db import connect, open_engine, row_counts
from pinpipe.source.schema import TABLES

#: The age groups of the course's queries, as SQL bounds (ages start at 20 in the data).
AGE_BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("18-24", 18, 24),
    ("25-35", 25, 35),
    ("36-50", 36, 50),
    ("+50", 51, 200),
)

#: The real course tables' figures (SPEC §1): full geo/user tables, and the 1,540 clean raw pin
#: rows for the pin shares. Shown beside a database's own figures so they can be compared.
COURSE_SHARES: dict[str, dict[str, float]] = {
    "placeholder": {
        "title": 0.0091,
        "description (story format)": 0.0675,
        "description": 0.0149,
        "poster_name": 0.0091,
        "follower_count": 0.0091,
        "tag_list": 0.0136,
        "image_src": 0.0214,
    },
    "is_image_or_video": {"image": 0.902, "multi-video(story page format)": 0.068, "video": 0.029},
    "age group": {
        "18-24": 4916 / 11154,
        "25-35": 3005 / 11154,
        "36-50": 2225 / 11154,
        "+50": 1008 / 11154,
    },
    "join year": {"2015": 4507 / 11154, "2016": 4791 / 11154, "2017": 1856 / 11154},
    "post year": {
        "2017": 432 / 11154,
        "2018": 2316 / 11154,
        "2019": 2192 / 11154,
        "2020": 2172 / 11154,
        "2021": 2208 / 11154,
        "2022": 1834 / 11154,
    },
}
COURSE_DISTINCT_USERS_PER_ROW = 5307 / 11154

#: placeholder name -> (column, value)
PLACEHOLDERS: dict[str, tuple[str, str]] = {
    "title": ("title", NO_TITLE),
    "description (story format)": ("description", NO_DESCRIPTION_STORY),
    "description": ("description", NO_DESCRIPTION),
    "poster_name": ("poster_name", USER_INFO_ERROR),
    "follower_count": ("follower_count", USER_INFO_ERROR),
    "tag_list": ("tag_list", NO_TAGS),
    "image_src": ("image_src", IMAGE_SRC_ERROR),
}


@dataclass(frozen=True, slots=True)
class CategoryBlock:
    category: str
    rows: int
    first_index: int
    last_index: int


@dataclass(frozen=True, slots=True)
class SourceStats:
    """Row counts and the key distributions of the three tables."""

    url: str
    rows: dict[RecordKindName, int | None]
    categories: list[CategoryBlock]
    media: dict[str, int]
    placeholders: dict[str, int]
    age_groups: dict[str, int]
    join_years: dict[int, int]
    post_years: dict[int, int]
    distinct_users: int
    distinct_posters: int
    distinct_countries: int
    top_countries: dict[str, int]

    @property
    def blocks_contiguous(self) -> bool:
        """Categories occupy disjoint index ranges in alphabetical order (SPEC §1.2)."""
        ordered = sorted(self.categories, key=lambda b: b.first_index)
        names = [b.category for b in ordered]
        disjoint = all(a.last_index < b.first_index for a, b in pairwise(ordered))
        return disjoint and names == sorted(names)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["blocks_contiguous"] = self.blocks_contiguous
        return data


def _year(conn: Connection, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    if conn.dialect.name == "sqlite":
        return sa.cast(sa.func.strftime("%Y", column), sa.Integer)
    return sa.cast(sa.extract("year", column), sa.Integer)


def _grouped(conn: Connection, key: sa.ColumnElement[Any], table: sa.Table) -> dict[Any, int]:
    query = sa.select(key.label("k"), sa.func.count()).select_from(table).group_by("k")
    return {k: int(n) for k, n in conn.execute(query.order_by("k")) if k is not None}


def _in_bucket_order(groups: dict[Any, int]) -> dict[str, int]:
    return {label: groups[label] for label, _, _ in AGE_BUCKETS if label in groups}


def source_stats(url: str, *, top: int = 10) -> SourceStats:
    """Compute :class:`SourceStats` for the database at ``url``."""
    engine = open_engine(url)
    try:
        with connect(engine) as conn:
            return _compute(conn, engine.url.render_as_string(hide_password=True), top)
    finally:
        engine.dispose()


def _compute(conn: Connection, url: str, top: int) -> SourceStats:
    counts = row_counts(conn)
    pin, geo, user = TABLES["pin"], TABLES["geo"], TABLES["user"]
    empty = SourceStats(url, dict(counts), [], {}, {}, {}, {}, {}, 0, 0, 0, {})
    if None in counts.values():
        return empty
    c = pin.c
    blocks = [
        CategoryBlock(cat, int(n), int(lo), int(hi))
        for cat, n, lo, hi in conn.execute(
            sa.select(c.category, sa.func.count(), sa.func.min(c.index), sa.func.max(c.index))
            .group_by(c.category)
            .order_by(sa.func.min(c.index))
        )
        if cat is not None
    ]
    placeholders = (
        conn.execute(
            sa.select(
                *(
                    sa.func.sum(sa.case((pin.c[col] == value, 1), else_=0)).label(name)
                    for name, (col, value) in PLACEHOLDERS.items()
                )
            )
        )
        .mappings()
        .one()
    )
    age = user.c.age
    age_group = sa.case(
        *((age.between(low, high), label) for label, low, high in AGE_BUCKETS), else_=None
    )
    distinct_users = sa.select(
        user.c.first_name, user.c.last_name, user.c.age, user.c.date_joined
    ).distinct()
    countries = _grouped(conn, geo.c.country, geo)
    return SourceStats(
        url=url,
        rows=dict(counts),
        categories=blocks,
        media=_grouped(conn, c.is_image_or_video, pin),
        placeholders={k: int(v or 0) for k, v in placeholders.items()},
        age_groups=_in_bucket_order(_grouped(conn, age_group, user)),
        join_years=_grouped(conn, _year(conn, user.c.date_joined), user),
        post_years=_grouped(conn, _year(conn, geo.c.timestamp), geo),
        distinct_users=int(
            conn.execute(
                sa.select(sa.func.count()).select_from(distinct_users.subquery())
            ).scalar_one()
        ),
        distinct_posters=int(
            conn.execute(sa.select(sa.func.count(sa.distinct(c.poster_name)))).scalar_one()
        ),
        distinct_countries=len(countries),
        top_countries=dict(sorted(countries.items(), key=lambda kv: (-kv[1], kv[0]))[:top]),
    )
