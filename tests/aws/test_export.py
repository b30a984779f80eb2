"""``export_aws``: every file, the README that lists them and what is left to fill, no secret,
and the directory written all at once (never half an export)."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from pydantic import SecretStr

from pinpipe.aws import AwsExport, AwsExportError, AwsOptions, export_aws
from pinpipe.aws.export import write_tree
from pinpipe.config import Settings
from pinpipe.orchestrate.export import dag_config, render_dag
from tests.aws.conftest import OPTIONS, read


def expected_files(uid: str) -> set[str]:
    return {
        "README.md",
        "msk-connect/connector.properties",
        "msk-connect/create-custom-plugin.json",
        "msk-connect/create-connector.json",
        "kafka-client/client.properties",
        "kafka-client/kafka-rest.properties",
        "apigateway/openapi.json",
        "iam/ec2-access-role-trust.json",
        "iam/ec2-access-policy.json",
        "iam/kinesis-access-role-trust.json",
        "iam/kinesis-access-policy.json",
        "iam/databricks-access-policy.json",
        "iam/pinpipe-access-policy.json",
        f"mwaa/{uid}_dag.py",
        "mwaa/requirements.txt",
        "databricks/notebooks/pinpipe_batch.py",
        "databricks/notebooks/pinpipe_stream.py",
        "databricks/jobs/batch.json",
        "databricks/jobs/stream.json",
        "cloudformation/pinpipe.json",
        "cloudformation/pinpipe-api.json",
    }


def on_disk(directory: Path) -> set[str]:
    return {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}


def test_every_file_is_written_and_listed(exported: AwsExport, uid: str) -> None:
    assert on_disk(exported.directory) == expected_files(uid) == {f.path for f in exported.files}
    readme = read(exported, "README.md")
    for file in exported.files[:-1]:
        assert f"`{file.path}`" in readme
    for path in on_disk(exported.directory):
        if path.endswith(".json"):
            json.loads(read(exported, path))
    mode = stat.S_IMODE(exported.directory.stat().st_mode)
    assert mode & 0o055, "the export is not private to its writer (mkdtemp's 0700)"


def test_what_is_left_to_fill_is_listed(exported: AwsExport) -> None:
    assert exported.placeholders == {
        "msk-connect/create-connector.json": [
            "<msk-bootstrap-servers>",
            "<subnet-id>",
            "<security-group-id>",
            "<custom-plugin-id>",
            "<worker-configuration-id>",
        ],
        "kafka-client/kafka-rest.properties": ["<msk-bootstrap-servers>"],
    }
    readme = read(exported, "README.md")
    for path, found in exported.placeholders.items():
        assert f"- `{path}`: " + ", ".join(f"`{p}`" for p in found) in readme


def test_settings_and_options_fill_the_rest(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path,
        broker_url="kafka://b-1.msk:9098,b-2.msk:9098",
        kafka={"security": "msk-iam"},
    )
    options = AwsOptions(
        account_id="111122223333",
        rest_proxy_host="ec2.example",
        subnets=("subnet-1",),
        security_groups=("sg-1",),
    )
    export = export_aws(settings, tmp_path / "out", options)
    # Only what MSK Connect assigns when the plugin and worker configuration are created.
    assert export.placeholders == {
        "msk-connect/create-connector.json": ["<custom-plugin-id>", "<worker-configuration-id>"]
    }


def test_no_secret_is_written(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path,
        broker_url="kafka://b-1.msk:9096",
        kafka={"security": "sasl-ssl", "username": "u", "password": SecretStr("kafka-s3cret")},
        api={"api_keys": [SecretStr("api-s3cret")]},
        spark={"remote": "sc://dbc.example:443/;token=dapi-s3cret"},
    )
    export = export_aws(settings, tmp_path / "out", OPTIONS)
    for file in export.files:
        assert b"s3cret" not in file.data, file.path


def test_the_dag_is_the_mwaa_dag_of_the_batch_notebook(
    exported: AwsExport, settings: Settings
) -> None:
    dag = settings.dag.model_copy(update={"notebook_path": "/Shared/pinpipe/pinpipe_batch"})
    expected = render_dag("mwaa", dag_config(settings.model_copy(update={"dag": dag}), "mwaa"))
    assert read(exported, f"mwaa/{settings.names.dag_file}") == expected
    assert (
        read(exported, "mwaa/requirements.txt")
        .strip()
        .endswith("apache-airflow-providers-databricks")
    )


def test_refuses_a_non_empty_directory_unless_forced(tmp_path: Path) -> None:
    target = tmp_path / "infra"
    (target / "old").mkdir(parents=True)
    (target / "old" / "keep.txt").write_text("mine")
    settings = Settings(home=tmp_path)
    with pytest.raises(AwsExportError, match="not empty") as caught:
        export_aws(settings, target)
    assert "--force" in str(caught.value.hint)
    assert (target / "old" / "keep.txt").read_text() == "mine"
    export_aws(settings, target, force=True)
    assert not (target / "old").exists() and (target / "README.md").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    export_aws(settings, empty)  # an empty directory is fine without --force
    assert (empty / "README.md").exists()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


class Exploding(Mapping[str, bytes]):
    """Files whose third one cannot be produced: the write stops half-way."""

    def __init__(self) -> None:
        self.files = {"a.txt": b"a", "sub/b.txt": b"b", "sub/c.txt": b"c"}

    def __getitem__(self, key: str) -> bytes:
        if key == "sub/c.txt":
            raise OSError(28, "No space left on device")
        return self.files[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)


def test_a_failed_write_leaves_the_directory_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "infra"
    target.mkdir()
    (target / "previous.txt").write_text("previous export")
    with pytest.raises(AwsExportError, match="No space left"):
        write_tree(target, Exploding(), force=True)
    assert on_disk(target) == {"previous.txt"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["infra"]  # no staging left behind
    fresh = tmp_path / "fresh"
    with pytest.raises(AwsExportError):
        write_tree(fresh, Exploding())
    assert not fresh.exists()


def test_paths_stay_inside(tmp_path: Path) -> None:
    with pytest.raises(AwsExportError, match="leaves the export directory"):
        write_tree(tmp_path / "x", {"../escape.txt": b"x"})
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "x").exists()


def test_a_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "infra").write_text("a file")
    with pytest.raises(AwsExportError, match="not a directory"):
        export_aws(Settings(home=tmp_path), tmp_path / "infra", force=True)
