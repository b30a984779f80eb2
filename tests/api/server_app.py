"""The app uvicorn serves in the real-server tests: settings from PINPIPE_* variables.

``python -m uvicorn --factory tests.api.server_app:make_app`` (run from the project root).
"""

from __future__ import annotations

from starlette.applications import Starlette

from pinpipe.api import create_app
from pinpipe.config import load_settings


def make_app() -> Starlette:
    return create_app(load_settings())
