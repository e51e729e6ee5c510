"""query (IAM, STS, SNS, SimpleDB) against botocore."""

from __future__ import annotations

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
from shipyard.aws.protocols import codec_for, codec_for_request
from shipyard.aws.wire import WireRequest
from shipyard.errors import AwsError

IAM = service_model("iam")
CODEC = codec_for(IAM)
WHEN = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)

REQUESTS = [
    (
        "iam",
        "CreateUser",
        {
            "UserName": "ada",
            "Path": "/ml/",
            "Tags": [{"Key": "team", "Value": "ml"}, {"Key": "x", "Value": ""}],
        },
    ),
    ("iam", "ListUsers", {}),
    ("iam", "ListUsers", {"PathPrefix": "/ml/", "MaxItems": 10, "Marker": "m"}),
    ("iam", "GetUser", {"UserName": "ada"}),
    (
        "iam",
        "CreateRole",
        {
            "RoleName": "r",
            "AssumeRolePolicyDocument": '{"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}',
            "MaxSessionDuration": 3600,
        },
    ),
    (
        "iam",
        "UpdateOpenIDConnectProviderThumbprint",
        {"OpenIDConnectProviderArn": "arn:aws:iam::1:oidc-provider/x", "ThumbprintList": []},
    ),
    ("iam", "UploadSSHPublicKey", {"UserName": "u", "SSHPublicKeyBody": "ssh-rsa AAA+/= a&b=c"}),
    ("sts", "GetCallerIdentity", {}),
    (
        "sts",
        "AssumeRole",
        {
            "RoleArn": "arn:aws:iam::123456789012:role/r",
            "RoleSessionName": "sess",
            "DurationSeconds": 900,
            "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
            "Tags": [{"Key": "k", "Value": "v"}],
            "TransitiveTagKeys": ["k"],
        },
    ),
    (
        "sns",
        "CreateTopic",
        {
            "Name": "t",
            "Attributes": {"DisplayName": "x", "Policy": "{}"},
            "Tags": [{"Key": "k", "Value": "v"}],
        },
    ),
    (
        "sns",
        "Publish",
        {
            "TopicArn": "arn:aws:sns:us-east-1:1:t",
            "Message": "hi",
            "MessageAttributes": {"n": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}},
        },
    ),
    (
        "sdb",
        "PutAttributes",
        {
            "DomainName": "d",
            "ItemName": "i",
            "Attributes": [{"Name": "a", "Value": "1", "Replace": True}, {"Name": "b", "Value": "2"}],
        },
    ),
    (
        "sdb",
        "GetAttributes",
        {"DomainName": "d", "ItemName": "i", "AttributeNames": ["a", "b"], "ConsistentRead": True},
    ),
]


@pytest.mark.parametrize(
    ("service", "operation", "params"), REQUESTS, ids=[f"{s}.{o}" for s, o, _ in REQUESTS]
)
def test_boto3_requests_parse_back(service: str, operation: str, params: dict[str, Any]) -> None:
    resolved, parsed = parse_request(service, operation, params)
    assert resolved.name == operation
    assert parsed == params


def _form(body: str, query: list[tuple[str, str]] | None = None) -> WireRequest:
    return WireRequest(
        "POST",
        "/",
        "/",
        query or [],
        Headers({"content-type": "application/x-www-form-urlencoded"}),
        body.encode(),
    )


def test_get_with_query_string_works_too() -> None:
    request = WireRequest(
        "GET", "/", "/", [("Action", "GetUser"), ("Version", "2010-05-08"), ("UserName", "bo")], Headers({})
    )
    assert codec_for_request(IAM, request) is CODEC
    operation, params = CODEC.resolve_operation(IAM, request)
    assert CODEC.parse(operation, request, params) == {"UserName": "bo"}


def test_unknown_and_missing_action() -> None:
    with pytest.raises(AwsError) as caught:
        CODEC.resolve_operation(IAM, _form("Action=Nope&Version=2010-05-08"))
    assert (caught.value.code, caught.value.status) == ("InvalidAction", 400)
    with pytest.raises(AwsError) as caught:
        CODEC.resolve_operation(IAM, _form("Version=2010-05-08"))
    assert caught.value.code == "MissingAction"


def test_bad_scalar_is_a_validation_error() -> None:
    request = _form("Action=ListUsers&Version=2010-05-08&MaxItems=ten")
    with pytest.raises(AwsError) as caught:
        CODEC.parse(operation_model("iam", "ListUsers"), request, {})
    assert (caught.value.code, caught.value.status) == ("ValidationError", 400)


def test_list_items_follow_their_numbers_not_their_order() -> None:
    request = _form(
        "Action=TagUser&UserName=u&Tags.member.2.Key=b&Tags.member.2.Value=2&Tags.member.1.Key=a&Tags.member.1.Value=1"
    )
    assert CODEC.parse(operation_model("iam", "TagUser"), request, {}) == {
        "UserName": "u",
        "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
    }


# -- responses ----------------------------------------------------------------------

USER = {
    "Path": "/",
    "UserName": "ada",
    "UserId": "AIDAEXAMPLE",
    "Arn": "arn:aws:iam::123456789012:user/ada",
    "CreateDate": WHEN,
}

ANSWERS = [
    ("iam", "CreateUser", {"UserName": "ada"}, {"User": dict(USER, Tags=[{"Key": "a", "Value": "b"}])}),
    ("iam", "GetUser", {}, {"User": dict(USER, PasswordLastUsed=WHEN)}),
    (
        "iam",
        "ListUsers",
        {},
        {"Users": [USER, dict(USER, UserName="bo")], "IsTruncated": True, "Marker": "m"},
    ),
    ("iam", "ListUsers", {}, {"Users": [], "IsTruncated": False}),
    ("iam", "DeleteUser", {"UserName": "ada"}, {}),
    (
        "sts",
        "GetCallerIdentity",
        {},
        {"UserId": "AIDA", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/ada"},
    ),
    (
        "sts",
        "AssumeRole",
        {"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "sess"},
        {
            "Credentials": {
                "AccessKeyId": "ASIA",
                "SecretAccessKey": "secret",
                "SessionToken": "token",
                "Expiration": datetime(2026, 11, 23, 11, 0, 0, 123000, tzinfo=UTC),
            },
            "AssumedRoleUser": {
                "AssumedRoleId": "AROA:s",
                "Arn": "arn:aws:sts::123456789012:assumed-role/r/s",
            },
            "PackedPolicySize": 6,
        },
    ),
    (
        "sns",
        "GetTopicAttributes",
        {"TopicArn": "arn:aws:sns:us-east-1:1:t"},
        {"Attributes": {"Owner": "1", "Policy": '{"a": 1}'}},
    ),
    (
        "sdb",
        "GetAttributes",
        {"DomainName": "d", "ItemName": "i"},
        {"Attributes": [{"Name": "a", "Value": "1"}, {"Name": "b", "Value": "<&>"}]},
    ),
]


@pytest.mark.parametrize(
    ("service", "operation", "params", "output"), ANSWERS, ids=[f"{s}.{o}" for s, o, _, _ in ANSWERS]
)
def test_answers_read_back_by_boto3(
    service: str, operation: str, params: dict[str, Any], output: dict[str, Any]
) -> None:
    response = respond(service, operation, output)
    assert response.header("Content-Type") == "text/xml"
    parsed = client_call(service, operation, params, response)
    assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID
    assert without_metadata(parsed) == output


def test_answer_document_layout() -> None:
    body = respond("iam", "ListUsers", {"Users": [USER], "IsTruncated": False}).body.decode()  # type: ignore[union-attr]
    assert body == (
        '<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListUsersResult>'
        "<Users><member><Path>/</Path><UserName>ada</UserName><UserId>AIDAEXAMPLE</UserId>"
        "<Arn>arn:aws:iam::123456789012:user/ada</Arn><CreateDate>2026-11-23T10:00:00.000Z</CreateDate></member></Users>"
        "<IsTruncated>false</IsTruncated></ListUsersResult>"
        f"<ResponseMetadata><RequestId>{REQUEST_ID}</RequestId></ResponseMetadata></ListUsersResponse>"
    )
    body = respond("iam", "DeleteUser", {}).body.decode()  # type: ignore[union-attr]
    assert body == (
        '<DeleteUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        f"<ResponseMetadata><RequestId>{REQUEST_ID}</RequestId></ResponseMetadata></DeleteUserResponse>"
    )


# -- errors -------------------------------------------------------------------------


def test_no_such_entity_is_the_modelled_exception() -> None:
    error = AwsError("NoSuchEntity", "The user with name ada cannot be found.", 404)
    response = CODEC.serialize_error(IAM, operation_model("iam", "GetUser"), error, REQUEST_ID)
    assert response.status == 404
    assert (
        response.body
        == (
            '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
            "<Code>NoSuchEntity</Code><Message>The user with name ada cannot be found.</Message></Error>"
            f"<RequestId>{REQUEST_ID}</RequestId></ErrorResponse>"
        ).encode()
    )
    with pytest.raises(client("iam").exceptions.NoSuchEntityException) as caught:
        client_call("iam", "GetUser", {"UserName": "ada"}, response)
    assert caught.value.response["Error"] == {
        "Type": "Sender",
        "Code": "NoSuchEntity",
        "Message": "The user with name ada cannot be found.",
    }
    assert caught.value.response["ResponseMetadata"]["RequestId"] == REQUEST_ID


def test_receiver_fault_and_extra_headers() -> None:
    error = AwsError("ServiceFailure", "boom", 500, sender_fault=False, headers={"Retry-After": "1"})
    response = CODEC.serialize_error(IAM, None, error, REQUEST_ID)
    assert response.header("Retry-After") == "1"
    with pytest.raises(client("iam").exceptions.ServiceFailureException) as caught:
        client_call("iam", "ListUsers", {}, response)
    assert caught.value.response["Error"]["Type"] == "Receiver"


def test_sts_expired_token() -> None:
    sts = service_model("sts")
    error = AwsError("ExpiredTokenException", "The security token included in the request is expired", 400)
    response = codec_for(sts).serialize_error(sts, None, error, REQUEST_ID)
    with pytest.raises(client("sts").exceptions.ExpiredTokenException):
        client_call("sts", "GetCallerIdentity", {}, response)


def test_unmodelled_code_still_reaches_boto3() -> None:
    response = CODEC.serialize_error(
        IAM, None, AwsError("AccessDenied", "User: x is not authorized", 403), REQUEST_ID
    )
    with pytest.raises(ClientError) as caught:
        client_call("iam", "ListUsers", {}, response)
    assert caught.value.response["Error"]["Code"] == "AccessDenied"


def test_request_is_form_encoded_by_botocore() -> None:
    assert wire_request("iam", "ListUsers", {}).body == b"Action=ListUsers&Version=2010-05-08"
