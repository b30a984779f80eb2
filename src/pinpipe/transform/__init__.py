"""Batch transformations (SPEC §5–6): SQL models in ``sql/`` and the engines that run them."""

from __future__ import annotations

from pinpipe.transform.models import CLEANING, MODELS, QUERIES, load_sql

__all__ = ["CLEANING", "MODELS", "QUERIES", "load_sql"]
