"""The in-process idempotency store, for brokers that cannot keep keys themselves.

With an :class:`~pinpipe.broker.base.IdempotentAppender` broker (the embedded log, the in-memory
broker) an ``Idempotency-Key`` is stored in the same transaction as its records, so a retry is
recognised across restarts and across API processes. Other brokers (Kafka, Kinesis) get this
store instead, which is weaker on purpose and says so:

* it lives in one API process: two processes behind a load balancer do not share it;
* it is lost on restart;
* it holds the most recent ``max_keys`` keys (LRU); an older key is forgotten and its retry
  is written again.

Within those bounds, a key that was accepted returns its original positions and writes nothing.
"""

from __future__ import annotations

from collections import OrderedDict

from pinpipe.broker.base import Position

DEFAULT_MAX_KEYS = 100_000


class KeyStore:
    """``(topic, key) -> positions``, least recently used evicted first."""

    def __init__(self, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        self.max_keys = max_keys
        self._positions: OrderedDict[tuple[str, str], list[Position]] = OrderedDict()

    def get(self, topic: str, key: str) -> list[Position] | None:
        found = self._positions.get((topic, key))
        if found is not None:
            self._positions.move_to_end((topic, key))
        return found

    def put(self, topic: str, key: str, positions: list[Position]) -> None:
        self._positions[(topic, key)] = positions
        self._positions.move_to_end((topic, key))
        while len(self._positions) > self.max_keys:
            self._positions.popitem(last=False)

    def forget_topic(self, topic: str) -> None:
        """Drop a deleted topic's keys (a new topic of the same name starts afresh)."""
        for entry in [k for k in self._positions if k[0] == topic]:
            del self._positions[entry]

    def __len__(self) -> int:
        return len(self._positions)
