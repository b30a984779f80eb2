"""Binary framing of the embedded log's rows: record batches and idempotency positions.

A batch payload is ``count`` little-endian int32 key lengths (-1: no key, so ``None`` and
``b""`` stay distinct), ``count`` int32 value lengths, then all the keys back to back, then all
the values. Lengths first and keys apart from values let encoding and decoding run in C-level
joins, slices and ``accumulate`` rather than a Python loop per record.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from itertools import accumulate

from pinpipe.broker.base import OutRecord, Position

_Decoded = tuple[list[bytes | None], list[bytes]]


def encode_batch(records: Sequence[OutRecord]) -> bytes:
    """The payload of one batch: all key lengths, all value lengths, all keys, all values."""
    keys = [record.key for record in records]
    values = [record.value for record in records]
    parts: list[bytes] = [b""]
    if keys.count(None) == len(keys):
        key_lengths = [-1] * len(keys)
    else:
        key_lengths = [-1 if key is None else len(key) for key in keys]
        parts += [key for key in keys if key]
    parts[0] = struct.pack(f"<{2 * len(keys)}i", *key_lengths, *map(len, values))
    parts += values
    return b"".join(parts)


def decode_batch(payload: bytes, count: int, start: int, stop: int) -> _Decoded:
    """Keys and values of records ``start:stop`` of a batch of ``count`` records."""
    lengths = struct.unpack_from(f"<{2 * count}i", payload)
    key_lengths = lengths[:count]
    header = 8 * count
    if key_lengths.count(-1) == count:
        keys: list[bytes | None] = [None] * (stop - start)
        values_at = header
    else:
        key_ends = list(accumulate((max(n, 0) for n in key_lengths), initial=header))
        keys = [
            None if key_lengths[i] < 0 else payload[key_ends[i] : key_ends[i + 1]]
            for i in range(start, stop)
        ]
        values_at = key_ends[-1]
    ends = list(accumulate(lengths[count:], initial=values_at))
    values = [payload[ends[i] : ends[i + 1]] for i in range(start, stop)]
    return keys, values


def encode_positions(positions: Sequence[Position]) -> bytes:
    """(partition int32, offset int64) pairs."""
    flat = [n for p in positions for n in (p.partition, p.offset)]
    return struct.pack(f"<{'iq' * len(positions)}", *flat)


def decode_positions(blob: bytes) -> list[Position]:
    values = struct.unpack(f"<{'iq' * (len(blob) // 12)}", blob)
    return [Position(values[i], values[i + 1]) for i in range(0, len(values), 2)]
