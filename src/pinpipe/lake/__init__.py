"""Object storage by URL (a local directory, ``memory://``, ``s3://``) with atomic writes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pinpipe.lake.store import Lake, LakeError, ObjectNotFoundError, open_lake

if TYPE_CHECKING:
    from pinpipe.config import Settings


def lake_from_settings(settings: Settings, *, s3_endpoint_url: str | None = None) -> Lake:
    """The lake of ``settings.lake_url``; ``s3_endpoint_url`` overrides the configured one."""
    endpoint = s3_endpoint_url or settings.lake.s3_endpoint_url
    return open_lake(settings.lake_url, s3_endpoint_url=endpoint)


__all__ = ["Lake", "LakeError", "ObjectNotFoundError", "lake_from_settings", "open_lake"]
