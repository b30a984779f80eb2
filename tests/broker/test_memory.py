from __future__ import annotations

from collections.abc import Iterator

import pytest

from pinpipe.broker import Broker, InMemoryBroker, OutRecord
from pinpipe.errors import OffsetOutOfRangeError
from tests.broker.contract import BrokerContract


class TestInMemoryBroker(BrokerContract):
    @pytest.fixture
    def broker(self) -> Iterator[Broker]:
        with InMemoryBroker() as broker:
            yield broker

    def test_read_past_end(self, broker: Broker, topic: str) -> None:
        broker.append(topic, [OutRecord(b"a")])
        with pytest.raises(OffsetOutOfRangeError):
            broker.read(topic, 0, 5)
