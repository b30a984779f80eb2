"""A streamer in a process of its own, for the crash test: ``python stream_worker.py HOME``
runs ``run_stream`` on HOME's embedded log and lake until it is killed."""

from __future__ import annotations

import sys
from pathlib import Path

from pinpipe.config import Settings
from pinpipe.stream import run_stream

if __name__ == "__main__":
    home = Path(sys.argv[1])
    settings = Settings(home=home, embedded={"durability": "none"})
    run_stream(settings, trigger_interval=0.02, max_batch_records=150)
