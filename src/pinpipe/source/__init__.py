"""The source database: the course's three tables, synthetic or loaded, and their reader."""

from __future__ import annotations

from pinpipe.source.populate import FillInfo, init_source, load_source
from pinpipe.source.reader import Record, SourceReader
from pinpipe.source.stats import SourceStats, source_stats
from pinpipe.source.synthetic import DEFAULT_ROWS, SourceBatch, generate

__all__ = [
    "DEFAULT_ROWS",
    "FillInfo",
    "Record",
    "SourceBatch",
    "SourceReader",
    "SourceStats",
    "generate",
    "init_source",
    "load_source",
    "source_stats",
]
