"""``pinpipe api`` as a real server process: one worker and several."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("workers", [1, 2])
def test_serves_produce_and_stops_on_sigterm(tmp_path: Path, workers: int) -> None:
    port = free_port()
    command = [sys.executable, "-m", "pinpipe", "--home", str(tmp_path), "api"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    log = (tmp_path / "api.log").open("wb")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # two workers import the app; slow on a loaded machine
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (tmp_path / "api.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "api.log").read_text()
            time.sleep(0.1)
        offsets = []
        for n in range(6):  # several requests, so both workers serve some
            response = httpx.post(
                f"{base}/test/topics/1232252d77df.pin",
                content=b'{"records":[{"value":{"index":%d}}]}' % n,
                headers={"Content-Type": "application/vnd.kafka.json.v2+json"},
            )
            assert response.status_code == 200, response.text
            offsets.append(response.json()["offsets"][0]["offset"])
        assert sorted(offsets) == list(range(6))
    finally:
        proc.terminate()
        # uvicorn shuts down gracefully (the lifespan flushes queued writes), then re-raises
        # SIGTERM so the exit status shows how it was stopped.
        assert proc.wait(timeout=30) in (0, -signal.SIGTERM)
        log.close()
