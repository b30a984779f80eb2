"""MSK Connect: the course's S3 sink connector (SPEC §3.3) and the Kafka client files of the
EC2 instance (SPEC §3.1-3.2), with every name from :mod:`pinpipe.naming`.

* ``connector.properties``: the connector configuration, key for key and in the order the
  course writes it; ``topics.dir`` is added only when ``lake_url`` has a prefix (pinpipe's
  batch job reads ``<lake>/topics/``, and the course's bucket root is the default).
* ``create-custom-plugin.json`` and ``create-connector.json``: the bodies of MSK Connect's
  CreateCustomPlugin and CreateConnector calls (``aws kafkaconnect … --cli-input-json``).
* ``client.properties`` and ``kafka-rest.properties``: the IAM client settings of the course's
  Kafka client and REST Proxy (only meaningful with IAM authentication).
"""

from __future__ import annotations

from typing import Any

from pinpipe.aws.target import (
    CONNECTOR_ZIP,
    CONNECTOR_ZIP_KEY,
    WORKER_CONFIGURATION,
    AwsTarget,
)

#: MSK Connect's Apache Kafka Connect version (the one the course's connector ran on).
KAFKA_CONNECT_VERSION = "2.7.1"
#: Capacity of the course's connector: provisioned, 1 MCU per worker, 1 worker.
CAPACITY = {"provisionedCapacity": {"mcuCount": 1, "workerCount": 1}}

_IAM_CLIENT = (
    ("security.protocol", "SASL_SSL"),
    ("sasl.mechanism", "AWS_MSK_IAM"),
    ("sasl.jaas.config", "software.amazon.msk.auth.iam.IAMLoginModule required awsRoleArn={};"),
    (
        "sasl.client.callback.handler.class",
        "software.amazon.msk.auth.iam.IAMClientCallbackHandler",
    ),
)


def connector_configuration(target: AwsTarget) -> dict[str, str]:
    """The S3 sink connector's configuration, in the course's order (SPEC §3.3)."""
    config = {
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "s3.region": target.region,
        "flush.size": "1",
        "schema.compatibility": "NONE",
        "tasks.max": "3",
        "topics.regex": target.names.connector_topics_regex,
        "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
        "partitioner.class": "io.confluent.connect.storage.partitioner.DefaultPartitioner",
        "value.converter.schemas.enable": "false",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "s3.bucket.name": target.bucket,
    }
    if target.lake_prefix:
        config["topics.dir"] = f"{target.lake_prefix}topics"
    return config


def connector_properties(target: AwsTarget) -> str:
    lines = [
        f"# MSK Connect S3 sink connector {target.names.connector} (SPEC §3.3), "
        "written by pinpipe aws export.",
        *(f"{key}={value}" for key, value in connector_configuration(target).items()),
    ]
    return "\n".join(lines) + "\n"


def create_custom_plugin_request(target: AwsTarget) -> dict[str, Any]:
    """CreateCustomPlugin: the Confluent S3 sink zip in the bucket, named ``<uid>-plugin``."""
    return {
        "name": target.names.connect_plugin,
        "description": f"Confluent S3 sink connector for {target.names.connector}",
        "contentType": "ZIP",
        "location": {"s3Location": {"bucketArn": target.bucket_arn, "fileKey": CONNECTOR_ZIP_KEY}},
    }


def create_connector_request(target: AwsTarget) -> dict[str, Any]:
    """CreateConnector: the course's connector, its capacity, cluster, plugin and role."""
    names = target.names
    return {
        "connectorName": names.connector,
        "connectorDescription": (
            f"Topics {', '.join(names.topics)} to s3://{target.bucket}/"
            f"{target.lake_prefix}topics/ (pinpipe aws export)"
        ),
        "kafkaConnectVersion": KAFKA_CONNECT_VERSION,
        "capacity": CAPACITY,
        "connectorConfiguration": connector_configuration(target),
        "kafkaCluster": {
            "apacheKafkaCluster": {
                "bootstrapServers": target.bootstrap_servers,
                "vpc": {
                    "subnets": list(target.subnets),
                    "securityGroups": list(target.security_groups),
                },
            }
        },
        "kafkaClusterClientAuthentication": {"authenticationType": target.client_auth},
        "kafkaClusterEncryptionInTransit": {"encryptionType": target.encryption},
        "plugins": [
            {
                "customPlugin": {
                    "customPluginArn": target.kafkaconnect_arn(
                        "custom-plugin", names.connect_plugin, "<custom-plugin-id>"
                    ),
                    "revision": 1,
                }
            }
        ],
        "serviceExecutionRoleArn": target.role_arn(names.ec2_access_role),
        "workerConfiguration": {
            "workerConfigurationArn": target.kafkaconnect_arn(
                "worker-configuration", WORKER_CONFIGURATION, "<worker-configuration-id>"
            ),
            "revision": 1,
        },
    }


def client_properties(target: AwsTarget) -> str:
    """The course's ``kafka_2.12-2.8.1/bin/client.properties`` (SPEC §3.1)."""
    role = f'"{target.role_arn(target.names.ec2_access_role)}"'
    lines = [
        "# Kafka client (kafka-topics.sh, kafka-console-consumer.sh) on the EC2 instance;",
        "# needs aws-msk-iam-auth-*-all.jar on the CLASSPATH (SPEC §3.1).",
        *(f"{key} = {value.format(role)}" for key, value in _IAM_CLIENT),
    ]
    return "\n".join(lines) + "\n"


def rest_proxy_properties(target: AwsTarget) -> str:
    """The IAM lines of the course's ``kafka-rest.properties`` (SPEC §3.2)."""
    role = f'"{target.role_arn(target.names.ec2_access_role)}"'
    lines = [
        "# confluent-7.2.0/etc/kafka-rest/kafka-rest.properties on the EC2 instance (SPEC §3.2);",
        "# it listens on port 8082, where API Gateway's {proxy+} resource forwards.",
        f"bootstrap.servers={target.bootstrap_servers}",
        *(f"client.{key} = {value.format(role)}" for key, value in _IAM_CLIENT),
    ]
    return "\n".join(lines) + "\n"


__all__ = [
    "CONNECTOR_ZIP",
    "KAFKA_CONNECT_VERSION",
    "client_properties",
    "connector_configuration",
    "connector_properties",
    "create_connector_request",
    "create_custom_plugin_request",
    "rest_proxy_properties",
]
