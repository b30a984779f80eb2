"""The embedded log's SQL: the schema (see :mod:`pinpipe.broker.embedded` for the tables) and
the statements of the hot paths, prepared once per connection by sqlite3's statement cache."""

from __future__ import annotations

#: ``PRAGMA application_id`` of a pinpipe log ("PPLG"), so another SQLite file is not mistaken.
APPLICATION_ID = 0x50504C47
#: ``PRAGMA user_version``: the schema and payload framing this module reads and writes.
SCHEMA_VERSION = 1
OTHER_DATABASE = "a SQLite database of something else"

SYNCHRONOUS = {"fsync": "FULL", "os": "NORMAL", "none": "OFF"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    partitions INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS partitions (
    topic_id INTEGER NOT NULL,
    part INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic_id, part)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    topic_id INTEGER NOT NULL,
    part INTEGER NOT NULL,
    base_offset INTEGER NOT NULL,
    count INTEGER NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    payload BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS batches_by_offset ON batches (topic_id, part, base_offset);
CREATE TABLE IF NOT EXISTS idempotency (
    topic_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    positions BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (topic_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_offsets (
    group_name TEXT NOT NULL,
    topic_id INTEGER NOT NULL,
    part INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (group_name, topic_id, part)
) WITHOUT ROWID;
"""

TOPIC = "SELECT id, partitions FROM topics WHERE name = ?"
BUMP = (
    "UPDATE partitions SET next_offset = next_offset + ? WHERE topic_id = ? AND part = ?"
    " RETURNING next_offset"
)
INSERT_BATCH = (
    "INSERT INTO batches (topic_id, part, base_offset, count, timestamp_ms, payload)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
READ_HEAD = (
    "SELECT t.id, t.partitions, p.next_offset FROM topics t"
    " LEFT JOIN partitions p ON p.topic_id = t.id AND p.part = ? WHERE t.name = ?"
)
# The batch holding ?3 (the greatest base_offset <= ?3) and those after it, up to ?3 + ?4.
READ_BATCHES = (
    "SELECT base_offset, count, timestamp_ms, payload FROM batches"
    " WHERE topic_id = ?1 AND part = ?2 AND base_offset < ?3 + ?4 AND base_offset >= ("
    "  SELECT max(base_offset) FROM batches WHERE topic_id = ?1 AND part = ?2 AND base_offset <= ?3"
    " ) ORDER BY base_offset"
)
UPSERT_GROUP = (
    "INSERT INTO group_offsets (group_name, topic_id, part, next_offset) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (group_name, topic_id, part) DO UPDATE SET next_offset = excluded.next_offset"
)
