"""Where a batch run's outputs go in the lake, and how they are read back.

* ``curated/<kind>``: the cleaned tables, as Delta tables (delta-rs), overwritten by each run in
  one Delta commit (readers see the previous version or the new one, never a mix);
* ``results/<query>.parquet`` and ``results/<query>.csv``: each query's result;
* ``results/data_quality.json``: the data-quality summary and the run's facts;
* ``dead_letters/<raw object key>``: the raw lines that could not be read, one JSON per line.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from pinpipe.batch.reader import DeadLetter
from pinpipe.errors import PinpipeError
from pinpipe.lake import Lake, ObjectNotFoundError
from pinpipe.naming import RecordKindName
from pinpipe.transform import QUERIES

RESULTS_PREFIX = "results/"
QUALITY_KEY = "results/data_quality.json"
DEAD_LETTERS_PREFIX = "dead_letters/"


class BatchOutputError(PinpipeError):
    """A batch output cannot be written or read (Delta table, result object)."""


def curated_key(kind: RecordKindName) -> str:
    return f"curated/{kind}"


def result_key(name: str, suffix: str) -> str:
    return f"{RESULTS_PREFIX}{name}.{suffix}"


def dead_letter_key(raw_key: str) -> str:
    return f"{DEAD_LETTERS_PREFIX}{raw_key}"


def write_curated(
    lake: Lake, kind: RecordKindName, table: pa.Table, metadata: Mapping[str, str] | None = None
) -> tuple[str, int]:
    """Overwrite the Delta table ``curated/<kind>`` with ``table`` in one commit that carries
    ``metadata`` (the run's facts: what the queries stage needs to know about this version);
    returns the table's URI and the version written."""
    from deltalake import CommitProperties, DeltaTable, write_deltalake
    from deltalake.exceptions import DeltaError

    uri = lake.table_uri(curated_key(kind))
    try:
        write_deltalake(
            uri,
            table,
            mode="overwrite",
            schema_mode="overwrite",
            storage_options=lake.storage_options() or None,
            commit_properties=CommitProperties(custom_metadata=dict(metadata or {})),
        )
        version = DeltaTable(uri, storage_options=lake.storage_options() or None).version()
    except (DeltaError, OSError) as exc:
        msg = f"cannot write the Delta table {uri!r}: {exc}"
        raise BatchOutputError(msg, hint="check the lake (space, permissions, endpoint)") from exc
    return uri, version


@dataclass(frozen=True, slots=True)
class CuratedTable:
    """The current version of a curated table and the metadata its commit carries."""

    kind: RecordKindName
    uri: str
    version: int
    table: pa.Table
    metadata: dict[str, Any]


def read_curated_table(lake: Lake, kind: RecordKindName) -> CuratedTable:
    """The current version of ``curated/<kind>`` with its commit's metadata."""
    from deltalake import DeltaTable
    from deltalake.exceptions import DeltaError, TableNotFoundError

    uri = lake.table_uri(curated_key(kind))
    try:
        delta = DeltaTable(uri, storage_options=lake.storage_options() or None)
        commit = delta.history(1)[0]
        return CuratedTable(kind, uri, delta.version(), delta.to_pyarrow_table(), commit)
    except TableNotFoundError as exc:
        msg = f"no curated {kind} table at {uri!r}"
        raise BatchOutputError(msg, hint=f"run `pinpipe batch` (or clean {kind}) first") from exc
    except DeltaError as exc:
        msg = f"cannot read the Delta table {uri!r}: {exc}"
        raise BatchOutputError(msg, hint="check the lake (permissions, endpoint)") from exc


def read_curated(lake: Lake, kind: RecordKindName) -> pa.Table:
    """The current version of the Delta table ``curated/<kind>``."""
    return read_curated_table(lake, kind).table


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _csv(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pa_csv.write_csv(table, sink)
    return sink.getvalue()


def write_results(lake: Lake, results: Mapping[str, pa.Table], quality: dict[str, Any]) -> None:
    """Store every query result (parquet and csv) and the quality summary, each atomically."""
    items = [
        (result_key(name, suffix), encode(table))
        for name, table in results.items()
        for suffix, encode in (("parquet", _parquet), ("csv", _csv))
    ]
    items.append((QUALITY_KEY, orjson.dumps(quality, option=orjson.OPT_INDENT_2)))
    lake.put_many(items)


def write_dead_letters(lake: Lake, dead_letters: Iterable[DeadLetter]) -> list[str]:
    """Store the dead letters, one object per raw object that had any; returns their keys."""
    by_object: dict[str, list[bytes]] = {}
    for letter in dead_letters:
        by_object.setdefault(letter.key, []).append(letter.to_json())
    items = [(dead_letter_key(k), b"\n".join(lines) + b"\n") for k, lines in by_object.items()]
    lake.put_many(items)
    return [key for key, _ in items]


def read_result(lake: Lake, name: str) -> pa.Table:
    """A stored query result."""
    if name not in QUERIES:
        msg = f"unknown query {name!r}"
        raise BatchOutputError(msg, hint=f"the queries are: {', '.join(QUERIES)}")
    try:
        data = lake.get(result_key(name, "parquet"))
    except ObjectNotFoundError as exc:
        msg = f"no stored result for {name!r} in the lake {lake.url!r}"
        raise BatchOutputError(msg, hint="run `pinpipe batch` first") from exc
    return pq.read_table(io.BytesIO(data))


def read_quality(lake: Lake) -> dict[str, Any]:
    """The data-quality summary of the last batch run."""
    try:
        value: dict[str, Any] = orjson.loads(lake.get(QUALITY_KEY))
    except ObjectNotFoundError as exc:
        msg = f"no batch run has finished in the lake {lake.url!r}"
        raise BatchOutputError(msg, hint="run `pinpipe batch` first") from exc
    return value
