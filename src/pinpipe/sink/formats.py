"""Object formats: how one record becomes part of an object, and records become an object.

A :class:`Format` has two steps, so a record that cannot be encoded is found (and dead-lettered)
when it is read, not when its object is written:

* ``encode(value) -> item`` for each record: raises EncodeError with the reason;
* ``serialize(items) -> bytes`` for each object: must not fail on items ``encode`` returned,
  and must be deterministic (same items, same bytes), since a replay after a crash rewrites the
  same key and must not change it.

``json`` is the course connector's JsonFormat, byte for byte (see :mod:`pinpipe.sink.jackson`).
``parquet`` (pyarrow) writes one Parquet file per object under the same key with ``.parquet``;
each record must be a JSON object; the schema is inferred from the object's records (columns in
first-seen order, types as ``pyarrow.Table.from_pylist`` infers them); a column pyarrow cannot
type consistently (an int here, a string there; an empty object) is stored as JSON text.
"""

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

import orjson

from pinpipe.errors import MissingExtraError
from pinpipe.sink import jackson
from pinpipe.sink.exceptions import EncodeError, SinkConfigError
from pinpipe.sink.jackson import FieldOrder

FormatName = Literal["json", "parquet"]
FORMATS: tuple[FormatName, ...] = ("json", "parquet")


class Format(ABC):
    """Encodes record values into items and items into the bytes of one object."""

    name: ClassVar[FormatName]
    #: The object key's extension, without the dot.
    extension: ClassVar[str]

    @abstractmethod
    def encode(self, value: bytes) -> Any:
        """One record's item; EncodeError (with the reason) when it cannot be encoded."""

    @abstractmethod
    def serialize(self, items: Sequence[Any]) -> bytes:
        """The bytes of one object holding ``items`` in order (deterministic)."""

    def parsed(self, item: Any) -> Any:
        """The JSON value an item holds, for partitioners that look inside records."""
        return None

    def encoder(self) -> Callable[[bytes], Any]:
        """``encode`` as a plain function (the sink calls it once per record)."""
        return self.encode


class JsonFormat(Format):
    """Kafka Connect's JsonConverter + the S3 sink's JsonFormat: one compact line per record."""

    name: ClassVar[FormatName] = "json"
    extension: ClassVar[str] = "json"

    def __init__(self, field_order: FieldOrder = "received") -> None:
        if field_order not in jackson.FIELD_ORDERS:
            msg = f"field order {field_order!r} is not one of {', '.join(jackson.FIELD_ORDERS)}"
            raise SinkConfigError(msg, hint="use received (as produced) or connect (HashMap)")
        self.field_order = field_order
        self._encode = jackson.encoder(field_order)

    def encode(self, value: bytes) -> bytes:
        return self._encode(value)

    def encoder(self) -> Callable[[bytes], bytes]:
        return self._encode

    def serialize(self, items: Sequence[bytes]) -> bytes:
        return b"".join(items)

    def parsed(self, item: bytes) -> Any:
        return jackson.parse(item)  # not orjson alone: "\\uD800" is valid here


class ParquetFormat(Format):
    """One Parquet file per object (pyarrow); every record must be a JSON object."""

    name: ClassVar[FormatName] = "parquet"
    extension: ClassVar[str] = "parquet"

    def __init__(self) -> None:
        if importlib.util.find_spec("pyarrow") is None:
            missing = MissingExtraError("the parquet sink format", "parquet", "pyarrow")
            raise missing

    def encode(self, value: bytes) -> dict[str, Any]:
        if not value.strip():
            msg = "the value is empty, not a JSON object (parquet needs objects)"
            raise EncodeError(msg)
        parsed = jackson.parse(value)
        if not isinstance(parsed, dict):
            kind = "null" if parsed is None else type(parsed).__name__
            msg = f"the value is a JSON {kind}, not an object (parquet needs objects)"
            raise EncodeError(msg)
        jackson.encode(parsed)  # the same number rules as json: no integers beyond 64 bits
        return parsed

    def parsed(self, item: dict[str, Any]) -> Any:
        return item

    def serialize(self, items: Sequence[dict[str, Any]]) -> bytes:
        import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
        import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

        names: dict[str, None] = {}
        for item in items:
            names.update(dict.fromkeys(item))
        columns = {name: _column([item.get(name) for item in items]) for name in names}
        table = pa.table(columns) if columns else pa.table({"_empty": pa.nulls(len(items))})
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="snappy")
        return bytes(sink.getvalue().to_pybytes())


def _column(values: list[Any]) -> Any:
    """A pyarrow array of ``values``, or of their JSON text when pyarrow cannot type them."""
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        array = None
    if array is None or not _writable(array.type):
        text = [None if v is None else orjson.dumps(v).decode() for v in values]
        return pa.array(text, pa.string())
    return array


def _writable(kind: Any) -> bool:
    """Parquet cannot store a struct without fields (from ``{}``), at any depth."""
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

    if pa.types.is_struct(kind):
        return kind.num_fields > 0 and all(_writable(field.type) for field in kind)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return bool(_writable(kind.value_type))
    return True


def resolve_format(name: str | Format, *, field_order: FieldOrder = "received") -> Format:
    """The format called ``name`` (or ``name`` itself when it is a Format)."""
    if isinstance(name, Format):
        return name
    if name == "json":
        return JsonFormat(field_order)
    if name == "parquet":
        return ParquetFormat()
    msg = f"format {name!r} is not one of {', '.join(FORMATS)}"
    raise SinkConfigError(msg, hint="use --format json (the course's) or --format parquet")
