"""S3 objects through real boto3: the data path, headers, integrity, conditions, ranges."""

from __future__ import annotations

import base64
import hashlib
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer
from shipyard.testing.errors import error_of


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def text_headers(request) -> dict[str, str]:
    """A prepared botocore request's headers, lower-cased names and str values."""
    return {
        k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()
    }


KEYS = ["plain.txt", "a b+c", "100%/sure", "ünïcödé/キー", "dir//double", "trailing/", "~tilde!'()*"]


@pytest.mark.parametrize("key", KEYS)
def test_put_get_head_delete_round_trip(s3, bucket: str, key: str) -> None:
    body = key.encode() * 100
    put = s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=body,
        ContentType="text/x-test",
        ContentEncoding="identity",
        ContentDisposition='attachment; filename="x.txt"',
        ContentLanguage="en",
        CacheControl="no-cache",
        Metadata={"owner": "data-team", "Run-Id": "42"},
    )
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'

    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == body
    assert got["ETag"] == put["ETag"]
    assert got["ContentType"] == "text/x-test"
    assert got["ContentEncoding"] == "identity"
    assert got["ContentDisposition"] == 'attachment; filename="x.txt"'
    assert got["ContentLanguage"] == "en"
    assert got["CacheControl"] == "no-cache"
    assert got["Metadata"] == {"owner": "data-team", "run-id": "42"}

    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == len(body)
    assert head["ETag"] == put["ETag"]
    assert head["AcceptRanges"] == "bytes"

    assert s3.delete_object(Bucket=bucket, Key=key)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key=key)
    assert error_of(excinfo) == ("NoSuchKey", 404)


def test_empty_object_and_overwrite(s3, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b""
    s3.put_object(Bucket=bucket, Key="k", Body=b"second")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"second"


def test_missing_bucket_and_key_errors(s3, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket="no-such-bucket-here", Key="k", Body=b"x")
    assert error_of(excinfo) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="missing")
    assert error_of(excinfo) == ("404", 404)
    assert excinfo.value.response["Error"].get("Message", "") in ("", "Not Found")
    # Deleting a missing key in an unversioned bucket succeeds, as on AWS.
    assert s3.delete_object(Bucket=bucket, Key="missing")["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_key_too_long(s3, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x")
    assert error_of(excinfo) == ("KeyTooLongError", 400)


# -- integrity ---------------------------------------------------------------------------


def test_content_md5_mismatch_is_bad_digest_and_stores_nothing(s3, bucket: str) -> None:
    wrong = b64(hashlib.md5(b"other").digest())
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="k", Body=b"payload", ContentMD5=wrong)
    assert error_of(excinfo) == ("BadDigest", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="k")
    assert error_of(excinfo)[1] == 404


def test_content_md5_malformed_is_invalid_digest(s3, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="k", Body=b"payload", ContentMD5="not-base64!")
    assert error_of(excinfo) == ("InvalidDigest", 400)


def test_content_md5_correct_is_accepted(s3, bucket: str) -> None:
    body = b"payload"
    s3.put_object(Bucket=bucket, Key="k", Body=body, ContentMD5=b64(hashlib.md5(body).digest()))
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == body


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"])
def test_flexible_checksums_stored_and_returned(any_server: RunningServer, algorithm: str) -> None:
    s3 = any_server.client("s3")
    bucket = f"checksum-{algorithm.lower()}"
    s3.create_bucket(Bucket=bucket)
    body = b"checksummed bytes " * 1000
    put = s3.put_object(Bucket=bucket, Key="k", Body=body, ChecksumAlgorithm=algorithm)
    value = put[f"Checksum{algorithm}"]
    if algorithm == "SHA256":
        assert value == b64(hashlib.sha256(body).digest())
    if algorithm == "SHA1":
        assert value == b64(hashlib.sha1(body).digest())
    if algorithm == "CRC32":
        assert value == b64(zlib.crc32(body).to_bytes(4, "big"))
    got = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got[f"Checksum{algorithm}"] == value
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == value
    # A ranged read never carries the whole object's checksum (botocore would reject it).
    ranged = s3.get_object(Bucket=bucket, Key="k", Range="bytes=0-9", ChecksumMode="ENABLED")
    assert ranged["Body"].read() == body[:10]
    assert f"Checksum{algorithm}" not in ranged


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"])
def test_wrong_flexible_checksum_is_bad_digest(s3, bucket: str, algorithm: str) -> None:
    sizes = {"CRC32": 4, "CRC32C": 4, "SHA1": 20, "SHA256": 32, "CRC64NVME": 8}
    wrong = b64(b"\x01" * sizes[algorithm])
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data", **{f"Checksum{algorithm}": wrong})
    assert error_of(excinfo) == ("BadDigest", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="k")
    assert error_of(excinfo)[1] == 404


def test_https_upload_uses_aws_chunked_and_stores_plain_bytes(https_server: RunningServer, tmp_file) -> None:
    s3 = https_server.client("s3")
    sent: dict[str, str] = {}
    s3.meta.events.register("before-send.s3.PutObject", lambda request, **_: sent.update(text_headers(request)))
    s3.create_bucket(Bucket="chunked")
    path = tmp_file(3 * 1024 * 1024 + 17, seed=3)
    data = path.read_bytes()
    s3.put_object(Bucket="chunked", Key="big", Body=data)
    assert sent["content-encoding"] == "aws-chunked"
    assert sent["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    got = s3.get_object(Bucket="chunked", Key="big", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got["ContentLength"] == len(data)
    assert got["ChecksumCRC32"] == b64(zlib.crc32(data).to_bytes(4, "big"))


def test_delete_objects_with_checksum_header_and_no_md5(s3, bucket: str) -> None:
    for name in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=name, Body=b"x")
    sent: dict[str, str] = {}
    s3.meta.events.register("before-send.s3.DeleteObjects", lambda request, **_: sent.update(text_headers(request)))
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "zz"}]})
    assert "content-md5" not in sent and any(k.startswith("x-amz-checksum-") for k in sent)
    assert sorted(d["Key"] for d in result["Deleted"]) == ["a", "b", "zz"]
    assert "Errors" not in result
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "c"}], "Quiet": True})
    assert "Deleted" not in quiet
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


# -- copy --------------------------------------------------------------------------------


def test_copy_object_copy_and_replace_directives(s3, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"source", ContentType="text/a", Metadata={"m": "1"}, Tagging="t=1")
    copied = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert copied["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"source").hexdigest()}"'
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert (head["ContentType"], head["Metadata"]) == ("text/a", {"m": "1"})
    assert s3.get_object_tagging(Bucket=bucket, Key="dst")["TagSet"] == [{"Key": "t", "Value": "1"}]

    s3.copy_object(
        Bucket=bucket, Key="dst2", CopySource=f"{bucket}/src", MetadataDirective="REPLACE",
        ContentType="text/b", Metadata={"n": "2"}, TaggingDirective="REPLACE", Tagging="u=2",
    )
    head = s3.head_object(Bucket=bucket, Key="dst2")
    assert (head["ContentType"], head["Metadata"]) == ("text/b", {"n": "2"})
    assert s3.get_object_tagging(Bucket=bucket, Key="dst2")["TagSet"] == [{"Key": "u", "Value": "2"}]
    assert s3.get_object(Bucket=bucket, Key="dst2")["Body"].read() == b"source"

    # Deleting the source leaves the copies intact.
    s3.delete_object(Bucket=bucket, Key="src")
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"source"


def test_copy_object_onto_itself(s3, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="self", Body=b"x", Metadata={"a": "1"})
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"})
    assert error_of(excinfo) == ("InvalidRequest", 400)
    s3.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"}, MetadataDirective="REPLACE", Metadata={"a": "2"})
    assert s3.head_object(Bucket=bucket, Key="self")["Metadata"] == {"a": "2"}


def test_copy_object_errors_and_source_conditions(s3, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "missing"})
    assert error_of(excinfo) == ("NoSuchKey", 404)
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "src"}, CopySourceIfMatch='"nope"')
    assert error_of(excinfo) == ("PreconditionFailed", 412)
    etag = s3.head_object(Bucket=bucket, Key="src")["ETag"]
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "src"}, CopySourceIfNoneMatch=etag)
    assert error_of(excinfo) == ("PreconditionFailed", 412)
    s3.copy_object(Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "src"}, CopySourceIfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="d")["Body"].read() == b"x"
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "src"}, MetadataDirective="MERGE")
    assert error_of(excinfo)[0] in ("InvalidArgument", "ValidationError")


# -- tagging -----------------------------------------------------------------------------


def test_object_tagging(s3, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1&b=two%20words")
    assert sorted((t["Key"], t["Value"]) for t in s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]) == [
        ("a", "1"), ("b", "two words"),
    ]
    assert s3.get_object(Bucket=bucket, Key="k")["TagCount"] == 2
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [{"Key": "c", "Value": "3"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [{"Key": "c", "Value": "3"}]
    s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    with pytest.raises(ClientError) as excinfo:
        s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [{"Key": "d", "Value": "1"}, {"Key": "d", "Value": "2"}]})
    assert error_of(excinfo) == ("InvalidTag", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.get_object_tagging(Bucket=bucket, Key="missing")
    assert error_of(excinfo) == ("NoSuchKey", 404)


# -- ranges ------------------------------------------------------------------------------

DATA = bytes(range(256)) * 4  # 1024 bytes


@pytest.mark.parametrize(
    ("header", "expected", "content_range"),
    [
        ("bytes=0-9", DATA[0:10], "bytes 0-9/1024"),
        ("bytes=1000-", DATA[1000:], "bytes 1000-1023/1024"),
        ("bytes=-24", DATA[-24:], "bytes 1000-1023/1024"),
        ("bytes=1020-5000", DATA[1020:], "bytes 1020-1023/1024"),
        ("bytes=-5000", DATA, "bytes 0-1023/1024"),
    ],
)
def test_ranged_get(s3, bucket: str, header: str, expected: bytes, content_range: str) -> None:
    s3.put_object(Bucket=bucket, Key="r", Body=DATA)
    got = s3.get_object(Bucket=bucket, Key="r", Range=header)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == content_range
    assert got["ContentLength"] == len(expected)
    assert got["Body"].read() == expected


def test_unsatisfiable_range(s3, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="r", Body=DATA)
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=1024-")
    assert error_of(excinfo) == ("InvalidRange", 416)
    assert excinfo.value.response["ResponseMetadata"]["HTTPHeaders"]["content-range"] == "bytes */1024"


def test_ranged_head(s3, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="r", Body=DATA)
    head = s3.head_object(Bucket=bucket, Key="r", Range="bytes=10-19")
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert head["ContentLength"] == 10


def test_download_file_ranged_parts(s3, bucket: str, tmp_file, tmp_path) -> None:
    from boto3.s3.transfer import TransferConfig

    path = tmp_file(9 * 1024 * 1024 + 3, seed=9)
    s3.upload_file(str(path), bucket, "blob", Config=TransferConfig(multipart_threshold=64 * 1024 * 1024))
    target = tmp_path / "back.bin"
    s3.download_file(bucket, "blob", str(target), Config=TransferConfig(multipart_threshold=1024 * 1024, multipart_chunksize=1024 * 1024))
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(path.read_bytes()).digest()


# -- conditional requests ----------------------------------------------------------------


def test_conditional_get_and_head(s3, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="c", Body=b"conditional")
    head = s3.head_object(Bucket=bucket, Key="c")
    etag, modified = head["ETag"], head["LastModified"]
    earlier, later = modified - timedelta(hours=1), modified + timedelta(hours=1)

    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"conditional"
    for call in (s3.get_object, s3.head_object):
        with pytest.raises(ClientError) as excinfo:
            call(Bucket=bucket, Key="c", IfMatch='"other"')
        assert error_of(excinfo)[1] == 412
        with pytest.raises(ClientError) as excinfo:
            call(Bucket=bucket, Key="c", IfNoneMatch=etag)
        assert error_of(excinfo)[1] == 304
        with pytest.raises(ClientError) as excinfo:
            call(Bucket=bucket, Key="c", IfModifiedSince=later)
        assert error_of(excinfo)[1] == 304
        with pytest.raises(ClientError) as excinfo:
            call(Bucket=bucket, Key="c", IfUnmodifiedSince=earlier)
        assert error_of(excinfo)[1] == 412
    assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=earlier)["Body"].read() == b"conditional"
    assert s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=later)["Body"].read() == b"conditional"
    # RFC 7232 precedence: a true If-Match overrules a false If-Unmodified-Since...
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag, IfUnmodifiedSince=earlier)["ResponseMetadata"]["HTTPStatusCode"] == 200
    # ...and a false If-None-Match (304) wins over a true If-Modified-Since.
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag, IfModifiedSince=earlier)
    assert error_of(excinfo)[1] == 304
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"other"')
    assert error_of(excinfo) == ("PreconditionFailed", 412)


def test_conditional_put_if_none_match_star(s3, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="once", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="once", Body=b"second", IfNoneMatch="*")
    assert error_of(excinfo) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"first"


def test_conditional_put_if_match(s3, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="k", Body=b"v2", IfMatch='"0000"')
    assert error_of(excinfo) == ("PreconditionFailed", 412)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v2", IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"


# -- versioning --------------------------------------------------------------------------


def test_versioned_put_get_delete(s3, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert v1 and v2 and v1 != v2
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    assert s3.head_object(Bucket=bucket, Key="k", VersionId=v1)["VersionId"] == v1

    deleted = s3.delete_object(Bucket=bucket, Key="k")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="k")
    assert error_of(excinfo) == ("NoSuchKey", 404)
    assert excinfo.value.response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-delete-marker") == "true"
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="k", VersionId=marker)
    assert error_of(excinfo)[1] == 405
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v2)["Body"].read() == b"two"

    # Removing the delete marker brings the object back.
    s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"

    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="k", VersionId="00000000000000000000000000")
    assert error_of(excinfo)[0] in ("NoSuchVersion", "InvalidArgument")

    versions = s3.list_object_versions(Bucket=bucket, Prefix="k")
    assert [v["VersionId"] for v in versions["Versions"]] == [v1]


def test_suspended_versioning_writes_null_version(s3, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    kept = s3.put_object(Bucket=bucket, Key="k", Body=b"kept")["VersionId"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"null-1")["VersionId"] == "null"
    s3.put_object(Bucket=bucket, Key="k", Body=b"null-2")
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert sorted(v["VersionId"] for v in versions) == sorted([kept, "null"])
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"null-2"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


# -- raw HTTP details --------------------------------------------------------------------


def test_expect_100_continue_is_honoured(server: RunningServer, s3, bucket: str) -> None:
    """The server answers 100 Continue before the body, and refuses early without reading it."""
    import socket
    from urllib.parse import urlparse

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = urlparse(server.endpoint_url)
    body = b"expect-continue"

    def signed(secret: str) -> AWSRequest:
        request = AWSRequest(method="PUT", url=f"{server.endpoint_url}/{bucket}/expect", data=body)
        request.headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
        request.headers["Expect"] = "100-continue"
        S3SigV4Auth(Credentials(server.credentials[0], secret), "s3", "us-east-1").add_auth(request)
        return request

    def send(request: AWSRequest, with_body: bool) -> bytes:
        head = f"PUT /{bucket}/expect HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in request.headers.items() if k.lower() != "host")
        with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
            sock.sendall((head + "\r\n").encode())
            first = sock.recv(65536)
            if with_body and first.startswith(b"HTTP/1.1 100"):
                sock.sendall(body)
                while b"\r\n\r\n" not in first.split(b"\r\n\r\n", 1)[1]:
                    more = sock.recv(65536)
                    if not more:
                        break
                    first += more
            return first

    answer = send(signed(server.credentials[1]), with_body=True)
    assert answer.startswith(b"HTTP/1.1 100")
    assert b"HTTP/1.1 200" in answer
    assert s3.get_object(Bucket=bucket, Key="expect")["Body"].read() == body
    refused = send(signed("wrong-secret"), with_body=False)
    assert refused.startswith(b"HTTP/1.1 403")


def test_signed_streaming_chunks_are_verified(server: RunningServer, s3, bucket: str) -> None:
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD (signed chunks, as other SDKs send) is decoded."""
    import hmac
    import http.client
    from urllib.parse import urlparse

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    class StreamingSigner(S3SigV4Auth):
        def payload(self, request: AWSRequest) -> str:
            return "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"

    access_key, secret = server.credentials
    chunks = [b"a" * 65536, b"b" * 1000]
    decoded = b"".join(chunks)

    def encode(key: str, tamper: bool) -> tuple[dict[str, str], bytes]:
        request = AWSRequest(method="PUT", url=f"{server.endpoint_url}/{bucket}/{key}")
        request.headers["x-amz-content-sha256"] = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
        request.headers["Content-Encoding"] = "aws-chunked"
        request.headers["x-amz-decoded-content-length"] = str(len(decoded))
        signer = StreamingSigner(Credentials(access_key, secret), "s3", "us-east-1")
        signer.add_auth(request)
        amz_date = request.headers["X-Amz-Date"]
        scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
        seed = request.headers["Authorization"].rsplit("Signature=", 1)[1]
        signing_key = secret_key_for(secret, amz_date[:8])
        previous, body = seed, b""
        empty_hash = hashlib.sha256(b"").hexdigest()
        for chunk in [*chunks, b""]:
            string_to_sign = "\n".join(
                ["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, empty_hash, hashlib.sha256(chunk).hexdigest()]
            )
            signature = hmac.new(signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()
            if tamper and chunk:
                signature = "0" * 64
            body += f"{len(chunk):x};chunk-signature={signature}\r\n".encode() + chunk + b"\r\n"
            previous = signature
        headers = dict(request.headers.items())
        headers["Content-Length"] = str(len(body))
        return headers, body

    def secret_key_for(secret_key: str, date: str) -> bytes:
        key = ("AWS4" + secret_key).encode()
        for part in (date, "us-east-1", "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        return key

    url = urlparse(server.endpoint_url)
    for key, tamper, expected in (("signed-chunks", False, 200), ("signed-chunks-bad", True, 403)):
        headers, body = encode(key, tamper)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        connection.request("PUT", f"/{bucket}/{key}", body=body, headers=headers)
        response = connection.getresponse()
        assert response.status == expected
        if tamper:
            assert b"<Code>SignatureDoesNotMatch</Code>" in response.read()
        connection.close()
    assert s3.get_object(Bucket=bucket, Key="signed-chunks")["Body"].read() == decoded
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="signed-chunks-bad")
    assert error_of(excinfo)[1] == 404


def test_last_modified_is_recent_utc(s3, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="t", Body=b"x")
    modified = s3.head_object(Bucket=bucket, Key="t")["LastModified"]
    assert abs(datetime.now(UTC) - modified) < timedelta(minutes=2)
