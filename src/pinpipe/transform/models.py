"""The SQL models (DuckDB dialect, portable to Spark through SQLGlot), one file per model.

The cleaning models read the raw relations ``raw_pin``, ``raw_geo`` and ``raw_user`` and
produce the tables ``pin``, ``geo`` and ``user``; shared views (the age groups) come next, and
the query models read the tables and views.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from pinpipe.naming import RecordKindName

#: Cleaning models in run order; model ``clean_<kind>`` makes table ``<kind>`` from ``raw_<kind>``.
CLEANING: tuple[RecordKindName, ...] = ("pin", "geo", "user")

#: The columns of each cleaned table, in the course's order (what ``clean_<kind>`` selects).
CLEANED_COLUMNS: dict[RecordKindName, tuple[str, ...]] = {
    "pin": (
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
    ),
    "geo": ("ind", "country", "coordinates", "timestamp"),
    "user": ("ind", "user_name", "age", "date_joined"),
}

#: Views over the cleaned tables that several queries share, created after the cleaning.
VIEWS: tuple[str, ...] = ("user_age_group",)

#: The eight course queries (Q3 in two parts), in course order (SPEC §6).
QUERIES: tuple[str, ...] = (
    "popular_category_by_country",  # Q1
    "popular_category_by_year",  # Q2
    "most_followed_user_by_country",  # Q3a
    "country_with_most_followed_user",  # Q3b
    "popular_category_by_age_group",  # Q4
    "median_followers_by_age_group",  # Q5
    "users_joined_by_year",  # Q6
    "median_followers_by_join_year",  # Q7
    "median_followers_by_age_group_and_join_year",  # Q8
)

#: Every model name (the SQL file stem), in run order.
MODELS: tuple[str, ...] = (*(f"clean_{kind}" for kind in CLEANING), *VIEWS, *QUERIES)


def raw_table(kind: RecordKindName) -> str:
    """The raw relation a cleaning model reads: ``raw_pin``, ``raw_geo``, ``raw_user``."""
    return f"raw_{kind}"


@cache
def load_sql(model: str) -> str:
    """The SQL text of ``model`` (a name from :data:`MODELS`), without a trailing semicolon."""
    if model not in MODELS:
        msg = f"unknown SQL model {model!r}; the models are: {', '.join(MODELS)}"
        raise KeyError(msg)
    text = files("pinpipe.transform").joinpath("sql", f"{model}.sql").read_text(encoding="utf-8")
    return text.strip().rstrip(";").strip()
