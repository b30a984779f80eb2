"""Reading dumps of the source tables (CSV or JSON Lines) into typed rows.

Any column the table does not have (a pandas index, ``_sources``…) is ignored; a missing
column or a value of the wrong type stops the read with the file, line and column named.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from pinpipe.errors import LoadError
from pinpipe.records import Column, RecordKind, parse_datetime

Row = tuple[Any, ...]
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


def _from_text(column: Column, text: str) -> Any:
    """A CSV cell: empty means NULL for every column but the text ones."""
    if column.type == "str":
        return text
    if text == "":
        return None
    if column.type == "int":
        return int(text)
    if column.type == "float":
        value = float(text)
        if not math.isfinite(value):
            msg = f"{text!r} is not a finite number"
            raise ValueError(msg)
        return value
    return parse_datetime(text)


def _from_json(column: Column, value: Any) -> Any:
    if value is None:
        return None
    ok: bool
    if column.type == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif column.type == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and not math.isfinite(value):
            ok = False
        value = float(value) if ok else value
    elif column.type == "str":
        ok = isinstance(value, str)
    else:
        if not isinstance(value, str):
            ok = False
        else:
            return parse_datetime(value)
    if not ok:
        msg = f"expected {column.type}, got {value!r}"
        raise ValueError(msg)
    return value


def _typed_row(
    kind: RecordKind,
    get: Callable[[str], Any],
    convert: Callable[[Column, Any], Any],
    file: str,
    line: int,
) -> Row:
    values = []
    for column in kind.columns:
        try:
            value = convert(column, get(column.name))
        except ValueError as exc:
            msg = f"bad value: {exc}"
            raise LoadError(msg, file=file, line=line, column=column.name) from exc
        if value is None and column.name == kind.key:
            msg = "the key must not be empty"
            raise LoadError(msg, file=file, line=line, column=column.name)
        values.append(value)
    return tuple(values)


def _missing_columns(kind: RecordKind, present: set[str], file: str, line: int) -> None:
    missing = [name for name in kind.column_names if name not in present]
    if missing:
        msg = f"missing column(s) {', '.join(missing)} for table {kind.table}"
        raise LoadError(msg, file=file, line=line, column=missing[0])


def _read_csv(path: Path, kind: RecordKind) -> Iterator[tuple[int, Row]]:
    file = str(path)
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        _missing_columns(kind, set(reader.fieldnames or ()), file, 1)
        for record in reader:
            if None in record or any(v is None for v in record.values()):
                msg = "wrong number of fields"
                raise LoadError(msg, file=file, line=reader.line_num)
            yield (
                reader.line_num,
                _typed_row(kind, record.__getitem__, _from_text, file, reader.line_num),
            )


def _read_jsonl(path: Path, kind: RecordKind) -> Iterator[tuple[int, Row]]:
    file = str(path)
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                msg = f"not valid JSON: {exc}"
                raise LoadError(msg, file=file, line=number) from exc
            if not isinstance(record, dict):
                msg = "expected a JSON object per line"
                raise LoadError(msg, file=file, line=number)
            _missing_columns(kind, set(record), file, number)
            yield number, _typed_row(kind, record.__getitem__, _from_json, file, number)


def read_dump(path: Path, kind: RecordKind) -> Iterator[Row]:
    """Typed rows of ``path`` in the table's column order; duplicate keys are an error."""
    file = str(path)
    if not path.is_file():
        msg = "no such file"
        raise LoadError(msg, file=file)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        msg = f"unknown format {path.suffix!r}; use .csv or .jsonl"
        raise LoadError(msg, file=file)
    reader = _read_csv if fmt == "csv" else _read_jsonl
    key_at = kind.column_names.index(kind.key)
    seen: set[int] = set()
    try:
        for line, row in reader(path, kind):
            key = row[key_at]
            if key in seen:
                msg = f"duplicate key {kind.key}={key}"
                raise LoadError(msg, file=file, line=line, column=kind.key)
            seen.add(key)
            yield row
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text: {exc}"
        raise LoadError(msg, file=file) from exc
