"""The streaming job's Delta tables, and the stream positions their commits carry.

Each stream has one table, ``delta/<uid>_<kind>_table``; each micro-batch is one append commit
that also records, in the same atomic commit, the batch number as a delta-rs *app transaction*
(``app_id = pinpipe-stream:<stream>``, version = batch number) and the next position per
partition (shard) in the commit's metadata. A restart reads both back from the table; there is
no checkpoint beside it to drift. Two side tables follow the same rule:

* ``delta/_pinpipe_seen/<table>``: digests of the raw rows already appended, with their batch
  number, so exact re-sends are dropped across micro-batches as the batch job drops them over
  the whole lake. Rows of a batch whose main commit never happened are ignored on load.
* ``delta/<uid>_dead_letters``: payloads that are not records, with stream, position and reason;
  each stream's batches there are app transactions too, so a replay never adds them twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
from deltalake.exceptions import DeltaError, TableNotFoundError

from pinpipe.errors import PinpipeError
from pinpipe.lake import Lake

POSITIONS_KEY = "pinpipe.positions"
BATCH_KEY = "pinpipe.batch"
STREAM_KEY = "pinpipe.stream"
_SEEN_FIELDS: dict[str, pa.DataType] = {"digest": pa.string(), "batch": pa.int64()}
SEEN_SCHEMA = pa.schema(_SEEN_FIELDS)
_DEAD_LETTER_FIELDS: dict[str, pa.DataType] = {
    "stream": pa.string(),
    "partition": pa.int64(),
    "offset": pa.int64(),
    "reason": pa.string(),
    "payload": pa.string(),
    "batch": pa.int64(),
}
DEAD_LETTER_SCHEMA = pa.schema(_DEAD_LETTER_FIELDS)
#: History entries read back at start to find the last batch's positions (OPTIMIZE and VACUUM
#: commits carry none; past this many, the whole history is read).
HISTORY_WINDOW = 50


class StreamTableError(PinpipeError):
    """A streaming Delta table cannot be read or written."""


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a stream's table says to go on: the last committed batch and the next positions."""

    batch: int
    positions: dict[int, int]


def app_id(stream: str) -> str:
    return f"pinpipe-stream:{stream}"


class DeltaTarget:
    """One Delta table in the lake (created on first write)."""

    def __init__(self, lake: Lake, key: str) -> None:
        self.uri = lake.table_uri(key)
        self._options = lake.storage_options() or None
        self._table: DeltaTable | None = None

    def table(self) -> DeltaTable | None:
        """The table at its latest version, or None before its first commit."""
        try:
            if self._table is None:
                self._table = DeltaTable(self.uri, storage_options=self._options)
            else:
                self._table.update_incremental()
        except TableNotFoundError:
            return None
        except DeltaError as exc:
            error = _error("read", self.uri, exc)
            raise error from exc
        return self._table

    def committed_batch(self, stream: str) -> int | None:
        table = self.table()
        return None if table is None else table.transaction_version(app_id(stream))

    def append(
        self, data: pa.Table, stream: str, batch: int, metadata: dict[str, str] | None = None
    ) -> None:
        """Append ``data`` as batch ``batch`` of ``stream`` in one commit (an empty ``data``
        still commits, so the positions advance)."""
        properties = CommitProperties(
            app_transactions=[Transaction(app_id(stream), batch)],
            custom_metadata={STREAM_KEY: stream, BATCH_KEY: str(batch), **(metadata or {})},
        )
        try:
            # The open table, not the URI: delta-rs then needs no reload of the log per commit.
            write_deltalake(
                self.table() or self.uri,
                data,
                mode="append",
                schema_mode="merge",
                storage_options=self._options,
                commit_properties=properties,
            )
        except (DeltaError, OSError) as exc:
            error = _error("write", self.uri, exc)
            raise error from exc

    def resume(self, stream: str) -> Resume | None:
        """The last batch of ``stream`` committed here and the positions it recorded."""
        table = self.table()
        batch = None if table is None else table.transaction_version(app_id(stream))
        if table is None or batch is None:
            return None
        for window in (HISTORY_WINDOW, None):
            for commit in table.history(window):
                if commit.get(STREAM_KEY) == stream and commit.get(BATCH_KEY) == str(batch):
                    positions = orjson.loads(commit[POSITIONS_KEY])
                    return Resume(batch, {int(p): int(o) for p, o in positions.items()})
        msg = f"{self.uri!r} says batch {batch} of {stream!r} was committed, but not where it ended"
        raise StreamTableError(msg, hint="the table's history was rewritten; start a new table")


def positions_json(positions: dict[int, int]) -> str:
    """Positions as JSON (keys are strings): in commit metadata and Spark source offsets."""
    return orjson.dumps({str(p): o for p, o in positions.items()}).decode()


def positions_metadata(positions: dict[int, int]) -> dict[str, str]:
    return {POSITIONS_KEY: positions_json(positions)}


def load_seen(target: DeltaTarget, up_to_batch: int | None) -> pa.Table:
    """The digests of batches ``<= up_to_batch`` (later ones belong to batches never
    committed to the main table)."""
    table = target.table()
    if table is None or up_to_batch is None:
        return SEEN_SCHEMA.empty_table()
    data: pa.Table = table.to_pyarrow_table(filters=[("batch", "<=", up_to_batch)])
    return data.select(["digest"])


def _error(action: str, uri: str, exc: Exception) -> StreamTableError:
    return StreamTableError(
        f"cannot {action} the Delta table {uri!r}: {exc}",
        hint="check the lake (space, permissions, endpoint)",
    )
