"""The streaming job on Kinesis (moto server on 127.0.0.1), with an S3 lake on the same server;
and ``pinpipe stream`` stopping cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from pinpipe.broker import OutRecord
from pinpipe.broker.embedded import EmbeddedLog
from pinpipe.broker.kinesis import KinesisBroker
from pinpipe.config import KinesisSettings, Settings
from pinpipe.lake import lake_from_settings
from pinpipe.stream import run_stream
from pinpipe.stream.job import table_key
from pinpipe.transform import CLEANING
from pinpipe.transform.base import sorted_rows
from tests.transform.reference import py_clean

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
@pytest.mark.kinesis
def test_kinesis_streams_into_an_s3_lake(
    tmp_path: Path, moto_endpoint: str, reference_raw: dict[str, list[dict[str, Any]]]
) -> None:
    import boto3

    uid = uuid.uuid4().hex[:12]
    bucket = f"pinpipe-{uid}"
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    settings = Settings(
        home=tmp_path,
        user_id=uid,
        streams_url="kinesis://us-east-1",
        kinesis={"endpoint_url": moto_endpoint},
        lake_url=f"s3://{bucket}",
        lake={"s3_endpoint_url": moto_endpoint},
    )
    raw: dict[str, list[dict[str, Any]]] = {kind: reference_raw[kind][:300] for kind in CLEANING}
    with KinesisBroker("us-east-1", KinesisSettings(endpoint_url=moto_endpoint)) as kinesis:
        for kind in CLEANING:
            name = settings.names.stream(kind)
            kinesis.create_topic(name, 2)
            kinesis.append(
                name,
                [OutRecord(orjson.dumps(r), key=str(i).encode()) for i, r in enumerate(raw[kind])],
            )
        info = run_stream(settings, once=True, broker=kinesis, max_batch_records=200)
        assert info.records == sum(len(v) for v in raw.values())
        assert run_stream(settings, once=True, broker=kinesis).records == 0
    expected = py_clean(raw)
    with lake_from_settings(settings) as lake:
        for kind in CLEANING:
            table = DeltaTable(
                lake.table_uri(table_key(settings, kind)), storage_options=lake.storage_options()
            )
            assert sorted_rows(table.to_pyarrow_table()) == expected[kind], kind


def committed_rows(table: Path) -> int:
    """Rows in the Delta table at ``table``; 0 before its first commit is in the log."""
    try:
        return DeltaTable(str(table)).to_pyarrow_table().num_rows
    except TableNotFoundError:
        return 0


def test_sigterm_stops_after_the_current_batch(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    with EmbeddedLog(tmp_path / "broker.db") as log:
        for kind in CLEANING:
            log.create_topic(settings.names.stream(kind))
        geo = [orjson.dumps({"ind": i, "country": "Chad"}) for i in range(100)]
        log.append(settings.names.stream("geo"), [OutRecord(v) for v in geo])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINPIPE_")}
    table = tmp_path / "lake" / "delta" / f"{settings.user_id}_geo_table"
    with subprocess.Popen(
        [sys.executable, "-m", "pinpipe", "--home", str(tmp_path), "stream"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        try:
            deadline = time.monotonic() + 60
            # The directory appears before its first commit is in the log.
            while time.monotonic() < deadline:
                if committed_rows(table) == 100:
                    break
                time.sleep(0.2)
            process.send_signal(signal.SIGTERM)
            stdout, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 0, stderr.decode()
    assert b"100 records" in stdout and b"stopped" in stdout
