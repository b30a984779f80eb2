"""Where the pipeline goes on AWS: the names, ARNs and endpoints every exported file uses.

:class:`AwsTarget` is built once from the :class:`~pinpipe.config.Settings` (user id, URLs,
Kafka security, stream capacity, the DAG's cluster) and the export options (account, region,
REST proxy host, ...). Values the export cannot know are ``<placeholders>`` (account id, VPC
subnets, the ARNs MSK Connect assigns); the export's README lists what is left to fill.

The same builders write the stand-alone files and the CloudFormation template: for the
template, :meth:`AwsTarget.for_cloudformation` swaps account, region and partition for
``${AWS::AccountId}``-style references, and :func:`substitute` wraps every string that holds
one in ``Fn::Sub``. So the IAM policies and the OpenAPI body inside the stack are the files
beside it, not a second copy to keep in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlsplit

from pinpipe import __version__
from pinpipe.config import Settings
from pinpipe.errors import ConfigError
from pinpipe.naming import Names

#: The course's MSK cluster (SPEC §3.1) - the default when no cluster ARN is given.
COURSE_MSK_CLUSTER = "pinterest-msk-cluster"
#: The Confluent S3 sink plugin the course uploads (SPEC §3.3).
CONNECTOR_ZIP = "confluentinc-kafka-connect-s3-10.0.3.zip"
CONNECTOR_ZIP_KEY = f"kafka-connect-s3/{CONNECTOR_ZIP}"
#: The course's pre-made MSK Connect worker configuration.
WORKER_CONFIGURATION = "confluent-worker"
#: The Kafka REST Proxy's port on the EC2 client (SPEC §3.2).
REST_PROXY_PORT = 8082
#: Prefixes pinpipe writes in the lake (sink, batch job, streaming job).
RAW_PREFIX = "topics/"
OUTPUT_PREFIXES = ("curated/", "results/", "dead_letters/", "delta/")

PLACEHOLDER = re.compile(r"<[a-z][a-z0-9-]*>")
_ACCOUNT = re.compile(r"^\d{12}$")
_MSK_ARN = re.compile(
    r"^arn:(?P<partition>[\w-]+):kafka:(?P<region>[\w-]+):(?P<account>\d{12}):"
    r"cluster/(?P<name>[\w-]+)/(?P<uuid>[\w-]+)$"
)

ClientAuth = Literal["IAM", "NONE"]
Encryption = Literal["TLS", "PLAINTEXT"]


@dataclass(frozen=True, slots=True)
class AwsOptions:
    """What the export needs beyond the settings (``pinpipe aws export`` options)."""

    account_id: str | None = None
    region: str | None = None
    stage: str = "test"
    rest_proxy_host: str | None = None
    msk_cluster_arn: str | None = None
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    workspace_dir: str = "/Shared/pinpipe"
    wheel: str | None = None
    cluster_id: str | None = None


@dataclass(frozen=True, slots=True)
class MskCluster:
    name: str
    uuid: str  # "*" when not known: every cluster of that name
    region: str
    account: str


@dataclass(frozen=True, slots=True)
class AwsTarget:
    """Everything the exporters need, as strings ready to write."""

    settings: Settings
    names: Names
    region: str
    account: str  # 12 digits, or "<account-id>" when not given
    partition: str
    stage: str
    bucket: str
    lake_prefix: str  # "" or "some/prefix/"
    rest_proxy_host: str
    msk: MskCluster
    bootstrap_servers: str
    client_auth: ClientAuth
    encryption: Encryption
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    workspace_dir: str
    wheel: str
    cluster_id: str
    #: Whether ARNs in policies may use ``*`` for an unknown account (not in CloudFormation).
    wildcard_account: bool = field(default=True)

    @classmethod
    def build(cls, settings: Settings, options: AwsOptions | None = None) -> AwsTarget:
        options = options or AwsOptions()
        if options.account_id is not None and not _ACCOUNT.fullmatch(options.account_id):
            msg = f"account id {options.account_id!r} is not 12 digits"
            raise ConfigError(msg, hint="pass --account-id with your AWS account's 12 digits")
        region = options.region or _default_region(settings)
        account = options.account_id or "<account-id>"
        bucket, prefix = _lake_location(settings)
        bootstrap, auth, encryption = _kafka_cluster(settings)
        workspace_dir = "/" + options.workspace_dir.strip("/")
        files = (
            workspace_dir
            if workspace_dir.startswith("/Workspace/")
            else f"/Workspace{workspace_dir}"
        )
        wheel = options.wheel or f"{files}/pinpipe-{__version__}-py3-none-any.whl"
        return cls(
            settings=settings,
            names=settings.names,
            region=region,
            account=account,
            partition="aws",
            stage=options.stage,
            bucket=bucket,
            lake_prefix=prefix,
            rest_proxy_host=options.rest_proxy_host or "<kafka-rest-proxy-host>",
            msk=_msk_cluster(options.msk_cluster_arn, region, options.account_id),
            bootstrap_servers=bootstrap,
            client_auth=auth,
            encryption=encryption,
            subnets=options.subnets or ("<subnet-id>",),
            security_groups=options.security_groups or ("<security-group-id>",),
            workspace_dir=workspace_dir,
            wheel=wheel,
            cluster_id=options.cluster_id or settings.dag.existing_cluster_id,
        )

    def for_cloudformation(self) -> AwsTarget:
        """This target with the stack's own references (see :func:`substitute`)."""
        msk = self.msk
        if msk.uuid == "*":  # no cluster ARN given: the stack's parameters name it
            msk = MskCluster("${MskClusterName}", "${MskClusterUuid}", "${AWS::Region}", "*")
        return replace(
            self,
            region="${AWS::Region}",
            account="${AWS::AccountId}",
            partition="${AWS::Partition}",
            stage="${StageName}",
            rest_proxy_host="${KafkaRestProxyHost}",
            msk=msk,
            wildcard_account=False,
        )

    # -- ARNs ---------------------------------------------------------------------------------

    @property
    def policy_account(self) -> str:
        """The account in resource ARNs of policies: ``*`` while the account is unknown."""
        known = _ACCOUNT.fullmatch(self.account) or not self.wildcard_account
        return self.account if known else "*"

    def role_arn(self, role: str) -> str:
        return f"arn:{self.partition}:iam::{self.account}:role/{role}"

    @property
    def bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.bucket}"

    def object_arn(self, prefix: str) -> str:
        return f"{self.bucket_arn}/{self.lake_prefix}{prefix}*"

    @property
    def stream_arns(self) -> list[str]:
        base = f"arn:{self.partition}:kinesis:{self.region}:{self.policy_account}:stream"
        return [f"{base}/{name}" for name in self.names.streams]

    def _kafka_arn(self, kind: str, name: str | None = None) -> str:
        msk = self.msk
        account = msk.account if msk.account != "*" else self.policy_account
        arn = f"arn:{self.partition}:kafka:{msk.region}:{account}:{kind}/{msk.name}/{msk.uuid}"
        return arn if name is None else f"{arn}/{name}"

    @property
    def cluster_arn(self) -> str:
        return self._kafka_arn("cluster")

    def topic_arns(self, *names: str) -> list[str]:
        return [self._kafka_arn("topic", n) for n in names]

    def group_arns(self, *names: str) -> list[str]:
        return [self._kafka_arn("group", n) for n in names]

    def kinesis_action_uri(self, action: str) -> str:
        return f"arn:{self.partition}:apigateway:{self.region}:kinesis:action/{action}"

    def kafkaconnect_arn(self, kind: str, name: str, placeholder: str) -> str:
        return (
            f"arn:{self.partition}:kafkaconnect:{self.region}:{self.account}:"
            f"{kind}/{name}/{placeholder}"
        )

    # -- Databricks ---------------------------------------------------------------------------

    @property
    def batch_notebook(self) -> str:
        """The batch notebook the DAG and the batch job run (``[dag] notebook_path`` wins)."""
        return self.settings.dag.notebook_path or f"{self.workspace_dir}/pinpipe_batch"

    @property
    def stream_notebook(self) -> str:
        return f"{self.workspace_dir}/pinpipe_stream"

    @property
    def lake_url(self) -> str:
        return f"s3://{self.bucket}/{self.lake_prefix}".rstrip("/")

    @property
    def on_demand(self) -> bool:
        return self.settings.kinesis.on_demand

    @property
    def shard_count(self) -> int:
        return self.settings.kinesis.shard_count


def substitute(value: Any) -> Any:
    """``value`` with every string holding a ``${…}`` reference wrapped in ``Fn::Sub``."""
    if isinstance(value, str):
        return {"Fn::Sub": value} if "${" in value else value
    if isinstance(value, list):
        return [substitute(v) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v) for k, v in value.items()}
    return value


def placeholders(text: str) -> list[str]:
    """The ``<placeholders>`` left in an exported file, in order of first appearance."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def _default_region(settings: Settings) -> str:
    for url in (settings.streams_url, settings.broker_url):
        parts = urlsplit(url)
        if parts.scheme == "kinesis" and parts.netloc:
            return parts.netloc
    return settings.kafka.region


def _lake_location(settings: Settings) -> tuple[str, str]:
    parts = urlsplit(settings.lake_url)
    if parts.scheme == "s3" and parts.netloc:
        prefix = parts.path.strip("/")
        return parts.netloc, f"{prefix}/" if prefix else ""
    return settings.names.bucket, ""


def _kafka_cluster(settings: Settings) -> tuple[str, ClientAuth, Encryption]:
    """Bootstrap servers, client authentication and encryption for MSK Connect.

    MSK Connect authenticates with IAM or not at all: a SASL/SCRAM client setting cannot be
    carried over, so its bootstrap (port 9096) is not the one the connector needs (9098)."""
    parts = urlsplit(settings.broker_url)
    security = settings.kafka.security
    if parts.scheme != "kafka" or not parts.netloc:
        return "<msk-bootstrap-servers>", "IAM", "TLS"
    if security == "plaintext":
        return parts.netloc, "NONE", "PLAINTEXT"
    if security == "ssl":
        return parts.netloc, "NONE", "TLS"
    if security == "sasl-ssl":
        return "<msk-iam-bootstrap-servers>", "IAM", "TLS"
    return parts.netloc, "IAM", "TLS"


def _msk_cluster(arn: str | None, region: str, account: str | None) -> MskCluster:
    if arn is None:
        return MskCluster(COURSE_MSK_CLUSTER, "*", region, account or "*")
    match = _MSK_ARN.fullmatch(arn)
    if match is None:
        msg = f"{arn!r} is not an MSK cluster ARN"
        hint = "pass --msk-cluster-arn arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID"
        raise ConfigError(msg, hint=hint)
    return MskCluster(match["name"], match["uuid"], match["region"], match["account"])


__all__ = [
    "CONNECTOR_ZIP",
    "CONNECTOR_ZIP_KEY",
    "OUTPUT_PREFIXES",
    "RAW_PREFIX",
    "REST_PROXY_PORT",
    "WORKER_CONFIGURATION",
    "AwsOptions",
    "AwsTarget",
    "MskCluster",
    "placeholders",
    "substitute",
]
