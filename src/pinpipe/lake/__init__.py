"""Object storage by URL (a local directory, ``memory://``, ``s3://``) with atomic writes."""

from __future__ import annotations

from pinpipe.lake.store import Lake, LakeError, ObjectNotFoundError, open_lake

__all__ = ["Lake", "LakeError", "ObjectNotFoundError", "open_lake"]
