"""A Spark 4 Python streaming data source over pinpipe's broker (embedded log, Kinesis, Kafka):
``spark.readStream.format("pinpipe_broker").option("stream", NAME)…``. No Maven jar needed.

Offsets are ``{partition: next offset}`` (as strings, Spark wants JSON keys); each micro-batch
reads, per partition, the records from the previous end to the latest end, capped at
``maxRecordsPerBatch`` unless the trigger asks for everything (availableNow). Rows are
``partition, offset, value, timestamp_ms`` - the raw frame the Kinesis source gives
(``shardId, sequenceNumber, data, approximateArrivalTimestamp``) in broker terms.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import SecretStr
from pyspark.sql.datasource import DataSource, DataSourceStreamReader, InputPartition
from pyspark.sql.streaming.datasource import ReadAllAvailable, ReadLimit, ReadMaxRows

from pinpipe.broker import Broker, open_broker
from pinpipe.config import Settings

SOURCE_NAME = "pinpipe_broker"
SCHEMA = "partition int, offset long, value binary, timestamp_ms long"
READ_PAGE = 5_000


def settings_option(settings: Settings) -> str:
    """``settings`` as a data-source option (secrets included: the readers run in this
    machine's Python workers and need the broker's credentials)."""

    def reveal(value: Any) -> Any:
        if isinstance(value, SecretStr):
            return value.get_secret_value()
        return str(value)

    return orjson.dumps(settings.model_dump(), default=reveal).decode()


@dataclass(frozen=True)
class _Span(InputPartition):
    partition: int
    start: int
    end: int


class BrokerStreamReader(DataSourceStreamReader):
    def __init__(self, options: dict[str, str]) -> None:
        self.settings_json = options["settings"]
        self.stream = options["stream"]
        self.start = {str(k): int(v) for k, v in orjson.loads(options["start"]).items()}
        self.max_records = int(options.get("maxRecordsPerBatch", "50000"))

    def _broker(self) -> Broker:
        settings = Settings(**orjson.loads(self.settings_json))
        return open_broker(settings.streams_url, settings)

    def initialOffset(self) -> dict[str, int]:
        return dict(self.start)

    def getDefaultReadLimit(self) -> ReadLimit:
        return ReadMaxRows(self.max_records)

    def latestOffset(self, start: dict[str, int], limit: ReadLimit) -> dict[str, int]:
        with self._broker() as broker:
            ends = broker.end_offsets(self.stream)
        latest = {str(p): max(end, int(start.get(str(p), 0))) for p, end in ends.items()}
        if isinstance(limit, ReadAllAvailable):
            return latest
        rows = limit.max_rows if isinstance(limit, ReadMaxRows) else self.max_records
        cap = max(1, rows // max(1, len(latest)))
        return {p: min(end, int(start.get(p, 0)) + cap) for p, end in latest.items()}

    def partitions(self, start: dict[str, int], end: dict[str, int]) -> list[_Span]:
        return [
            _Span(int(p), int(start.get(p, 0)), int(e))
            for p, e in sorted(end.items())
            if int(e) > int(start.get(p, 0))
        ]

    def read(self, partition: InputPartition) -> Iterator[tuple[int, int, bytes, int]]:
        if not isinstance(partition, _Span):  # partitions() makes only spans
            msg = f"unexpected input partition {partition!r}"
            raise TypeError(msg)
        with self._broker() as broker:
            offset = partition.start
            while offset < partition.end:
                page = broker.read(
                    self.stream, partition.partition, offset, min(READ_PAGE, partition.end - offset)
                )
                if not page:
                    break
                for record in page:
                    if record.offset >= partition.end:
                        return
                    yield (record.partition, record.offset, record.value, record.timestamp_ms)
                offset = page[-1].offset + 1

    def commit(self, end: dict[str, int]) -> None:
        """Nothing to do: the Delta table's commit is the source of truth."""


class BrokerDataSource(DataSource):
    @classmethod
    def name(cls) -> str:
        return SOURCE_NAME

    def schema(self) -> str:
        return SCHEMA

    def streamReader(self, schema: Any) -> BrokerStreamReader:
        return BrokerStreamReader(dict(self.options))
