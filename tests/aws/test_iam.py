"""The IAM policy documents: the IAM policy grammar (a JSON Schema written from the IAM User
Guide's grammar, and moto's own policy validator, which IAM's CreatePolicy and
UpdateAssumeRolePolicy run in moto server), real action names, and least privilege - every
resource is one of the three topics, the bucket (under its prefix) or the three streams."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import jsonschema
import pytest

from pinpipe.aws import AwsExport, AwsOptions, AwsTarget
from pinpipe.aws.iam import POLICIES, databricks_policy, pinpipe_policy
from pinpipe.config import Settings
from tests.aws.conftest import ACCOUNT, read

SCHEMA = json.loads((Path(__file__).parent / "schemas/iam-policy.schema.json").read_text())
TRUSTS = ("ec2-access-role-trust.json", "kinesis-access-role-trust.json")
IDENTITIES = tuple(name for name in POLICIES if name not in TRUSTS)
#: MSK's IAM actions (Amazon MSK Developer Guide, "IAM access control": actions for Kafka).
KAFKA_CLUSTER_ACTIONS = {
    "Connect",
    "AlterCluster",
    "DescribeCluster",
    "AlterClusterDynamicConfiguration",
    "DescribeClusterDynamicConfiguration",
    "WriteDataIdempotently",
    "CreateTopic",
    "DescribeTopic",
    "AlterTopic",
    "DeleteTopic",
    "ReadData",
    "WriteData",
    "DescribeTopicDynamicConfiguration",
    "AlterTopicDynamicConfiguration",
    "AlterGroup",
    "DescribeGroup",
    "DeleteGroup",
    "DescribeTransactionalId",
    "AlterTransactionalId",
}
#: The S3 actions these policies may use (Service Authorization Reference, Amazon S3).
S3_ACTIONS = {
    "AbortMultipartUpload",
    "DeleteObject",
    "GetBucketLocation",
    "GetObject",
    "ListBucket",
    "ListBucketMultipartUploads",
    "ListMultipartUploadParts",
    "PutObject",
}


def policy(export: AwsExport, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(read(export, f"iam/{name}"))
    return loaded


def listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


@pytest.mark.parametrize("name", IDENTITIES)
def test_identity_policies_follow_the_grammar(exported: AwsExport, name: str) -> None:
    schema = SCHEMA | {"allOf": [{"$ref": "#/$defs/identity"}]}
    jsonschema.validate(policy(exported, name), schema)


@pytest.mark.parametrize("name", TRUSTS)
def test_trust_policies_follow_the_grammar(exported: AwsExport, name: str) -> None:
    schema = SCHEMA | {"allOf": [{"$ref": "#/$defs/trust"}]}
    jsonschema.validate(policy(exported, name), schema)


def test_the_schema_rejects_what_iam_rejects(exported: AwsExport) -> None:
    good = policy(exported, "kinesis-access-policy.json")
    first, second = good["Statement"]
    without_resource = {k: v for k, v in second.items() if k != "Resource"}
    for broken in (
        good | {"Version": "2008-10-17x"},  # only the two IAM versions exist
        good | {"Statement": [first | {"Effect": "Permit"}]},
        good | {"Statement": [second | {"Resource": ["not-an-arn"]}]},
        good | {"Statement": [without_resource]},  # an identity policy names its resources
        good | {"Statement": [second | {"Principal": {"AWS": "*"}}]},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, SCHEMA | {"allOf": [{"$ref": "#/$defs/identity"}]})


def test_actions_exist(exported: AwsExport) -> None:
    kinesis = set(botocore.session.get_session().get_service_model("kinesis").operation_names)
    for name in IDENTITIES:
        for statement in policy(exported, name)["Statement"]:
            for action in listed(statement["Action"]):
                service, _, operation = action.partition(":")
                known = {
                    "kinesis": kinesis,
                    "kafka-cluster": KAFKA_CLUSTER_ACTIONS,
                    "s3": S3_ACTIONS,
                }
                assert operation in known[service], f"{name}: {action}"


def test_least_privilege(exported: AwsExport, uid: str) -> None:
    topics = {f"{uid}.{k}" for k in ("pin", "geo", "user")}
    streams = {f"streaming-{uid}-{k}" for k in ("pin", "geo", "user")}
    bucket = f"arn:aws:s3:::user-{uid}-bucket"
    allowed_topics = topics | {f"{t}.dlq" for t in topics} | {"__amazon_msk_connect_*"}
    for name in IDENTITIES:
        for statement in policy(exported, name)["Statement"]:
            assert statement["Effect"] == "Allow"
            assert not any(a.endswith("*") for a in listed(statement["Action"]))
            for resource in listed(statement["Resource"]):
                if resource == "*":
                    assert statement["Action"] == ["kinesis:ListStreams"], name  # no resource type
                elif ":kinesis:" in resource:
                    assert resource.startswith(f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/")
                    assert resource.rsplit("/", 1)[1] in streams
                elif resource.startswith("arn:aws:s3:::"):
                    assert resource == bucket or resource.startswith(f"{bucket}/")
                    assert resource.count("*") <= 1 and "/*/" not in resource
                else:
                    kind, cluster, _uuid, *rest = resource.split(":", 5)[5].split("/")
                    assert cluster == "pinterest-msk-cluster"
                    if kind == "topic":
                        assert rest[0] in allowed_topics, resource
                    else:
                        assert kind in ("cluster", "group"), resource
    ec2 = policy(exported, "ec2-access-policy.json")
    sink = next(s for s in ec2["Statement"] if s["Sid"] == "SinkObjects")
    assert sink["Resource"] == [f"{bucket}/topics/*"]  # the sink writes under topics/ only
    api = policy(exported, "kinesis-access-policy.json")
    assert {a for s in api["Statement"] for a in s["Action"]} == {
        "kinesis:ListStreams",
        "kinesis:CreateStream",
        "kinesis:DeleteStream",
        "kinesis:DescribeStream",
        "kinesis:PutRecord",
        "kinesis:PutRecords",
    }  # exactly what the API's six methods call (SPEC §4.3)


def test_a_lake_prefix_narrows_the_bucket() -> None:
    target = AwsTarget.build(Settings(lake_url="s3://lake/team/pinpipe"), AwsOptions())
    for document in (databricks_policy(target), pinpipe_policy(target)):
        statements = {s["Sid"]: s for s in document["Statement"]}
        listing = statements["LakeBucket"]
        assert listing["Condition"] == {
            "StringLike": {"s3:prefix": ["team/pinpipe/", "team/pinpipe/*"]}
        }
        objects = [r for s in document["Statement"] for r in listed(s["Resource"]) if "s3" in r]
        assert all(
            r == "arn:aws:s3:::lake" or r.startswith("arn:aws:s3:::lake/team/pinpipe/")
            for r in objects
        )
    # Without an account id the names still pin every resource down; the account is "*".
    assert any(":*:stream/" in r for r in databricks_policy(target)["Statement"][-1]["Resource"])


@pytest.fixture(scope="module")
def iam(moto_endpoint: str) -> Iterator[Any]:
    client = boto3.client("iam", region_name="us-east-1", endpoint_url=moto_endpoint)
    yield client
    client.close()


@pytest.mark.integration
@pytest.mark.aws
@pytest.mark.parametrize("name", IDENTITIES)
def test_iam_accepts_the_policy(exported: AwsExport, iam: Any, name: str) -> None:
    document = read(exported, f"iam/{name}")
    created = iam.create_policy(PolicyName=f"t-{uuid.uuid4().hex[:8]}", PolicyDocument=document)
    iam.delete_policy(PolicyArn=created["Policy"]["Arn"])


@pytest.mark.integration
@pytest.mark.aws
@pytest.mark.parametrize("name", TRUSTS)
def test_iam_accepts_the_trust_policy(exported: AwsExport, iam: Any, name: str) -> None:
    role = f"t-{uuid.uuid4().hex[:8]}"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(_placeholder_trust()))
    try:
        iam.update_assume_role_policy(RoleName=role, PolicyDocument=read(exported, f"iam/{name}"))
        with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
            iam.update_assume_role_policy(  # the validator does refuse a broken one
                RoleName=role,
                PolicyDocument=re.sub(
                    r'"Principal"', '"Resource": "*", "Principal"', read(exported, f"iam/{name}")
                ),
            )
    finally:
        iam.delete_role(RoleName=role)


def _placeholder_trust() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
