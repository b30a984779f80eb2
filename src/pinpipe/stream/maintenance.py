"""Small files are the price of micro-batches: compaction (OPTIMIZE) and VACUUM for the
streaming job's Delta tables, through delta-rs. Both are safe while the streamer runs:
OPTIMIZE is a commit of its own (delta-rs retries on conflict) that carries no stream
position, and the streamer finds its last position through the app transaction."""

from __future__ import annotations

from dataclasses import dataclass

from deltalake import DeltaTable
from deltalake.exceptions import DeltaError, TableNotFoundError

from pinpipe.lake import Lake
from pinpipe.stream.tables import StreamTableError


@dataclass(frozen=True, slots=True)
class Compaction:
    removed: int
    added: int


def _open(lake: Lake, key: str) -> DeltaTable | None:
    try:
        return DeltaTable(lake.table_uri(key), storage_options=lake.storage_options() or None)
    except TableNotFoundError:
        return None


def compact(lake: Lake, key: str) -> Compaction | None:
    """Rewrite the small files of the table at ``key`` into large ones; None if no table."""
    table = _open(lake, key)
    if table is None:
        return None
    try:
        metrics = table.optimize.compact()
    except DeltaError as exc:
        msg = f"cannot optimize {key!r}: {exc}"
        raise StreamTableError(msg, hint="retry; a concurrent commit may have conflicted") from exc
    return Compaction(int(metrics["numFilesRemoved"]), int(metrics["numFilesAdded"]))


def vacuum(lake: Lake, key: str, *, retention_hours: int = 168) -> int | None:
    """Delete the files of ``key`` that no version within ``retention_hours`` needs; their
    number, or None if no table."""
    table = _open(lake, key)
    if table is None:
        return None
    try:
        deleted = table.vacuum(
            retention_hours=retention_hours, dry_run=False, enforce_retention_duration=False
        )
    except DeltaError as exc:
        msg = f"cannot vacuum {key!r}: {exc}"
        raise StreamTableError(msg, hint="check the lake (permissions, endpoint)") from exc
    return len(deleted)
