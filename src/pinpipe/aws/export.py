"""``pinpipe aws export DIR``: every file of the pipeline's AWS infrastructure, in one go.

All files are built in memory first, written into a fresh sibling directory, and that directory
is renamed to ``DIR`` - so ``DIR`` holds either the previous export or the whole new one,
never half of it. A non-empty ``DIR`` is replaced only with ``force``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pinpipe.aws import connector, databricks, iam
from pinpipe.aws.apigateway import rest_api_definition
from pinpipe.aws.cloudformation import api_template, template
from pinpipe.aws.target import AwsOptions, AwsTarget, placeholders
from pinpipe.config import Settings
from pinpipe.errors import PinpipeError
from pinpipe.orchestrate.export import dag_config, render_dag, requirements


class AwsExportError(PinpipeError):
    """The export cannot be written (the directory is not empty or not writable)."""


@dataclass(frozen=True, slots=True)
class ExportedFile:
    path: str  # relative to the export directory, with /
    description: str
    data: bytes

    @property
    def placeholders(self) -> list[str]:
        return placeholders(self.data.decode("utf-8"))


@dataclass(frozen=True, slots=True)
class AwsExport:
    """What ``pinpipe aws export`` wrote."""

    directory: Path
    files: tuple[ExportedFile, ...]

    @property
    def placeholders(self) -> dict[str, list[str]]:
        """Per file, the ``<placeholders>`` still to fill (README.md excluded)."""
        return {
            f.path: f.placeholders for f in self.files if f.placeholders and f.path != "README.md"
        }


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _text(value: str) -> bytes:
    return value.encode("utf-8")


def build_files(target: AwsTarget) -> list[ExportedFile]:
    """Every exported file, README.md last (it describes the others)."""
    names = target.names
    settings = target.settings
    if settings.dag.job_id is None and not settings.dag.notebook_path:
        dag = settings.dag.model_copy(update={"notebook_path": target.batch_notebook})
        settings = settings.model_copy(update={"dag": dag})
    files = [
        ExportedFile(
            "msk-connect/connector.properties",
            f"MSK Connect: the configuration of {names.connector} (the course's, SPEC §3.3)",
            _text(connector.connector_properties(target)),
        ),
        ExportedFile(
            "msk-connect/create-custom-plugin.json",
            f"MSK Connect: CreateCustomPlugin {names.connect_plugin} (the S3 sink zip)",
            _json(connector.create_custom_plugin_request(target)),
        ),
        ExportedFile(
            "msk-connect/create-connector.json",
            f"MSK Connect: CreateConnector {names.connector}",
            _json(connector.create_connector_request(target)),
        ),
    ]
    if target.client_auth == "IAM":
        files += [
            ExportedFile(
                "kafka-client/client.properties",
                "EC2 Kafka client: the IAM client settings (SPEC §3.1)",
                _text(connector.client_properties(target)),
            ),
            ExportedFile(
                "kafka-client/kafka-rest.properties",
                "EC2 Kafka REST Proxy: bootstrap servers and IAM client settings (SPEC §3.2)",
                _text(connector.rest_proxy_properties(target)),
            ),
        ]
    files.append(
        ExportedFile(
            "apigateway/openapi.json",
            f"API Gateway: the REST API {names.rest_api} ({{proxy+}}, /streams, CORS) to import",
            _json(rest_api_definition(target)),
        )
    )
    descriptions = {
        "ec2-access-role-trust.json": f"IAM: who may assume {names.ec2_access_role}",
        "ec2-access-policy.json": f"IAM: permissions of {names.ec2_access_role}",
        "kinesis-access-role-trust.json": f"IAM: who may assume {names.kinesis_access_role}",
        "kinesis-access-policy.json": f"IAM: permissions of {names.kinesis_access_role}",
        "databricks-access-policy.json": "IAM: for the Databricks cluster's instance profile",
        "pinpipe-access-policy.json": "IAM: for whoever runs pinpipe's stages against AWS",
    }
    files += [
        ExportedFile(f"iam/{name}", descriptions[name], _json(build(target)))
        for name, build in iam.POLICIES.items()
    ]
    files += [
        ExportedFile(
            f"mwaa/{names.dag_file}",
            f"MWAA: the DAG {names.dag_id} (runs the batch notebook daily)",
            _text(render_dag("mwaa", dag_config(settings, "mwaa"))),
        ),
        ExportedFile(
            "mwaa/requirements.txt",
            "MWAA: the environment's requirements",
            _text(requirements("mwaa")),
        ),
        ExportedFile(
            "databricks/notebooks/pinpipe_batch.py",
            f"Databricks: the batch notebook, to import as {target.batch_notebook}",
            _text(databricks.batch_notebook(target)),
        ),
        ExportedFile(
            "databricks/notebooks/pinpipe_stream.py",
            f"Databricks: the streaming notebook, to import as {target.stream_notebook}",
            _text(databricks.stream_notebook(target)),
        ),
        ExportedFile(
            "databricks/jobs/batch.json",
            f"Databricks: the job {names.databricks_job('batch')} (Jobs API 2.1)",
            _json(databricks.batch_job(target)),
        ),
        ExportedFile(
            "databricks/jobs/stream.json",
            f"Databricks: the continuous job {names.databricks_job('stream')} (Jobs API 2.1)",
            _json(databricks.stream_job(target)),
        ),
        ExportedFile(
            "cloudformation/pinpipe.json",
            f"CloudFormation: bucket, streams, roles and policies (stack {names.stack})",
            _json(template(target)),
        ),
        ExportedFile(
            "cloudformation/pinpipe-api.json",
            f"CloudFormation: the REST API and its stage (stack {names.api_stack})",
            _json(api_template(target)),
        ),
    ]
    readme = render_readme(target, files)
    return [*files, ExportedFile("README.md", "What each file is and how to deploy it", readme)]


def render_readme(target: AwsTarget, files: list[ExportedFile]) -> bytes:
    names = target.names
    lines = [
        f"# pinpipe on AWS for user {names.user_id}",
        "",
        "Written by `pinpipe aws export`. The step-by-step guide from laptop to AWS, mapping",
        "each console step of the course to these files, is docs/aws.md in pinpipe.",
        "",
        "| file | what |",
        "|---|---|",
        *(f"| `{f.path}` | {f.description} |" for f in files),
        "",
    ]
    left = {f.path: f.placeholders for f in files if f.placeholders}
    if left:
        lines += [
            "## Placeholders to fill",
            "",
            "These values were not known at export time; pass them to `pinpipe aws export`",
            "(`--account-id`, `--rest-proxy-host`, `--subnet`, `--security-group`,",
            "`--msk-cluster-arn`) or fill them in (the MSK Connect ARNs exist only after",
            "CreateCustomPlugin / CreateWorkerConfiguration).",
            "",
            *(f"- `{path}`: {', '.join(f'`{p}`' for p in found)}" for path, found in left.items()),
            "",
        ]
    stack = names.stack
    lines += [
        "## Deploy",
        "",
        "```sh",
        f"aws cloudformation deploy --stack-name {stack} \\",
        "  --template-file cloudformation/pinpipe.json --capabilities CAPABILITY_NAMED_IAM",
        f"aws cloudformation deploy --stack-name {names.api_stack} \\",
        "  --template-file cloudformation/pinpipe-api.json \\",
        f"  --parameter-overrides KafkaRestProxyHost={target.rest_proxy_host}",
        f"aws s3 cp confluentinc-kafka-connect-s3-10.0.3.zip s3://{target.bucket}/"
        "kafka-connect-s3/",
        "aws kafkaconnect create-custom-plugin --cli-input-json "
        "file://msk-connect/create-custom-plugin.json",
        "aws kafkaconnect create-connector --cli-input-json "
        "file://msk-connect/create-connector.json",
        f"databricks workspace import {target.batch_notebook} "
        "--file databricks/notebooks/pinpipe_batch.py --format SOURCE --language PYTHON",
        f"databricks workspace import {target.stream_notebook} "
        "--file databricks/notebooks/pinpipe_stream.py --format SOURCE --language PYTHON",
        f"databricks workspace import {target.wheel.removeprefix('/Workspace')} "
        f"--file dist/{Path(target.wheel).name} --format AUTO   # the wheel: uv build",
        "databricks jobs create --json @databricks/jobs/stream.json",
        "databricks jobs create --json @databricks/jobs/batch.json   # optional, see docs/aws.md",
        f"aws s3 cp mwaa/{names.dag_file} s3://mwaa-dags-bucket/dags/   # your MWAA bucket",
        "aws s3 cp mwaa/requirements.txt s3://mwaa-dags-bucket/requirements.txt",
        "```",
        "",
        "The API can also be imported without CloudFormation: `aws apigateway import-rest-api",
        "--body fileb://apigateway/openapi.json`. Credentials come from the standard AWS chain",
        "only; nothing here holds a secret.",
        "",
    ]
    return _text("\n".join(lines))


def export_aws(
    settings: Settings,
    directory: Path,
    options: AwsOptions | None = None,
    *,
    force: bool = False,
) -> AwsExport:
    """Write every file of :func:`build_files` into ``directory`` (atomically)."""
    target = AwsTarget.build(settings, options)
    files = build_files(target)
    write_tree(directory, {f.path: f.data for f in files}, force=force)
    return AwsExport(directory, tuple(files))


def write_tree(directory: Path, files: Mapping[str, bytes], *, force: bool = False) -> None:
    """Make ``directory`` hold exactly ``files``: written beside it, then renamed into place.

    An existing non-empty directory is replaced only with ``force``; on any error ``directory``
    is left as it was and the staging directory is removed.
    """
    directory = directory.absolute()
    _check_target(directory, force=force)
    parent = directory.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=parent))
    except OSError as exc:
        raise _write_error(directory, exc) from exc
    try:
        for relative, data in files.items():
            path = staging / relative
            if staging not in path.resolve().parents:
                msg = f"export path {relative!r} leaves the export directory"
                raise AwsExportError(msg, hint="this is a bug in pinpipe; please report it")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        _chmod_tree(staging)
        _swap_into_place(staging, directory)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise _write_error(directory, exc) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _check_target(directory: Path, *, force: bool) -> None:
    if not directory.exists():
        return
    if not directory.is_dir():
        msg = f"{str(directory)!r} exists and is not a directory"
        raise AwsExportError(msg, hint="choose another export directory")
    if any(directory.iterdir()) and not force:
        msg = f"{str(directory)!r} is not empty"
        raise AwsExportError(msg, hint="choose an empty directory, or pass --force to replace it")


def _swap_into_place(staging: Path, directory: Path) -> None:
    if not directory.exists():
        staging.rename(directory)
        return
    old = directory.with_name(f".{directory.name}.old-{uuid.uuid4().hex[:8]}")
    directory.rename(old)
    try:
        staging.rename(directory)
    except BaseException:
        old.rename(directory)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _chmod_tree(root: Path) -> None:
    """mkdtemp makes the directory private (0700); give the export the usual modes."""
    umask = os.umask(0)
    os.umask(umask)
    root.chmod(0o777 & ~umask)
    for path in root.rglob("*"):
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def _write_error(directory: Path, exc: OSError) -> AwsExportError:
    msg = f"cannot write the export into {str(directory)!r}: {exc}"
    return AwsExportError(msg, hint="pass a writable directory")


__all__ = ["AwsExport", "AwsExportError", "ExportedFile", "build_files", "export_aws", "write_tree"]
