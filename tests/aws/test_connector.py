"""The MSK Connect files: the course's connector configuration, and the CreateConnector and
CreateCustomPlugin bodies checked against MSK Connect's API model as botocore ships it (the
same validation boto3 runs before sending a request)."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from pinpipe.aws import AwsExport, AwsOptions, AwsTarget
from pinpipe.aws.connector import (
    client_properties,
    connector_configuration,
    create_connector_request,
)
from pinpipe.config import Settings
from tests.aws.conftest import ACCOUNT, read


def course_connector(uid: str) -> list[str]:
    """SPEC §3.3, verbatim (the same text in more than eight of the course's repositories)."""
    return f"""\
connector.class=io.confluent.connect.s3.S3SinkConnector
s3.region=us-east-1
flush.size=1
schema.compatibility=NONE
tasks.max=3
topics.regex={uid}.*
format.class=io.confluent.connect.s3.format.json.JsonFormat
partitioner.class=io.confluent.connect.storage.partitioner.DefaultPartitioner
value.converter.schemas.enable=false
value.converter=org.apache.kafka.connect.json.JsonConverter
storage.class=io.confluent.connect.s3.storage.S3Storage
key.converter=org.apache.kafka.connect.storage.StringConverter
s3.bucket.name=user-{uid}-bucket""".splitlines()


def validate(operation: str, params: dict[str, Any]) -> None:
    model = botocore.session.get_session().get_service_model("kafkaconnect")
    shape = model.operation_model(operation).input_shape
    assert shape is not None
    report = ParamValidator().validate(params, shape)
    assert not report.has_errors(), report.generate_report()


def test_connector_properties_are_the_courses(exported: AwsExport, uid: str) -> None:
    lines = read(exported, "msk-connect/connector.properties").splitlines()
    assert lines[0].startswith("#")
    assert lines[1:] == course_connector(uid)


def test_create_connector_matches_the_api_model(exported: AwsExport, uid: str) -> None:
    request = json.loads(read(exported, "msk-connect/create-connector.json"))
    validate("CreateConnector", request)
    assert request["connectorName"] == f"{uid}-connector"
    assert request["capacity"] == {"provisionedCapacity": {"mcuCount": 1, "workerCount": 1}}
    assert request["serviceExecutionRoleArn"] == (
        f"arn:aws:iam::{ACCOUNT}:role/{uid}-ec2-access-role"
    )
    plugin = request["plugins"][0]["customPlugin"]["customPluginArn"]
    assert plugin.startswith(
        f"arn:aws:kafkaconnect:us-east-1:{ACCOUNT}:custom-plugin/{uid}-plugin/"
    )
    assert (
        ":worker-configuration/confluent-worker/"
        in (request["workerConfiguration"]["workerConfigurationArn"])
    )
    assert request["kafkaClusterClientAuthentication"] == {"authenticationType": "IAM"}
    assert request["kafkaClusterEncryptionInTransit"] == {"encryptionType": "TLS"}
    properties = [f"{k}={v}" for k, v in request["connectorConfiguration"].items()]
    assert properties == course_connector(uid)


def test_create_custom_plugin_matches_the_api_model(exported: AwsExport, uid: str) -> None:
    request = json.loads(read(exported, "msk-connect/create-custom-plugin.json"))
    validate("CreateCustomPlugin", request)
    assert request["name"] == f"{uid}-plugin"
    assert request["location"]["s3Location"] == {
        "bucketArn": f"arn:aws:s3:::user-{uid}-bucket",
        "fileKey": "kafka-connect-s3/confluentinc-kafka-connect-s3-10.0.3.zip",
    }


def test_the_validation_catches_a_wrong_body() -> None:
    with pytest.raises(AssertionError, match="mcuCount"):
        validate(
            "CreateConnector",
            {"capacity": {"provisionedCapacity": {"mcuCount": "one", "workerCount": 1}}},
        )


def test_client_properties_are_the_courses(target: AwsTarget, uid: str) -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/{uid}-ec2-access-role"
    lines = [line for line in client_properties(target).splitlines() if not line.startswith("#")]
    assert lines == [  # SPEC §3.1
        "security.protocol = SASL_SSL",
        "sasl.mechanism = AWS_MSK_IAM",
        "sasl.jaas.config = software.amazon.msk.auth.iam.IAMLoginModule required "
        f'awsRoleArn="{role}";',
        "sasl.client.callback.handler.class = "
        "software.amazon.msk.auth.iam.IAMClientCallbackHandler",
    ]
    rest = read_rest(target)
    assert [line.removeprefix("client.") for line in rest[1:]] == lines
    assert rest[0] == f"bootstrap.servers={target.bootstrap_servers}"


def read_rest(target: AwsTarget) -> list[str]:
    from pinpipe.aws.connector import rest_proxy_properties

    return [l for l in rest_proxy_properties(target).splitlines() if not l.startswith("#")]  # noqa: E741


@pytest.mark.parametrize(
    ("security", "bootstrap", "auth", "encryption"),
    [
        ("msk-iam", "b-1.msk:9098,b-2.msk:9098", "IAM", "TLS"),
        ("plaintext", "b-1.msk:9098,b-2.msk:9098", "NONE", "PLAINTEXT"),
        ("ssl", "b-1.msk:9098,b-2.msk:9098", "NONE", "TLS"),
        ("sasl-ssl", "<msk-iam-bootstrap-servers>", "IAM", "TLS"),  # MSK Connect has no SCRAM
    ],
)
def test_cluster_follows_the_kafka_settings(
    security: str, bootstrap: str, auth: str, encryption: str
) -> None:
    settings = Settings(
        broker_url="kafka://b-1.msk:9098,b-2.msk:9098", kafka={"security": security}
    )
    request = create_connector_request(AwsTarget.build(settings))
    validate("CreateConnector", request)
    assert request["kafkaCluster"]["apacheKafkaCluster"]["bootstrapServers"] == bootstrap
    assert request["kafkaClusterClientAuthentication"]["authenticationType"] == auth
    assert request["kafkaClusterEncryptionInTransit"]["encryptionType"] == encryption


def test_a_lake_prefix_moves_the_connectors_topics_dir() -> None:
    settings = Settings(lake_url="s3://my-lake/pinpipe/prod", kafka={"region": "eu-west-2"})
    config = connector_configuration(AwsTarget.build(settings))
    assert config["s3.bucket.name"] == "my-lake"
    assert config["topics.dir"] == "pinpipe/prod/topics"
    assert config["s3.region"] == "eu-west-2"


def test_options_fill_the_vpc_and_region() -> None:
    target = AwsTarget.build(
        Settings(streams_url="kinesis://eu-central-1"),
        AwsOptions(subnets=("subnet-1", "subnet-2"), security_groups=("sg-1",)),
    )
    request = create_connector_request(target)
    vpc = request["kafkaCluster"]["apacheKafkaCluster"]["vpc"]
    assert vpc == {"subnets": ["subnet-1", "subnet-2"], "securityGroups": ["sg-1"]}
    assert request["connectorConfiguration"]["s3.region"] == "eu-central-1"
