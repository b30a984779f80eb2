"""Batch transformations (SPEC §5–6): SQL models in ``sql/`` and the engines that run them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pinpipe.transform.base import (
    BatchResult,
    Engine,
    RawFrame,
    Row,
    TransformError,
    raw_schema,
    to_raw_arrow,
)
from pinpipe.transform.duckdb_engine import DuckDBEngine
from pinpipe.transform.models import CLEANING, MODELS, QUERIES, load_sql

if TYPE_CHECKING:
    from pinpipe.config import Settings

#: The engine names ``engine`` in config accepts.
ENGINES: tuple[str, ...] = ("duckdb", "spark")


def open_engine(name: str, settings: Settings | None = None) -> Engine:
    """A new engine by name: ``duckdb`` (in-process) or ``spark`` (extra ``spark``)."""
    if name == "duckdb":
        return DuckDBEngine()
    if name == "spark":
        from pinpipe.config import SparkSettings
        from pinpipe.transform.spark_engine import SparkEngine

        return SparkEngine(settings.spark if settings is not None else SparkSettings())
    msg = f"unknown engine {name!r}"
    raise TransformError(msg, hint=f"use one of {', '.join(ENGINES)}")


__all__ = [
    "CLEANING",
    "ENGINES",
    "MODELS",
    "QUERIES",
    "BatchResult",
    "DuckDBEngine",
    "Engine",
    "RawFrame",
    "Row",
    "TransformError",
    "load_sql",
    "open_engine",
    "raw_schema",
    "to_raw_arrow",
]
