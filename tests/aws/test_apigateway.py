"""The API Gateway OpenAPI document: valid OpenAPI 3.0, the course's integrations and mapping
templates (SPEC §4), CORS everywhere, and imported into moto server's API Gateway.

moto's import needs ``uri`` and ``httpMethod`` on every integration, mock ones included; AWS does
not (its own exports of CORS mocks have neither), so the copy imported into moto gets those two
fields on its mock integrations and nothing else (:func:`for_moto`).

One divergence is AWS's, not ours: API Gateway names the greedy path variable of ``/{proxy+}``
``proxy`` (its own exports do, and ``method.request.path.proxy`` needs it), while
openapi-spec-validator reads the template literally and wants a parameter ``proxy+``. The test
checks that this is the only complaint, and validates the document with that one name changed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV30SpecValidator
from openapi_spec_validator.validation.exceptions import UnresolvableParameterError

from pinpipe.aws import AwsExport
from pinpipe.aws.apigateway import TEMPLATES
from tests.aws.conftest import ACCOUNT, REST_PROXY_HOST, read

#: SPEC §4.3, verbatim (ListStreams: RegnixS' version with paging).
COURSE_TEMPLATES = {
    "ListStreams": """{"ExclusiveStartStreamName": #if($input.params('ExclusiveStartStreamName') == '') "-" #else "$input.params('ExclusiveStartStreamName')" #end, "Limit": #if($input.params('Limit') == '') 100 #else $input.params('Limit') #end}""",  # noqa: E501
    "DescribeStream": """{"StreamName": "$input.params('stream-name')"}""",
    "CreateStream": """{"ShardCount": #if($input.path('$.ShardCount') == '') 5 #else $input.path('$.ShardCount') #end, "StreamName": "$input.params('stream-name')"}""",  # noqa: E501
    "DeleteStream": """{"StreamName": "$input.params('stream-name')"}""",
    "PutRecord": """{"StreamName": "$input.params('stream-name')", "Data": "$util.base64Encode($input.json('$.Data'))", "PartitionKey": "$input.path('$.PartitionKey')"}""",  # noqa: E501
    "PutRecords": """{"StreamName": "$input.params('stream-name')", "Records": [ #foreach($elem in $input.path('$.records')) {"Data": "$util.base64Encode($elem.data)", "PartitionKey": "$elem.partition-key"}#if($foreach.hasNext),#end #end ]}""",  # noqa: E501
}
ROUTES = {
    ("/streams", "GET"): "ListStreams",
    ("/streams/{stream-name}", "GET"): "DescribeStream",
    ("/streams/{stream-name}", "POST"): "CreateStream",
    ("/streams/{stream-name}", "DELETE"): "DeleteStream",
    ("/streams/{stream-name}/record", "PUT"): "PutRecord",
    ("/streams/{stream-name}/records", "PUT"): "PutRecords",
}
INTEGRATION = "x-amazon-apigateway-integration"


@pytest.fixture(scope="module")
def document(exported: AwsExport) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(read(exported, "apigateway/openapi.json"))
    return loaded


def test_valid_openapi_but_for_api_gateways_greedy_parameter(document: dict[str, Any]) -> None:
    errors = list(OpenAPIV30SpecValidator(document).iter_errors())
    assert errors, "the validator no longer flags {proxy+}: drop the workaround below"
    for error in errors:
        assert isinstance(error, UnresolvableParameterError), error
        assert "'/{proxy+}'" in str(error) and "'proxy" in str(error)
    as_the_spec_reads_it = copy.deepcopy(document)
    for operation in as_the_spec_reads_it["paths"]["/{proxy+}"].values():
        for parameter in operation["parameters"]:
            parameter["name"] = "proxy+"
    validate(as_the_spec_reads_it)


def test_the_mapping_templates_are_the_courses(document: dict[str, Any]) -> None:
    assert COURSE_TEMPLATES == TEMPLATES
    for (path, method), action in ROUTES.items():
        integration = document["paths"][path][method.lower()][INTEGRATION]
        assert integration["type"] == "aws" and integration["httpMethod"] == "POST"
        assert integration["uri"] == f"arn:aws:apigateway:us-east-1:kinesis:action/{action}"
        assert integration["requestTemplates"] == {"application/json": COURSE_TEMPLATES[action]}
        assert integration["requestParameters"] == {
            "integration.request.header.Content-Type": "'application/x-amz-json-1.1'"
        }
        assert integration["credentials"].startswith(f"arn:aws:iam::{ACCOUNT}:role/")
        assert integration["credentials"].endswith("-kinesis-access-role")


def test_the_proxy_resource_is_the_courses(document: dict[str, Any]) -> None:
    proxy = document["paths"]["/{proxy+}"]
    integration = proxy["x-amazon-apigateway-any-method"][INTEGRATION]
    assert integration == {
        "type": "http_proxy",
        "httpMethod": "ANY",
        "uri": f"http://{REST_PROXY_HOST}:8082/{{proxy}}",
        "requestParameters": {"integration.request.path.proxy": "method.request.path.proxy"},
        "passthroughBehavior": "when_no_match",
        "connectionType": "INTERNET",
        "timeoutInMillis": 29000,
        "responses": {"default": {"statusCode": "200"}},
    }


def test_cors_on_every_resource(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        preflight = item["options"][INTEGRATION]
        assert preflight["type"] == "mock"
        headers = preflight["responses"]["default"]["responseParameters"]
        assert headers["method.response.header.Access-Control-Allow-Origin"] == "'*'"
        allowed = headers["method.response.header.Access-Control-Allow-Methods"].strip("'")
        methods = {m.upper() for m in item if m != "x-amazon-apigateway-any-method"}
        assert methods <= set(allowed.split(",")), path
        for method, operation in item.items():
            if method in ("options", "x-amazon-apigateway-any-method"):
                continue
            for response in operation[INTEGRATION]["responses"].values():
                origin = response["responseParameters"]
                assert origin == {"method.response.header.Access-Control-Allow-Origin": "'*'"}
    assert set(document["x-amazon-apigateway-gateway-responses"]) == {"DEFAULT_4XX", "DEFAULT_5XX"}


@pytest.fixture(scope="module")
def apigateway(moto_endpoint: str) -> Iterator[Any]:
    client = boto3.client("apigateway", region_name="us-east-1", endpoint_url=moto_endpoint)
    yield client
    client.close()


def for_moto(document: dict[str, Any]) -> bytes:
    """The document with ``uri``/``httpMethod`` on mock integrations, which moto's import
    requires (a TypeError inside moto otherwise) and AWS does not."""
    patched = copy.deepcopy(document)
    for item in patched["paths"].values():
        for operation in item.values():
            integration = operation[INTEGRATION]
            if integration["type"] == "mock":
                assert "uri" not in integration and "httpMethod" not in integration
                integration |= {"uri": "", "httpMethod": "OPTIONS"}
    return json.dumps(patched).encode()


@pytest.mark.integration
@pytest.mark.aws
def test_imports_into_api_gateway(document: dict[str, Any], apigateway: Any, uid: str) -> None:
    api = apigateway.import_rest_api(body=for_moto(document), failOnWarnings=False)
    try:
        assert api["name"] == uid
        resources = apigateway.get_resources(restApiId=api["id"], limit=500)["items"]
        by_path = {r["path"]: r for r in resources}
        assert set(by_path) >= {"/", "/{proxy+}", "/streams", *(p for p, _ in ROUTES)}
        for (path, method), action in ROUTES.items():
            integration = apigateway.get_integration(
                restApiId=api["id"], resourceId=by_path[path]["id"], httpMethod=method
            )
            assert integration["type"] == "aws" and integration["httpMethod"] == "POST"
            assert integration["uri"].endswith(f":kinesis:action/{action}")
            assert integration["requestTemplates"]["application/json"] == TEMPLATES[action]
            assert integration["credentials"] == (
                f"arn:aws:iam::{ACCOUNT}:role/{uid}-kinesis-access-role"
            )
            assert set(integration["integrationResponses"]) == {"200", "400", "500"}
            assert "OPTIONS" in by_path[path]["resourceMethods"]
        proxy = by_path["/{proxy+}"]
        # moto files the ANY method under the extension's own name (AWS: ANY).
        any_method = next(m for m in proxy["resourceMethods"] if m != "OPTIONS")
        integration = apigateway.get_integration(
            restApiId=api["id"], resourceId=proxy["id"], httpMethod=any_method
        )
        assert integration["type"] == "http_proxy"
        assert integration["uri"] == f"http://{REST_PROXY_HOST}:8082/{{proxy}}"
        options = apigateway.get_integration(
            restApiId=api["id"], resourceId=proxy["id"], httpMethod="OPTIONS"
        )
        assert options["type"] == "mock"
    finally:
        apigateway.delete_rest_api(restApiId=api["id"])
