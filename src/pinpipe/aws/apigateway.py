"""The course's REST API for API Gateway as an OpenAPI 3.0 document (SPEC §4).

* ``/{proxy+}``: ``ANY`` as an HTTP proxy integration to the Kafka REST Proxy (port 8082 of
  the EC2 client; ``pinpipe api`` serves the same routes), plus the CORS ``OPTIONS`` mock the
  console's "Enable API Gateway CORS" creates (SPEC §4.2).
* ``/streams…``: the six Kinesis AWS-service integrations with the course's mapping templates,
  word for word (SPEC §4.3), run as ``<uid>-kinesis-access-role``; every resource has its CORS
  ``OPTIONS`` mock and every method answers with ``Access-Control-Allow-Origin``. Beyond the
  course, Kinesis' 4xx/5xx map to 400/500 instead of the console's single 200 response.

API Gateway's greedy path variable ``{proxy+}`` is declared as the parameter ``proxy``, as
API Gateway itself exports it; the OpenAPI specification would name it ``proxy+``, which API
Gateway does not map (see tests/aws/test_apigateway.py).

The request and response bodies reuse pinpipe's own OpenAPI schemas
(:mod:`pinpipe.api.openapi_schemas`) where they are plain JSON Schema draft 4, the dialect of
API Gateway models.
"""

from __future__ import annotations

from typing import Any

from pinpipe import __version__
from pinpipe.api.openapi_schemas import SCHEMAS
from pinpipe.aws.target import REST_PROXY_PORT, AwsTarget

Document = dict[str, Any]

#: The integration request header every Kinesis method sets (SPEC §4.3).
KINESIS_CONTENT_TYPE = "'application/x-amz-json-1.1'"

#: The course's mapping templates (SPEC §4.3), by Kinesis action. ListStreams is RegnixS'
#: version with paging, which ``pinpipe api`` also serves.
TEMPLATES: dict[str, str] = {
    "ListStreams": (
        "{\"ExclusiveStartStreamName\": #if($input.params('ExclusiveStartStreamName') == '') "
        '"-" #else "$input.params(\'ExclusiveStartStreamName\')" #end, '
        "\"Limit\": #if($input.params('Limit') == '') 100 #else $input.params('Limit') #end}"
    ),
    "DescribeStream": '{"StreamName": "$input.params(\'stream-name\')"}',
    "CreateStream": (
        "{\"ShardCount\": #if($input.path('$.ShardCount') == '') 5 #else "
        "$input.path('$.ShardCount') #end, \"StreamName\": \"$input.params('stream-name')\"}"
    ),
    "DeleteStream": '{"StreamName": "$input.params(\'stream-name\')"}',
    "PutRecord": (
        '{"StreamName": "$input.params(\'stream-name\')", '
        '"Data": "$util.base64Encode($input.json(\'$.Data\'))", '
        '"PartitionKey": "$input.path(\'$.PartitionKey\')"}'
    ),
    "PutRecords": (
        '{"StreamName": "$input.params(\'stream-name\')", "Records": [ '
        "#foreach($elem in $input.path('$.records')) "
        '{"Data": "$util.base64Encode($elem.data)", '
        '"PartitionKey": "$elem.partition-key"}#if($foreach.hasNext),#end #end ]}'
    ),
}

CORS_HEADERS = "'Content-Type,Authorization,X-Amz-Date,X-Api-Key,X-Amz-Security-Token'"
#: The methods the console allows on the proxy resource (SPEC §4.2, prg48's export).
PROXY_METHODS = "'DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT'"
ALLOW_ORIGIN = "'*'"

#: (path, method, Kinesis action, request schema, response schema, summary)
_KINESIS_ROUTES: tuple[tuple[str, str, str, str | None, str, str], ...] = (
    ("/streams", "get", "ListStreams", None, "StreamList", "List the streams."),
    ("/streams/{stream-name}", "get", "DescribeStream", None, "Empty", "Describe a stream."),
    ("/streams/{stream-name}", "post", "CreateStream", "CreateStream", "Empty", "Create it."),
    ("/streams/{stream-name}", "delete", "DeleteStream", None, "Empty", "Delete it."),
    ("/streams/{stream-name}/record", "put", "PutRecord", "PutRecord", "PutRecordResult", "Put."),
    (
        "/streams/{stream-name}/records",
        "put",
        "PutRecords",
        "PutRecords",
        "PutRecordsResult",
        'Put many: {"records": [{"data": …, "partition-key": …}]}.',
    ),
)
_REUSED_SCHEMAS = ("CreateStream", "PutRecord", "PutRecords", "PutRecordResult", "PutRecordsResult")


def _string(name: str, where: str, *, required: bool) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": {"type": "string"}}


def _path_parameters(path: str) -> list[dict[str, Any]]:
    if "{proxy+}" in path:
        return [_string("proxy", "path", required=True)]
    if "{stream-name}" in path:
        return [_string("stream-name", "path", required=True)]
    return []


def _json_of(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


def _response(description: str, headers: dict[str, Any], schema: str) -> dict[str, Any]:
    return {"description": description, "headers": headers, "content": _json_of(schema)}


def _cors_options(path: str, methods: str) -> dict[str, Any]:
    """The CORS preflight mock of the console's "Enable CORS"."""
    return {
        "summary": "CORS preflight.",
        "parameters": _path_parameters(path),
        "responses": {
            "200": {
                "description": "The CORS headers.",
                "headers": {
                    "Access-Control-Allow-Origin": _header("Allowed origins."),
                    "Access-Control-Allow-Methods": _header("Allowed methods."),
                    "Access-Control-Allow-Headers": _header("Allowed headers."),
                },
                "content": {},
            }
        },
        "x-amazon-apigateway-integration": {
            "type": "mock",
            "requestTemplates": {"application/json": '{"statusCode": 200}'},
            "passthroughBehavior": "when_no_match",
            "responses": {
                "default": {
                    "statusCode": "200",
                    "responseParameters": {
                        "method.response.header.Access-Control-Allow-Methods": methods,
                        "method.response.header.Access-Control-Allow-Headers": CORS_HEADERS,
                        "method.response.header.Access-Control-Allow-Origin": ALLOW_ORIGIN,
                    },
                }
            },
        },
    }


def _proxy_method(target: AwsTarget) -> dict[str, Any]:
    """ANY /{proxy+}: HTTP proxy to the Kafka REST Proxy, passthrough, 29 s (SPEC §4.2)."""
    return {
        "parameters": _path_parameters("/{proxy+}"),
        "x-amazon-apigateway-integration": {
            "type": "http_proxy",
            "httpMethod": "ANY",
            "uri": f"http://{target.rest_proxy_host}:{REST_PROXY_PORT}/{{proxy}}",
            "requestParameters": {"integration.request.path.proxy": "method.request.path.proxy"},
            "passthroughBehavior": "when_no_match",
            "connectionType": "INTERNET",
            "timeoutInMillis": 29000,
            "responses": {"default": {"statusCode": "200"}},
        },
    }


def _kinesis_method(
    target: AwsTarget, path: str, action: str, request: str | None, response: str, summary: str
) -> dict[str, Any]:
    parameters = _path_parameters(path)
    if action == "ListStreams":
        parameters += [
            _string("ExclusiveStartStreamName", "query", required=False),
            _string("Limit", "query", required=False),
        ]
    cors = {"Access-Control-Allow-Origin": _header("Allowed origins.")}
    origin = {"method.response.header.Access-Control-Allow-Origin": ALLOW_ORIGIN}
    method: dict[str, Any] = {
        "operationId": action,
        "summary": f"{summary} (Kinesis {action})",
        "parameters": parameters,
        "responses": {
            "200": _response(f"Kinesis' {action} answer.", cors, response),
            "400": _response("Kinesis rejected the call.", cors, "KinesisError"),
            "500": _response("Kinesis failed.", cors, "KinesisError"),
        },
        "x-amazon-apigateway-integration": {
            "type": "aws",
            "httpMethod": "POST",
            "uri": target.kinesis_action_uri(action),
            "credentials": target.role_arn(target.names.kinesis_access_role),
            "requestParameters": {"integration.request.header.Content-Type": KINESIS_CONTENT_TYPE},
            "requestTemplates": {"application/json": TEMPLATES[action]},
            "passthroughBehavior": "when_no_templates",
            "responses": {
                "default": {"statusCode": "200", "responseParameters": origin},
                "4\\d{2}": {"statusCode": "400", "responseParameters": origin},
                "5\\d{2}": {"statusCode": "500", "responseParameters": origin},
            },
        },
    }
    if request is not None:
        method["requestBody"] = {"required": action != "CreateStream", "content": _json_of(request)}
    return method


def rest_api_definition(target: AwsTarget) -> Document:
    """The OpenAPI 3.0 document to import into API Gateway (or to embed in CloudFormation)."""
    names = target.names
    paths: dict[str, dict[str, Any]] = {
        "/{proxy+}": {
            "options": _cors_options("/{proxy+}", PROXY_METHODS),
            "x-amazon-apigateway-any-method": _proxy_method(target),
        }
    }
    for path, method, action, request, response, summary in _KINESIS_ROUTES:
        paths.setdefault(path, {})[method] = _kinesis_method(
            target, path, action, request, response, summary
        )
    for path, item in paths.items():
        if path != "/{proxy+}":
            allowed = sorted({m.upper() for m in item} | {"OPTIONS"})
            item["options"] = _cors_options(path, "'" + ",".join(allowed) + "'")
    gateway_cors = {
        "responseParameters": {
            "gatewayresponse.header.Access-Control-Allow-Origin": ALLOW_ORIGIN,
            "gatewayresponse.header.Access-Control-Allow-Headers": CORS_HEADERS,
        }
    }
    schemas = {name: SCHEMAS[name] for name in _REUSED_SCHEMAS}
    schemas["KinesisError"] = {
        "type": "object",
        "properties": {"__type": {"type": "string"}, "message": {"type": "string"}},
    }
    schemas["StreamList"] = {
        "type": "object",
        "properties": {
            "StreamNames": {"type": "array", "items": {"type": "string"}},
            "HasMoreStreams": {"type": "boolean"},
        },
    }
    schemas["Empty"] = {"type": "object", "title": "Empty Schema"}
    return {
        "openapi": "3.0.1",
        "info": {
            "title": names.rest_api,
            "version": f"pinpipe-{__version__}",
            "description": (
                f"The Pinterest pipeline's REST API for user {names.user_id} (SPEC §4): "
                f"/{{proxy+}} to the Kafka REST Proxy for topics {', '.join(names.topics)}; "
                f"/streams to Kinesis for {', '.join(names.streams)}. "
                "Written by pinpipe aws export."
            ),
        },
        "paths": paths,
        "components": {"schemas": schemas},
        "x-amazon-apigateway-gateway-responses": {
            "DEFAULT_4XX": gateway_cors,
            "DEFAULT_5XX": gateway_cors,
        },
    }


def invoke_url(api_id: str, target: AwsTarget) -> str:
    """The invoke URL with its stage: the emulators' ``--api``."""
    return f"https://{api_id}.execute-api.{target.region}.amazonaws.com/{target.stage}"


__all__ = ["TEMPLATES", "invoke_url", "rest_api_definition"]
