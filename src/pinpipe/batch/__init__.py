"""The batch job (SPEC §5–6): the lake's raw JSON, cleaned and queried by an engine, written back
as curated Delta tables, query results and a data-quality summary."""

from __future__ import annotations

from pinpipe.batch.job import (
    BatchProgress,
    BatchReport,
    CleanReport,
    run_batch,
    run_clean,
    run_queries,
)
from pinpipe.batch.quality import KindQuality, QualityReport
from pinpipe.batch.reader import DeadLetter, RawRead, read_raw
from pinpipe.batch.writer import (
    BatchOutputError,
    read_curated,
    read_quality,
    read_result,
)

__all__ = [
    "BatchOutputError",
    "BatchProgress",
    "BatchReport",
    "CleanReport",
    "DeadLetter",
    "KindQuality",
    "QualityReport",
    "RawRead",
    "read_curated",
    "read_quality",
    "read_raw",
    "read_result",
    "run_batch",
    "run_clean",
    "run_queries",
]
