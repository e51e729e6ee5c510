"""Request signatures made by boto3 and botocore's own signers, verified and tampered with."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import boto3
import pytest
from botocore.auth import HmacV1Auth, S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode
from starlette.datastructures import Headers

from shipyard.aws.signing import (
    ErrorStyle,
    SignedRequestInfo,
    VerifiedSignature,
    credential_error,
    parse_authorization,
    s3_payload_hash,
    verify_signature,
)
from shipyard.aws.wire import WireRequest
from shipyard.errors import AwsError

ACCESS_KEY = "AKIDSHIPYARDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCY%EXAMPLE~KEY"
ENDPOINT = "http://127.0.0.1:8600"
KEYS = [
    "plain.txt",
    "a+b c",
    "100%",
    "%41%2F",
    "ünïcødé/文件.bin",
    "~tilde~",
    "a//b",
    "dots/./x/../y",
    "semi;colon=eq&amp?q#h",
    "trailing/",
]


# -- turning what a client sends into what the gateway receives ----------------------------


def wire_request(method: str, url: str, headers: Iterable[tuple[str, Any]] = (), body: bytes = b"") -> WireRequest:
    """The request as the server sees it; the HTTP client adds ``Host`` if the signer did not."""
    parts = urlsplit(url)
    pairs = [(name.lower(), value.decode() if isinstance(value, bytes) else value) for name, value in headers]
    if not any(name == "host" for name, _ in pairs):
        pairs.append(("host", parts.netloc))
    raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in pairs]
    return WireRequest(
        method=method,
        raw_path=parts.path or "/",
        path=unquote(parts.path or "/"),
        query=parse_qsl(parts.query, keep_blank_values=True),
        headers=Headers(raw=raw),
        body=body,
    )


def with_headers(request: WireRequest, **changes: str) -> WireRequest:
    headers = {name: value for name, value in request.headers.items()}
    headers.update({name.replace("_", "-"): value for name, value in changes.items()})
    raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
    return replace(request, headers=Headers(raw=raw))


def host_of(request: WireRequest) -> str:
    return str(request.headers.get("host"))


def payload_hash(request: WireRequest, info: SignedRequestInfo) -> str:
    if info.service == "s3" or info.scheme.startswith("sigv2"):
        return s3_payload_hash(request, info)
    return hashlib.sha256(request.body).hexdigest()


def verify(
    request: WireRequest,
    secret: str = SECRET,
    *,
    style: ErrorStyle = "s3",
    now: datetime | None = None,
    host: str | None = None,
    body_hash: str | None = None,
) -> VerifiedSignature:
    info = parse_authorization(request, error_style=style)
    assert info is not None
    return verify_signature(
        request,
        info,
        secret,
        payload_hash=body_hash or payload_hash(request, info),
        host=host or host_of(request),
        now=now,
        error_style=style,
    )


def refused(request: WireRequest, code: str, status: int, **kwargs: Any) -> AwsError:
    with pytest.raises(AwsError) as caught:
        verify(request, **kwargs)
    assert (caught.value.code, caught.value.status) == (code, status), caught.value.message
    return caught.value


# -- boto3 clients, and requests captured on their way out ----------------------------------


def client(service: str, region: str = "us-east-1", endpoint: str = ENDPOINT, **kwargs: Any) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        **kwargs,
    )


class _EmptyBody:
    def stream(self, **_: object) -> Iterable[bytes]:
        yield b""


def sent_by(service_client: Any, call: Callable[[Any], object]) -> WireRequest:
    """The first request a real boto3 client sends for ``call``, as the server would receive it."""
    captured: list[WireRequest] = []

    def before_send(request: Any, **_: object) -> AWSResponse:
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        elif isinstance(body, str):
            body = body.encode()
        captured.append(wire_request(request.method, request.url, request.headers.items(), body or b""))
        return AWSResponse(request.url, 200, {}, _EmptyBody())

    service_client.meta.events.register("before-send", before_send)
    try:
        call(service_client)
    except Exception:  # noqa: BLE001, S110 - the empty fake response does not parse for every operation
        pass
    return captured[0]


def presigned(url: str, method: str = "GET", headers: Iterable[tuple[str, str]] = ()) -> WireRequest:
    return wire_request(method, url, headers)


# -- botocore signers used directly ---------------------------------------------------------


def signed_with(signer_class: type, service: str, request: AWSRequest, region: str = "us-east-1") -> WireRequest:
    signer_class(Credentials(ACCESS_KEY, SECRET), service, region).add_auth(request)
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    return wire_request(request.method, request.url, request.headers.items(), body)


def s3_get(path: str, params: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> WireRequest:
    url = f"{ENDPOINT}{path}" + (f"?{urlencode(params, quote_via=quote, safe='-_.~')}" if params else "")
    return signed_with(S3SigV4Auth, "s3", AWSRequest(method="GET", url=url, headers=headers or {}))


def iam_request(body: dict[str, str]) -> WireRequest:
    request = AWSRequest(
        method="POST",
        url=f"{ENDPOINT}/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    return signed_with(SigV4Auth, "iam", request)


def sagemaker_request(body: bytes, path: str = "/") -> WireRequest:
    request = AWSRequest(
        method="POST",
        url=f"{ENDPOINT}{path}",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "SageMaker.ListTrainingJobs"},
    )
    return signed_with(SigV4Auth, "sagemaker", request, region="eu-west-1")


# -- presigned URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_sigv2_presigned_url_as_boto3_makes_it_in_us_east_1(key: str) -> None:
    url = client("s3").generate_presigned_url(
        "get_object",
        Params={"Bucket": "bkt", "Key": key, "ResponseContentDisposition": 'attachment; filename="a b.txt"'},
    )
    request = presigned(url)
    verified = verify(request)
    assert verified.info.scheme == "sigv2-query"
    assert verified.access_key == ACCESS_KEY
    assert verified.info.region is None and verified.signing_key is None


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize(
    ("region", "config"), [("us-east-1", Config(signature_version="s3v4")), ("eu-central-1", None)]
)
def test_sigv4_presigned_url(key: str, region: str, config: Config | None) -> None:
    url = client("s3", region, config=config).generate_presigned_url(
        "get_object", Params={"Bucket": "bkt", "Key": key, "ResponseContentType": "text/plain; charset=utf-8"}
    )
    verified = verify(presigned(url))
    assert verified.info.scheme == "sigv4-query"
    assert (verified.info.region, verified.info.service) == (region, "s3")
    assert verified.info.expires == 3600


@pytest.mark.parametrize("config", [None, Config(signature_version="s3v4")], ids=["sigv2", "sigv4"])
@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("get_object", {"VersionId": "v+1 2"}),
        ("get_object_tagging", {}),
        ("upload_part", {"UploadId": "up/load id", "PartNumber": 3}),
        ("list_parts", {"UploadId": "x"}),
        ("create_multipart_upload", {}),
    ],
)
def test_presigned_sub_resources(config: Config | None, operation: str, params: dict[str, Any]) -> None:
    url = client("s3", config=config).generate_presigned_url(
        operation, Params={"Bucket": "bkt", "Key": "k e+y", **params}
    )
    method = {"upload_part": "PUT", "create_multipart_upload": "POST"}.get(operation, "GET")
    verify(presigned(url, method))
    # The sub-resource is signed: changing it breaks the signature.
    tampered = url.replace("tagging", "acl").replace("uploadId=", "uploadId=z").replace("versionId=", "versionId=z")
    tampered = tampered.replace("?uploads", "?delete")
    refused(presigned(tampered, method), "SignatureDoesNotMatch", 403)


@pytest.mark.parametrize("config", [None, Config(signature_version="s3v4")], ids=["sigv2", "sigv4"])
def test_presigned_put_with_content_type_metadata_and_session_token(config: Config | None) -> None:
    s3 = client("s3", config=config, aws_session_token="FQoGZXIvYXdzE+token/=")
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": "bkt", "Key": "up load", "ContentType": "text/csv", "Metadata": {"a": "b"}}
    )
    request = presigned(url, "PUT", [("content-type", "text/csv"), ("x-amz-meta-a", "b")])
    verified = verify(request)
    assert verified.info.session_token == "FQoGZXIvYXdzE+token/="
    refused(with_headers(request, content_type="text/plain"), "SignatureDoesNotMatch", 403)


@pytest.mark.parametrize("config", [None, Config(signature_version="s3v4")], ids=["sigv2", "sigv4"])
def test_presigned_url_tampering(config: Config | None) -> None:
    url = client("s3", config=config).generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": "a+b"})
    refused(presigned(url), "SignatureDoesNotMatch", 403, secret=SECRET + "x")
    refused(presigned(url.replace("/bkt/a%2Bb", "/bkt/a%20b")), "SignatureDoesNotMatch", 403)
    refused(presigned(url, "PUT"), "SignatureDoesNotMatch", 403)
    refused(presigned(url + "&acl"), "SignatureDoesNotMatch", 403)


def test_sigv2_signs_only_sub_resources_of_the_query() -> None:
    url = client("s3").generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": "k"})
    verify(presigned(url + "&x-id=GetObject"))
    refused(presigned(url + "&versionId=3"), "SignatureDoesNotMatch", 403)


def test_sigv4_signs_every_query_parameter() -> None:
    url = client("s3", config=Config(signature_version="s3v4")).generate_presigned_url(
        "get_object", Params={"Bucket": "bkt", "Key": "k"}
    )
    refused(presigned(url + "&x-id=GetObject"), "SignatureDoesNotMatch", 403)


def test_sigv4_presigned_url_is_bound_to_host_and_port() -> None:
    url = client("s3", config=Config(signature_version="s3v4")).generate_presigned_url(
        "get_object", Params={"Bucket": "bkt", "Key": "k"}
    )
    refused(presigned(url), "SignatureDoesNotMatch", 403, host="127.0.0.1:8601")
    refused(presigned(url), "SignatureDoesNotMatch", 403, host="127.0.0.1")
    refused(presigned(url), "SignatureDoesNotMatch", 403, host="localhost:8600")


def test_sigv4_presigned_url_lifetime() -> None:
    url = client("s3", config=Config(signature_version="s3v4")).generate_presigned_url(
        "get_object", Params={"Bucket": "bkt", "Key": "k"}, ExpiresIn=60
    )
    request = presigned(url)
    info = parse_authorization(request)
    assert info is not None and info.request_time is not None
    verify(request, now=info.request_time + timedelta(seconds=60))
    expired = refused(request, "AccessDenied", 403, now=info.request_time + timedelta(seconds=61))
    assert expired.message == "Request has expired"
    assert expired.fields["X-Amz-Expires"] == "60"
    early = refused(request, "AccessDenied", 403, now=info.request_time - timedelta(minutes=16))
    assert early.message == "Request is not valid yet"


def test_sigv2_presigned_url_lifetime() -> None:
    url = client("s3").generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": "k"}, ExpiresIn=60)
    request = presigned(url)
    info = parse_authorization(request)
    assert info is not None and info.expires is not None
    verify(request, now=datetime.fromtimestamp(info.expires, UTC))
    expired = refused(request, "AccessDenied", 403, now=datetime.fromtimestamp(info.expires + 1, UTC))
    assert expired.message == "Request has expired"
    forged = presigned(url.replace(f"Expires={info.expires}", f"Expires={info.expires + 3600}"))
    refused(forged, "SignatureDoesNotMatch", 403)


@pytest.mark.parametrize(
    ("expires", "message"),
    [
        ("604801", "X-Amz-Expires must be less than a week"),
        ("-1", "X-Amz-Expires must be non-negative"),
        ("soon", "X-Amz-Expires should be a number"),
    ],
)
def test_invalid_x_amz_expires(expires: str, message: str) -> None:
    url = client("s3", config=Config(signature_version="s3v4")).generate_presigned_url(
        "get_object", Params={"Bucket": "b", "Key": "k"}
    )
    with pytest.raises(AwsError) as caught:
        parse_authorization(presigned(url.replace("X-Amz-Expires=3600", f"X-Amz-Expires={expires}")))
    assert (caught.value.code, caught.value.status) == ("AuthorizationQueryParametersError", 400)
    assert caught.value.message.startswith(message)


def test_zero_x_amz_expires_has_always_expired() -> None:
    url = client("s3", config=Config(signature_version="s3v4")).generate_presigned_url(
        "get_object", Params={"Bucket": "b", "Key": "k"}
    )
    expired = refused(presigned(url.replace("X-Amz-Expires=3600", "X-Amz-Expires=0")), "AccessDenied", 403)
    assert expired.message == "Request has expired"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA512"), "X-Amz-Algorithm only supports"),
        (("X-Amz-SignedHeaders=host&", ""), "Query-string authentication version 4 requires"),
        (("%2Fs3%2Faws4_request", "%2Fs3%2Faws5_request"), "Error parsing the X-Amz-Credential parameter"),
        (("X-Amz-Date=2", "X-Amz-Date=x2"), "X-Amz-Date must be in the ISO8601 Long Format"),
    ],
)
def test_malformed_sigv4_query(change: tuple[str, str], message: str) -> None:
    url = client("s3", config=Config(signature_version="s3v4")).generate_presigned_url(
        "get_object", Params={"Bucket": "b", "Key": "k"}
    )
    assert change[0] in url
    with pytest.raises(AwsError) as caught:
        parse_authorization(presigned(url.replace(*change)))
    assert (caught.value.code, caught.value.status) == ("AuthorizationQueryParametersError", 400)
    assert caught.value.message.startswith(message)


def test_sigv4_query_scope_date_must_be_the_request_date() -> None:
    url = client("s3", config=Config(signature_version="s3v4")).generate_presigned_url(
        "get_object", Params={"Bucket": "b", "Key": "k"}
    )
    request = presigned(url)
    info = parse_authorization(request)
    assert info is not None and info.amz_date is not None
    other_day = (info.request_time - timedelta(days=1)).strftime("%Y%m%d")  # type: ignore[operator]
    with pytest.raises(AwsError) as caught:
        parse_authorization(presigned(url.replace(f"%2F{info.amz_date[:8]}%2F", f"%2F{other_day}%2F")))
    assert (caught.value.code, caught.value.status) == ("AuthorizationQueryParametersError", 400)
    assert caught.value.message.startswith("Invalid credential date")


def test_sigv2_query_needs_all_three_parameters() -> None:
    url = client("s3").generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    without_expires = url.split("&Expires=")[0]
    with pytest.raises(AwsError) as caught:
        parse_authorization(presigned(without_expires))
    assert (caught.value.code, caught.value.status) == ("AccessDenied", 403)


# -- SigV4 header authentication: S3 -----------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_s3_header_auth_with_botocore_signer(key: str) -> None:
    request = s3_get(f"/bkt/{percent_encode(key, safe='/~')}", {"response-content-type": "a b+c", "x-id": "GetObject"})
    verified = verify(request)
    assert verified.info.scheme == "sigv4-header"
    assert verified.info.service == "s3"
    assert verified.info.signed_headers == ("host", "x-amz-content-sha256", "x-amz-date")


def test_s3_path_is_not_normalized() -> None:
    request = s3_get("/bkt/dots/./x/../y//z")
    verify(request)
    refused(replace(request, raw_path="/bkt/dots/y//z", path="/bkt/dots/y//z"), "SignatureDoesNotMatch", 403)


def test_s3_path_encoding_is_canonicalized_once() -> None:
    request = s3_get("/bkt/a%2Bb%20c")
    verify(request)
    # An unreserved character sent percent-encoded decodes to the same key and path.
    verify(replace(request, raw_path="/bkt/%61%2Bb%20c"))
    # In a path '+' is a plus sign, never a space: the key is the same, the signature holds.
    verify(replace(request, raw_path="/bkt/a+b%20c"))
    refused(replace(request, raw_path="/bkt/a%20b%20c"), "SignatureDoesNotMatch", 403)


def test_s3_header_auth_tampering() -> None:
    request = s3_get("/bkt/key", {"list-type": "2"}, {"Range": "bytes=0-9"})
    verify(request)
    refused(request, "SignatureDoesNotMatch", 403, secret="wrong")
    refused(replace(request, raw_path="/bkt/kez"), "SignatureDoesNotMatch", 403)
    refused(replace(request, query=[("list-type", "1")]), "SignatureDoesNotMatch", 403)
    refused(replace(request, method="DELETE"), "SignatureDoesNotMatch", 403)
    refused(with_headers(request, range="bytes=0-99"), "SignatureDoesNotMatch", 403)
    refused(request, "SignatureDoesNotMatch", 403, host="127.0.0.1:8601")
    mismatch = refused(request, "SignatureDoesNotMatch", 403, body_hash=hashlib.sha256(b"x").hexdigest())
    assert mismatch.fields["AWSAccessKeyId"] == ACCESS_KEY
    assert mismatch.fields["CanonicalRequest"].startswith("GET\n/bkt/key\nlist-type=2\n")
    assert mismatch.fields["StringToSign"].startswith("AWS4-HMAC-SHA256\n")


def test_s3_header_auth_clock_skew() -> None:
    request = s3_get("/bkt/key")
    info = parse_authorization(request)
    assert info is not None and info.request_time is not None
    verify(request, now=info.request_time + timedelta(minutes=15))
    verify(request, now=info.request_time - timedelta(minutes=15))
    skewed = refused(request, "RequestTimeTooSkewed", 403, now=info.request_time + timedelta(minutes=16))
    assert skewed.fields["MaxAllowedSkewMilliseconds"] == "900000"
    assert skewed.fields["RequestTime"] == info.amz_date
    refused(request, "RequestTimeTooSkewed", 403, now=info.request_time - timedelta(minutes=16))


def test_s3_header_auth_changed_date_breaks_the_signature() -> None:
    request = s3_get("/bkt/key")
    info = parse_authorization(request)
    assert info is not None and info.request_time is not None
    step = timedelta(seconds=1 if info.request_time.hour < 23 else -1)
    other_second = (info.request_time + step).strftime("%Y%m%dT%H%M%SZ")
    refused(with_headers(request, x_amz_date=other_second), "SignatureDoesNotMatch", 403)


def test_unsigned_amz_headers_are_refused_by_s3() -> None:
    request = with_headers(s3_get("/bkt/key"), x_amz_acl="public-read")
    denied = refused(request, "AccessDenied", 403)
    assert denied.fields["HeadersNotSigned"] == "x-amz-acl"


def test_date_header_instead_of_x_amz_date() -> None:
    request = s3_get("/bkt/key", headers={"Date": "Mon, 01 Jan 2024 00:00:00 GMT"})
    assert request.headers.get("x-amz-date") is None
    verified = verify(request)
    assert verified.info.amz_date is not None
    assert request.headers.get("date") is not None


# -- SigV4 header authentication: IAM (query protocol) and SageMaker (JSON) ------------------


def test_iam_form_body() -> None:
    request = iam_request({"Action": "ListUsers", "Version": "2010-05-08", "PathPrefix": "/a b+c/~ü"})
    verified = verify(request, style="query")
    assert (verified.info.service, verified.info.region) == ("iam", "us-east-1")
    refused(request, "SignatureDoesNotMatch", 403, style="query", secret="wrong")
    tampered = replace(request, body=request.body.replace(b"ListUsers", b"ListRoles"))
    refused(tampered, "SignatureDoesNotMatch", 403, style="query")


def test_sagemaker_json_body() -> None:
    request = sagemaker_request(b'{"NameContains": "x+y"}')
    verified = verify(request, style="json")
    assert (verified.info.service, verified.info.region) == ("sagemaker", "eu-west-1")
    refused(request, "InvalidSignatureException", 400, style="json", secret="wrong")
    refused(replace(request, body=b'{"NameContains": "z"}'), "InvalidSignatureException", 400, style="json")
    refused(with_headers(request, x_amz_target="SageMaker.DeleteModel"), "InvalidSignatureException", 400, style="json")
    refused(request, "InvalidSignatureException", 400, style="json", host="127.0.0.1:9000")


def test_non_s3_mismatch_message_shows_the_canonical_request() -> None:
    request = iam_request({"Action": "GetUser", "Version": "2010-05-08"})
    error = refused(request, "SignatureDoesNotMatch", 403, style="query", secret="wrong")
    assert "The Canonical String for this request should have been\n'POST\n/\n\n" in error.message


def test_non_s3_paths_are_normalized_as_botocore_does() -> None:
    request = sagemaker_request(b"{}", path="/a//b/./c/../d%20e")
    verify(request, style="json")
    verify(replace(request, raw_path="/a/b/d%20e"), style="json")
    refused(replace(request, raw_path="/a/b/c/d%20e"), "InvalidSignatureException", 400, style="json")


def test_non_s3_signed_content_sha256_must_be_the_body_hash() -> None:
    request = AWSRequest(
        method="POST",
        url=f"{ENDPOINT}/",
        data=b"{}",
        headers={"X-Amz-Content-SHA256": hashlib.sha256(b"something else").hexdigest()},
    )
    wire = signed_with(SigV4Auth, "sagemaker", request)
    refused(wire, "InvalidSignatureException", 400, style="json")


@pytest.mark.parametrize(
    ("style", "code", "status"),
    [("query", "SignatureDoesNotMatch", 403), ("json", "InvalidSignatureException", 400)],
)
def test_non_s3_clock_skew(style: ErrorStyle, code: str, status: int) -> None:
    request = iam_request({"Action": "ListUsers", "Version": "2010-05-08"})
    info = parse_authorization(request)
    assert info is not None and info.request_time is not None
    late = refused(request, code, status, style=style, now=info.request_time + timedelta(minutes=20))
    assert late.message.startswith(f"Signature expired: {info.amz_date} is now earlier than ")
    assert late.message.endswith(" - 15 min.)")
    early = refused(request, code, status, style=style, now=info.request_time - timedelta(minutes=20))
    assert early.message.startswith(f"Signature not yet current: {info.amz_date} is still later than ")


# -- requests captured from real boto3 clients (botocore's CRT signer) -------------------------


@pytest.mark.parametrize("key", KEYS)
def test_s3_put_object_over_http_as_boto3_sends_it(key: str) -> None:
    request = sent_by(client("s3"), lambda s3: s3.put_object(Bucket="bkt", Key=key, Body=b"hello world"))
    assert request.headers["x-amz-content-sha256"] == hashlib.sha256(b"hello world").hexdigest()
    assert request.headers["x-amz-sdk-checksum-algorithm"] == "CRC32"
    assert "x-amz-checksum-crc32" in request.headers
    verified = verify(request)
    assert s3_payload_hash(request, verified.info) == hashlib.sha256(b"hello world").hexdigest()
    refused(request, "SignatureDoesNotMatch", 403, body_hash=hashlib.sha256(b"hello World").hexdigest())


def test_s3_put_object_over_https_as_boto3_sends_it() -> None:
    request = sent_by(
        client("s3", endpoint="https://127.0.0.1:8600"),
        lambda s3: s3.put_object(Bucket="bkt", Key="a+b c/ü~//x", Body=b"hello world"),
    )
    assert request.headers["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert request.headers["content-encoding"] == "aws-chunked"
    assert request.body.startswith(b"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:")
    verified = verify(request)
    assert "x-amz-trailer" in verified.info.signed_headers
    assert verified.signing_key is not None
    refused(with_headers(request, x_amz_decoded_content_length="12"), "SignatureDoesNotMatch", 403)


def test_s3_list_objects_with_special_characters_in_the_query() -> None:
    request = sent_by(
        client("s3", region="eu-west-1"),
        lambda s3: s3.list_objects_v2(Bucket="bkt", Prefix="a b+c/ü&=%", Delimiter="/", StartAfter="~x"),
    )
    verify(request)
    refused(replace(request, query=[*request.query[:-1], ("start-after", "~y")]), "SignatureDoesNotMatch", 403)


@pytest.mark.parametrize(
    ("service", "style", "call"),
    [
        ("iam", "query", lambda c: c.list_users(PathPrefix="/a b+c/")),
        ("sts", "query", lambda c: c.get_caller_identity()),
        ("sagemaker", "json", lambda c: c.list_training_jobs(NameContains="x y")),
        ("sagemaker-runtime", "json", lambda c: c.invoke_endpoint(EndpointName="ep-1", Body=b"1,2")),
        ("logs", "json", lambda c: c.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs")),
    ],
)
def test_boto3_clients_of_other_services(service: str, style: ErrorStyle, call: Callable[[Any], object]) -> None:
    request = sent_by(client(service, region="ap-southeast-2", aws_session_token="session/token+="), call)
    verified = verify(request, style=style)
    assert verified.info.region == "ap-southeast-2"
    assert verified.info.session_token == "session/token+="
    mismatch = "SignatureDoesNotMatch" if style == "query" else "InvalidSignatureException"
    refused(request, mismatch, 403 if style == "query" else 400, style=style, secret="wrong")
    refused(replace(request, body=request.body + b" "), mismatch, 403 if style == "query" else 400, style=style)


def test_sagemaker_runtime_is_signed_as_sagemaker() -> None:
    request = sent_by(client("sagemaker-runtime"), lambda c: c.invoke_endpoint(EndpointName="ep", Body=b"1"))
    assert verify(request, style="json").info.service == "sagemaker"


# -- SigV2 header authentication (HmacV1) ------------------------------------------------------


def sigv2_signed(method: str, path: str, headers: dict[str, str] | None = None, query: str = "") -> WireRequest:
    request = AWSRequest(method=method, url=f"{ENDPOINT}{path}" + (f"?{query}" if query else ""), headers=headers or {})
    HmacV1Auth(Credentials(ACCESS_KEY, SECRET)).add_auth(request)
    return wire_request(method, request.url, request.headers.items())


def test_sigv2_header_auth() -> None:
    request = sigv2_signed(
        "PUT", "/bkt/a%2Bb%20c/%C3%BC", {"Content-Type": "text/plain", "x-amz-meta-x": "1"}, "tagging"
    )
    verified = verify(request)
    assert verified.info.scheme == "sigv2-header"
    refused(request, "SignatureDoesNotMatch", 403, secret="wrong")
    refused(with_headers(request, x_amz_meta_x="2"), "SignatureDoesNotMatch", 403)
    refused(replace(request, query=[("acl", "")]), "SignatureDoesNotMatch", 403)
    refused(replace(request, raw_path="/bkt/other"), "SignatureDoesNotMatch", 403)
    assert verified.info.request_time is not None
    refused(request, "RequestTimeTooSkewed", 403, now=verified.info.request_time + timedelta(minutes=16))


def test_sigv2_header_auth_needs_a_date() -> None:
    request = sigv2_signed("GET", "/bkt/k")
    headers = Headers(raw=[(k.encode(), v.encode()) for k, v in request.headers.items() if k != "date"])
    with pytest.raises(AwsError) as caught:
        parse_authorization(replace(request, headers=headers))
    assert (caught.value.code, caught.value.status) == ("AccessDenied", 403)


# -- parsing ----------------------------------------------------------------------------------


def sigv4(credential: str, signed_headers: str = "host") -> str:
    """An ``Authorization`` header value; an empty ``signed_headers`` leaves the component out."""
    parts = [f"Credential={credential}", f"SignedHeaders={signed_headers}" if signed_headers else "", "Signature=ab"]
    return "AWS4-HMAC-SHA256 " + ", ".join(part for part in parts if part)


def header_request(authorization: str, **headers: str) -> WireRequest:
    pairs = [("authorization", authorization), *((k.replace("_", "-"), v) for k, v in headers.items())]
    return wire_request("GET", f"{ENDPOINT}/bkt/k", pairs)


def test_anonymous_request() -> None:
    assert parse_authorization(wire_request("GET", f"{ENDPOINT}/bkt/k?prefix=a")) is None


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        ("Bearer abc", "InvalidArgument"),
        ("AWS4-ECDSA-P256-SHA256 Credential=x", "InvalidArgument"),
        ("", "InvalidArgument"),
        ("AWS noColon", "InvalidArgument"),
        (sigv4("AKID/20240101/us-east-1/s3/aws4_request", signed_headers=""), "AuthorizationHeaderMalformed"),
        (sigv4("AKID/20240101/us-east-1/s3"), "AuthorizationHeaderMalformed"),
        (sigv4("AKID/2024-01-01/us-east-1/s3/aws4_request"), "AuthorizationHeaderMalformed"),
        (sigv4("/20240101/us-east-1/s3/aws4_request"), "AuthorizationHeaderMalformed"),
        (sigv4("AKID/20240102/us-east-1/s3/aws4_request"), "AuthorizationHeaderMalformed"),  # not the request's day
    ],
)
def test_malformed_s3_authorization_header(authorization: str, code: str) -> None:
    with pytest.raises(AwsError) as caught:
        parse_authorization(header_request(authorization, x_amz_date="20240101T000000Z"))
    assert (caught.value.code, caught.value.status) == (code, 400)


@pytest.mark.parametrize(
    ("style", "code"), [("query", "IncompleteSignature"), ("json", "IncompleteSignatureException")]
)
def test_malformed_authorization_header_of_other_services(style: ErrorStyle, code: str) -> None:
    request = header_request("AWS4-HMAC-SHA256 Signature=ab", x_amz_date="20240101T000000Z")
    with pytest.raises(AwsError) as caught:
        parse_authorization(request, error_style=style)
    assert (caught.value.code, caught.value.status) == (code, 400)


@pytest.mark.parametrize(
    ("style", "code", "status"),
    [("s3", "AccessDenied", 403), ("query", "IncompleteSignature", 400), ("json", "IncompleteSignatureException", 400)],
)
def test_missing_request_date(style: ErrorStyle, code: str, status: int) -> None:
    authorization = sigv4("AKID/20240101/us-east-1/s3/aws4_request")
    for headers in ({}, {"x_amz_date": "2024-01-01T00:00:00Z"}, {"date": "yesterday"}):
        with pytest.raises(AwsError) as caught:
            parse_authorization(header_request(authorization, **headers), error_style=style)
        assert (caught.value.code, caught.value.status) == (code, status)


@pytest.mark.parametrize(
    ("style", "code", "status"), [("query", "SignatureDoesNotMatch", 403), ("json", "InvalidSignatureException", 400)]
)
def test_scope_date_of_other_services(style: ErrorStyle, code: str, status: int) -> None:
    authorization = sigv4("AKID/20240102/us-east-1/iam/aws4_request")
    with pytest.raises(AwsError) as caught:
        parse_authorization(header_request(authorization, x_amz_date="20240101T000000Z"), error_style=style)
    assert (caught.value.code, caught.value.status) == (code, status)


def test_one_auth_mechanism_only() -> None:
    url = client("s3").generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    request = presigned(url, headers=[("authorization", "AWS AKID:sig")])
    with pytest.raises(AwsError) as caught:
        parse_authorization(request)
    assert (caught.value.code, caught.value.status) == ("InvalidArgument", 400)


def test_access_key_may_contain_slashes_of_its_own() -> None:
    authorization = sigv4("odd/key/20240101/us-east-1/s3/aws4_request", signed_headers="Host;X-Amz-Date")
    info = parse_authorization(header_request(authorization, x_amz_date="20240101T000000Z"))
    assert info is not None
    assert info.access_key == "odd/key"
    assert info.signed_headers == ("host", "x-amz-date")
    assert info.scope == "20240101/us-east-1/s3/aws4_request"


# -- helpers for the gateway ------------------------------------------------------------------


def test_s3_payload_hash() -> None:
    request = s3_get("/bkt/k")
    info = parse_authorization(request)
    assert s3_payload_hash(request, info) == hashlib.sha256(b"").hexdigest()
    headers = Headers(raw=[(k.encode(), v.encode()) for k, v in request.headers.items() if k != "x-amz-content-sha256"])
    with pytest.raises(AwsError) as missing:
        s3_payload_hash(replace(request, headers=headers), info)
    assert (missing.value.code, missing.value.status) == ("InvalidRequest", 400)
    with pytest.raises(AwsError) as invalid:
        s3_payload_hash(with_headers(request, x_amz_content_sha256="STREAMING-NONSENSE"), info)
    assert (invalid.value.code, invalid.value.status) == ("InvalidArgument", 400)
    url = client("s3", config=Config(signature_version="s3v4")).generate_presigned_url(
        "get_object", Params={"Bucket": "b", "Key": "k"}
    )
    query_request = presigned(url)
    assert s3_payload_hash(query_request, parse_authorization(query_request)) == "UNSIGNED-PAYLOAD"
    assert s3_payload_hash(wire_request("GET", f"{ENDPOINT}/b/k"), None) == "UNSIGNED-PAYLOAD"


@pytest.mark.parametrize(
    ("problem", "style", "code", "status"),
    [
        ("missing", "s3", "AccessDenied", 403),
        ("missing", "query", "MissingAuthenticationToken", 403),
        ("missing", "json", "MissingAuthenticationTokenException", 400),
        ("unknown-access-key", "s3", "InvalidAccessKeyId", 403),
        ("unknown-access-key", "query", "InvalidClientTokenId", 403),
        ("unknown-access-key", "json", "UnrecognizedClientException", 400),
        ("invalid-token", "s3", "InvalidToken", 400),
        ("invalid-token", "query", "InvalidClientTokenId", 403),
        ("invalid-token", "json", "UnrecognizedClientException", 400),
        ("expired-token", "s3", "ExpiredToken", 400),
        ("expired-token", "query", "ExpiredToken", 403),
        ("expired-token", "json", "ExpiredTokenException", 400),
    ],
)
def test_credential_errors(problem: Any, style: ErrorStyle, code: str, status: int) -> None:
    error = credential_error(problem, style, ACCESS_KEY)
    assert (error.code, error.status) == (code, status)
    if code == "InvalidAccessKeyId":
        assert error.fields == {"AWSAccessKeyId": ACCESS_KEY}
