"""``pinpipe aws``: the pipeline's AWS infrastructure as files to review and deploy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pinpipe.aws import AwsOptions, export_aws
from pinpipe.cli._common import console, err_console, state

app = typer.Typer(
    help="Run on AWS: MSK Connect, API Gateway, IAM, MWAA, Databricks and CloudFormation files.",
    no_args_is_help=True,
)


@app.command("export")
def export(
    ctx: typer.Context,
    directory: Annotated[
        Path, typer.Argument(help="Where to write the files (empty or new).", file_okay=False)
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Replace DIR even if it is not empty.")
    ] = False,
    account_id: Annotated[
        str | None,
        typer.Option("--account-id", help="AWS account (12 digits) for role and plugin ARNs."),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            "--region", help="Default: kinesis://REGION of streams_url, else kafka.region."
        ),
    ] = None,
    stage: Annotated[str, typer.Option("--stage", help="API Gateway stage.")] = "test",
    rest_proxy_host: Annotated[
        str | None,
        typer.Option(
            "--rest-proxy-host", help="EC2 host of the Kafka REST Proxy / pinpipe api (:8082)."
        ),
    ] = None,
    msk_cluster_arn: Annotated[
        str | None,
        typer.Option("--msk-cluster-arn", help="MSK cluster of the topics (IAM policy ARNs)."),
    ] = None,
    subnet: Annotated[
        list[str] | None, typer.Option("--subnet", help="MSK Connect VPC subnet (repeat).")
    ] = None,
    security_group: Annotated[
        list[str] | None,
        typer.Option("--security-group", help="MSK Connect security group (repeat)."),
    ] = None,
    workspace_dir: Annotated[
        str, typer.Option("--workspace-dir", help="Databricks folder of notebooks and wheel.")
    ] = "/Shared/pinpipe",
    wheel: Annotated[
        str | None,
        typer.Option("--wheel", help="pinpipe wheel the notebooks install (default: in DIR)."),
    ] = None,
    cluster_id: Annotated[
        str | None,
        typer.Option(
            "--cluster-id", help="Databricks cluster (default: [dag] existing_cluster_id)."
        ),
    ] = None,
) -> None:
    """Write the MSK Connect connector, the API Gateway OpenAPI, least-privilege IAM policies,
    the MWAA DAG, the Databricks notebooks and jobs, and a CloudFormation template into DIR."""
    settings = state(ctx).settings()
    options = AwsOptions(
        account_id=account_id,
        region=region,
        stage=stage,
        rest_proxy_host=rest_proxy_host,
        msk_cluster_arn=msk_cluster_arn,
        subnets=tuple(subnet or ()),
        security_groups=tuple(security_group or ()),
        workspace_dir=workspace_dir,
        wheel=wheel,
        cluster_id=cluster_id,
    )
    with err_console.status(f"writing the AWS export into {directory}"):
        written = export_aws(settings, directory, options, force=force)
    table = Table(title=f"AWS export for {settings.user_id}: {directory}", title_justify="left")
    table.add_column("file", style="bold cyan", overflow="fold")
    table.add_column("what")
    table.add_column("bytes", justify="right")
    table.add_column("to fill", style="yellow")
    for file in written.files:
        left = "" if file.path == "README.md" else ", ".join(file.placeholders)
        table.add_row(file.path, file.description, f"{len(file.data):,}", left)
    console.print(table)
    console.print(
        f"{len(written.files)} files written; next: {directory / 'README.md'} "
        "(deploy commands) and docs/aws.md (laptop to AWS, step by step)"
    )
