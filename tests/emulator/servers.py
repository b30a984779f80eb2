"""``pinpipe api`` as a real subprocess on 127.0.0.1, which the tests may SIGKILL and restart
on the same port and broker file. Ended by its PID only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


class ApiServer:
    """``python -m pinpipe --home HOME api`` with the embedded log in HOME (it creates the
    course's topics and streams for ``user_id`` on start)."""

    def __init__(self, home: Path, user_id: str, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.user_id = user_id
        self.env = env or {}  # more PINPIPE_* settings
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def broker_path(self) -> Path:
        return self.home / "broker.db"

    def start(self, timeout: float = 30) -> None:
        self.starts += 1
        env = {k: v for k, v in os.environ.items() if not k.startswith("PINPIPE_")}
        env |= {"PINPIPE_USER_ID": self.user_id, "PINPIPE_HOME": str(self.home)} | self.env
        command = [sys.executable, "-m", "pinpipe", "api", "--host", "127.0.0.1"]
        log = self.home / f"api-{self.starts}.log"
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"pinpipe api exited: {log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"pinpipe api was not healthy within {timeout} s: {log.read_text()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no flush, no goodbye (a crash)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


@contextmanager
def api_server(home: Path, user_id: str, env: dict[str, str] | None = None) -> Iterator[ApiServer]:
    home.mkdir(parents=True, exist_ok=True)
    server = ApiServer(home, user_id, env)
    server.start()
    try:
        yield server
    finally:
        server.stop()
