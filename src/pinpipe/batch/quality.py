"""The data-quality summary of a batch run: per kind, what was read, what reading refused
(dead letters), what de-duplication dropped, and per column how many present values the
cleaning turned into NULL (placeholders, empty strings, unparsable numbers and times).

The counts are one SQL query per kind over the raw frame and one over the cleaned table, run by
whichever engine ran the models, so they describe exactly what that engine did.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pinpipe.naming import RecordKindName
from pinpipe.transform import Engine
from pinpipe.transform.duckdb_engine import quote
from pinpipe.transform.models import CLEANED_COLUMNS, raw_table

#: For each cleaned column that can be nulled by the cleaning: the raw expression it comes from.
NULLABLE_SOURCES: dict[RecordKindName, dict[str, str]] = {
    # index -> ind; every other pin column keeps its name.
    "pin": {"ind": '"index"', **{c: quote(c) for c in CLEANED_COLUMNS["pin"][1:]}},
    "geo": {"ind": "ind", "country": "country", "timestamp": '"timestamp"'},
    "user": {
        "ind": "ind",
        "user_name": "first_name || ' ' || last_name",
        "age": "age",
        "date_joined": "date_joined",
    },
}


@dataclass(frozen=True, slots=True)
class KindQuality:
    """What happened to one kind's records on the way from the lake to its cleaned table."""

    kind: RecordKindName
    objects: int
    bytes: int
    rows_read: int
    dead_letters: int
    duplicates_dropped: int
    rows_cleaned: int
    nulled: dict[str, int] = field(default_factory=dict)

    @property
    def lines(self) -> int:
        """Records read plus lines refused."""
        return self.rows_read + self.dead_letters

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"lines": self.lines}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KindQuality:
        """The inverse of :meth:`to_dict` (derived keys ignored)."""
        fields = {k: v for k, v in data.items() if k != "lines"}
        return cls(**fields)


@dataclass(frozen=True, slots=True)
class QualityReport:
    """The data-quality summary of one batch run, one entry per kind."""

    kinds: dict[RecordKindName, KindQuality]

    def to_dict(self) -> dict[str, Any]:
        return {kind: q.to_dict() for kind, q in self.kinds.items()}


def _non_null_counts(engine: Engine, relation: str, expressions: dict[str, str]) -> dict[str, int]:
    columns = ", ".join(f"COUNT({expr}) AS {quote(name)}" for name, expr in expressions.items())
    row = engine.fetch(f"SELECT COUNT(*) AS {quote('_rows')}, {columns} FROM {relation}")
    return {name: int(row.column(name)[0].as_py()) for name in row.column_names}


def measure_kind(
    engine: Engine, kind: RecordKindName, *, objects: int, bytes_read: int, dead_letters: int
) -> KindQuality:
    """Count, on ``engine`` (after cleaning ``kind``), what the cleaning did to ``kind``."""
    sources = NULLABLE_SOURCES[kind]
    raw = _non_null_counts(
        engine, f"(SELECT DISTINCT * FROM {raw_table(kind)}) AS deduplicated", sources
    )
    cleaned = _non_null_counts(engine, quote(kind), {c: quote(c) for c in sources})
    rows_read = engine.count(raw_table(kind))
    return KindQuality(
        kind=kind,
        objects=objects,
        bytes=bytes_read,
        rows_read=rows_read,
        dead_letters=dead_letters,
        duplicates_dropped=rows_read - raw["_rows"],
        rows_cleaned=cleaned["_rows"],
        nulled={c: raw[c] - cleaned[c] for c in sources},
    )
