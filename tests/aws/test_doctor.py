"""``run_doctor`` against real local things: the embedded defaults, moto server for s3:// and
kinesis://, closed ports for Kafka and MySQL, an HTTP server that is not pinpipe's API."""

from __future__ import annotations

import http.server
import importlib.util
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from pinpipe.aws.doctor import Check, DoctorReport, Probe, mask, run_doctor
from pinpipe.broker.embedded import EmbeddedLog
from pinpipe.config import Settings
from pinpipe.source.populate import init_source
from tests.servers import free_port

FAST = 3.0  # seconds per check in these tests


def by_component(report: DoctorReport) -> dict[str, Check]:
    return {c.component: c for c in report.checks}


def ready_home(home: Path, **settings: Any) -> Settings:
    """An embedded home with the source tables and the topics and streams created, and then
    ``settings`` on top (the streams stay on the embedded log unless given)."""
    embedded = Settings(home=home, user_id=settings.get("user_id", Settings().user_id))
    init_source(embedded.source_url, rows=30)
    with EmbeddedLog(home / "broker.db") as log:
        for name in (*embedded.names.topics, *embedded.names.streams):
            log.create_topic(name)
    settings.setdefault("streams_url", embedded.streams_url)
    return Settings(home=home, api={"port": free_port()}, **settings)


def test_embedded_defaults_are_all_ok(tmp_path: Path) -> None:
    report = run_doctor(ready_home(tmp_path), timeout=FAST)
    checks = by_component(report)
    assert list(checks) == ["source", "topics", "streams", "lake", "engine", "api"]
    assert {c.status for c in report.checks} == {"ok"}, report.checks
    assert "pinterest_data 30" in checks["source"].detail
    assert "not running; the port is free" in checks["api"].detail
    assert report.exit_code(strict=True) == 0


def test_a_fresh_home_says_what_to_create(tmp_path: Path) -> None:
    report = run_doctor(Settings(home=tmp_path, api={"port": free_port()}), timeout=FAST)
    checks = by_component(report)
    assert [c.status for c in report.checks] == ["missing", "missing", "missing", "ok", "ok", "ok"]
    assert "pinpipe source init" in checks["source"].fix
    assert checks["topics"].fix.startswith("pinpipe topics create")
    assert checks["streams"].fix.startswith("pinpipe streams create")
    assert (report.exit_code(), report.exit_code(strict=True)) == (0, 1)
    assert not (tmp_path / "source.db").exists() and not (tmp_path / "broker.db").exists()


def test_missing_topics_are_named(tmp_path: Path) -> None:
    settings = ready_home(tmp_path)
    with EmbeddedLog(tmp_path / "broker.db") as log:
        log.delete_topic(settings.names.topic("geo"))
    topics = by_component(run_doctor(settings, timeout=FAST))["topics"]
    assert topics.status == "missing"
    assert topics.fix == f"pinpipe topics create {settings.names.topic('geo')}"


@pytest.mark.integration
@pytest.mark.kafka
def test_unreachable_kafka_fails_fast_with_the_fix(tmp_path: Path) -> None:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
        settings = ready_home(tmp_path, broker_url=f"kafka://{address}")
        started = time.monotonic()
        report = run_doctor(settings, timeout=FAST)
        assert time.monotonic() - started < FAST + 3
    topics = by_component(report)["topics"]
    assert topics.status == "failed" and address in topics.detail
    assert "check broker_url" in topics.fix and "port 9092" in topics.fix
    assert by_component(report)["streams"].status == "ok"  # still the embedded log
    assert report.exit_code() == 1


def test_msk_iam_without_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.moto_server import AWS_ENV_TO_CLEAR

    for key in (
        *AWS_ENV_TO_CLEAR,
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    settings = ready_home(
        tmp_path, broker_url="kafka://b-1.msk.example:9098", kafka={"security": "msk-iam"}
    )
    checks = by_component(run_doctor(settings, timeout=FAST))
    for component in ("topics", "aws credentials"):
        assert checks[component].status == "failed"
        assert checks[component].detail == "no AWS credentials in the standard chain"
    assert "AWS_PROFILE" in checks["aws credentials"].fix
    assert checks["topics"].fix == "see the aws credentials row"
    # The setting alone does not make an embedded log need AWS.
    embedded = ready_home(tmp_path / "e", kafka={"security": "msk-iam"})
    assert {c.status for c in run_doctor(embedded, timeout=FAST).checks} == {"ok"}


def test_unreachable_mysql_fails_fast(tmp_path: Path) -> None:
    port = free_port()
    settings = ready_home(
        tmp_path, source_url=f"mysql+pymysql://reader:hunter2@127.0.0.1:{port}/pinterest_data"
    )
    started = time.monotonic()
    source = by_component(run_doctor(settings, timeout=FAST))["source"]
    assert time.monotonic() - started < FAST + 2
    assert source.status == "failed" and f"127.0.0.1:{port}" in source.detail
    assert "hunter2" not in source.url and "reader:***@" in source.url


def test_a_missing_extra_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pyspark and s3fs hidden the way the checks look for them (importlib.util.find_spec)."""
    import importlib.util

    real = importlib.util.find_spec
    hidden = {"pyspark", "s3fs"}
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in hidden else real(name, *a)
    )
    settings = ready_home(tmp_path, engine="spark", lake_url="s3://some-bucket")
    checks = by_component(run_doctor(settings, timeout=FAST))
    assert checks["engine"].status == "failed" and "pyspark" in checks["engine"].detail
    assert "--extra spark" in checks["engine"].fix
    assert checks["lake"].status == "failed" and "s3fs" in checks["lake"].detail
    assert "--extra aws" in checks["lake"].fix


def test_spark_checks_without_starting_a_session(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    port = free_port()
    remote = f"sc://127.0.0.1:{port}/;token=dapi-s3cret;x-databricks-cluster-id=c"
    settings = ready_home(tmp_path, engine="spark", spark={"remote": remote})
    engine = by_component(run_doctor(settings, timeout=FAST))["engine"]
    assert engine.status == "failed" and "s3cret" not in engine.url and "token=***" in engine.url
    connect_deps = ("grpc", "grpc_status", "google.protobuf", "pandas")
    if any(importlib.util.find_spec(m) is None for m in connect_deps):  # as in this environment
        assert engine.detail.startswith("Spark Connect needs ")
        assert engine.fix.startswith("pip install 'pyspark[connect]==")
    else:
        assert f"127.0.0.1:{port}" in engine.detail and "x-databricks-cluster-id" in engine.fix
    local = by_component(run_doctor(ready_home(tmp_path / "l", engine="spark")))["engine"]
    assert local.status == "ok" and "Java at" in local.detail


class _NotPinpipe(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        return None


@pytest.fixture
def other_http_server() -> Iterator[int]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _NotPinpipe)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_api_port_taken_by_something_else(tmp_path: Path, other_http_server: int) -> None:
    settings = ready_home(tmp_path).model_copy(
        update={"api": Settings().api.model_copy(update={"port": other_http_server})}
    )
    api = by_component(run_doctor(settings, timeout=FAST))["api"]
    assert api.status == "failed" and "not pinpipe api" in api.detail
    assert "api.port" in api.fix


def test_a_probe_that_breaks_is_reported(tmp_path: Path) -> None:
    def broken(_settings: Settings, _timeout: float) -> Check:
        raise RuntimeError("boom")

    probe = Probe("thing", lambda _s: "x://user:pw@host", broken)
    report = run_doctor(Settings(home=tmp_path), probes=(probe,))
    assert report.checks == (
        Check(
            "thing",
            "x://user:***@host",
            "failed",
            "unexpected RuntimeError: boom",
            "rerun with --debug for the trace",
        ),
    )
    with pytest.raises(RuntimeError, match="boom"):
        run_doctor(Settings(home=tmp_path), probes=(probe,), debug=True)


def test_mask() -> None:
    assert mask("mysql+pymysql://u:p4ss@h/db") == "mysql+pymysql://u:***@h/db"
    assert mask("sc://h:443/;token=dapi123;x-databricks-cluster-id=c") == (
        "sc://h:443/;token=***;x-databricks-cluster-id=c"
    )


# -- S3 and Kinesis on moto server ---------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.aws
def test_s3_lake_and_kinesis_streams_on_moto(tmp_path: Path, moto_endpoint: str) -> None:
    """The examples/moto.toml profile, pointed at this run's moto server through the env."""
    import uuid

    uid = "d" + uuid.uuid4().hex[:11]
    settings = ready_home(
        tmp_path,
        user_id=uid,
        streams_url="kinesis://us-east-1",
        lake_url=f"s3://user-{uid}-bucket",
        kinesis={"endpoint_url": moto_endpoint},
        lake={"s3_endpoint_url": moto_endpoint},
    )
    before = by_component(run_doctor(settings, timeout=FAST))
    assert before["lake"].status == "missing" and "cloudformation" in before["lake"].fix
    assert before["streams"].status == "missing"
    assert before["streams"].fix.startswith(f"pinpipe streams create streaming-{uid}-pin")
    assert before["aws credentials"].status == "ok"

    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_endpoint)
    kinesis = boto3.client("kinesis", region_name="us-east-1", endpoint_url=moto_endpoint)
    s3.create_bucket(Bucket=f"user-{uid}-bucket")
    for name in settings.names.streams:
        kinesis.create_stream(StreamName=name, ShardCount=1)
    after = run_doctor(settings, timeout=FAST)
    assert {c.status for c in after.checks} == {"ok"}, after.checks
    assert "no raw objects yet" in by_component(after)["lake"].detail
    s3.put_object(
        Bucket=f"user-{uid}-bucket", Key=f"topics/{uid}.pin/partition=0/x.json", Body=b"{}"
    )
    lake = by_component(run_doctor(settings, timeout=FAST))["lake"]
    assert "raw objects under topics/" in lake.detail
    s3.close()
    kinesis.close()


@pytest.mark.integration
@pytest.mark.aws
def test_unreachable_kinesis_and_s3(tmp_path: Path, moto_endpoint: str) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    settings = ready_home(
        tmp_path,
        streams_url="kinesis://us-east-1",
        lake_url="s3://user-x-bucket",
        kinesis={"endpoint_url": closed},
        lake={"s3_endpoint_url": closed},
    )
    started = time.monotonic()
    checks = by_component(run_doctor(settings, timeout=FAST))
    assert time.monotonic() - started < FAST + 3
    assert checks["streams"].status == "failed" and "endpoint_url" in checks["streams"].fix
    assert checks["lake"].status == "failed" and "s3_endpoint_url" in checks["lake"].fix
