"""The pipeline's service specs: argv from the settings, the API's URL and port checks."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from pinpipe.config import Settings
from pinpipe.orchestrate import (
    PortInUseError,
    SupervisorError,
    api_base_url,
    check_port_free,
    free_port,
    pinpipe_services,
)
from pinpipe.orchestrate.services import http_ready


def test_argv_from_settings(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    config = tmp_path / "pinpipe.toml"
    specs = pinpipe_services(settings, config_file=config, port=9123, stream_engine="spark")
    assert [s.name for s in specs] == ["api", "sink", "stream"]
    root = (sys.executable, "-m", "pinpipe", "--home", str(tmp_path), "--config", str(config))
    api, sink, stream = specs
    assert api.argv == (*root, "api", "--host", "127.0.0.1", "--port", "9123")
    assert sink.argv == (*root, "sink")
    assert stream.argv == (*root, "stream", "--engine", "spark")
    assert api.ready is not None and sink.ready is None and stream.ready is None
    assert api.ready_what == "http://127.0.0.1:9123/healthz"
    assert (
        api.display
        == f"pinpipe --home {tmp_path} --config {config} api --host 127.0.0.1 --port 9123"
    )


def test_defaults_come_from_the_api_settings(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, api={"host": "0.0.0.0", "port": 8999})  # noqa: S104
    [api] = pinpipe_services(settings, services=("api",), debug=True, api_workers=2)
    assert api.argv[3:] == (
        "--home",
        str(tmp_path),
        "--debug",
        "api",
        "--host",
        "0.0.0.0",  # noqa: S104
        "--port",
        "8999",
        "--workers",
        "2",
    )
    assert api.ready_what == "http://127.0.0.1:8999/healthz"  # reached on loopback


def test_subset_env_cwd_and_python(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    specs = pinpipe_services(
        settings,
        services=("api", "stream"),
        env={"COLUMNS": "100"},
        cwd=tmp_path,
        python="/opt/python",
    )
    assert [s.name for s in specs] == ["api", "stream"]
    assert all(s.env == {"COLUMNS": "100"} and s.cwd == tmp_path for s in specs)
    assert all(s.argv[0] == "/opt/python" for s in specs)
    assert specs[1].argv[-2:] == ("--engine", "native")


@pytest.mark.parametrize("key", ["broker_url", "streams_url", "lake_url"])
def test_memory_backends_are_refused(tmp_path: Path, key: str) -> None:
    settings = Settings.model_validate({"home": tmp_path, key: "memory://"})
    with pytest.raises(SupervisorError, match=f"{key} 'memory://' lives inside one process"):
        pinpipe_services(settings)


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8082"),
        ("0.0.0.0", "http://127.0.0.1:8082"),  # noqa: S104
        ("::", "http://[::1]:8082"),
        ("::1", "http://[::1]:8082"),
        ("localhost", "http://localhost:8082"),
    ],
)
def test_api_base_url(host: str, url: str) -> None:
    assert api_base_url(host, 8082) == url


def test_port_in_use_names_the_port_and_the_fix() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(PortInUseError) as caught:
            check_port_free("127.0.0.1", port)
        assert f"port {port} on 127.0.0.1 is already in use" in caught.value.message
        assert f"--port {port + 1}" in str(caught.value.hint)
    check_port_free("127.0.0.1", port)  # free again


def test_a_host_that_does_not_resolve() -> None:
    with pytest.raises(PortInUseError, match="does not resolve"):
        check_port_free("no-such-host.invalid", 8082)


def test_ready_probe_is_false_while_nothing_listens() -> None:
    probe = http_ready(f"http://127.0.0.1:{free_port()}/healthz", timeout=0.5)
    assert probe() is False
