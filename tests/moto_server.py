"""A real moto server (Kinesis, S3, ...) as a subprocess on 127.0.0.1, and fake AWS credentials.

Not a test module: fixtures call these context managers. The server is a separate process (not
moto's in-process ``ThreadedMotoServer``), so the code under test talks to it over real HTTP
exactly as it would talk to AWS; it is ended by its PID.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.servers import free_port

#: How long the server may take to answer its first request.
START_TIMEOUT_S = 20.0

#: Environment for boto3 against moto: dummy keys, no profile, no files, no instance metadata.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
#: Variables of the developer's shell that would redirect or re-configure boto3.
AWS_ENV_TO_CLEAR = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_KINESIS",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


@contextmanager
def fake_aws_credentials() -> Iterator[None]:
    """Dummy credentials for boto3 in this process; the previous environment comes back after."""
    with pytest.MonkeyPatch.context() as mp:
        for key in AWS_ENV_TO_CLEAR:
            mp.delenv(key, raising=False)
        for key, value in FAKE_AWS_ENV.items():
            mp.setenv(key, value)
        yield


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):  # noqa: S310 - our loopback URL
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except OSError:
        return False


@contextmanager
def moto_server() -> Iterator[str]:
    """Start ``python -m moto.server`` on a free 127.0.0.1 port; yield its endpoint URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not _answers(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    tail = log.read().decode(errors="replace")[-2000:]
                    state = (
                        f"exited with {proc.returncode}"
                        if proc.poll() is not None
                        else (f"did not answer within {START_TIMEOUT_S:g} s")
                    )
                    pytest.fail(f"moto server on {url} {state}:\n{tail}")
                time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
