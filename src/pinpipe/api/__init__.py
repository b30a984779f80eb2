"""The ingestion HTTP service: Kafka REST Proxy v2 routes and Kinesis-style stream routes.

``create_app(settings)`` builds the Starlette app that ``pinpipe api`` serves with uvicorn.
"""

from __future__ import annotations

from pinpipe.api.app import create_app

__all__ = ["create_app"]
