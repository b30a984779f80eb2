"""The batch job on an s3:// lake (moto server on 127.0.0.1): it reads the raw objects there
and writes the Delta tables, results and dead letters back to the bucket."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from pinpipe.batch import read_curated, read_result, run_batch
from pinpipe.config import Settings
from pinpipe.lake import lake_from_settings, open_lake
from pinpipe.transform.base import rows_of, sorted_rows

pytestmark = [pytest.mark.integration, pytest.mark.kinesis]


def test_batch_on_an_s3_lake_gives_what_a_local_lake_gives(
    tmp_path: Path, moto_endpoint: str, landed_lake_dir: Path, lake_settings: Settings
) -> None:
    import boto3

    bucket = f"pinpipe-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    local = open_lake(str(landed_lake_dir))
    settings = Settings(
        home=tmp_path,
        user_id=lake_settings.user_id,
        lake_url=f"s3://{bucket}/pipeline",
        lake={"s3_endpoint_url": moto_endpoint},
    )
    with lake_from_settings(settings) as s3:
        s3.put_many([(key, local.get(key)) for key in local.list("topics/")])
        report = run_batch(settings, engine="duckdb")
        expected = run_batch(lake_settings, engine="duckdb")
        assert report.quality == expected.quality
        assert report.curated["pin"] == f"s3://{bucket}/pipeline/curated/pin"
        local_out = open_lake(lake_settings.lake_url)
        for kind in ("pin", "geo", "user"):
            assert sorted_rows(read_curated(s3, kind)) == sorted_rows(read_curated(local_out, kind))
        for name, table in expected.results.items():
            assert rows_of(read_result(s3, name)) == rows_of(table)
        assert s3.list("dead_letters/") == local_out.list("dead_letters/")
        assert s3.get("results/popular_category_by_year.csv") == local_out.get(
            "results/popular_category_by_year.csv"
        )
