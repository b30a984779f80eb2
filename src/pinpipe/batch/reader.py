"""Read the raw objects the sink wrote (``topics/<uid>.<kind>/partition=<p>/…json``) into one
Arrow table per kind, with the schema Databricks infers (SPEC §5.1).

Each object is parsed whole by Arrow's JSON reader (C++, no Python per record) against the
raw schema - when every line starts with ``{``, as the sink writes them (Arrow's reader
crashes the process on a first value of ``null`` and reads ``{…} null`` on one line as two
rows, so it never sees anything else), and only if it gives one row per line. Any other
object is parsed line by line: good lines are kept, every other line becomes a
:class:`DeadLetter` naming the object, the line number and the reason.
Empty objects, blank lines and all-NULL records are tolerated. Objects are read and parsed
on a few threads (both the lake's I/O and Arrow's parser release the GIL).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.json as pa_json

from pinpipe.lake import Lake
from pinpipe.naming import Names, RecordKindName
from pinpipe.sink.keys import parse_object_key
from pinpipe.transform import raw_schema

#: Objects read and parsed at once.
READ_THREADS = 4
#: The longest line text kept in a dead letter.
MAX_DEAD_LETTER_TEXT = 10_000
_INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One raw line that could not be read: where it is, why, and its text."""

    key: str
    line: int
    reason: str
    text: str

    def to_json(self) -> bytes:
        return orjson.dumps(
            {"object": self.key, "line": self.line, "reason": self.reason, "text": self.text}
        )


@dataclass(frozen=True, slots=True)
class RawRead:
    """The raw records of one kind, and what reading them found."""

    kind: RecordKindName
    table: pa.Table
    objects: int
    bytes: int
    dead_letters: tuple[DeadLetter, ...]

    @property
    def rows(self) -> int:
        return int(self.table.num_rows)


def raw_prefix(names: Names, kind: RecordKindName) -> str:
    """The lake prefix of a kind's raw objects: ``topics/<uid>.<kind>/``."""
    return f"topics/{names.topic(kind)}/"


def list_raw_objects(lake: Lake, names: Names, kind: RecordKindName) -> list[str]:
    """The keys of a kind's raw JSON objects, in key order (partition, then start offset).

    Not the lake's lexicographic listing: partitions are not padded (``partition=10`` lists
    before ``partition=2``) and offsets only to ten digits. Keys the sink did not make come last.
    """
    keys = [k for k in lake.list(raw_prefix(names, kind)) if k.endswith(".json")]
    return sorted(keys, key=_position)


def _position(key: str) -> tuple[int, int, int, str]:
    try:
        _, partition, offset = parse_object_key(key)
    except ValueError:  # not ``<topic>+<partition>+<offset>.json``
        return (1, 0, 0, key)
    return (0, partition, offset, key)


def read_raw(
    lake: Lake,
    kind: RecordKindName,
    keys: Sequence[str],
    *,
    on_object: Callable[[int], None] | None = None,
    threads: int = READ_THREADS,
) -> RawRead:
    """Read the objects ``keys`` of ``kind`` into one table (key order, then line order).

    ``on_object(bytes)`` is called after each object, for progress bars.
    """
    schema = raw_schema(kind)

    def load(key: str) -> tuple[pa.Table, list[DeadLetter], int]:
        data = lake.get(key)
        table, dead = parse_object(key, data, schema)
        if on_object is not None:
            on_object(len(data))
        return table, dead, len(data)

    with ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="read") as pool:
        parsed = list(pool.map(load, keys))
    tables = [table for table, _, _ in parsed if table.num_rows]
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    return RawRead(
        kind=kind,
        table=table,
        objects=len(keys),
        bytes=sum(size for _, _, size in parsed),
        dead_letters=tuple(d for _, dead, _ in parsed for d in dead),
    )


def parse_object(key: str, data: bytes, schema: pa.Schema) -> tuple[pa.Table, list[DeadLetter]]:
    """The records of one JSON-lines object, and the lines that are not records of ``schema``."""
    if not data.strip():
        return schema.empty_table(), []
    lines = data.count(b"\n") + (not data.endswith(b"\n"))
    if data.count(b"\n{") + data.startswith(b"{") != lines:
        return _parse_lines(key, data, schema)  # blank lines, or lines that are not objects
    try:
        table = pa_json.read_json(
            io.BytesIO(data),
            read_options=pa_json.ReadOptions(use_threads=False, block_size=len(data) + 1),
            parse_options=pa_json.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="ignore"
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return _parse_lines(key, data, schema)
    if table.num_rows != lines:  # more than one value on a line
        return _parse_lines(key, data, schema)
    return table.select(schema.names), []


def _parse_lines(key: str, data: bytes, schema: pa.Schema) -> tuple[pa.Table, list[DeadLetter]]:
    rows: list[dict[str, Any]] = []
    dead: list[DeadLetter] = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(_record(line, schema))
        except ValueError as exc:
            text = line[:MAX_DEAD_LETTER_TEXT].decode("utf-8", errors="replace")
            dead.append(DeadLetter(key, number, str(exc), text))
    return pa.Table.from_pylist(rows, schema=schema), dead


def _record(line: bytes, schema: pa.Schema) -> dict[str, Any]:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        msg = f"not JSON: {exc}"
        raise ValueError(msg) from None
    if not isinstance(value, dict):
        msg = f"a JSON {_json_type(value)}, not an object"
        raise ValueError(msg)
    return {f.name: _coerce(f.name, value.get(f.name), f.type) for f in schema}


def _coerce(name: str, value: Any, type_: pa.DataType) -> Any:
    """``value`` as the raw column's type, as Spark's JSON reader would take it."""
    if value is None:
        return None
    if pa.types.is_string(type_):
        # Spark reads a number or a nested value in a string column as its JSON text.
        return value if isinstance(value, str) else orjson.dumps(value).decode()
    if pa.types.is_integer(type_):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and _INT64[0] <= value <= _INT64[1]
        ):
            return value
    elif pa.types.is_floating(type_) and isinstance(value, int | float):
        if not isinstance(value, bool):
            return float(value)
    expected = "a 64-bit integer" if pa.types.is_integer(type_) else "a number"
    msg = f"column {name!r}: expected {expected}, got the JSON {_json_type(value)} {value!r:.60}"
    raise ValueError(msg)


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), "null" if value is None else "number"
    )
