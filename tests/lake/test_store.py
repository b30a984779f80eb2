"""The lake: atomic objects under keys, on a local directory, memory:// and S3 (moto server)."""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pinpipe.errors import MissingExtraError
from pinpipe.lake import Lake, LakeError, ObjectNotFoundError, open_lake, store

S3 = [pytest.mark.integration, pytest.mark.kinesis]


def make_bucket(endpoint: str, name: str) -> None:
    import boto3

    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=name)


@pytest.fixture(params=["local", "file-url", "memory", pytest.param("s3", marks=S3)])
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Lake]:
    kind = request.param
    if kind == "local":
        yield open_lake(str(tmp_path / "lake"))
    elif kind == "file-url":
        yield open_lake((tmp_path / "lake").as_uri())
    elif kind == "memory":
        yield open_lake(f"memory://lake-{uuid.uuid4().hex}/prefix")
    else:
        endpoint = request.getfixturevalue("moto_endpoint")
        bucket = f"user-{uuid.uuid4().hex[:12]}-bucket"
        make_bucket(endpoint, bucket)
        yield open_lake(f"s3://{bucket}/lake", s3_endpoint_url=endpoint)


KEY = "topics/u.pin/partition=0/u.pin+0+0000000000.json"


def test_put_get_exists_delete(lake: Lake) -> None:
    assert not lake.exists(KEY)
    lake.put_atomic(KEY, b'{"a":1}\n')
    assert lake.exists(KEY)
    assert lake.get(KEY) == b'{"a":1}\n'
    lake.put_atomic(KEY, b"replaced\n")  # an overwrite is harmless, and atomic
    assert lake.get(KEY) == b"replaced\n"
    lake.delete(KEY)
    assert not lake.exists(KEY)
    with pytest.raises(ObjectNotFoundError):
        lake.get(KEY)
    with pytest.raises(ObjectNotFoundError):
        lake.delete(KEY)


@pytest.mark.parametrize("count", [3, 40])  # below and above the one-syncfs threshold
def test_put_many_and_list(lake: Lake, count: int) -> None:
    items = [(f"topics/t/partition=0/t+0+{i:010d}.json", f"{i}\n".encode()) for i in range(count)]
    items.append(("topics/u/partition=1/u+1+0000000000.json", b"u\n"))
    lake.put_many(items)
    assert lake.list() == sorted(k for k, _ in items)
    assert lake.list("topics/t/") == sorted(k for k, _ in items[:count])
    assert lake.list("topics/t/partition=0/t+0+000000000") == [
        k for k, _ in items[: min(count, 10)]
    ]
    assert lake.list("topics/none/") == []
    assert all(lake.get(k) == v for k, v in items)


def test_empty_object_and_empty_lake(lake: Lake) -> None:
    assert lake.list() == []
    lake.put_many([])
    lake.put_atomic("a/empty.json", b"")
    assert lake.get("a/empty.json") == b""


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "./a", "a/."])
def test_invalid_keys(tmp_path: Path, key: str) -> None:
    with pytest.raises(LakeError, match="invalid object key"):
        open_lake(str(tmp_path)).put_atomic(key, b"x")


def test_local_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    lake.put_many([(f"d/k{i}.json", b"x") for i in range(20)])
    lake.put_atomic("d/one.json", b"y")
    assert sorted(os.listdir(tmp_path / "d")) == sorted(
        [f"k{i}.json" for i in range(20)] + ["one.json"]
    )


def test_a_writer_killed_mid_write_leaves_only_a_hidden_temporary_file(tmp_path: Path) -> None:
    """What a crash between write and rename leaves is never listed, and never under the key."""
    lake = open_lake(str(tmp_path))
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / ".pinpipe-123-456.tmp").write_bytes(b"half an obj")
    lake.put_atomic("d/k.json", b"whole\n")
    assert lake.list() == ["d/k.json"]


def test_local_put_many_without_syncfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "_SYNCFS", None)  # as on macOS: an fsync per file
    lake = open_lake(str(tmp_path))
    lake.put_many([(f"d/k{i}.json", b"x") for i in range(20)])
    assert len(lake.list("d/")) == 20


def test_local_errors_name_the_key_and_the_fix(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    lake = open_lake(str(tmp_path))
    with pytest.raises(LakeError, match=r"file/k\.json") as caught:
        lake.put_atomic("file/k.json", b"x")  # a file where a directory must be
    assert caught.value.hint


def test_urls(tmp_path: Path) -> None:
    assert open_lake(str(tmp_path)).scheme == "file"
    assert open_lake(f"file://{tmp_path}").scheme == "file"
    assert open_lake("memory://x").scheme == "memory"
    with pytest.raises(LakeError, match="unknown scheme"):
        open_lake("gs://bucket")
    with pytest.raises(LakeError, match="remote host"):
        open_lake("file://host/path")
    with pytest.raises(LakeError, match="no bucket"):
        open_lake("s3://")


def test_missing_s3fs_names_the_aws_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "s3fs" else real(name, *a)
    )
    with pytest.raises(MissingExtraError, match=r"pinpipe\[aws\]"):
        open_lake("s3://bucket")


@pytest.mark.integration
@pytest.mark.kinesis
def test_s3_missing_bucket_says_create_it(moto_endpoint: str) -> None:
    lake = open_lake(f"s3://no-such-{uuid.uuid4().hex[:8]}", s3_endpoint_url=moto_endpoint)
    with pytest.raises(LakeError, match="create the bucket"):
        lake.put_atomic("k.json", b"x")
