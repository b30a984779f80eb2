"""``pinpipe aws export`` as a user runs it: the table of files, the refusal of a non-empty
directory (one red line naming --force), --force, and bad options."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pinpipe.cli import app

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


def test_export_prints_what_it_wrote(tmp_path: Path) -> None:
    out = tmp_path / "infra"
    args = [
        "--home", str(tmp_path), "aws", "export", str(out),
        "--account-id", "123456789012", "--rest-proxy-host", "ec2.example",
        "--subnet", "subnet-1", "--subnet", "subnet-2", "--security-group", "sg-1",
        "--region", "eu-west-1", "--stage", "prod", "--cluster-id", "0101-abc",
    ]  # fmt: skip
    result = runner.invoke(app, args, env=WIDE)
    assert result.exit_code == 0, result.output
    for path in ("cloudformation/pinpipe.json", "apigateway/openapi.json", "iam/", "README.md"):
        assert path in result.output
    assert "<custom-plugin-id>" in result.output and "files written" in result.output
    connector = json.loads((out / "msk-connect/create-connector.json").read_text())
    vpc = connector["kafkaCluster"]["apacheKafkaCluster"]["vpc"]
    assert vpc == {"subnets": ["subnet-1", "subnet-2"], "securityGroups": ["sg-1"]}
    assert connector["connectorConfiguration"]["s3.region"] == "eu-west-1"
    api = json.loads((out / "cloudformation/pinpipe-api.json").read_text())
    assert api["Parameters"]["StageName"]["Default"] == "prod"
    job = json.loads((out / "databricks/jobs/batch.json").read_text())
    assert job["tasks"][0]["existing_cluster_id"] == "0101-abc"

    again = runner.invoke(app, args, env=WIDE)
    assert again.exit_code == 1
    lines = [line for line in again.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "is not empty" in lines[0] and "--force" in lines[0]
    forced = runner.invoke(app, [*args, "--force"], env=WIDE)
    assert forced.exit_code == 0, forced.output


def test_a_bad_account_id_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["--home", str(tmp_path), "aws", "export", str(tmp_path / "x"), "--account-id", "42"]
    )
    assert result.exit_code == 1
    assert "not 12 digits" in result.stderr and not (tmp_path / "x").exists()
