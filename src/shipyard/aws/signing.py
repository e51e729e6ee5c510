"""Authentication of received requests: AWS Signature Version 4 and S3's Signature Version 2.

Verification runs in two steps because the secret key lives in the database:

1. :func:`parse_authorization` reads what a request claims (access key, scheme, credential
   scope, session token) and rejects malformed authentication data; ``None`` means the
   request is anonymous.
2. :func:`verify_signature` rebuilds the canonical request from the request as received,
   with botocore's own signers, and compares signatures.

Only what the client signed is used: the headers listed in ``SignedHeaders``, the path as
sent (decoded once and re-encoded), every query pair, and the exact ``Host``.

Error codes follow the protocol family of the service called, chosen by ``error_style``:

``"s3"``
    ``SignatureDoesNotMatch`` (403), ``RequestTimeTooSkewed`` (403), ``AccessDenied``
    (403, expired presigned URL), ``AuthorizationHeaderMalformed`` /
    ``AuthorizationQueryParametersError`` / ``InvalidArgument`` (400).
``"query"`` (IAM, STS)
    ``SignatureDoesNotMatch`` (403, also for an expired signature) and
    ``IncompleteSignature`` (400).
``"json"`` (SageMaker, CloudWatch Logs and other JSON and REST-JSON services)
    ``InvalidSignatureException`` (400) and ``IncompleteSignatureException`` (400).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from hashlib import sha256
from typing import Literal
from urllib.parse import quote, unquote_to_bytes, urlsplit

from botocore.auth import SIGV4_TIMESTAMP, HmacV1Auth, S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

from shipyard.aws.wire import WireRequest
from shipyard.errors import AwsError

ErrorStyle = Literal["s3", "query", "json"]
Scheme = Literal["sigv4-header", "sigv4-query", "sigv2-query", "sigv2-header"]
CredentialProblem = Literal["missing", "unknown-access-key", "invalid-token", "expired-token"]

SIGV4_ALGORITHM = "AWS4-HMAC-SHA256"
#: How far a signed request time may be from the server's clock.
MAX_CLOCK_SKEW = timedelta(minutes=15)
#: The longest lifetime of a presigned SigV4 URL (``X-Amz-Expires``), in seconds.
MAX_PRESIGNED_EXPIRES = 604800

_STREAMING_PAYLOADS = frozenset(
    {
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
    }
)
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")
_SCOPE_DATE = re.compile(r"\d{8}")
_SIGV4_QUERY_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)
_SIGV2_QUERY_PARAMS = ("AWSAccessKeyId", "Signature", "Expires")
_SIGV2_QUERY_HEADERS = ("content-md5", "content-type")

_CREDENTIAL_SHAPE = 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
_S3_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
_NO_DATE = "AWS authentication requires a valid Date or x-amz-date header"
_INVALID_TOKEN = "The security token included in the request is invalid."
_EXPIRED_TOKEN = "The security token included in the request is expired"
_CREDENTIAL_ERRORS: dict[tuple[ErrorStyle, CredentialProblem], tuple[str, str, int]] = {
    ("s3", "missing"): ("AccessDenied", "Access Denied", 403),
    ("s3", "unknown-access-key"): (
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
        403,
    ),
    ("s3", "invalid-token"): ("InvalidToken", "The provided token is malformed or otherwise invalid.", 400),
    ("s3", "expired-token"): ("ExpiredToken", "The provided token has expired.", 400),
    ("query", "missing"): ("MissingAuthenticationToken", "Request is missing Authentication Token", 403),
    ("query", "unknown-access-key"): ("InvalidClientTokenId", _INVALID_TOKEN, 403),
    ("query", "invalid-token"): ("InvalidClientTokenId", _INVALID_TOKEN, 403),
    ("query", "expired-token"): ("ExpiredToken", _EXPIRED_TOKEN, 403),
    ("json", "missing"): ("MissingAuthenticationTokenException", "Missing Authentication Token", 400),
    ("json", "unknown-access-key"): ("UnrecognizedClientException", _INVALID_TOKEN, 400),
    ("json", "invalid-token"): ("UnrecognizedClientException", _INVALID_TOKEN, 400),
    ("json", "expired-token"): ("ExpiredTokenException", _EXPIRED_TOKEN, 400),
}
_ONE_MECHANISM = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
    "Signature query string parameter or the Authorization header should be specified"
)


@dataclass(frozen=True)
class SignedRequestInfo:
    """What a signed request claims, before its signature is verified.

    ``request_time`` is when the request was signed (``X-Amz-Date`` or ``Date``); it is
    ``None`` only for SigV2 presigned URLs, which carry ``expires`` (epoch seconds)
    instead. For SigV4 presigned URLs ``expires`` is ``X-Amz-Expires`` (seconds).
    """

    access_key: str
    scheme: Scheme
    signature: str
    region: str | None = None
    service: str | None = None
    session_token: str | None = None
    signed_headers: tuple[str, ...] = ()
    request_time: datetime | None = None
    expires: int | None = None

    @property
    def amz_date(self) -> str | None:
        """The SigV4 request time as signed (``20130524T000000Z``); ``None`` for SigV2."""
        if not self.scheme.startswith("sigv4") or self.request_time is None:
            return None
        return self.request_time.strftime(SIGV4_TIMESTAMP)

    @property
    def scope(self) -> str | None:
        """The SigV4 credential scope (``20130524/us-east-1/s3/aws4_request``); ``None`` for SigV2."""
        amz_date = self.amz_date
        if amz_date is None:
            return None
        return f"{amz_date[:8]}/{self.region}/{self.service}/aws4_request"


@dataclass(frozen=True)
class VerifiedSignature:
    """A request whose signature matched.

    ``signing_key`` (SigV4 only) with ``info.signature`` (the seed signature),
    ``info.amz_date`` and ``info.scope`` is what verifying the chunk signatures of an
    ``aws-chunked`` body needs.
    """

    info: SignedRequestInfo
    signing_key: bytes | None

    @property
    def access_key(self) -> str:
        """The access key id whose secret signed the request."""
        return self.info.access_key


def parse_authorization(request: WireRequest, *, error_style: ErrorStyle = "s3") -> SignedRequestInfo | None:
    """What ``request`` claims about its signer; ``None`` if it carries no authentication.

    Recognises the SigV4 ``Authorization`` header and query parameters (presigned URLs),
    S3's SigV2 ``Authorization: AWS key:signature`` header and SigV2 presigned URLs
    (``AWSAccessKeyId``, ``Signature``, ``Expires``). Malformed authentication data raises
    :class:`AwsError` in ``error_style``.
    """
    header = request.headers.get("authorization")
    query = request.query_dict()
    presigned_v4 = "X-Amz-Algorithm" in query or "X-Amz-Signature" in query
    presigned_v2 = "AWSAccessKeyId" in query or "Signature" in query
    if (header is not None and (presigned_v4 or presigned_v2)) or (presigned_v4 and presigned_v2):
        raise _malformed(error_style, _ONE_MECHANISM, s3_code="InvalidArgument", argument=("Authorization", ""))
    if header is not None:
        return _parse_header(request, header, error_style)
    if presigned_v4:
        return _parse_sigv4_query(query, error_style)
    if presigned_v2:
        return _parse_sigv2_query(query, error_style)
    return None


def verify_signature(
    request: WireRequest,
    info: SignedRequestInfo,
    secret_key: str,
    *,
    payload_hash: str,
    host: str,
    now: datetime | None = None,
    error_style: ErrorStyle = "s3",
) -> VerifiedSignature:
    """Check ``request``'s signature against ``secret_key``; raise :class:`AwsError` if it fails.

    ``payload_hash`` is the payload line of the canonical request: for S3 the
    ``x-amz-content-sha256`` value as sent (see :func:`s3_payload_hash`), for every other
    service the hex SHA-256 of the body. ``host`` is the ``Host`` header exactly as
    received, port included. ``now`` defaults to the current time (naive means UTC).
    ``error_style`` picks the error codes of the service's protocol family (see the module
    documentation).
    """
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if info.scheme.startswith("sigv4"):
        return _verify_sigv4(request, info, secret_key, payload_hash, host, now, error_style)
    return _verify_sigv2(request, info, secret_key, now, error_style)


def s3_payload_hash(request: WireRequest, info: SignedRequestInfo | None) -> str:
    """The payload hash an S3 request claims, for :func:`verify_signature` and body checks.

    That is the ``x-amz-content-sha256`` header: a hex SHA-256, ``UNSIGNED-PAYLOAD`` or a
    ``STREAMING-*`` value. It is required with a SigV4 ``Authorization`` header; presigned,
    SigV2 and anonymous requests without it have an ``UNSIGNED-PAYLOAD``.
    """
    value = request.headers.get("x-amz-content-sha256")
    if value is None:
        if info is not None and info.scheme == "sigv4-header":
            raise AwsError("InvalidRequest", "Missing required header for this request: x-amz-content-sha256", 400)
        return "UNSIGNED-PAYLOAD"
    if value == "UNSIGNED-PAYLOAD" or value in _STREAMING_PAYLOADS or _HEX_SHA256.fullmatch(value):
        return value
    raise AwsError(
        "InvalidArgument",
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER "
        "or a valid sha256 value.",
        400,
        fields={"ArgumentName": "x-amz-content-sha256", "ArgumentValue": value},
    )


def credential_error(problem: CredentialProblem, error_style: ErrorStyle, access_key: str = "") -> AwsError:
    """The error for a request whose credentials cannot be used, as the service family words it.

    ``problem`` is ``"missing"`` (an anonymous request to a service that needs a
    signature), ``"unknown-access-key"``, ``"invalid-token"`` (a session token that does
    not belong to the key) or ``"expired-token"``.
    """
    code, message, status = _CREDENTIAL_ERRORS[error_style, problem]
    fields = {"AWSAccessKeyId": access_key} if code == "InvalidAccessKeyId" else None
    return AwsError(code, message, status, fields=fields)


# -- parsing -----------------------------------------------------------------------------


def _parse_header(request: WireRequest, header: str, style: ErrorStyle) -> SignedRequestInfo:
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm == SIGV4_ALGORITHM:
        return _parse_sigv4_header(request, rest, style)
    if algorithm == "AWS" and style == "s3":
        return _parse_sigv2_header(request, rest)
    raise _malformed(
        style, "Unsupported Authorization Type", s3_code="InvalidArgument", argument=("Authorization", header)
    )


def _parse_sigv4_header(request: WireRequest, rest: str, style: ErrorStyle) -> SignedRequestInfo:
    components: dict[str, str] = {}
    for part in rest.split(","):
        name, _, value = part.strip().partition("=")
        components[name] = value
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not components.get(name)]
    if missing:
        raise _malformed(
            style,
            "The authorization header is malformed; the authorization header requires three components: "
            "Credential, SignedHeaders, and Signature.",
        )
    access_key, scope_date, region, service = _parse_credential(
        components["Credential"], style, "The authorization header is malformed; "
    )
    request_time = _header_request_time(request, style)
    if request_time.strftime("%Y%m%d") != scope_date:
        raise _scope_date_error(style, scope_date, request_time, query=False)
    return SignedRequestInfo(
        access_key=access_key,
        scheme="sigv4-header",
        signature=components["Signature"],
        region=region,
        service=service,
        session_token=request.headers.get("x-amz-security-token"),
        signed_headers=_signed_header_names(components["SignedHeaders"]),
        request_time=request_time,
    )


def _parse_sigv4_query(query: dict[str, str], style: ErrorStyle) -> SignedRequestInfo:
    if query.get("X-Amz-Algorithm") != SIGV4_ALGORITHM:
        raise _malformed(style, 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"', query=True)
    if any(not query.get(name) for name in _SIGV4_QUERY_PARAMS):
        raise _malformed(
            style,
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
            "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
            query=True,
        )
    access_key, scope_date, region, service = _parse_credential(
        query["X-Amz-Credential"], style, "Error parsing the X-Amz-Credential parameter; ", query=True
    )
    request_time = _parse_amz_date(query["X-Amz-Date"])
    if request_time is None:
        raise _malformed(
            style, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"", query=True
        )
    if request_time.strftime("%Y%m%d") != scope_date:
        raise _scope_date_error(style, scope_date, request_time, query=True)
    return SignedRequestInfo(
        access_key=access_key,
        scheme="sigv4-query",
        signature=query["X-Amz-Signature"],
        region=region,
        service=service,
        session_token=query.get("X-Amz-Security-Token"),
        signed_headers=_signed_header_names(query["X-Amz-SignedHeaders"]),
        request_time=request_time,
        expires=_parse_expires(query["X-Amz-Expires"], style),
    )


def _parse_sigv2_header(request: WireRequest, rest: str) -> SignedRequestInfo:
    access_key, _, signature = rest.strip().rpartition(":")
    if not access_key or not signature:
        raise AwsError(
            "InvalidArgument",
            "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature",
            400,
            fields={"ArgumentName": "Authorization", "ArgumentValue": f"AWS {rest}"},
        )
    request_time = _header_request_time(request, "s3")
    return SignedRequestInfo(
        access_key=access_key,
        scheme="sigv2-header",
        signature=signature,
        session_token=request.headers.get("x-amz-security-token"),
        request_time=request_time,
    )


def _parse_sigv2_query(query: dict[str, str], style: ErrorStyle) -> SignedRequestInfo:
    expires = query.get("Expires", "")
    if style != "s3" or any(not query.get(name) for name in _SIGV2_QUERY_PARAMS) or not expires.isdigit():
        raise _malformed(
            style,
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
            s3_code="AccessDenied",
            status=403,
        )
    return SignedRequestInfo(
        access_key=query["AWSAccessKeyId"],
        scheme="sigv2-query",
        signature=query["Signature"],
        session_token=query.get("x-amz-security-token"),
        expires=int(expires),
    )


def _parse_credential(
    credential: str, style: ErrorStyle, prefix: str, *, query: bool = False
) -> tuple[str, str, str, str]:
    parts = credential.rsplit("/", 4)
    if len(parts) != 5 or not all(parts) or parts[4] != "aws4_request" or not _SCOPE_DATE.fullmatch(parts[1]):
        raise _malformed(style, prefix + _CREDENTIAL_SHAPE, query=query)
    access_key, scope_date, region, service, _ = parts
    return access_key, scope_date, region, service


def _signed_header_names(value: str) -> tuple[str, ...]:
    return tuple(name.strip().lower() for name in value.split(";") if name.strip())


def _parse_expires(value: str, style: ErrorStyle) -> int:
    try:
        expires = int(value)
    except ValueError:
        raise _malformed(style, "X-Amz-Expires should be a number", query=True) from None
    if expires < 0:
        raise _malformed(style, "X-Amz-Expires must be non-negative", query=True)
    if expires > MAX_PRESIGNED_EXPIRES:
        raise _malformed(
            style,
            "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires "
            f"must be less than {MAX_PRESIGNED_EXPIRES} seconds",
            query=True,
        )
    return expires


def _header_request_time(request: WireRequest, style: ErrorStyle) -> datetime:
    """The signing time of a header-signed request: ``X-Amz-Date``, else ``Date``."""
    amz_date = request.headers.get("x-amz-date")
    if amz_date is not None:
        parsed = _parse_amz_date(amz_date) or _parse_http_date(amz_date)
    else:
        parsed = _parse_http_date(request.headers.get("date", ""))
    if parsed is None:
        if style == "s3":
            raise AwsError("AccessDenied", _NO_DATE, 403)
        raise _malformed(style, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    return parsed


def _parse_amz_date(value: str) -> datetime | None:
    if not _AMZ_DATE.fullmatch(value):
        return None
    try:  # by hand: strptime costs more than the rest of a request's date handling
        return datetime(
            int(value[0:4]), int(value[4:6]), int(value[6:8]), int(value[9:11]), int(value[11:13]), int(value[13:15]), tzinfo=UTC
        )
    except ValueError:
        return None


def _parse_http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# -- verification ------------------------------------------------------------------------


class _ReceivedRequestSigner(SigV4Auth):
    """botocore's SigV4 signer, fed with a received request's signed headers and payload hash.

    botocore builds the canonical request, string to sign and signature exactly as a
    client does; only the choice of headers (the ones the client listed, not the ones an
    outgoing request would have) and the payload hash (given by the caller, never read
    from a body) are replaced.
    """

    def __init__(self, info: SignedRequestInfo, secret_key: str, headers: HTTPHeaders, payload_hash: str) -> None:
        super().__init__(Credentials(info.access_key, secret_key), info.service, info.region)
        self._received_headers = headers
        self._payload_hash = payload_hash

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        return self._received_headers

    def payload(self, request: AWSRequest) -> str:
        return self._payload_hash


class _ReceivedS3RequestSigner(_ReceivedRequestSigner, S3SigV4Auth):
    """The same for S3, whose canonical path is neither normalized nor encoded twice."""


class _ReceivedHmacV1Signer(HmacV1Auth):
    """botocore's S3 SigV2 signer, with the date of the received request instead of now."""

    def __init__(self, credentials: Credentials, date: str) -> None:
        super().__init__(credentials)
        self._received_date = date

    def _get_date(self) -> str:
        return self._received_date


def _verify_sigv4(
    request: WireRequest,
    info: SignedRequestInfo,
    secret_key: str,
    payload_hash: str,
    host: str,
    now: datetime,
    style: ErrorStyle,
) -> VerifiedSignature:
    assert info.request_time is not None and info.amz_date is not None and info.scope is not None
    if info.scheme == "sigv4-query":
        _check_presigned_window(info, now, style)
    else:
        _check_clock_skew(info.request_time, info.amz_date, now, style)
    headers = _signed_headers(request, info.signed_headers, host)
    if style == "s3":
        _check_unsigned_amz_headers(request, info.signed_headers)
    signer_class = _ReceivedS3RequestSigner if info.service == "s3" else _ReceivedRequestSigner
    signer = signer_class(info, secret_key, headers, payload_hash)
    aws_request = AWSRequest(method=request.method, url=_signer_url(request.raw_path))
    aws_request.params = [
        (key, value) for key, value in request.query if info.scheme == "sigv4-header" or key != "X-Amz-Signature"
    ]
    aws_request.context["timestamp"] = info.amz_date
    canonical_request = signer.canonical_request(aws_request)
    string_to_sign = signer.string_to_sign(aws_request, canonical_request)
    declared_hash = headers.get("x-amz-content-sha256")
    body_matches = declared_hash is None or declared_hash == payload_hash
    if not body_matches or not hmac.compare_digest(signer.signature(string_to_sign, aws_request), info.signature):
        raise _mismatch(style, info, string_to_sign, canonical_request)
    key = _signing_key(secret_key, info.amz_date[:8], info.region or "", info.service or "")
    return VerifiedSignature(info=info, signing_key=key)


def _verify_sigv2(
    request: WireRequest, info: SignedRequestInfo, secret_key: str, now: datetime, style: ErrorStyle
) -> VerifiedSignature:
    headers = HTTPHeaders()
    for name, value in request.headers.items():
        headers[name] = value
    if info.scheme == "sigv2-query":
        assert info.expires is not None
        if now.timestamp() > info.expires:
            raise AwsError(
                "AccessDenied",
                "Request has expired",
                403,
                fields={"Expires": _iso(datetime.fromtimestamp(info.expires, UTC)), "ServerTime": _iso(now)},
            )
        for name, value in request.query:
            lname = name.lower()
            if (lname.startswith("x-amz-") or lname in _SIGV2_QUERY_HEADERS) and lname not in headers:
                headers[lname] = value
        date = str(info.expires)
    else:
        assert info.request_time is not None
        sent_date = request.headers.get("x-amz-date") or request.headers.get("date")
        _check_clock_skew(info.request_time, sent_date, now, style)
        date = "" if "x-amz-date" in headers else request.headers.get("date", "")
    signer = _ReceivedHmacV1Signer(Credentials(info.access_key, secret_key), date)
    split = urlsplit(f"{_signer_url(request.raw_path)}?{_subresource_query(request.query)}")
    string_to_sign = signer.canonical_string(request.method, split, headers)
    if not hmac.compare_digest(signer.sign_string(string_to_sign), info.signature):
        raise _mismatch(style, info, string_to_sign, None)
    return VerifiedSignature(info=info, signing_key=None)


def _check_clock_skew(request_time: datetime, sent: str | None, now: datetime, style: ErrorStyle) -> None:
    if abs(now - request_time) <= MAX_CLOCK_SKEW:
        return
    if style == "s3":
        raise AwsError(
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
            403,
            fields={
                "RequestTime": sent or "",
                "ServerTime": _iso(now),
                "MaxAllowedSkewMilliseconds": str(int(MAX_CLOCK_SKEW.total_seconds() * 1000)),
            },
        )
    minutes = int(MAX_CLOCK_SKEW.total_seconds() // 60)
    signed, current = request_time.strftime(SIGV4_TIMESTAMP), now.strftime(SIGV4_TIMESTAMP)
    if request_time < now:
        bound = (now - MAX_CLOCK_SKEW).strftime(SIGV4_TIMESTAMP)
        message = f"Signature expired: {signed} is now earlier than {bound} ({current} - {minutes} min.)"
    else:
        bound = (now + MAX_CLOCK_SKEW).strftime(SIGV4_TIMESTAMP)
        message = f"Signature not yet current: {signed} is still later than {bound} ({current} + {minutes} min.)"
    raise _rejected(style, message)


def _check_presigned_window(info: SignedRequestInfo, now: datetime, style: ErrorStyle) -> None:
    assert info.request_time is not None and info.expires is not None
    if info.request_time - now > MAX_CLOCK_SKEW:
        raise _access_denied(style, "Request is not valid yet")
    expires_at = info.request_time + timedelta(seconds=info.expires)
    if info.expires < 1 or now > expires_at:
        if style != "s3":
            raise _rejected(style, "Request has expired")
        raise AwsError(
            "AccessDenied",
            "Request has expired",
            403,
            fields={"X-Amz-Expires": str(info.expires), "Expires": _iso(expires_at), "ServerTime": _iso(now)},
        )


def _check_unsigned_amz_headers(request: WireRequest, signed: tuple[str, ...]) -> None:
    """S3 refuses ``x-amz-*`` headers that the signature does not cover."""
    unsigned = sorted({name.lower() for name, _ in request.headers.items()} - set(signed))
    unsigned = [name for name in unsigned if name.startswith("x-amz-")]
    if unsigned:
        raise AwsError(
            "AccessDenied",
            "There were headers present in the request which were not signed",
            403,
            fields={"HeadersNotSigned": ", ".join(unsigned)},
        )


def _signed_headers(request: WireRequest, names: tuple[str, ...], host: str) -> HTTPHeaders:
    """The headers named in ``SignedHeaders``, as received (``Host`` as the caller gives it)."""
    headers = HTTPHeaders()
    for name in names:
        for value in [host] if name == "host" else request.headers.getlist(name) or [""]:
            headers[name] = value
    return headers


def _signer_url(raw_path: str) -> str:
    """A URL whose path is the one a client's signer saw: each segment decoded once and re-encoded.

    Encoded slashes (``%2F``) stay inside their segment. The signers read only the path of
    the URL; the host they sign comes from the headers.
    """
    segments = (quote(unquote_to_bytes(segment), safe="~") for segment in (raw_path or "/").split("/"))
    return "http://localhost" + "/".join(segments)


def _subresource_query(query: list[tuple[str, str]]) -> str:
    """The query in the form botocore's SigV2 signer reads its sub-resources from."""
    return "&".join(
        quote(key, safe="") if value == "" else f"{quote(key, safe='')}={quote(value, safe='')}" for key, value in query
    )


def _signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), sha256).digest()
    return key


# -- errors ------------------------------------------------------------------------------


def _malformed(
    style: ErrorStyle,
    message: str,
    *,
    query: bool = False,
    s3_code: str | None = None,
    status: int = 400,
    argument: tuple[str, str] | None = None,
) -> AwsError:
    """Authentication data the server cannot read."""
    if style != "s3":
        code = "IncompleteSignature" if style == "query" else "IncompleteSignatureException"
        return AwsError(code, message, 400)
    code = s3_code or ("AuthorizationQueryParametersError" if query else "AuthorizationHeaderMalformed")
    fields = {"ArgumentName": argument[0], "ArgumentValue": argument[1]} if argument else None
    return AwsError(code, message, status, fields=fields)


def _rejected(style: ErrorStyle, message: str) -> AwsError:
    """A signature that a JSON or query service does not accept."""
    if style == "json":
        return AwsError("InvalidSignatureException", message, 400)
    return AwsError("SignatureDoesNotMatch", message, 403)


def _access_denied(style: ErrorStyle, message: str) -> AwsError:
    return AwsError("AccessDenied", message, 403) if style == "s3" else _rejected(style, message)


def _scope_date_error(style: ErrorStyle, scope_date: str, request_time: datetime, *, query: bool) -> AwsError:
    amz_date = request_time.strftime(SIGV4_TIMESTAMP)
    if style != "s3":
        return _rejected(
            style,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{scope_date}' != '{amz_date[:8]}', from '{amz_date}'.",
        )
    if query:
        return _malformed(
            style,
            f'Invalid credential date "{scope_date}". This date is not the same as X-Amz-Date: "{amz_date[:8]}".',
            query=True,
        )
    return _malformed(
        style, "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date."
    )


def _mismatch(
    style: ErrorStyle, info: SignedRequestInfo, string_to_sign: str, canonical_request: str | None
) -> AwsError:
    if style == "s3":
        fields = {
            "AWSAccessKeyId": info.access_key,
            "StringToSign": string_to_sign,
            "SignatureProvided": info.signature,
        }
        if canonical_request is not None:
            fields["CanonicalRequest"] = canonical_request
        return AwsError("SignatureDoesNotMatch", _S3_MISMATCH, 403, fields=fields)
    return _rejected(
        style,
        f"{_MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical_request}'\n\n"
        f"The String-to-Sign should have been\n'{string_to_sign}'\n",
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
