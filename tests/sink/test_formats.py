"""The object formats: JSON lines and Parquet."""

from __future__ import annotations

import io
from typing import Any

import orjson
import pytest

from pinpipe.errors import MissingExtraError
from pinpipe.sink import EncodeError, JsonFormat, ParquetFormat, SinkConfigError, resolve_format

pq = pytest.importorskip("pyarrow.parquet")

ROWS: list[dict[str, Any]] = [
    {"ind": 1, "timestamp": "2020-08-28 03:52:47", "latitude": -88.8298, "country": "Émirats"},
    {"ind": 2, "timestamp": "2021-01-01 00:00:00", "latitude": 12.5, "country": "中国"},
    {"ind": 3, "timestamp": "2022-02-02 02:02:02", "latitude": None, "extra": [1, 2]},
]


def parquet_rows(data: bytes) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = pq.read_table(io.BytesIO(data)).to_pylist()
    return rows


def test_json_object_is_lines() -> None:
    fmt = JsonFormat()
    items = [fmt.encode(orjson.dumps(r)) for r in ROWS]
    assert fmt.serialize(items) == b"".join(orjson.dumps(r) + b"\n" for r in ROWS)
    assert fmt.extension == "json"


def test_parquet_round_trip_and_schema_from_values() -> None:
    fmt = ParquetFormat()
    data = fmt.serialize([fmt.encode(orjson.dumps(r)) for r in ROWS])
    assert data[:4] == b"PAR1"
    table = pq.read_table(io.BytesIO(data))
    assert table.column_names == ["ind", "timestamp", "latitude", "country", "extra"]
    assert str(table.schema.field("ind").type) == "int64"
    assert str(table.schema.field("latitude").type) == "double"
    assert parquet_rows(data) == [
        {**{"extra": None, "country": None}, **r} for r in ROWS
    ]  # absent fields read back as null


def test_parquet_bytes_are_deterministic() -> None:
    fmt = ParquetFormat()
    items = [fmt.encode(orjson.dumps(r)) for r in ROWS]
    assert fmt.serialize(items) == fmt.serialize(list(items))


def test_parquet_columns_pyarrow_cannot_type_become_json_text() -> None:
    fmt = ParquetFormat()
    values = [{"a": 1, "b": {}, "c": {"d": {}}}, {"a": "one", "b": {}, "c": {"d": {}}}]
    rows = parquet_rows(fmt.serialize([fmt.encode(orjson.dumps(v)) for v in values]))
    assert rows == [
        {"a": "1", "b": "{}", "c": '{"d":{}}'},
        {"a": '"one"', "b": "{}", "c": '{"d":{}}'},
    ]


@pytest.mark.parametrize("raw", [b"[1,2]", b'"text"', b"null", b"7", b"", b"{bad"])
def test_parquet_needs_json_objects(raw: bytes) -> None:
    with pytest.raises(EncodeError):
        ParquetFormat().encode(raw)


def test_parquet_refuses_integers_beyond_64_bits() -> None:
    with pytest.raises(EncodeError, match="64-bit"):
        ParquetFormat().encode(b'{"n":18446744073709551616}')


def test_resolve_format() -> None:
    assert isinstance(resolve_format("json"), JsonFormat)
    assert isinstance(resolve_format("parquet"), ParquetFormat)
    with pytest.raises(SinkConfigError, match="json, parquet"):
        resolve_format("avro")
    with pytest.raises(SinkConfigError, match="field order"):
        JsonFormat("sorted")  # type: ignore[arg-type]


def test_missing_pyarrow_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a)
    )
    with pytest.raises(MissingExtraError, match="parquet"):
        ParquetFormat()
