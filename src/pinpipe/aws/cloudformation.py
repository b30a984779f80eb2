"""The CloudFormation templates: the bucket, the three streams and the roles; and the REST API.

What the course clicks together in the console (or AiCore pre-creates), as two stacks:

``pinpipe.json`` (stack ``<uid>-pinpipe``):

* ``user-<uid>-bucket`` (kept when the stack is deleted: it holds the lake);
* ``streaming-<uid>-pin|geo|user`` (on-demand, or ``kinesis.shard_count`` shards);
* ``<uid>-ec2-access-role`` (+ its instance profile) and ``<uid>-kinesis-access-role`` with
  the policies of :mod:`pinpipe.aws.iam`, and the Databricks and pinpipe policies as managed
  policies to attach where they are needed.

``pinpipe-api.json`` (stack ``<uid>-pinpipe-api``, deployed second: its Kinesis integrations
run as the first stack's role): the REST API ``<uid>`` from :mod:`pinpipe.aws.apigateway`
(``Body``: the document of ``apigateway/openapi.json``) and its deployment to ``StageName``.
Its own stack, because a deployment is a snapshot: redeploying the API (a new stage
deployment after a change) never touches the bucket, the streams or the roles.

Not in the stacks: the MSK cluster (AiCore's, shared), the EC2 Kafka client, MSK Connect (its
plugin needs the zip in the bucket first: ``msk-connect/*.json``), Databricks and MWAA.

Written as JSON (no YAML dependency); deploy with ``aws cloudformation deploy`` (the export's
README lists the commands).
"""

from __future__ import annotations

from typing import Any

from pinpipe import __version__
from pinpipe.aws import iam
from pinpipe.aws.apigateway import rest_api_definition
from pinpipe.aws.target import COURSE_MSK_CLUSTER, AwsTarget, substitute
from pinpipe.naming import RecordKindName

Template = dict[str, Any]

STREAM_RESOURCES: dict[RecordKindName, str] = {
    "pin": "PinStream",
    "geo": "GeoStream",
    "user": "UserStream",
}


def _ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def _cluster_parameters(target: AwsTarget) -> dict[str, Any]:
    return {
        "MskClusterName": {
            "Type": "String",
            "Default": COURSE_MSK_CLUSTER,
            "Description": "Name of the MSK cluster the topics live on (in this account).",
        },
        "MskClusterUuid": {
            "Type": "String",
            "Default": "*",
            "Description": "The cluster's UUID (last part of its ARN); * for any cluster of "
            "that name.",
        },
    }


def _api_parameters(target: AwsTarget) -> dict[str, Any]:
    return {
        "KafkaRestProxyHost": {
            "Type": "String",
            "MinLength": 1,
            "Description": "Public DNS name of the EC2 instance that runs the Kafka REST Proxy "
            "(or pinpipe api) on port 8082; the API's {proxy+} resource forwards there.",
        },
        "StageName": {
            "Type": "String",
            "Default": target.stage,
            "AllowedPattern": "^[a-zA-Z0-9_]+$",
            "Description": "API Gateway stage of the invoke URL (the course: test).",
        },
    }


def _stream(target: AwsTarget, name: str) -> dict[str, Any]:
    properties: dict[str, Any] = {"Name": name, "RetentionPeriodHours": 24}
    if target.on_demand:
        properties["StreamModeDetails"] = {"StreamMode": "ON_DEMAND"}
    else:
        properties["StreamModeDetails"] = {"StreamMode": "PROVISIONED"}
        properties["ShardCount"] = target.shard_count
    return {"Type": "AWS::Kinesis::Stream", "Properties": properties}


def _role(name: str, trust: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": name,
            "Description": description,
            "AssumeRolePolicyDocument": trust,
        },
    }


def _managed_policy(
    name: str, document: dict[str, Any], description: str, role: str | None = None
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "ManagedPolicyName": name,
        "Description": description,
        "PolicyDocument": document,
    }
    if role is not None:
        properties["Roles"] = [_ref(role)]
    return {"Type": "AWS::IAM::ManagedPolicy", "Properties": properties}


def template(target: AwsTarget) -> Template:
    """The main stack for ``target``: bucket, streams, roles and policies."""
    stack = target.for_cloudformation()
    names = stack.names
    resources: dict[str, Any] = {
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "BucketName": stack.bucket,
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
            },
        },
        **{STREAM_RESOURCES[k]: _stream(stack, names.stream(k)) for k in STREAM_RESOURCES},
        "Ec2AccessRole": _role(
            names.ec2_access_role,
            iam.ec2_access_trust(stack),
            "Kafka client / REST Proxy on EC2 and MSK Connect's service execution role.",
        ),
        "Ec2InstanceProfile": {
            "Type": "AWS::IAM::InstanceProfile",
            "Properties": {
                "InstanceProfileName": names.ec2_access_role,
                "Roles": [_ref("Ec2AccessRole")],
            },
        },
        "Ec2AccessPolicy": _managed_policy(
            names.ec2_access_policy,
            iam.ec2_access_policy(stack),
            "The three topics on MSK and the sink's topics/ prefix of the bucket.",
            role="Ec2AccessRole",
        ),
        "KinesisAccessRole": _role(
            names.kinesis_access_role,
            iam.kinesis_access_trust(stack),
            "API Gateway's role for the Kinesis integrations of the REST API.",
        ),
        "KinesisAccessPolicy": _managed_policy(
            names.kinesis_access_policy,
            iam.kinesis_access_policy(stack),
            "The API's Kinesis actions on the three streams.",
            role="KinesisAccessRole",
        ),
        "DatabricksAccessPolicy": _managed_policy(
            names.databricks_policy,
            iam.databricks_policy(stack),
            "Attach to the Databricks cluster's instance profile role.",
        ),
        "PinpipeAccessPolicy": _managed_policy(
            names.pinpipe_policy,
            iam.pinpipe_policy(stack),
            "Attach to whoever runs pinpipe's stages against these resources.",
        ),
    }
    outputs = {
        "BucketName": {"Value": _ref("Bucket")},
        "Ec2AccessRoleArn": {"Value": {"Fn::GetAtt": ["Ec2AccessRole", "Arn"]}},
        "KinesisAccessRoleArn": {"Value": {"Fn::GetAtt": ["KinesisAccessRole", "Arn"]}},
        **{f"{resource}Name": {"Value": _ref(resource)} for resource in STREAM_RESOURCES.values()},
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (
            f"pinpipe on AWS for user {names.user_id}: bucket, streams, roles and policies "
            f"(pinpipe aws export, pinpipe {__version__})."
        ),
        "Parameters": _cluster_parameters(target),
        "Resources": substitute(resources),
        "Outputs": substitute(outputs),
    }


def api_template(target: AwsTarget) -> Template:
    """The API stack for ``target``: the REST API and its deployment to the stage."""
    stack = target.for_cloudformation()
    names = stack.names
    resources = {
        "RestApi": {
            "Type": "AWS::ApiGateway::RestApi",
            "Properties": {
                "Name": names.rest_api,
                "EndpointConfiguration": {"Types": ["REGIONAL"]},
                "Body": rest_api_definition(stack),
            },
        },
        "Deployment": {
            "Type": "AWS::ApiGateway::Deployment",
            "Properties": {
                "RestApiId": _ref("RestApi"),
                "StageName": _ref("StageName"),
                "Description": f"pinpipe {__version__}",
            },
        },
    }
    outputs = {
        "RestApiId": {"Value": _ref("RestApi")},
        "InvokeUrl": {
            "Description": "The emulators' --api.",
            "Value": "https://${RestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${StageName}",
        },
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (
            f"pinpipe on AWS for user {names.user_id}: the REST API {names.rest_api} "
            f"(deploy after stack {names.stack}; pinpipe {__version__})."
        ),
        "Parameters": _api_parameters(target),
        "Resources": substitute(resources),
        "Outputs": substitute(outputs),
    }


__all__ = ["STREAM_RESOURCES", "api_template", "template"]
