"""pinpipe: the Pinterest data pipeline, local-first and cloud-portable."""

from __future__ import annotations

from pinpipe.config import Settings, load_settings
from pinpipe.errors import PinpipeError
from pinpipe.naming import Names

__version__ = "0.1.0"

__all__ = ["Names", "PinpipeError", "Settings", "__version__", "load_settings"]
