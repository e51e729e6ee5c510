"""Authentication and addressing at the front door of a real server.

SigV4 and SigV2 (presigned) signatures as boto3 makes them, and as an attacker or a bad
clock would spoil them; anonymous requests; virtual-hosted-style buckets; Shipyard's own
pages (health, the browser's home page); request ids on every answer; HTTPS.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from xml.etree import ElementTree

import boto3
import pytest
from botocore.auth import SIGV4_TIMESTAMP, S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from shipyard import __version__
from shipyard.testing import RunningServer
from shipyard.testing.errors import error_of

# -- helpers -----------------------------------------------------------------------------


@dataclass
class Reply:
    """An HTTP answer read whole: status, headers and body."""

    status: int
    headers: Message
    body: bytes

    @property
    def error_code(self) -> str | None:
        """``<Error><Code>`` of an S3 error body, or None."""
        if not self.body.lstrip().startswith(b"<"):
            return None
        root = ElementTree.fromstring(self.body)
        return root.findtext("Code") if root.tag == "Error" else None

    @property
    def body_request_id(self) -> str | None:
        """``<Error><RequestId>`` of an S3 error body, or None."""
        if not self.body.lstrip().startswith(b"<"):
            return None
        return ElementTree.fromstring(self.body).findtext("RequestId")


def tls_context(server: RunningServer) -> ssl.SSLContext | None:
    """An SSL context trusting ``server``'s certificate authority (None for plain HTTP)."""
    return ssl.create_default_context(cafile=server.ca_bundle) if server.ca_bundle else None


def fetch(
    url: str,
    *,
    method: str = "GET",
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    context: ssl.SSLContext | None = None,
) -> Reply:
    """``url`` fetched with urllib, as a browser or ``curl`` would; HTTP errors are replies too."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as answer:
            return Reply(answer.status, answer.headers, answer.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, error.headers, error.read())


def send_raw(server: RunningServer, method: str, target: str, headers: dict[str, str], body: bytes = b"") -> Reply:
    """Send one request to ``server``'s own address whatever ``Host`` header it carries."""
    parts = urlsplit(server.endpoint_url)
    assert parts.hostname is not None and parts.port is not None
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=30, context=tls_context(server))
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        if (body or method in ("PUT", "POST")) and "content-length" not in {name.lower() for name in headers}:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        answer = connection.getresponse()
        return Reply(answer.status, answer.headers, answer.read())
    finally:
        connection.close()


class SigV4AtTime(S3SigV4Auth):
    """botocore's S3 SigV4 signer, signing as of ``moment`` instead of now."""

    def __init__(self, credentials: Credentials, region: str, moment: datetime) -> None:
        super().__init__(credentials, "s3", region)
        self._timestamp = moment.astimezone(UTC).strftime(SIGV4_TIMESTAMP)

    def _modify_request_before_signing(self, request: AWSRequest) -> None:
        # add_auth stamps "now" into the context just before this hook; the scope, the
        # X-Amz-Date header and the signing key are all derived from it afterwards.
        request.context["timestamp"] = self._timestamp
        super()._modify_request_before_signing(request)


def send_signed(
    server: RunningServer,
    method: str,
    target: str,
    *,
    moment: datetime | None = None,
    host: str | None = None,
    body: bytes = b"",
    credentials: tuple[str, str] | None = None,
) -> Reply:
    """A request signed by botocore (SigV4, as of ``moment``) for ``Host: host``, sent raw."""
    netloc = host or urlsplit(server.endpoint_url).netloc
    scheme = urlsplit(server.endpoint_url).scheme
    request = AWSRequest(method=method, url=f"{scheme}://{netloc}{target}", data=body)
    signer = SigV4AtTime(Credentials(*(credentials or server.credentials)), "us-east-1", moment or datetime.now(UTC))
    signer.add_auth(request)
    headers = {name: value for name, value in request.prepare().headers.items()}
    headers["Host"] = netloc
    return send_raw(server, method, target, headers, body)


def keyed_client(server: RunningServer, access_key: str, secret_key: str, **config: Any) -> Any:
    """A boto3 S3 client for ``server`` signing with the given (possibly wrong) key pair."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        verify=server.ca_bundle or True,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
    )


def localhost_subdomains_resolve() -> bool:
    """Whether ``<name>.localhost`` resolves on this machine (systemd-resolved does, glibc alone not)."""
    try:
        socket.getaddrinfo("shipyard-probe.localhost", 80, proto=socket.IPPROTO_TCP)
    except OSError:
        return False
    return True


def virtual_host_client(server: RunningServer, **config: Any) -> Any:
    """A boto3 client using virtual-hosted-style addressing: ``Host: <bucket>.localhost:<port>``.

    Where ``*.localhost`` does not resolve, each request (already signed for that host) is
    sent to 127.0.0.1 with its ``Host`` header kept, which is all the DNS name would do.
    """
    port = urlsplit(server.endpoint_url).port
    access_key, secret_key = server.credentials
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=f"http://localhost:{port}",
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(s3={"addressing_style": "virtual"}, retries={"max_attempts": 1, "mode": "standard"}, **config),
    )
    if not localhost_subdomains_resolve():

        def to_loopback(request: Any, **_: Any) -> None:
            parts = urlsplit(request.url)
            request.headers["Host"] = parts.netloc
            request.url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{parts.port}"))

        client.meta.events.register("before-send.s3", to_loopback)
    return client


def presigning_client(server: RunningServer, version: str) -> Any:
    """A boto3 client whose presigned URLs use ``version``, as boto3 picks it by default.

    ``sigv2``: a us-east-1 client (boto3 presigns S3 URLs with SigV2 there);
    ``sigv4-region``: a client in another region; ``sigv4-config``: ``signature_version="s3v4"``.
    """
    if version == "sigv2":
        return server.client("s3")
    if version == "sigv4-region":
        return server.client("s3", region="eu-central-1")
    assert version == "sigv4-config"
    return server.client("s3", signature_version="s3v4")


def with_query(url: str, **changes: str) -> str:
    """``url`` with some query parameters replaced."""
    parts = urlsplit(url)
    query = [(k, changes.get(k, v)) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def flip_last_character(value: str) -> str:
    """``value`` with its last character changed (a signature that no longer matches)."""
    return value[:-1] + ("A" if value[-1] != "A" else "B")


SIGNATURE_VERSIONS = ["sigv2", "sigv4-region", "sigv4-config"]


@pytest.fixture
def server(sqlite_server: RunningServer) -> RunningServer:
    """The SQLite session server (``s3`` and ``bucket`` follow it).

    Authentication happens in the gateway, the same over either metadata backend, and
    every other integration test signs its requests against both: one is enough here.
    """
    return sqlite_server


@pytest.fixture
def stored(s3: Any, bucket: str) -> Iterator[tuple[str, str, bytes]]:
    """An object (bucket, key, bytes) whose key needs URL encoding."""
    key = f"dir/hello world+{uuid.uuid4().hex[:6]}~ü.txt"
    data = b"presigned bytes \x00\xff" * 100
    s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="text/plain")
    yield bucket, key, data


# -- SigV4 header signatures -------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda c, b: c.list_buckets(),
        lambda c, b: c.get_bucket_location(Bucket=b),
        lambda c, b: c.put_object(Bucket=b, Key="wrong-secret", Body=b"x" * 1000),
        lambda c, b: c.get_object(Bucket=b, Key="wrong-secret"),
    ],
    ids=["ListBuckets", "GetBucketLocation", "PutObject", "GetObject"],
)
def test_wrong_secret_is_signature_does_not_match(
    server: RunningServer, s3: Any, bucket: str, call: Callable[[Any, str], Any]
) -> None:
    access_key, secret_key = server.credentials
    client = keyed_client(server, access_key, flip_last_character(secret_key))
    with pytest.raises(ClientError) as excinfo:
        call(client, bucket)
    assert error_of(excinfo) == ("SignatureDoesNotMatch", 403)
    with pytest.raises(ClientError) as nothing_written:
        s3.head_object(Bucket=bucket, Key="wrong-secret")
    assert error_of(nothing_written) == ("404", 404)


def test_wrong_secret_on_head_is_403_without_a_body(server: RunningServer, bucket: str) -> None:
    access_key, secret_key = server.credentials
    with pytest.raises(ClientError) as excinfo:
        keyed_client(server, access_key, flip_last_character(secret_key)).head_bucket(Bucket=bucket)
    assert error_of(excinfo) == ("403", 403)


def test_unknown_access_key_is_invalid_access_key_id(server: RunningServer, bucket: str) -> None:
    client = keyed_client(server, "AKIAUNKNOWNKEY000000", "secret-of-nobody")
    with pytest.raises(ClientError) as excinfo:
        client.list_buckets()
    assert error_of(excinfo) == ("InvalidAccessKeyId", 403)
    assert excinfo.value.response["Error"]["AWSAccessKeyId"] == "AKIAUNKNOWNKEY000000"
    with pytest.raises(ClientError) as put:
        client.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert error_of(put) == ("InvalidAccessKeyId", 403)


@pytest.mark.parametrize("minutes", [-20, 20], ids=["20 min slow", "20 min fast"])
def test_clock_skew_beyond_15_minutes_is_refused(server: RunningServer, minutes: int) -> None:
    reply = send_signed(server, "GET", "/", moment=datetime.now(UTC) + timedelta(minutes=minutes))
    assert (reply.status, reply.error_code) == (403, "RequestTimeTooSkewed")


def test_clock_skew_within_15_minutes_is_accepted(server: RunningServer) -> None:
    reply = send_signed(server, "GET", "/", moment=datetime.now(UTC) - timedelta(minutes=10))
    assert reply.status == 200
    assert ElementTree.fromstring(reply.body).tag.endswith("ListAllMyBucketsResult")


def test_a_hand_signed_request_reaches_the_bucket(server: RunningServer, s3: Any, bucket: str) -> None:
    """The raw-request helper itself is right: a fresh signature is accepted and writes."""
    reply = send_signed(server, "PUT", f"/{bucket}/hand-signed", body=b"by hand")
    assert reply.status == 200, reply.body
    assert s3.get_object(Bucket=bucket, Key="hand-signed")["Body"].read() == b"by hand"


# -- anonymous requests ------------------------------------------------------------------


@pytest.mark.parametrize("method, path", [("GET", "/{b}"), ("GET", "/{b}/k"), ("PUT", "/{b}/k"), ("DELETE", "/{b}")])
def test_anonymous_requests_are_access_denied(
    server: RunningServer, s3: Any, bucket: str, method: str, path: str
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
    reply = fetch(server.endpoint_url + path.format(b=bucket), method=method, data=b"new" if method == "PUT" else None)
    assert (reply.status, reply.error_code) == (403, "AccessDenied")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"secret"
    assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_anonymous_request_for_a_missing_bucket_reveals_nothing(server: RunningServer, s3: Any) -> None:
    name = f"anon-{uuid.uuid4().hex[:12]}"
    reply = fetch(f"{server.endpoint_url}/{name}", method="PUT", data=b"")
    assert (reply.status, reply.error_code) == (403, "AccessDenied")
    assert s3.list_buckets(Prefix=name)["Buckets"] == []


# -- presigned URLs ----------------------------------------------------------------------


@pytest.mark.parametrize("version", SIGNATURE_VERSIONS)
def test_presigned_get(server: RunningServer, stored: tuple[str, str, bytes], version: str) -> None:
    bucket, key, data = stored
    client = presigning_client(server, version)
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    query = dict(parse_qsl(urlsplit(url).query))
    if version == "sigv2":
        assert {"AWSAccessKeyId", "Signature", "Expires"} <= query.keys()
    else:
        assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    reply = fetch(url)
    assert reply.status == 200
    assert reply.body == data
    assert reply.headers["Content-Type"] == "text/plain"


@pytest.mark.parametrize("version", SIGNATURE_VERSIONS)
def test_presigned_get_with_response_overrides(
    server: RunningServer, stored: tuple[str, str, bytes], version: str
) -> None:
    bucket, key, data = stored
    client = presigning_client(server, version)
    params = {"Bucket": bucket, "Key": key, "ResponseContentDisposition": 'attachment; filename="x y.txt"'}
    reply = fetch(client.generate_presigned_url("get_object", Params=params))
    assert reply.status == 200
    assert reply.body == data
    assert reply.headers["Content-Disposition"] == 'attachment; filename="x y.txt"'


def test_expired_presigned_urls_are_access_denied(server: RunningServer, stored: tuple[str, str, bytes]) -> None:
    bucket, key, _ = stored
    urls = {
        version: presigning_client(server, version).generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=1
        )
        for version in SIGNATURE_VERSIONS
    }
    time.sleep(2.1)
    for version, url in urls.items():
        reply = fetch(url)
        assert (reply.status, reply.error_code) == (403, "AccessDenied"), version
        assert b"expired" in reply.body, version


@pytest.mark.parametrize("version", SIGNATURE_VERSIONS)
def test_tampered_presigned_urls_are_refused(
    server: RunningServer, s3: Any, stored: tuple[str, str, bytes], version: str
) -> None:
    bucket, key, _ = stored
    s3.put_object(Bucket=bucket, Key="other", Body=b"other")
    client = presigning_client(server, version)
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    signature = "Signature" if version == "sigv2" else "X-Amz-Signature"
    expires = "Expires" if version == "sigv2" else "X-Amz-Expires"
    query = dict(parse_qsl(urlsplit(url).query))
    tampered = {
        "signature": with_query(url, **{signature: flip_last_character(query[signature])}),
        "longer life": with_query(url, **{expires: str(int(query[expires]) + 1)}),
        "other key": url.replace(urlsplit(url).path, f"/{bucket}/other"),
    }
    for what, bad_url in tampered.items():
        reply = fetch(bad_url)
        assert (reply.status, reply.error_code) == (403, "SignatureDoesNotMatch"), what
    assert fetch(url).status == 200


@pytest.mark.parametrize("version", SIGNATURE_VERSIONS)
def test_presigned_put(server: RunningServer, s3: Any, bucket: str, version: str) -> None:
    client = presigning_client(server, version)
    key = f"uploads/presigned {version}.csv"
    params = {"Bucket": bucket, "Key": key, "ContentType": "text/csv"}
    url = client.generate_presigned_url("put_object", Params=params, ExpiresIn=300)
    data = b"a,b\n1,2\n" * 1000
    reply = fetch(url, method="PUT", data=data, headers={"Content-Type": "text/csv"})
    assert reply.status == 200, reply.body
    assert reply.headers["ETag"]
    stored = s3.get_object(Bucket=bucket, Key=key)
    assert stored["Body"].read() == data
    assert stored["ContentType"] == "text/csv"


# -- virtual-hosted-style addressing -----------------------------------------------------


def test_virtual_host_and_path_style_reach_the_same_objects(server: RunningServer, s3: Any, bucket: str) -> None:
    virtual = virtual_host_client(server)
    paths: list[str] = []
    virtual.meta.events.register("before-send.s3", lambda request, **_: paths.append(urlsplit(request.url).path))

    virtual.put_object(Bucket=bucket, Key="via virtual/a+b.txt", Body=b"virtual")
    assert s3.get_object(Bucket=bucket, Key="via virtual/a+b.txt")["Body"].read() == b"virtual"
    s3.put_object(Bucket=bucket, Key="via path.txt", Body=b"path")
    assert virtual.get_object(Bucket=bucket, Key="via path.txt")["Body"].read() == b"path"
    assert virtual.head_bucket(Bucket=bucket)["BucketRegion"] == "us-east-1"
    assert virtual.head_object(Bucket=bucket, Key="via path.txt")["ContentLength"] == 4
    virtual.delete_object(Bucket=bucket, Key="via path.txt")
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="via path.txt")
    assert error_of(excinfo) == ("404", 404)
    # The bucket really travelled in the Host header, never in the path.
    assert paths and not any(path.startswith(f"/{bucket}") for path in paths)


def test_virtual_host_bucket_operations(server: RunningServer, bucket: str) -> None:
    virtual = virtual_host_client(server)
    virtual.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "via", "Value": "virtual"}]})
    assert virtual.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "via", "Value": "virtual"}]
    assert bucket in [b["Name"] for b in virtual.list_buckets()["Buckets"]]
    with pytest.raises(ClientError) as excinfo:
        virtual.get_bucket_location(Bucket=f"missing-{uuid.uuid4().hex[:10]}")
    assert error_of(excinfo) == ("NoSuchBucket", 404)


def test_virtual_host_listing(server: RunningServer, s3: Any, bucket: str) -> None:
    """GET / on ``<bucket>.localhost`` lists the bucket (it is not the home page)."""
    s3.put_object(Bucket=bucket, Key="listed.txt", Body=b"x")
    listing = virtual_host_client(server).list_objects_v2(Bucket=bucket)
    assert [item["Key"] for item in listing["Contents"]] == ["listed.txt"]


@pytest.mark.parametrize("version", ["sigv2", "sigv4"])
def test_virtual_host_presigned_get(server: RunningServer, stored: tuple[str, str, bytes], version: str) -> None:
    bucket, key, data = stored
    client = virtual_host_client(server, **({"signature_version": "s3v4"} if version == "sigv4" else {}))
    url = urlsplit(client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}))
    assert url.hostname == f"{bucket}.localhost"
    reply = send_raw(server, "GET", f"{url.path}?{url.query}", {"Host": url.netloc})
    assert reply.status == 200, reply.body
    assert reply.body == data


def test_anonymous_get_of_a_virtual_host_root_is_denied(server: RunningServer, bucket: str) -> None:
    port = urlsplit(server.endpoint_url).port
    reply = send_raw(server, "GET", "/", {"Host": f"{bucket}.localhost:{port}", "Accept": "text/html"})
    assert (reply.status, reply.error_code) == (403, "AccessDenied")


# -- Shipyard's own pages ----------------------------------------------------------------


def test_health_needs_no_authentication(server: RunningServer) -> None:
    reply = fetch(f"{server.endpoint_url}/_shipyard/health")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    assert json.loads(reply.body) == {"status": "ok", "version": __version__}


def test_browser_get_of_the_root_is_an_html_page(server: RunningServer) -> None:
    reply = fetch(f"{server.endpoint_url}/", headers={"Accept": "text/html"})
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    assert b"<html" in reply.body
    assert server.endpoint_url.encode() in reply.body


def test_signed_get_of_the_root_is_list_buckets(server: RunningServer, s3: Any, bucket: str) -> None:
    response = s3.list_buckets()
    assert response["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/xml"
    assert bucket in [b["Name"] for b in response["Buckets"]]
    reply = send_signed(server, "GET", "/")
    assert reply.status == 200
    assert ElementTree.fromstring(reply.body).tag.endswith("ListAllMyBucketsResult")


@pytest.mark.parametrize("version", SIGNATURE_VERSIONS)
def test_presigned_get_of_the_root_is_list_buckets(server: RunningServer, bucket: str, version: str) -> None:
    url = presigning_client(server, version).generate_presigned_url("list_buckets")
    reply = fetch(url, headers={"Accept": "text/html"})
    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"] == "application/xml"
    assert f"<Name>{bucket}</Name>".encode() in reply.body


# -- request ids -------------------------------------------------------------------------

REQUESTS: dict[str, Callable[[RunningServer, str], Reply]] = {
    "signed ListBuckets": lambda s, b: send_signed(s, "GET", "/"),
    "signed PUT": lambda s, b: send_signed(s, "PUT", f"/{b}/id", body=b"x"),
    "signed HEAD": lambda s, b: send_signed(s, "HEAD", f"/{b}"),
    "NoSuchBucket": lambda s, b: send_signed(s, "GET", f"/{b}-gone?location"),
    "HEAD 404": lambda s, b: send_signed(s, "HEAD", f"/{b}-gone"),
    "anonymous": lambda s, b: fetch(f"{s.endpoint_url}/{b}"),
    "bad signature": lambda s, b: send_signed(s, "GET", "/", credentials=(s.credentials[0], "wrong")),
    "clock skew": lambda s, b: send_signed(s, "GET", "/", moment=datetime.now(UTC) - timedelta(hours=1)),
    "unknown key": lambda s, b: send_signed(s, "GET", "/", credentials=("AKIANOBODY0000000000", "x")),
}


@pytest.mark.parametrize("send", REQUESTS.values(), ids=REQUESTS.keys())
def test_every_answer_carries_a_request_id(
    server: RunningServer, bucket: str, send: Callable[[RunningServer, str], Reply]
) -> None:
    reply = send(server, bucket)
    request_id = reply.headers.get("x-amz-request-id")
    assert request_id
    if reply.status >= 400 and reply.body:
        assert reply.body_request_id == request_id


def test_request_ids_are_unique(s3: Any) -> None:
    ids = {s3.list_buckets()["ResponseMetadata"]["RequestId"] for _ in range(5)}
    assert len(ids) == 5


# -- HTTPS -------------------------------------------------------------------------------


def test_https_round_trip_uses_aws_chunked_uploads(https_server: RunningServer) -> None:
    client = https_server.client("s3")
    sent: list[dict[str, str]] = []

    def record(request: Any, **_: Any) -> None:
        sent.append({k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()})

    client.meta.events.register("before-send.s3.PutObject", record)
    name = f"tls-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    data = bytes(range(256)) * 6000 + b"tail"  # ~1.5 MiB: more than one aws-chunked chunk
    client.put_object(Bucket=name, Key="over/tls.bin", Body=data)
    assert sent[-1]["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert "aws-chunked" in sent[-1]["content-encoding"]

    assert client.get_object(Bucket=name, Key="over/tls.bin")["Body"].read() == data
    head = client.head_object(Bucket=name, Key="over/tls.bin")
    assert head["ContentLength"] == len(data)
    assert "ContentEncoding" not in head  # aws-chunked is framing, never stored
    client.put_object(Bucket=name, Key="gzipped", Body=b"not really gzip", ContentEncoding="gzip")
    assert "aws-chunked" in sent[-1]["content-encoding"]
    assert client.head_object(Bucket=name, Key="gzipped")["ContentEncoding"] == "gzip"

    url = client.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "over/tls.bin"})
    assert url.startswith("https://")
    assert fetch(url, context=tls_context(https_server)).body == data


def test_https_wrong_secret_is_refused(https_server: RunningServer) -> None:
    access_key, secret_key = https_server.credentials
    client = keyed_client(https_server, access_key, flip_last_character(secret_key))
    with pytest.raises(ClientError) as excinfo:
        client.list_buckets()
    assert error_of(excinfo) == ("SignatureDoesNotMatch", 403)


def test_an_operation_of_an_unserved_json_service_gets_a_json_error(server: RunningServer) -> None:
    dynamodb = server.client("dynamodb")  # JSON 1.0, a service Shipyard does not serve
    with pytest.raises(ClientError) as raised:
        dynamodb.list_tables()
    assert error_of(raised)[0] == "UnknownOperationException"
    assert raised.value.response["ResponseMetadata"]["HTTPHeaders"]["content-type"].startswith("application/x-amz-json")
