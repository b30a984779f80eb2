"""The API under a real uvicorn process on 127.0.0.1, posted to the way the course does."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.payloads import KAFKA_JSON, KAFKA_V2, PIN_ROW, compact, course_payload
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def _embedded_available() -> bool:
    try:
        return importlib.util.find_spec("pinpipe.broker.embedded") is not None
    except ImportError:
        return False


@pytest.fixture(params=["memory", "embedded"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """``uvicorn --factory tests.api.server_app:make_app`` on a free port; its base URL."""
    if request.param == "embedded":
        if not _embedded_available():
            pytest.skip("pinpipe.broker.embedded is not written yet (the embedded log)")
        url = f"embedded://{tmp_path / 'broker.db'}"
    else:
        url = "memory://"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINPIPE_")}
    env |= {
        "PINPIPE_HOME": str(tmp_path),
        "PINPIPE_BROKER_URL": url,
        "PINPIPE_API__AUTO_CREATE_TOPICS": "true",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "tests.api.server_app:make_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    log = (tmp_path / "uvicorn.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"uvicorn exited: {(tmp_path / 'uvicorn.log').read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("uvicorn did not become healthy within 30 s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()  # this process only, by its PID
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


def test_course_requests_over_http(server: str) -> None:
    topic = "1232252d77df.pin"
    with httpx.Client(base_url=server, timeout=10) as client:
        posted = client.post(
            f"/test/topics/{topic}",
            content=course_payload(PIN_ROW),
            headers={"Content-Type": KAFKA_JSON},
        )
        assert posted.status_code == 200, posted.text
        assert posted.json()["offsets"][0]["offset"] == 0
        stream = "streaming-1232252d77df-pin"
        assert client.post(f"/streams/{stream}").status_code == 200
        put = client.put(
            f"/streaming_test/streams/{stream}/record",
            content=json.dumps(
                {"StreamName": stream, "Data": PIN_ROW, "PartitionKey": "partition-1"}
            ),
            headers={"Content-Type": "application/json"},
        )
        assert put.json() == {"SequenceNumber": "0", "ShardId": "shardId-000000000000"}
        created = client.post(
            "/test/consumers/students",
            content=json.dumps({"name": "c", "format": "json", "auto.offset.reset": "earliest"}),
            headers={"Content-Type": KAFKA_V2},
        )
        base = created.json()["base_uri"]
        assert base == f"{server}/test/consumers/students/instances/c"
        client.post(
            f"{base}/subscription", json={"topics": [topic]}, headers={"Content-Type": KAFKA_V2}
        )
        records = client.get(f"{base}/records", headers={"Accept": KAFKA_JSON}).json()
        assert [r["value"] for r in records] == [PIN_ROW]
        assert client.delete(base).status_code == 204
        iterator = client.get(f"/streams/{stream}/sharditerator").json()["ShardIterator"]
        got = client.get(f"/streams/{stream}/records", params={"shard-iterator": iterator}).json()
        assert base64.b64decode(got["Records"][0]["Data"]) == compact(PIN_ROW)
