"""The embedded log: topics in one SQLite file in WAL mode, shared by several processes.

Storage (Kafka's record-batch idea, see DESIGN.md): one row of ``batches`` per append call per
partition holds ``base_offset``, ``count``, the append time and a ``payload`` blob with all the
records of that call in that partition. One row per record costs a B-tree insert per record and
caps appends at ~69k records/s; one row per batch reaches ~190k records/s with an fsync per
batch. A read finds the batch holding the wanted offset through the index on
``(topic_id, part, base_offset)`` and slices it.

The payload framing is in :mod:`pinpipe.broker.framing`.

Tables::

    topics(id, name UNIQUE, partitions, created_ms)         AUTOINCREMENT: ids never reused
    partitions(topic_id, part, next_offset)                 the next offset, per partition
    batches(id, topic_id, part, base_offset, count, timestamp_ms, payload)
    group_offsets(group_name, topic_id, part, next_offset)  a consumer group's next offset
    idempotency(topic_id, key, positions, created_ms)       Idempotency-Key -> positions

Safety across processes and threads: every append is one ``BEGIN IMMEDIATE`` transaction that
bumps ``partitions.next_offset`` and inserts the batches, so offsets are contiguous from 0 and
never handed out twice, whichever process writes; nothing read outside a transaction is trusted
inside one. Each thread uses its own connection (``check_same_thread=False`` only so that
``close()`` can close them all), so reads never wait for a write; writers of one process queue
on a lock rather than in SQLite's sleeping busy handler, which is left for writers in other
processes (``busy_timeout_ms``). A forked child opens its own connections.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import ClassVar

from pinpipe.broker.base import (
    BackendName,
    Broker,
    KeyedSpan,
    LogRecord,
    OutRecord,
    Position,
    TopicInfo,
    validate_group_name,
    validate_topic_name,
)
from pinpipe.broker.embedded_sql import (
    APPLICATION_ID,
    BUMP,
    INSERT_BATCH,
    OTHER_DATABASE,
    READ_BATCHES,
    READ_HEAD,
    SCHEMA,
    SCHEMA_VERSION,
    SYNCHRONOUS,
    TOPIC,
    UPSERT_GROUP,
)
from pinpipe.broker.framing import decode_batch, decode_positions, encode_batch, encode_positions
from pinpipe.broker.partitioner import choose_partitions
from pinpipe.config import EmbeddedLogSettings
from pinpipe.errors import (
    BrokerError,
    BrokerUnavailableError,
    InvalidPartitionError,
    OffsetOutOfRangeError,
    TopicExistsError,
    UnknownTopicError,
)

#: Connections a forked child inherited; kept open and unused (see EmbeddedLog._connection).
_INHERITED: list[sqlite3.Connection] = []


class EmbeddedLog(Broker):
    """Topics in one SQLite WAL file at ``path``; see the module docstring."""

    backend: ClassVar[BackendName] = "embedded"

    def __init__(self, path: str | Path, settings: EmbeddedLogSettings | None = None) -> None:
        self._path = Path(path).expanduser().absolute()
        self._settings = settings or EmbeddedLogSettings()
        self._round_robin = itertools.count()
        self._closed = False
        self._reset_connections()
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            msg = f"cannot create the directory of the embedded log {str(self._path)!r}: {exc}"
            raise BrokerError(msg, hint="point broker_url at a writable place") from exc
        try:
            with self._errors("open"):
                self._init_schema(self._connection())
        except BaseException:
            self.close()
            raise

    @property
    def path(self) -> Path:
        """The absolute path of the SQLite file."""
        return self._path

    # -- connections -----------------------------------------------------------------------

    def _reset_connections(self) -> None:
        self._pid = os.getpid()
        self._connections: dict[int, sqlite3.Connection] = {}
        self._connections_lock = threading.Lock()
        self._write_lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on its first call (and anew in a forked child)."""
        if self._closed:
            msg = f"the embedded log {str(self._path)!r} is closed"
            raise BrokerError(msg, hint="open a new EmbeddedLog")
        if self._pid != os.getpid():
            # SQLite connections must not cross fork(): the child must neither use nor close
            # the parent's (closing one could drop the child's own file locks), so keep them.
            _INHERITED.extend(self._connections.values())
            self._reset_connections()
        conn = self._connections.get(threading.get_ident())
        if conn is None:
            # A thread that ends leaves its connection to the next thread given its ident.
            conn = self._connect()
            with self._connections_lock:
                self._connections[threading.get_ident()] = conn
        return conn

    def _connect(self) -> sqlite3.Connection:
        timeout = self._settings.busy_timeout_ms / 1000
        with self._errors("open"):
            conn = sqlite3.connect(
                self._path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            try:
                self._configure(conn)
            except BaseException:
                conn.close()
                raise
        return conn

    def _configure(self, conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA busy_timeout = {self._settings.busy_timeout_ms:d}")
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                msg = f"the embedded log {str(self._path)!r} cannot use WAL mode ({mode})"
                raise BrokerError(msg, hint="put it on a local file system")
        conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS[self._settings.durability]}")

    def _init_schema(self, conn: sqlite3.Connection) -> None:
        if conn.execute("PRAGMA application_id").fetchone()[0] == 0:
            with self._transaction(conn):
                self._create_schema(conn)
        if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            raise self._foreign_file(OTHER_DATABASE)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            msg = (
                f"the embedded log {str(self._path)!r} has schema version {version}; "
                f"this pinpipe reads up to {SCHEMA_VERSION}"
            )
            raise BrokerError(msg, hint="upgrade pinpipe, or point broker_url at another file")

    @staticmethod
    def _create_schema(conn: sqlite3.Connection) -> None:
        """Create the tables in an empty file (inside the caller's write transaction)."""
        if conn.execute("PRAGMA application_id").fetchone()[0] != 0:
            return  # another process created them meanwhile
        if conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]:
            return  # someone else's database: _init_schema refuses it
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")

    def _foreign_file(self, what: str) -> BrokerError:
        msg = f"{str(self._path)!r} is {what}, not a pinpipe embedded log"
        hint = "move the file away, or point broker_url at another file (embedded://PATH)"
        return BrokerError(msg, hint=hint)

    @contextmanager
    def _transaction(self, conn: sqlite3.Connection) -> Iterator[None]:
        """A write transaction, taking the file's write lock up front (BEGIN IMMEDIATE)."""
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    with suppress(sqlite3.Error):  # the first error is the one to report
                        conn.execute("ROLLBACK")
                raise

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn SQLite's errors into BrokerErrors that name the file and the fix."""
        try:
            yield
        except sqlite3.Error as exc:
            raise self._broker_error(action, exc) from exc

    def _broker_error(self, action: str, exc: sqlite3.Error) -> BrokerError:
        text = str(exc)
        where = f"embedded log {str(self._path)!r}"
        if "locked" in text or "busy" in text:
            msg = (
                f"cannot {action} the {where}: another process held it longer than "
                f"busy_timeout_ms={self._settings.busy_timeout_ms}"
            )
            hint = "retry, or raise embedded.busy_timeout_ms (PINPIPE_EMBEDDED__BUSY_TIMEOUT_MS)"
            return BrokerUnavailableError(msg, hint=hint)
        if "not a database" in text or "malformed" in text or "encrypted" in text:
            return self._foreign_file(f"damaged or not a SQLite database ({text})")
        if "too big" in text:
            msg = f"cannot {action} the {where}: one batch exceeds SQLite's 1 GB limit ({text})"
            return BrokerError(msg, hint="append fewer or smaller records per call")
        if "unable to open" in text or "readonly" in text:
            msg = f"cannot {action} the {where}: {text}"
            return BrokerError(msg, hint="check the path is a writable file, or change broker_url")
        msg = f"cannot {action} the {where}: {text}"
        return BrokerError(msg, hint="check the disk (space, permissions) and retry")

    def close(self) -> None:
        self._closed = True
        if self._pid != os.getpid():
            return  # the parent's connections, see _connection
        with self._connections_lock:
            connections, self._connections = list(self._connections.values()), {}
        for conn in connections:
            conn.close()

    # -- topics ----------------------------------------------------------------------------

    def _topic(self, conn: sqlite3.Connection, name: str) -> tuple[int, int]:
        row = conn.execute(TOPIC, (name,)).fetchone()
        if row is None:
            raise UnknownTopicError(name)
        return int(row[0]), int(row[1])

    def create_topic(self, name: str, partitions: int = 1) -> None:
        validate_topic_name(name)
        if partitions < 1:
            msg = f"partitions={partitions} must be at least 1"
            raise InvalidPartitionError(msg, hint="pass a positive partition count")
        conn = self._connection()
        with self._errors(f"create topic {name!r} in"), self._transaction(conn):
            try:
                cursor = conn.execute(
                    "INSERT INTO topics (name, partitions, created_ms) VALUES (?, ?, ?)",
                    (name, partitions, _now_ms()),
                )
            except sqlite3.IntegrityError:
                raise TopicExistsError(name) from None
            conn.executemany(
                "INSERT INTO partitions (topic_id, part, next_offset) VALUES (?, ?, 0)",
                [(cursor.lastrowid, p) for p in range(partitions)],
            )

    def delete_topic(self, name: str) -> None:
        conn = self._connection()
        with self._errors(f"delete topic {name!r} from"), self._transaction(conn):
            topic_id, _ = self._topic(conn, name)
            for table in ("batches", "partitions", "group_offsets", "idempotency"):
                conn.execute(f"DELETE FROM {table} WHERE topic_id = ?", (topic_id,))
            conn.execute("DELETE FROM topics WHERE id = ?", (topic_id,))

    def list_topics(self) -> list[str]:
        conn = self._connection()
        with self._errors("list the topics of"):
            return [row[0] for row in conn.execute("SELECT name FROM topics ORDER BY name")]

    def describe_topic(self, name: str) -> TopicInfo:
        conn = self._connection()
        with self._errors(f"describe topic {name!r} in"):
            topic_id, _ = self._topic(conn, name)
            ends = tuple(
                row[0]
                for row in conn.execute(
                    "SELECT next_offset FROM partitions WHERE topic_id = ? ORDER BY part",
                    (topic_id,),
                )
            )
        if not ends:  # deleted between the two statements
            raise UnknownTopicError(name)
        return TopicInfo(name, (0,) * len(ends), ends)

    # -- records ---------------------------------------------------------------------------

    def append(self, topic: str, records: Sequence[OutRecord]) -> list[Position]:
        return self.append_keyed(topic, records, ())

    def append_keyed(
        self, topic: str, records: Sequence[OutRecord], spans: Sequence[KeyedSpan]
    ) -> list[Position]:
        """Append, storing each span's positions under its Idempotency-Key in the same
        transaction. A span whose key is already stored is not written again; its original
        positions are returned in its place."""
        conn = self._connection()
        with self._errors(f"append to topic {topic!r} in"):
            while True:
                # Choose partitions and encode outside the write lock; the transaction then
                # checks that the topic is still the one looked up (not deleted or re-created).
                topic_id, partitions = self._topic(conn, topic)
                chosen = choose_partitions(records, partitions, self._round_robin, topic)
                if not records:
                    return []
                payloads = [(p, len(rs), encode_batch(rs)) for p, rs in _group(records, chosen)]
                now = _now_ms()
                with self._transaction(conn):
                    row = conn.execute(TOPIC, (topic,)).fetchone()
                    if row is None:
                        raise UnknownTopicError(topic)
                    if row[0] != topic_id:
                        continue  # re-created meanwhile, maybe with other partitions
                    seen = self._stored_keys(conn, topic_id, [span.key for span in spans])
                    if seen:  # rare: a retry that raced its original; write only the new spans
                        return self._append_unseen(conn, topic_id, records, chosen, spans, seen)
                    positions = self._write(conn, topic_id, payloads, chosen, now)
                    self._store_keys(conn, topic_id, spans, positions, now)
                    return positions

    def _append_unseen(
        self,
        conn: sqlite3.Connection,
        topic_id: int,
        records: Sequence[OutRecord],
        chosen: list[int],
        spans: Sequence[KeyedSpan],
        seen: dict[str, list[Position]],
    ) -> list[Position]:
        """Inside the transaction: write the records outside already-stored spans."""
        skip = {i for s in spans if s.key in seen for i in range(s.start, s.start + s.count)}
        keep = [i for i in range(len(records)) if i not in skip]
        fresh: list[Position] = []
        if keep:
            kept, kept_chosen = [records[i] for i in keep], [chosen[i] for i in keep]
            payloads = [(p, len(rs), encode_batch(rs)) for p, rs in _group(kept, kept_chosen)]
            fresh = self._write(conn, topic_id, payloads, kept_chosen, _now_ms())
        positions: list[Position | None] = [None] * len(records)
        for i, position in zip(keep, fresh, strict=True):
            positions[i] = position
        for span in spans:
            if span.key in seen:
                positions[span.start : span.start + span.count] = seen[span.key]
        done = [p for p in positions if p is not None]
        new_spans = [span for span in spans if span.key not in seen]
        self._store_keys(conn, topic_id, new_spans, done, _now_ms())
        return done

    @staticmethod
    def _write(
        conn: sqlite3.Connection,
        topic_id: int,
        payloads: list[tuple[int, int, bytes]],
        chosen: list[int],
        now: int,
    ) -> list[Position]:
        """Inside the transaction: bump each partition's next offset and insert its batch."""
        bases: dict[int, int] = {}
        for p, count, payload in payloads:
            ((end,),) = conn.execute(BUMP, (count, topic_id, p)).fetchall()
            base = end - count
            conn.execute(INSERT_BATCH, (topic_id, p, base, count, now, payload))
            bases[p] = base
        if len(bases) == 1:
            ((p, base),) = bases.items()
            return [Position(p, offset) for offset in range(base, base + len(chosen))]
        positions = []
        for p in chosen:
            positions.append(Position(p, bases[p]))
            bases[p] += 1
        return positions

    @staticmethod
    def _stored_keys(
        conn: sqlite3.Connection, topic_id: int, keys: Sequence[str]
    ) -> dict[str, list[Position]]:
        found: dict[str, list[Position]] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT key, positions FROM idempotency WHERE topic_id = ? AND key IN ({marks})",
                (topic_id, *chunk),
            )
            found |= {key: decode_positions(blob) for key, blob in rows}
        return found

    @staticmethod
    def _store_keys(
        conn: sqlite3.Connection,
        topic_id: int,
        spans: Sequence[KeyedSpan],
        positions: list[Position],
        now: int,
    ) -> None:
        if spans:
            conn.executemany(
                "INSERT INTO idempotency (topic_id, key, positions, created_ms)"
                " VALUES (?, ?, ?, ?)",
                [
                    (topic_id, s.key, encode_positions(positions[s.start : s.start + s.count]), now)
                    for s in spans
                ],
            )

    def lookup_keys(self, topic: str, keys: Sequence[str]) -> dict[str, list[Position]]:
        conn = self._connection()
        with self._errors(f"look up idempotency keys of topic {topic!r} in"):
            topic_id, _ = self._topic(conn, topic)
            return self._stored_keys(conn, topic_id, keys)

    def read(
        self, topic: str, partition: int, offset: int, max_records: int = 500
    ) -> list[LogRecord]:
        conn = self._connection()
        with self._errors(f"read topic {topic!r} from"):
            row = conn.execute(READ_HEAD, (partition, topic)).fetchone()
            if row is None:
                raise UnknownTopicError(topic)
            topic_id, partitions, end = row
            if end is None:
                msg = f"topic {topic!r} has no partition {partition}"
                raise InvalidPartitionError(msg, hint=f"use 0..{partitions - 1}")
            if not 0 <= offset <= end:
                msg = f"offset {offset} is outside {topic!r}[{partition}] (0..{end})"
                raise OffsetOutOfRangeError(msg, hint="read from the start or the end offset")
            if offset == end or max_records <= 0:
                return []
            rows = conn.execute(READ_BATCHES, (topic_id, partition, offset, max_records))
            batches = rows.fetchall()
        out: list[LogRecord] = []
        for base, count, timestamp_ms, payload in batches:
            start = max(offset - base, 0)
            stop = min(count, start + max_records - len(out))
            keys, values = decode_batch(payload, count, start, stop)
            out += [
                LogRecord(topic, partition, o, k, v, timestamp_ms)
                for o, k, v in zip(range(base + start, base + stop), keys, values, strict=True)
            ]
            if len(out) >= max_records:
                break
        return out

    # -- consumer groups -------------------------------------------------------------------

    def commit(self, group: str, topic: str, offsets: Mapping[int, int]) -> None:
        validate_group_name(group)
        conn = self._connection()
        with self._errors(f"commit offsets of group {group!r} to"), self._transaction(conn):
            topic_id, partitions = self._topic(conn, topic)
            for p in offsets:
                if not 0 <= p < partitions:
                    msg = f"topic {topic!r} has no partition {p}"
                    raise InvalidPartitionError(msg, hint=f"use 0..{partitions - 1}")
            conn.executemany(
                UPSERT_GROUP, [(group, topic_id, p, int(o)) for p, o in offsets.items()]
            )

    def committed(self, group: str, topic: str) -> dict[int, int]:
        conn = self._connection()
        with self._errors(f"read offsets of group {group!r} from"):
            topic_id, _ = self._topic(conn, topic)
            rows = conn.execute(
                "SELECT part, next_offset FROM group_offsets WHERE group_name = ? AND topic_id = ?",
                (group, topic_id),
            )
            return {int(p): int(o) for p, o in rows}


def _group(
    records: Sequence[OutRecord], chosen: list[int]
) -> list[tuple[int, Sequence[OutRecord]]]:
    """The records of each chosen partition, in order (usually all go to one)."""
    if chosen.count(chosen[0]) == len(chosen):
        return [(chosen[0], records)]
    groups: dict[int, list[OutRecord]] = {}
    for record, p in zip(records, chosen, strict=True):
        groups.setdefault(p, []).append(record)
    return list(groups.items())


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
