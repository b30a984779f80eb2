"""The three record kinds of the source database (SPEC §1.2–1.4): columns, types, JSON codec.

Column order is the course's ``SELECT *`` order; it is the order of the keys in every payload,
so it is kept everywhere (the S3 objects are byte-compared against the course's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from pinpipe.naming import RecordKindName

ColumnType = Literal["int", "str", "float", "datetime"]

#: How the course's emulator serialises datetimes (Saab: ``strftime("%Y-%m-%d %H:%M:%S")``).
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType


@dataclass(frozen=True, slots=True)
class RecordKind:
    """One source table: its kind name, table name, key column and ordered columns."""

    name: RecordKindName
    table: str
    key: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


PIN = RecordKind(
    "pin",
    "pinterest_data",
    "index",
    (
        Column("index", "int"),
        Column("unique_id", "str"),
        Column("title", "str"),
        Column("description", "str"),
        Column("poster_name", "str"),
        Column("follower_count", "str"),
        Column("tag_list", "str"),
        Column("is_image_or_video", "str"),
        Column("image_src", "str"),
        Column("downloaded", "int"),
        Column("save_location", "str"),
        Column("category", "str"),
    ),
)
GEO = RecordKind(
    "geo",
    "geolocation_data",
    "ind",
    (
        Column("ind", "int"),
        Column("timestamp", "datetime"),
        Column("latitude", "float"),
        Column("longitude", "float"),
        Column("country", "str"),
    ),
)
USER = RecordKind(
    "user",
    "user_data",
    "ind",
    (
        Column("ind", "int"),
        Column("first_name", "str"),
        Column("last_name", "str"),
        Column("age", "int"),
        Column("date_joined", "datetime"),
    ),
)
RECORD_KINDS: dict[RecordKindName, RecordKind] = {"pin": PIN, "geo": GEO, "user": USER}


def parse_datetime(text: str) -> datetime:
    """Parse ``YYYY-MM-DD HH:MM:SS`` or the ISO ``T`` form into an aware UTC datetime."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_datetime(value: datetime) -> str:
    """The course's payload form of a datetime: ``2020-08-28 03:52:47`` (UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime(DATETIME_FORMAT)


def to_payload(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as the course posts it: same keys in the same order, datetimes as strings."""
    return {k: format_datetime(v) if isinstance(v, datetime) else v for k, v in row.items()}


def dumps(row: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON of a row's payload (no spaces, non-ASCII unescaped)."""
    return orjson.dumps(to_payload(row))


#: The pinterest_data category values, in the alphabetical order of their index blocks.
CATEGORIES: tuple[str, ...] = (
    "art",
    "beauty",
    "christmas",
    "diy-and-crafts",
    "education",
    "event-planning",
    "finance",
    "home-decor",
    "mens-fashion",
    "quotes",
    "tattoos",
    "travel",
    "vehicles",
)

# The scraper's placeholders in pinterest_data (SPEC §1.2); cleaning turns them into NULL.
NO_TITLE = "No Title Data Available"
NO_DESCRIPTION_STORY = "No description available Story format"
NO_DESCRIPTION = "No description available"
USER_INFO_ERROR = "User Info Error"
NO_TAGS = "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e"
IMAGE_SRC_ERROR = "Image src error."
STORY_FORMAT = "multi-video(story page format)"
