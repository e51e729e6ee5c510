"""rest-json (SageMaker Runtime, and Lambda / API Gateway / Lex for the rarer traits) against botocore."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from starlette.datastructures import Headers
from test_protocols_harness import (
    REQUEST_ID,
    client,
    client_call,
    parse_request,
    respond,
    wire_request,
    without_metadata,
)

from shipyard.aws.models import operation_model, service_model
from shipyard.aws.protocols import codec_for
from shipyard.aws.wire import WireRequest
from shipyard.errors import AwsError

RUNTIME = service_model("sagemaker-runtime")
CODEC = codec_for(RUNTIME)
WHEN = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)

REQUESTS = [
    (
        "sagemaker-runtime",
        "InvokeEndpoint",
        {
            "EndpointName": "xgb-endpoint",
            "Body": b"1.0,2.0,3.0\n",
            "ContentType": "text/csv",
            "Accept": "application/json",
            "CustomAttributes": "trace=1,x=2",
            "TargetVariant": "variant-1",
            "InferenceId": "id-1",
        },
    ),
    ("sagemaker-runtime", "InvokeEndpoint", {"EndpointName": "e", "Body": b""}),
    (
        "sagemaker-runtime",
        "InvokeEndpointAsync",
        {
            "EndpointName": "e",
            "InputLocation": "s3://b/in.csv",
            "RequestTTLSeconds": 600,
            "InvocationTimeoutSeconds": 60,
        },
    ),
    (
        "lambda",
        "Invoke",
        {
            "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "Payload": b'{"a": 1}',
            "LogType": "Tail",
        },
    ),
    (
        "lambda",
        "UntagResource",
        {"Resource": "arn:aws:lambda:us-east-1:1:function:f", "TagKeys": ["a", "b,c", "d e"]},
    ),
    (
        "lambda",
        "CreateFunction",
        {
            "FunctionName": "f",
            "Runtime": "python3.12",
            "Role": "arn:aws:iam::1:role/r",
            "Handler": "app.handler",
            "Code": {"ZipFile": b"PK\x03\x04binary"},
            "Environment": {"Variables": {"A": "1"}},
            "Timeout": 30,
            "Publish": True,
            "Tags": {"team": "ml"},
        },
    ),
    (
        "lambda",
        "ListDurableExecutionsByFunction",
        {"FunctionName": "f", "StartedAfter": WHEN, "Statuses": ["RUNNING", "SUCCEEDED"]},
    ),
    (
        "apigateway",
        "ImportRestApi",
        {"body": b"{}", "parameters": {"endpointConfigurationTypes": "REGIONAL"}, "failOnWarnings": True},
    ),
    (
        "lex-runtime",
        "PostContent",
        {
            "botName": "bot",
            "botAlias": "prod",
            "userId": "user-1",
            "contentType": "text/plain; charset=utf-8",
            "sessionAttributes": {"k": "v", "n": [1, 2]},
            "inputStream": b"hello",
        },
    ),
]


@pytest.mark.parametrize(
    ("service", "operation", "params"), REQUESTS, ids=[f"{s}.{o}" for s, o, _ in REQUESTS]
)
def test_boto3_requests_parse_back(service: str, operation: str, params: dict[str, Any]) -> None:
    resolved, parsed = parse_request(service, operation, params)
    assert resolved.name == operation
    params = dict(params)
    if "inputStream" in params:  # a streaming payload arrives as the request stream, unread
        assert parsed.pop("inputStream").data == params.pop("inputStream")
    assert parsed == params


@pytest.mark.parametrize("name", ["ep-1", "a b", "x%2Fy", "ünï"])
def test_non_greedy_labels_are_decoded_once(name: str) -> None:
    request = WireRequest(
        "POST", f"/endpoints/{name}/invocations", f"/endpoints/{name}/invocations", [], Headers({}), b""
    )
    from urllib.parse import quote, unquote

    request.raw_path = f"/endpoints/{quote(name, safe='%')}/invocations"
    request.path = unquote(request.raw_path)
    operation, path_params = CODEC.resolve_operation(RUNTIME, request)
    assert operation.name == "InvokeEndpoint"
    assert path_params == {"EndpointName": unquote(quote(name, safe="%"))}


def test_encoded_slash_stays_in_its_label() -> None:
    request = WireRequest(
        "POST", "/endpoints/a%2Fb/invocations", "/endpoints/a/b/invocations", [], Headers({}), b""
    )
    assert CODEC.resolve_operation(RUNTIME, request)[1] == {"EndpointName": "a/b"}


def test_unknown_route_is_404() -> None:
    request = WireRequest("GET", "/endpoints/e/invocations", "/endpoints/e/invocations", [], Headers({}), b"")
    with pytest.raises(AwsError) as caught:
        CODEC.resolve_operation(RUNTIME, request)
    assert (caught.value.code, caught.value.status) == ("UnknownOperationException", 404)


def test_bad_json_body_is_a_serialization_exception() -> None:
    request = WireRequest("POST", "/2015-03-31/functions", "/2015-03-31/functions", [], Headers({}), b"{nope")
    lam = service_model("lambda")
    codec = codec_for(lam)
    operation, path_params = codec.resolve_operation(lam, request)
    with pytest.raises(AwsError) as caught:
        codec.parse(operation, request, path_params)
    assert (caught.value.code, caught.value.status) == ("SerializationException", 400)


def test_header_list_with_quotes_and_commas() -> None:
    s3_request = wire_request(
        "s3", "GetObjectAttributes", {"Bucket": "b", "Key": "k", "ObjectAttributes": ["ETag"]}
    )
    s3_request.headers = Headers({"x-amz-object-attributes": 'ETag, "Object,Size", "say \\"hi\\""'})
    s3 = service_model("s3")
    parsed = codec_for(s3).parse(
        operation_model("s3", "GetObjectAttributes"), s3_request, {"Bucket": "b", "Key": "k"}
    )
    assert parsed["ObjectAttributes"] == ["ETag", "Object,Size", 'say "hi"']


# -- responses ----------------------------------------------------------------------


def test_invoke_endpoint_answer() -> None:
    output = {
        "Body": b'{"predictions": [0.5]}',
        "ContentType": "application/json",
        "InvokedProductionVariant": "v1",
        "CustomAttributes": "c",
    }
    response = respond("sagemaker-runtime", "InvokeEndpoint", output)
    assert response.body == output["Body"]
    assert response.header("Content-Type") == "application/json"
    assert response.header("x-amzn-RequestId") == REQUEST_ID
    parsed = client_call("sagemaker-runtime", "InvokeEndpoint", {"EndpointName": "e", "Body": b"x"}, response)
    assert parsed["Body"].read() == output["Body"]
    assert {k: parsed[k] for k in output if k != "Body"} == {k: v for k, v in output.items() if k != "Body"}


ANSWERS = [
    (
        "sagemaker-runtime",
        "InvokeEndpointAsync",
        {"EndpointName": "e", "InputLocation": "s3://b/k"},
        {"InferenceId": "i", "OutputLocation": "s3://b/o", "FailureLocation": "s3://b/f"},
    ),
    (
        "lambda",
        "GetFunctionConfiguration",
        {"FunctionName": "f"},
        {
            "FunctionName": "f",
            "Timeout": 3,
            "MemorySize": 128,
            "Environment": {"Variables": {"A": "1"}},
            "LastModified": "2026-11-23T10:00:00.000+0000",
        },
    ),
    (
        "lambda",
        "Invoke",
        {"FunctionName": "f"},
        {"StatusCode": 202, "FunctionError": "Unhandled", "LogResult": "bG9n", "ExecutedVersion": "$LATEST"},
    ),
    (
        "lex-runtime",
        "PostContent",
        {"botName": "b", "botAlias": "a", "userId": "u1", "contentType": "text/plain", "inputStream": b"hi"},
        {"slots": {"city": "Paris"}, "sessionAttributes": {"a": [1]}, "dialogState": "Fulfilled"},
    ),
]


@pytest.mark.parametrize(
    ("service", "operation", "params", "output"), ANSWERS, ids=[f"{s}.{o}" for s, o, _, _ in ANSWERS]
)
def test_answers_read_back_by_boto3(
    service: str, operation: str, params: dict[str, Any], output: dict[str, Any]
) -> None:
    response = respond(service, operation, output)
    parsed = without_metadata(client_call(service, operation, params, response))
    parsed.pop("audioStream", None)  # lex: an empty streamed payload
    parsed.pop("Payload", None)  # lambda: likewise
    assert parsed == output


def test_status_code_member_sets_the_status() -> None:
    response = respond("lambda", "Invoke", {"StatusCode": 202, "Payload": b""})
    assert response.status == 202


def test_lambda_create_function_answer_has_json_body() -> None:
    response = respond(
        "lambda", "CreateFunction", {"FunctionName": "f", "CodeSize": 10, "Architectures": ["x86_64"]}
    )
    assert response.status == 201
    assert response.header("Content-Type") == "application/json"
    assert json.loads(response.body) == {"FunctionName": "f", "CodeSize": 10, "Architectures": ["x86_64"]}  # type: ignore[arg-type]


# -- errors -------------------------------------------------------------------------


def test_model_error_with_typed_fields() -> None:
    error = AwsError(
        "ModelError",
        "Received server error (500) from primary",
        424,
        fields={"OriginalStatusCode": "500", "OriginalMessage": "boom", "LogStreamArn": "arn:aws:logs:x"},
    )
    response = CODEC.serialize_error(
        RUNTIME, operation_model("sagemaker-runtime", "InvokeEndpoint"), error, REQUEST_ID
    )
    assert response.status == 424
    assert response.header("X-Amzn-ErrorType") == "ModelError"
    assert json.loads(response.body)["OriginalStatusCode"] == 500  # type: ignore[arg-type]
    with pytest.raises(client("sagemaker-runtime").exceptions.ModelError) as caught:
        client_call("sagemaker-runtime", "InvokeEndpoint", {"EndpointName": "e", "Body": b"x"}, response)
    assert caught.value.response["Error"]["Message"] == "Received server error (500) from primary"
    assert caught.value.response["OriginalStatusCode"] == 500
    assert caught.value.response["OriginalMessage"] == "boom"


def test_validation_error() -> None:
    error = AwsError("ValidationError", "Endpoint e of account 1 not found.", 400)
    response = CODEC.serialize_error(RUNTIME, None, error, REQUEST_ID)
    with pytest.raises(client("sagemaker-runtime").exceptions.ValidationError):
        client_call("sagemaker-runtime", "InvokeEndpoint", {"EndpointName": "e", "Body": b"x"}, response)


def test_unmodelled_error_and_head() -> None:
    error = AwsError("ThrottlingException", "slow down", 400)
    response = CODEC.serialize_error(RUNTIME, None, error, REQUEST_ID)
    with pytest.raises(ClientError) as caught:
        client_call("sagemaker-runtime", "InvokeEndpoint", {"EndpointName": "e", "Body": b"x"}, response)
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert CODEC.serialize_error(RUNTIME, None, error, REQUEST_ID, method="HEAD").body == b""
