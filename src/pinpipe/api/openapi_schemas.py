"""Component schemas of the OpenAPI document (request and response bodies)."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

JSON = "application/json"
KAFKA_JSON = "application/vnd.kafka.json.v2+json"
KAFKA_BINARY = "application/vnd.kafka.binary.v2+json"
NAME = r"^[a-zA-Z0-9._-]{1,249}$"
STREAM = r"^[a-zA-Z0-9_.-]{1,128}$"
INT = {"type": "integer", "minimum": 0}
STR = {"type": "string"}
ANY: Schema = {}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: tuple[str, ...] = (), /, **properties: Schema) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def array(items: Schema, **limits: int) -> Schema:
    return {"type": "array", "items": items, **limits}


CONSUMER_SETTINGS: dict[str, Schema] = {
    "auto.offset.reset": {"enum": ["earliest", "latest", "smallest", "largest"]},
    "auto.commit.enable": {"enum": [True, False, "true", "false"]},
    "consumer.request.timeout.ms": {"type": "integer", "minimum": 0, "maximum": 30000},
}
PARTITION_KEY: dict[str, Schema] = {
    "partition-key": {"type": "string", "minLength": 1, "maxLength": 256}
}

SCHEMAS: dict[str, Schema] = {
    "KafkaError": obj(("error_code", "message"), error_code={"type": "integer"}, message=STR),
    "KinesisError": obj(("__type", "message"), __type=STR, message=STR),
    "ProduceRecord": obj(
        ("value",), value=ANY, key=ANY, partition={"type": ["integer", "null"], "minimum": 0}
    ),
    "ProduceRequest": obj(("records",), records=array(ref("ProduceRecord"), minItems=1)),
    "ProduceResponse": obj(
        ("offsets", "key_schema_id", "value_schema_id"),
        offsets=array(
            obj(
                ("partition", "offset", "error_code", "error"),
                partition=INT,
                offset=INT,
                error_code={"type": "null"},
                error={"type": "null"},
            )
        ),
        key_schema_id={"type": "null"},
        value_schema_id={"type": "null"},
    ),
    "Topic": obj(
        ("name", "configs", "partitions"),
        name=STR,
        configs={"type": "object"},
        partitions=array(
            obj(
                ("partition", "leader", "replicas"),
                partition=INT,
                leader=INT,
                replicas=array(
                    obj(
                        ("broker", "leader", "in_sync"),
                        broker=INT,
                        leader={"type": "boolean"},
                        in_sync={"type": "boolean"},
                    )
                ),
            )
        ),
    ),
    "CreateConsumerRequest": obj(
        name={"type": "string", "pattern": NAME},
        id={"type": "string", "pattern": NAME},
        format={"enum": ["json", "binary", "JSON", "BINARY"]},
        **CONSUMER_SETTINGS,
    ),
    "ConsumerInstance": obj(("instance_id", "base_uri"), instance_id=STR, base_uri=STR),
    "Subscription": obj(("topics",), topics=array({"type": "string", "pattern": NAME}, minItems=1)),
    "Subscribed": obj(("topics",), topics=array(STR)),
    "ConsumerRecord": obj(
        ("topic", "key", "value", "partition", "offset"),
        topic=STR,
        key=ANY,
        value=ANY,
        partition=INT,
        offset=INT,
    ),
    "OffsetCommit": obj(
        ("offsets",),
        offsets=array(
            obj(
                ("topic", "partition", "offset"),
                topic={"type": "string", "pattern": NAME},
                partition=INT,
                offset=INT,
            )
        ),
    ),
    "CommittedOffsets": obj(
        ("offsets",),
        offsets=array(
            obj(
                ("topic", "partition", "offset", "metadata"),
                topic=STR,
                partition=INT,
                offset=INT,
                metadata=STR,
            )
        ),
    ),
    "StreamList": obj(
        ("StreamNames", "HasMoreStreams"),
        StreamNames=array(STR),
        HasMoreStreams={"type": "boolean"},
    ),
    "StreamDescription": obj(
        ("StreamDescription",),
        StreamDescription=obj(
            ("StreamName", "StreamARN", "StreamStatus", "Shards", "HasMoreShards"),
            StreamName=STR,
            StreamARN=STR,
            StreamStatus={"enum": ["ACTIVE"]},
            StreamModeDetails=obj(("StreamMode",), StreamMode=STR),
            Shards=array(
                obj(
                    ("ShardId", "HashKeyRange", "SequenceNumberRange"),
                    ShardId=STR,
                    HashKeyRange=obj(
                        ("StartingHashKey", "EndingHashKey"), StartingHashKey=STR, EndingHashKey=STR
                    ),
                    SequenceNumberRange=obj(
                        ("StartingSequenceNumber",), StartingSequenceNumber=STR
                    ),
                )
            ),
            HasMoreShards={"type": "boolean"},
            RetentionPeriodHours={"type": "integer"},
            EnhancedMonitoring=array({"type": "object"}),
            EncryptionType=STR,
        ),
    ),
    "CreateStream": obj(ShardCount={"type": "integer", "minimum": 1, "maximum": 500}),
    "Empty": {"type": "object", "maxProperties": 0},
    "PutRecord": obj(
        ("Data", "PartitionKey"),
        StreamName=ANY,
        Data=ANY,
        PartitionKey={"type": "string", "minLength": 1, "maxLength": 256},
    ),
    "PutRecordResult": obj(("SequenceNumber", "ShardId"), SequenceNumber=STR, ShardId=STR),
    "PutRecords": obj(
        ("records",),
        records=array(
            obj(
                ("data", "partition-key"),
                data=ANY,
                **PARTITION_KEY,
            ),
            minItems=1,
            maxItems=500,
        ),
    ),
    "PutRecordsResult": obj(
        ("FailedRecordCount", "Records"),
        FailedRecordCount={"type": "integer"},
        Records=array(ref("PutRecordResult")),
    ),
    "ShardIterator": obj(("ShardIterator",), ShardIterator=STR),
    "GetRecordsResult": obj(
        ("Records", "NextShardIterator", "MillisBehindLatest"),
        Records=array(
            obj(
                ("Data", "PartitionKey", "SequenceNumber", "ApproximateArrivalTimestamp"),
                Data={"type": "string", "contentEncoding": "base64"},
                PartitionKey=STR,
                SequenceNumber=STR,
                ApproximateArrivalTimestamp={"type": "number"},
            )
        ),
        NextShardIterator=STR,
        MillisBehindLatest={"type": "integer", "minimum": 0},
    ),
    "Health": obj(("status",), status={"enum": ["ok", "starting"]}),
}
