"""rest-xml (S3) against botocore: what boto3 sends parses back, what we send boto3 reads."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from starlette.datastructures import Headers
from test_protocols_harness import (
    REQUEST_ID,
    ChunkStream,
    body_bytes,
    client,
    client_call,
    parse_request,
    respond,
    wire_request,
    without_metadata,
)

from shipyard.aws.models import operation_model, service_model
from shipyard.aws.protocols import codec_for, codec_for_request
from shipyard.aws.protocols.rest import BytesStream
from shipyard.aws.wire import WireRequest
from shipyard.errors import AwsError

S3 = service_model("s3")
CODEC = codec_for(S3)
WHEN = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)

# Params botocore adds on its own (flexible checksums, Content-Length, checksum mode),
# and the request stream every streaming operation gets.
ADDED = {
    "Body",
    "ChecksumAlgorithm",
    "ChecksumCRC32",
    "ContentLength",
    "ChecksumMode",
    "EncodingType",
    "ContentMD5",
}


def assert_parses_back(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    resolved, parsed = parse_request("s3", operation, params)
    assert resolved.name == operation
    assert {k: v for k, v in parsed.items() if k not in ADDED or k in params} == params
    return parsed


# -- routing ------------------------------------------------------------------------

ROUTED = [
    ("ListBuckets", {}),
    ("CreateBucket", {"Bucket": "b"}),
    ("CreateBucket", {"Bucket": "b", "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}}),
    ("HeadBucket", {"Bucket": "b"}),
    ("DeleteBucket", {"Bucket": "b"}),
    ("ListObjects", {"Bucket": "b", "Prefix": "p/", "Delimiter": "/", "Marker": "m", "MaxKeys": 10}),
    (
        "ListObjectsV2",
        {"Bucket": "b", "Prefix": "p", "ContinuationToken": "t", "StartAfter": "s", "FetchOwner": True},
    ),
    ("ListObjectVersions", {"Bucket": "b", "KeyMarker": "k"}),
    ("GetBucketLocation", {"Bucket": "b"}),
    ("GetBucketVersioning", {"Bucket": "b"}),
    ("PutBucketVersioning", {"Bucket": "b", "VersioningConfiguration": {"Status": "Enabled"}}),
    ("GetBucketTagging", {"Bucket": "b"}),
    ("PutBucketTagging", {"Bucket": "b", "Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}}),
    ("DeleteBucketTagging", {"Bucket": "b"}),
    ("GetBucketPolicy", {"Bucket": "b"}),
    ("PutBucketPolicy", {"Bucket": "b", "Policy": '{"Version": "2012-10-17"}'}),
    ("DeleteBucketPolicy", {"Bucket": "b"}),
    ("GetBucketLifecycleConfiguration", {"Bucket": "b"}),
    ("GetBucketNotificationConfiguration", {"Bucket": "b"}),
    (
        "PutBucketNotificationConfiguration",
        {
            "Bucket": "b",
            "NotificationConfiguration": {
                "TopicConfigurations": [
                    {
                        "Id": "t",
                        "TopicArn": "arn:aws:sns:us-east-1:1:t",
                        "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                    }
                ],
                "QueueConfigurations": [
                    {
                        "QueueArn": "arn:aws:sqs:us-east-1:1:q",
                        "Events": ["s3:ObjectCreated:Put"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}},
                    }
                ],
            },
        },
    ),
    (
        "SelectObjectContent",
        {
            "Bucket": "b",
            "Key": "k.csv",
            "Expression": "SELECT * FROM S3Object s",
            "ExpressionType": "SQL",
            "InputSerialization": {"CSV": {"FileHeaderInfo": "USE"}},
            "OutputSerialization": {"JSON": {}},
        },
    ),
    ("GetBucketAcl", {"Bucket": "b"}),
    ("GetBucketCors", {"Bucket": "b"}),
    ("GetBucketEncryption", {"Bucket": "b"}),
    ("ListMultipartUploads", {"Bucket": "b", "Prefix": "p"}),
    (
        "DeleteObjects",
        {"Bucket": "b", "Delete": {"Objects": [{"Key": "a"}, {"Key": "b", "VersionId": "v"}], "Quiet": True}},
    ),
    ("PutObject", {"Bucket": "b", "Key": "k", "ContentType": "text/plain"}),
    ("GetObject", {"Bucket": "b", "Key": "k", "Range": "bytes=0-9", "VersionId": "v1"}),
    ("HeadObject", {"Bucket": "b", "Key": "k", "PartNumber": 2}),
    ("DeleteObject", {"Bucket": "b", "Key": "k"}),
    ("CopyObject", {"Bucket": "b", "Key": "k", "CopySource": "src/key", "MetadataDirective": "REPLACE"}),
    ("GetObjectTagging", {"Bucket": "b", "Key": "k"}),
    ("PutObjectTagging", {"Bucket": "b", "Key": "k", "Tagging": {"TagSet": [{"Key": "a", "Value": "1"}]}}),
    ("DeleteObjectTagging", {"Bucket": "b", "Key": "k"}),
    ("GetObjectAcl", {"Bucket": "b", "Key": "k"}),
    ("CreateMultipartUpload", {"Bucket": "b", "Key": "k", "ContentType": "text/csv"}),
    ("UploadPart", {"Bucket": "b", "Key": "k", "PartNumber": 3, "UploadId": "u"}),
    ("UploadPartCopy", {"Bucket": "b", "Key": "k", "PartNumber": 1, "UploadId": "u", "CopySource": "s/k"}),
    ("ListParts", {"Bucket": "b", "Key": "k", "UploadId": "u", "MaxParts": 5}),
    ("AbortMultipartUpload", {"Bucket": "b", "Key": "k", "UploadId": "u"}),
    (
        "CompleteMultipartUpload",
        {
            "Bucket": "b",
            "Key": "k",
            "UploadId": "u",
            "MultipartUpload": {
                "Parts": [{"ETag": '"e1"', "PartNumber": 1}, {"ETag": '"e2"', "PartNumber": 2}]
            },
        },
    ),
]


@pytest.mark.parametrize(
    ("operation", "params"), ROUTED, ids=[f"{op}-{i}" for i, (op, _) in enumerate(ROUTED)]
)
def test_boto3_requests_route_and_parse_back(operation: str, params: dict[str, Any]) -> None:
    assert_parses_back(operation, params)


KEYS = [
    "plain.txt",
    "a+b",
    "a b",
    "100%",
    "%41",
    "q?x=1&y",
    "hash#frag",
    "ünïcødé/€/日本",
    "a//b",
    "dir/",
    "/leading",
    "//",
    "semi;colon=,@!$'()*~",
    "tab\tnew\nline",
    "a%2Fb",
]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("operation", ["GetObject", "HeadObject", "DeleteObject", "PutObjectTagging"])
def test_keys_survive_any_character(operation: str, key: str) -> None:
    params: dict[str, Any] = {"Bucket": "bucket-1", "Key": key}
    if operation == "PutObjectTagging":
        params["Tagging"] = {"TagSet": []}
    assert assert_parses_back(operation, params)["Key"] == key


def test_put_object_streams_the_body_and_reads_headers() -> None:
    params = {
        "Bucket": "b",
        "Key": "data/train.csv",
        "Body": b"1,2,3\n",
        "ContentType": "text/csv",
        "Metadata": {"owner": "ada", "run-id": "42"},
        "Tagging": "team=ml&stage=dev",
        "StorageClass": "STANDARD_IA",
        "ServerSideEncryption": "aws:kms",
        "Expires": WHEN,
        "BucketKeyEnabled": True,
        "ObjectLockRetainUntilDate": WHEN,
    }
    request = wire_request("s3", "PutObject", params)
    operation, path_params = CODEC.resolve_operation(S3, request)
    parsed = CODEC.parse(operation, request, path_params)
    assert parsed["Body"] is request.stream  # handed over unread
    assert parsed.pop("ContentLength") == 6
    assert parsed.pop("ChecksumAlgorithm") == "CRC32"
    assert parsed.pop("ChecksumCRC32")
    parsed.pop("Body")
    assert parsed == {k: v for k, v in params.items() if k != "Body"}


def test_streaming_body_read_whole_is_still_offered_as_a_stream() -> None:
    request = wire_request(
        "s3", "UploadPart", {"Bucket": "b", "Key": "k", "PartNumber": 1, "UploadId": "u", "Body": b"xyz"}
    )
    assert isinstance(request.stream, ChunkStream)
    request.body, request.stream = request.stream.data, None
    operation, path_params = CODEC.resolve_operation(S3, request)
    body = CODEC.parse(operation, request, path_params)["Body"]
    assert isinstance(body, BytesStream)

    async def drain() -> bytes:
        return b"".join([chunk async for chunk in body])

    assert asyncio.run(drain()) == b"xyz"


def test_xml_bodies_parse_by_shape() -> None:
    acl = {
        "Owner": {"ID": "owner-id", "DisplayName": "me"},
        "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": "abc"}, "Permission": "READ"},
            {
                "Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                "Permission": "READ",
            },
        ],
    }
    assert_parses_back("PutBucketAcl", {"Bucket": "b", "AccessControlPolicy": acl})
    lifecycle = {
        "Rules": [
            {
                "ID": "expire",
                "Filter": {
                    "And": {
                        "Prefix": "tmp/",
                        "Tags": [{"Key": "a", "Value": "b"}],
                        "ObjectSizeGreaterThan": 10,
                    }
                },
                "Status": "Enabled",
                "Expiration": {"Date": WHEN},
                "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}],
                "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
            }
        ]
    }
    assert_parses_back(
        "PutBucketLifecycleConfiguration", {"Bucket": "b", "LifecycleConfiguration": lifecycle}
    )
    cors = {
        "CORSRules": [
            {
                "AllowedMethods": ["GET", "PUT"],
                "AllowedOrigins": ["*"],
                "AllowedHeaders": ["a", "b"],
                "MaxAgeSeconds": 60,
            }
        ]
    }
    assert_parses_back("PutBucketCors", {"Bucket": "b", "CORSConfiguration": cors})


def test_list_header_and_timestamp_header_members() -> None:
    assert_parses_back(
        "GetObjectAttributes",
        {
            "Bucket": "b",
            "Key": "k",
            "ObjectAttributes": ["ETag", "ObjectSize", "StorageClass"],
            "MaxParts": 3,
        },
    )
    assert_parses_back(
        "GetObject", {"Bucket": "b", "Key": "k", "IfModifiedSince": WHEN, "ResponseExpires": WHEN}
    )


def _request(
    method: str, raw_path: str, query: list[tuple[str, str]] | None = None, body: bytes = b""
) -> WireRequest:
    from urllib.parse import unquote

    return WireRequest(method, raw_path, unquote(raw_path), query or [], Headers({}), body)


def test_query_values_that_differ_do_not_route() -> None:
    operation, _ = CODEC.resolve_operation(S3, _request("GET", "/b", [("list-type", "2")]))
    assert operation.name == "ListObjectsV2"
    operation, _ = CODEC.resolve_operation(S3, _request("GET", "/b", [("list-type", "3")]))
    assert operation.name == "ListObjects"


def test_trailing_slash_names_the_bucket() -> None:
    operation, params = CODEC.resolve_operation(S3, _request("GET", "/b/", [("versioning", "")]))
    assert (operation.name, params) == ("GetBucketVersioning", {"Bucket": "b"})


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [("POST", "/b/k", []), ("PATCH", "/b", []), ("POST", "/", []), ("DELETE", "/", [])],
)
def test_nothing_matches_is_method_not_allowed(method: str, path: str, query: list[tuple[str, str]]) -> None:
    with pytest.raises(AwsError) as caught:
        CODEC.resolve_operation(S3, _request(method, path, query))
    assert (caught.value.code, caught.value.status) == ("MethodNotAllowed", 405)
    assert caught.value.fields == {"Method": method}


def test_malformed_xml_is_malformed_xml() -> None:
    request = _request("PUT", "/b", [("tagging", "")], b"<Tagging><TagSet><Tag>")
    operation, path_params = CODEC.resolve_operation(S3, request)
    with pytest.raises(AwsError) as caught:
        CODEC.parse(operation, request, path_params)
    assert (caught.value.code, caught.value.status) == ("MalformedXML", 400)


def test_xml_entities_are_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaa">]>'
        b"<Tagging><TagSet><Tag><Key>&a;</Key></Tag></TagSet></Tagging>"
    )
    request = _request("PUT", "/b", [("tagging", "")], bomb)
    operation, path_params = CODEC.resolve_operation(S3, request)
    with pytest.raises(AwsError, match="well-formed"):
        CODEC.parse(operation, request, path_params)


def test_bad_header_value_is_invalid_argument() -> None:
    request = wire_request("s3", "HeadObject", {"Bucket": "b", "Key": "k"})
    request.headers = Headers({"if-modified-since": "not a date"})
    with pytest.raises(AwsError) as caught:
        CODEC.parse(operation_model("s3", "HeadObject"), request, {"Bucket": "b", "Key": "k"})
    assert caught.value.code == "InvalidArgument"


# -- responses ----------------------------------------------------------------------


def test_list_objects_v2_answer() -> None:
    output = {
        "IsTruncated": True,
        "Contents": [
            {"Key": "a%20b", "LastModified": WHEN, "ETag": '"e"', "Size": 3, "StorageClass": "STANDARD"},
            {"Key": "c", "LastModified": WHEN, "ETag": '"f"', "Size": 0, "Owner": {"ID": "o"}},
        ],
        "Name": "b",
        "Prefix": "",
        "MaxKeys": 1000,
        "CommonPrefixes": [{"Prefix": "d/"}],
        "EncodingType": "url",
        "KeyCount": 3,
        "NextContinuationToken": "tok",
    }
    response = respond("s3", "ListObjectsV2", output)
    body = body_bytes(response).decode()
    assert body.startswith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    )
    assert "<LastModified>2026-11-23T10:00:00.000Z</LastModified>" in body
    assert response.header("Content-Type") == "application/xml"
    assert response.header("x-amz-request-id") == REQUEST_ID
    parsed = client_call("s3", "ListObjectsV2", {"Bucket": "b"}, response)
    expected = dict(output, Contents=[dict(output["Contents"][0], Key="a b"), output["Contents"][1]])
    assert without_metadata(parsed) == expected
    assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID


def test_list_buckets_answer() -> None:
    output = {
        "Buckets": [
            {"Name": "a", "CreationDate": WHEN, "BucketRegion": "us-east-1"},
            {"Name": "b", "CreationDate": WHEN},
        ],
        "Owner": {"DisplayName": "me", "ID": "id"},
    }
    response = respond("s3", "ListBuckets", output)
    assert b"<ListAllMyBucketsResult" in body_bytes(response)
    assert without_metadata(client_call("s3", "ListBuckets", {}, response)) == output


def test_get_object_streams_the_body_with_header_members() -> None:
    async def chunks() -> Any:
        yield b"hello "
        yield b"world"

    output = {
        "Body": chunks(),
        "ContentLength": 11,
        "ContentType": "text/plain",
        "ETag": '"abc"',
        "LastModified": WHEN,
        "Metadata": {"owner": "ada"},
        "AcceptRanges": "bytes",
        "TagCount": 2,
        "DeleteMarker": False,
        "Expires": WHEN,
    }
    response = respond("s3", "GetObject", output)
    assert response.body is output["Body"]
    assert response.header("Last-Modified") == "Mon, 23 Nov 2026 10:00:00 GMT"
    assert response.header("x-amz-meta-owner") == "ada"
    parsed = client_call("s3", "GetObject", {"Bucket": "b", "Key": "k"}, response)
    assert parsed["Body"].read() == b"hello world"
    assert {k: parsed[k] for k in output if k not in ("Body", "Expires")} == {
        k: v for k, v in output.items() if k not in ("Body", "Expires")
    }
    assert parsed["ExpiresString"] == "Mon, 23 Nov 2026 10:00:00 GMT"


def test_streamed_payload_gets_no_content_type_of_its_own() -> None:
    response = respond("s3", "GetObject", {"Body": b"raw", "ContentLength": 3})
    assert response.header("Content-Type") is None
    assert response.body == b"raw"


def test_head_object_and_no_body_answers() -> None:
    output = {
        "ContentLength": 5,
        "ETag": '"e"',
        "LastModified": WHEN,
        "Metadata": {"a": "1"},
        "ContentType": "x/y",
    }
    response = respond("s3", "HeadObject", output)
    assert response.body == b"" and response.header("Content-Type") == "x/y"
    assert without_metadata(client_call("s3", "HeadObject", {"Bucket": "b", "Key": "k"}, response)) == output
    response = respond("s3", "DeleteObject", {})
    assert (response.status, response.body) == (204, b"")
    response = respond("s3", "PutObject", {"ETag": '"e"', "VersionId": "v"})
    assert response.body == b""
    assert without_metadata(client_call("s3", "PutObject", {"Bucket": "b", "Key": "k"}, response)) == {
        "ETag": '"e"',
        "VersionId": "v",
    }


MULTIPART_ANSWERS = [
    (
        "CreateMultipartUpload",
        {"Bucket": "b", "Key": "k", "UploadId": "u1", "ChecksumAlgorithm": "CRC32"},
        b"<InitiateMultipartUploadResult",
    ),
    ("UploadPart", {"ETag": '"p1"', "ChecksumCRC32": "AAAAAA=="}, b""),
    (
        "CompleteMultipartUpload",
        {"Location": "http://h/b/k", "Bucket": "b", "Key": "k", "ETag": '"x-2"', "VersionId": "v"},
        b"<CompleteMultipartUploadResult",
    ),
    (
        "ListParts",
        {
            "Bucket": "b",
            "Key": "k",
            "UploadId": "u",
            "Parts": [{"PartNumber": 1, "LastModified": WHEN, "ETag": '"p"', "Size": 5}],
            "IsTruncated": False,
            "MaxParts": 1000,
        },
        b"<ListPartsResult",
    ),
    (
        "CopyObject",
        {"CopyObjectResult": {"ETag": '"c"', "LastModified": WHEN}, "VersionId": "v"},
        b"<CopyObjectResult",
    ),
    (
        "DeleteObjects",
        {
            "Deleted": [{"Key": "a"}, {"Key": "b", "VersionId": "v", "DeleteMarker": True}],
            "Errors": [{"Key": "c", "Code": "AccessDenied", "Message": "Access Denied"}],
        },
        b"<DeleteResult",
    ),
    ("GetObjectTagging", {"TagSet": [{"Key": "a", "Value": "1"}], "VersionId": "v"}, b"<Tagging"),
    ("GetBucketVersioning", {"Status": "Enabled"}, b"<VersioningConfiguration"),
    (
        "ListObjectVersions",
        {
            "Name": "b",
            "Versions": [
                {
                    "Key": "k",
                    "VersionId": "v2",
                    "IsLatest": True,
                    "LastModified": WHEN,
                    "Size": 1,
                    "ETag": '"e"',
                }
            ],
            "DeleteMarkers": [{"Key": "k", "VersionId": "v3", "IsLatest": False, "LastModified": WHEN}],
            "IsTruncated": False,
        },
        b"<ListVersionsResult",
    ),
    (
        "ListMultipartUploads",
        {"Bucket": "b", "Uploads": [{"UploadId": "u", "Key": "k", "Initiated": WHEN}], "IsTruncated": False},
        b"<ListMultipartUploadsResult",
    ),
    (
        "GetBucketNotificationConfiguration",
        {
            "TopicConfigurations": [
                {"Id": "t", "TopicArn": "arn:t", "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}
            ],
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": "arn:f", "Events": ["s3:ObjectCreated:*"]}
            ],
        },
        b"<TopicConfiguration><Id>t</Id>",
    ),
    ("GetBucketPolicy", {"Policy": '{"Version":"2012-10-17"}'}, b'{"Version"'),
    (
        "GetBucketAcl",
        {
            "Owner": {"ID": "o"},
            "Grants": [{"Grantee": {"ID": "o", "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}],
        },
        b'xsi:type="CanonicalUser"',
    ),
]


@pytest.mark.parametrize(
    ("operation", "output", "marker"), MULTIPART_ANSWERS, ids=[a[0] for a in MULTIPART_ANSWERS]
)
def test_answers_read_back_by_boto3(operation: str, output: dict[str, Any], marker: bytes) -> None:
    response = respond("s3", operation, output)
    assert marker in body_bytes(response)
    params = next((p for op, p in ROUTED if op == operation), {"Bucket": "b", "Key": "k"})
    if operation == "UploadPart":
        params = {"Bucket": "b", "Key": "k", "PartNumber": 1, "UploadId": "u", "Body": b"x"}
    assert without_metadata(client_call("s3", operation, params, response)) == output


@pytest.mark.parametrize("region", ["eu-west-1", None])
def test_get_bucket_location_is_a_text_root(region: str | None) -> None:
    response = respond("s3", "GetBucketLocation", {"LocationConstraint": region})
    assert body_bytes(response).endswith(
        b'<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        + (region or "").encode()
        + b"</LocationConstraint>"
    )
    assert client_call("s3", "GetBucketLocation", {"Bucket": "b"}, response)["LocationConstraint"] == region


def test_text_escapes_survive() -> None:
    key = 'a<b>&"c"\r\n'
    output = {"Contents": [{"Key": key}], "Name": "b"}
    parsed = client_call("s3", "ListObjects", {"Bucket": "b"}, respond("s3", "ListObjects", output))
    assert parsed["Contents"][0]["Key"] == key


# -- errors -------------------------------------------------------------------------


def _error(operation: str, error: AwsError, method: str = "GET") -> Any:
    return CODEC.serialize_error(S3, operation_model("s3", operation), error, REQUEST_ID, method=method)


def test_error_document_and_modelled_exception() -> None:
    error = AwsError("NoSuchKey", "The specified key does not exist.", 404, fields={"Key": "k"})
    response = _error("GetObject", error)
    assert body_bytes(response).decode() == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
        "<Message>The specified key does not exist.</Message><Key>k</Key>"
        f"<RequestId>{REQUEST_ID}</RequestId><HostId>{response.header('x-amz-id-2')}</HostId></Error>"
    )
    with pytest.raises(client("s3").exceptions.NoSuchKey) as caught:
        client_call("s3", "GetObject", {"Bucket": "b", "Key": "k"}, response)
    assert caught.value.response["Error"] == {
        "Code": "NoSuchKey",
        "Message": "The specified key does not exist.",
        "Key": "k",
    }
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_unmodelled_error_code_reaches_boto3() -> None:
    response = _error(
        "PutObject", AwsError("BucketAlreadyOwnedByYou", "yours", 409, fields={"BucketName": "b"})
    )
    with pytest.raises(client("s3").exceptions.BucketAlreadyOwnedByYou):
        client_call("s3", "CreateBucket", {"Bucket": "b"}, response)
    response = _error("PutObject", AwsError("EntityTooLarge", "too big", 400))
    with pytest.raises(ClientError) as caught:
        client_call("s3", "PutObject", {"Bucket": "b", "Key": "k"}, response)
    assert caught.value.response["Error"]["Code"] == "EntityTooLarge"


def test_head_error_has_no_body_but_keeps_status_and_headers() -> None:
    error = AwsError("NoSuchKey", "gone", 404, headers={"x-amz-delete-marker": "true"})
    response = _error("HeadObject", error, method="HEAD")
    assert response.body == b"" and response.status == 404
    assert response.header("x-amz-delete-marker") == "true"
    with pytest.raises(ClientError) as caught:
        client_call("s3", "HeadObject", {"Bucket": "b", "Key": "k"}, response)
    assert caught.value.response["Error"]["Code"] == "404"


def test_method_not_allowed_reaches_boto3() -> None:
    with pytest.raises(AwsError) as caught:
        CODEC.resolve_operation(S3, _request("POST", "/b/k"))
    response = CODEC.serialize_error(S3, None, caught.value, REQUEST_ID, method="POST")
    assert response.status == 405
    with pytest.raises(ClientError) as raised:
        client_call("s3", "GetObject", {"Bucket": "b", "Key": "k"}, response)
    assert raised.value.response["Error"]["Code"] == "MethodNotAllowed"
    assert raised.value.response["Error"]["Method"] == "POST"


def test_codec_for_request_keeps_s3_on_rest_xml() -> None:
    request = _request("POST", "/b", [("delete", "")])
    request.headers = Headers({"content-type": "application/x-www-form-urlencoded"})
    assert codec_for_request(S3, request) is CODEC


# -- rest-xml beyond S3 (Route 53) ----------------------------------------------------


def test_route53_request_answer_and_error() -> None:
    params = {
        "Name": "example.com.",
        "CallerReference": "ref-1",
        "HostedZoneConfig": {"Comment": "c", "PrivateZone": False},
    }
    resolved, parsed = parse_request("route53", "CreateHostedZone", params)
    assert (resolved.name, parsed) == ("CreateHostedZone", params)

    output = {
        "HostedZones": [
            {
                "Id": "/hostedzone/Z1",
                "Name": "example.com.",
                "CallerReference": "r",
                "ResourceRecordSetCount": 2,
            }
        ],
        "Marker": "",
        "IsTruncated": False,
        "MaxItems": "100",
    }
    response = respond("route53", "ListHostedZones", output)
    assert response.header("Content-Type") == "text/xml"
    assert without_metadata(client_call("route53", "ListHostedZones", {}, response)) == output

    route53 = service_model("route53")
    error = AwsError("NoSuchHostedZone", "No hosted zone found with ID: Z9", 404)
    response = codec_for(route53).serialize_error(route53, None, error, REQUEST_ID)
    with pytest.raises(client("route53").exceptions.NoSuchHostedZone) as caught:
        client_call("route53", "GetHostedZone", {"Id": "Z9"}, response)
    assert caught.value.response["Error"]["Message"] == "No hosted zone found with ID: Z9"


@pytest.mark.parametrize("raw_path", ["/b/\u00c3\u00bc%C3%BC", "/b/üü"])
def test_raw_utf8_in_the_path_decodes_as_utf8(raw_path: str) -> None:
    # ASGI's raw_path is bytes; the gateway decodes it as latin-1 (byte for byte).
    operation, params = CODEC.resolve_operation(S3, _request("GET", raw_path))
    assert (operation.name, params) == ("GetObject", {"Bucket": "b", "Key": "üü"})
