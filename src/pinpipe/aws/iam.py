"""Least-privilege IAM policy documents: the three topics, the bucket prefix, the three streams.

The course grants ``AmazonKinesisFullAccess`` and an AiCore-made role; these documents grant
each principal only the actions its stage calls, on the resources named after the user id:

* ``<uid>-ec2-access-role`` (the EC2 Kafka client / REST Proxy and MSK Connect's execution
  role): connect to the cluster, create/describe/read/write the three topics, MSK Connect's
  internal topics and groups, the course's ``students`` group; write ``topics/`` of the bucket.
* ``<uid>-kinesis-access-role`` (API Gateway's Kinesis integrations): the six actions of the
  API on the three streams, and ``ListStreams`` (which has no resource-level permission).
* Databricks (the cluster's instance profile): read ``topics/`` and the streams, write the batch
  and streaming outputs (``curated/``, ``results/``, ``dead_letters/``, ``delta/``).
* pinpipe itself (whoever runs ``pinpipe sink|stream|batch|topics|streams`` against AWS).

While the account id is unknown, resource ARNs use ``*`` for it (the names still pin them
down); the CloudFormation template uses the stack's own account.
"""

from __future__ import annotations

from typing import Any

from pinpipe.aws.target import OUTPUT_PREFIXES, RAW_PREFIX, AwsTarget

Policy = dict[str, Any]
VERSION = "2012-10-17"

#: MSK Connect's internal topics and consumer groups (AWS' documented IAM policy for it).
MSK_CONNECT_INTERNAL = "__amazon_msk_connect_*"
#: The Kafka REST Proxy consumer group the course authorises (SPEC §2.3).
COURSE_GROUP = "students"

_CLUSTER_ACTIONS = [
    "kafka-cluster:Connect",
    "kafka-cluster:DescribeCluster",
    "kafka-cluster:WriteDataIdempotently",
]
_TOPIC_ACTIONS = [
    "kafka-cluster:CreateTopic",
    "kafka-cluster:DescribeTopic",
    "kafka-cluster:DescribeTopicDynamicConfiguration",
    "kafka-cluster:ReadData",
    "kafka-cluster:WriteData",
]
_GROUP_ACTIONS = ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"]
#: The API's Kinesis actions (SPEC §4.3) besides ListStreams.
API_STREAM_ACTIONS = [
    "kinesis:CreateStream",
    "kinesis:DeleteStream",
    "kinesis:DescribeStream",
    "kinesis:PutRecord",
    "kinesis:PutRecords",
]
STREAM_READ_ACTIONS = [
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
]
_BUCKET_ACTIONS = ["s3:GetBucketLocation", "s3:ListBucket"]


def _statement(sid: str, actions: list[str], resources: list[str] | str, **extra: Any) -> Policy:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def _policy(*statements: Policy) -> Policy:
    return {"Version": VERSION, "Statement": list(statements)}


def _bucket_statement(target: AwsTarget, sid: str) -> Policy:
    """List the bucket; only under the lake's prefix when ``lake_url`` has one."""
    extra: dict[str, Any] = {}
    if target.lake_prefix:
        prefixes = [target.lake_prefix, f"{target.lake_prefix}*"]
        extra["Condition"] = {"StringLike": {"s3:prefix": prefixes}}
    return _statement(sid, _BUCKET_ACTIONS, [target.bucket_arn], **extra)


def ec2_access_policy(target: AwsTarget) -> Policy:
    """``<uid>-ec2-access-role``: the course's Kafka client, REST Proxy and S3 sink connector."""
    names = target.names
    return _policy(
        _statement("MskCluster", _CLUSTER_ACTIONS, [target.cluster_arn]),
        _statement("CourseTopics", _TOPIC_ACTIONS, target.topic_arns(*names.topics)),
        _statement(
            "MskConnectInternalTopics",
            ["kafka-cluster:CreateTopic", *_TOPIC_ACTIONS[1:]],
            target.topic_arns(MSK_CONNECT_INTERNAL),
        ),
        _statement(
            "ConsumerGroups",
            _GROUP_ACTIONS,
            target.group_arns(COURSE_GROUP, names.connect_group, MSK_CONNECT_INTERNAL),
        ),
        _statement(
            "SinkBucket", [*_BUCKET_ACTIONS, "s3:ListBucketMultipartUploads"], [target.bucket_arn]
        ),
        _statement(
            "SinkObjects",
            [
                "s3:AbortMultipartUpload",
                "s3:GetObject",
                "s3:ListMultipartUploadParts",
                "s3:PutObject",
            ],
            [target.object_arn(RAW_PREFIX)],
        ),
    )


def kinesis_access_policy(target: AwsTarget) -> Policy:
    """``<uid>-kinesis-access-role``: what API Gateway's Kinesis integrations call."""
    return _policy(
        _statement("ListStreams", ["kinesis:ListStreams"], "*"),
        _statement("CourseStreams", API_STREAM_ACTIONS, target.stream_arns),
    )


def databricks_policy(target: AwsTarget) -> Policy:
    """The Databricks cluster's instance profile: raw objects and streams in, outputs out."""
    outputs = [target.object_arn(p) for p in OUTPUT_PREFIXES]
    return _policy(
        _bucket_statement(target, "LakeBucket"),
        _statement("ReadLake", ["s3:GetObject"], [target.object_arn(RAW_PREFIX), *outputs]),
        _statement(
            "WriteOutputs", ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject"], outputs
        ),
        _statement("ReadStreams", STREAM_READ_ACTIONS, target.stream_arns),
    )


def pinpipe_policy(target: AwsTarget) -> Policy:
    """Whoever runs pinpipe's stages against AWS: topics (and the sink's dead-letter topics),
    streams, and the lake under its prefix."""
    names = target.names
    dead_letter_topics = [f"{t}.dlq" for t in names.topics]
    return _policy(
        _statement("MskCluster", _CLUSTER_ACTIONS, [target.cluster_arn]),
        _statement(
            "Topics",
            [*_TOPIC_ACTIONS, "kafka-cluster:DeleteTopic"],
            target.topic_arns(*names.topics, *dead_letter_topics),
        ),
        _statement(
            "ConsumerGroups",
            _GROUP_ACTIONS,
            target.group_arns(names.connect_group, "pinpipe-*", COURSE_GROUP),
        ),
        _statement("ListStreams", ["kinesis:ListStreams"], "*"),
        _statement(
            "Streams",
            sorted(set(API_STREAM_ACTIONS) | set(STREAM_READ_ACTIONS)),
            target.stream_arns,
        ),
        _bucket_statement(target, "LakeBucket"),
        _statement(
            "LakeObjects",
            ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            [target.object_arn("")],
        ),
    )


def ec2_access_trust(target: AwsTarget) -> Policy:
    """Who may assume ``<uid>-ec2-access-role``: EC2 (the Kafka client's instance profile),
    MSK Connect, and the role itself - the course's ``awsRoleArn`` in ``client.properties``
    (and ``kafka.role_arn`` in pinpipe) assumes it. The last is written as the account with a
    condition on the principal, since a role cannot name itself before it exists."""
    role = target.role_arn(target.names.ec2_access_role)
    return _policy(
        {
            "Sid": "Services",
            "Effect": "Allow",
            "Principal": {"Service": ["ec2.amazonaws.com", "kafkaconnect.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        },
        {
            "Sid": "AssumeItself",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{target.partition}:iam::{target.account}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": role}},
        },
    )


def kinesis_access_trust(target: AwsTarget) -> Policy:
    """Who may assume ``<uid>-kinesis-access-role``: API Gateway."""
    return _policy(
        {
            "Sid": "ApiGateway",
            "Effect": "Allow",
            "Principal": {"Service": "apigateway.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )


#: file name under ``iam/`` → builder
POLICIES = {
    "ec2-access-role-trust.json": ec2_access_trust,
    "ec2-access-policy.json": ec2_access_policy,
    "kinesis-access-role-trust.json": kinesis_access_trust,
    "kinesis-access-policy.json": kinesis_access_policy,
    "databricks-access-policy.json": databricks_policy,
    "pinpipe-access-policy.json": pinpipe_policy,
}

__all__ = [
    "POLICIES",
    "databricks_policy",
    "ec2_access_policy",
    "ec2_access_trust",
    "kinesis_access_policy",
    "kinesis_access_trust",
    "pinpipe_policy",
]
