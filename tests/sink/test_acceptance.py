"""Acceptance: the course's first pin object, through the API and the sink; the same lake on S3."""

from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from pinpipe.api import create_app
from pinpipe.broker.embedded import EmbeddedLog
from pinpipe.config import Settings
from pinpipe.lake import open_lake
from pinpipe.records import GEO, PIN, USER
from pinpipe.sink import run_sink
from tests.sink.conftest import append_json, lake_contents


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _typed(column: str, text: str) -> Any:
    if column in ("ind", "age"):
        return int(text)
    if column in ("latitude", "longitude"):
        return float(text)
    return text


def course_rows(reference_dir: Path) -> dict[str, dict[str, Any]]:
    """Rows 7528 of the three tables as the course's emulator posts them (Saab's datetimes)."""
    with (reference_dir / "pinterest_data_observed_raw.jsonl").open() as fh:
        raw = next(r for r in map(json.loads, fh) if r["index"] == 7528)
    rows = {"pin": {name: raw[name] for name in PIN.column_names}}
    for kind, file, columns in (
        ("geo", "geolocation_data.csv", GEO.column_names),
        ("user", "user_data.csv", USER.column_names),
    ):
        with (reference_dir / file).open(newline="") as fh:
            found = next((r for r in csv.DictReader(fh) if r["ind"] == "7528"), None)
        if found is not None:
            rows[kind] = {c: _typed(c, found[c]) for c in columns}
    return rows


@pytest.mark.anyio
async def test_row_7528_posted_to_the_api_is_a_444_byte_first_object(
    tmp_path: Path, reference_dir: Path
) -> None:
    """SPEC §9.2, end to end: POST the course payload, run ``sink --once``, look at the key."""
    uid = "129a67850695"
    settings = Settings(home=tmp_path, user_id=uid)
    rows = course_rows(reference_dir)
    with EmbeddedLog(tmp_path / "broker.db") as log:
        for topic in settings.names.topics:
            log.create_topic(topic)
        app = create_app(settings, topics=log, streams=log)
        transport = httpx.ASGITransport(app=app)
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
                for kind, row in rows.items():
                    response = await client.post(
                        f"/test/topics/{uid}.{kind}",
                        content=json.dumps({"records": [{"value": row}]}),
                        headers={"Content-Type": "application/vnd.kafka.json.v2+json"},
                    )
                    assert response.status_code == 200, response.text
                    assert response.json()["offsets"][0]["offset"] == 0
        info = run_sink(settings, once=True, broker=log)
    lake = open_lake(settings.lake_url)
    key = f"topics/{uid}.pin/partition=0/{uid}.pin+0+0000000000.json"
    assert lake.list(f"topics/{uid}.pin/") == [key]
    data = lake.get(key)
    assert len(data) == 444
    assert data == orjson.dumps(rows["pin"]) + b"\n"  # compact, course column order, raw UTF-8
    assert info.objects == len(rows)


@pytest.mark.integration
@pytest.mark.kinesis
def test_s3_lake_has_the_same_keys_and_bytes_as_a_local_lake(
    tmp_path: Path, moto_endpoint: str
) -> None:
    import boto3

    uid = uuid.uuid4().hex[:12]
    bucket = Settings(user_id=uid, home=tmp_path).names.bucket
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    values = [{"index": i, "title": f"épingle {i} 😀", "x": i / 7} for i in range(25)]
    lakes = {}
    for where, url in (("local", str(tmp_path / "lake")), ("s3", f"s3://{bucket}")):
        settings = Settings(home=tmp_path, user_id=uid, lake_url=url)
        with EmbeddedLog(tmp_path / f"broker-{where}.db") as log:
            log.create_topic(f"{uid}.pin")
            log.create_topic(f"{uid}.geo", 2)
            append_json(log, f"{uid}.pin", [*values, b"not json"])
            append_json(log, f"{uid}.geo", values[:5], partition=1)
            info = run_sink(
                settings, once=True, broker=log, flush_size=4, s3_endpoint_url=moto_endpoint
            )
        assert info.lake_url == url and info.dead_letters == 1
        lakes[where] = lake_contents(open_lake(url, s3_endpoint_url=moto_endpoint))
    assert len(lakes["s3"]) == 7 + 2
    assert lakes["s3"] == lakes["local"]
