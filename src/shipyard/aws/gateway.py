"""The AWS gateway: one ASGI app that authenticates, routes, decodes and encodes every
AWS API request, and hands the parsed parameters to the service's handler.

Services never see wire formats and the gateway never touches domain state: all it knows of
a service is its botocore model and its :class:`~shipyard.services.base.ServiceRouter`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from botocore.model import OperationModel, ServiceModel
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from shipyard.audit import AuditEvent, redact
from shipyard.audit.events import recorded
from shipyard.audit.resources import with_buckets
from shipyard.aws.chunked import AwsChunkedDecoder
from shipyard.aws.models import service_model, streaming_input_member
from shipyard.aws.payload import (
    PlainStream,
    Sha256VerifiedStream,
    decompressed,
    is_hex_sha256,
    read_limited,
    verify_body_integrity,
)
from shipyard.aws.protocols import ProtocolCodec, codec_for_request
from shipyard.aws.routing import ServiceTable, virtual_host_bucket
from shipyard.aws.signing import (
    ErrorStyle,
    SignedRequestInfo,
    VerifiedSignature,
    credential_error,
    parse_authorization,
    s3_payload_hash,
    verify_signature,
)
from shipyard.aws.validation import validate_input
from shipyard.aws.wire import BodyStream, WireRequest, WireResponse
from shipyard.errors import AwsError, InternalError, NotImplementedOperation
from shipyard.iam.actions import read_only
from shipyard.iam.authorizer import resources_of
from shipyard.iam.callers import ANONYMOUS_CALLER, Caller, Credential
from shipyard.iam.context_keys import RequestFacts
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.runtime import Runtime

access_log = logging.getLogger("shipyard.access")
error_log = logging.getLogger("shipyard.gateway")


@dataclasses.dataclass
class _Outcome:
    """What the access log and the audit trail record of one request (as far as it got)."""

    service: str | None = None
    operation: str | None = None
    access_key: str | None = None
    status: int = 500
    region: str | None = None
    #: Who made the request, once the signature checked out (or it was anonymous).
    caller: Caller | None = None
    #: ARNs the request acted on.
    resources: tuple[str, ...] = ()
    #: The parsed request parameters (before redaction); None if never parsed.
    params: Mapping[str, Any] | None = None
    error: AwsError | None = None


class Gateway:
    """ASGI application serving every AWS API the given routers implement."""

    def __init__(self, runtime: Runtime, routers: Mapping[str, ServiceRouter]) -> None:
        self.runtime = runtime
        self.routers = dict(routers)
        self.services = ServiceTable.build(self.routers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        received_at = datetime.now(UTC)
        request_id = uuid.uuid4().hex[:16].upper()
        body = _RequestBody(receive)
        request = _wire_request(scope, body)
        outcome = _Outcome()
        try:
            response = await self._handle(scope, request, request_id, outcome, started)
        except AwsError as error:
            outcome.error = error
            response = self._error_response(request, outcome, error, request_id)
        except Exception:  # noqa: BLE001 - the last line of defence: logged, answered as InternalError
            error_log.exception("unhandled error in %s.%s (request %s)", outcome.service, outcome.operation, request_id)
            outcome.error = InternalError()
            response = self._error_response(request, outcome, outcome.error, request_id)
        try:
            if recorded(outcome.service, outcome.operation):
                await self.runtime.audit.record(self._audit_event(scope, request, request_id, received_at, outcome))
        except AwsError as error:
            await _discard(response)
            response = self._error_response(request, outcome, error, request_id)
        outcome.status = response.status
        if body.left_unread(request):
            # Answered before the body was read (an error, or Expect: 100-continue never
            # acknowledged): the unread bytes would be parsed as the next request.
            response.headers.append(("Connection", "close"))
        await _send(send, response, request_id, head=request.method == "HEAD" or response.status == 304)
        access_log.info(
            json.dumps(
                {
                    "request_id": request_id,
                    "method": request.method,
                    "path": request.raw_path,
                    "service": outcome.service,
                    "operation": outcome.operation,
                    "status": outcome.status,
                    "access_key": outcome.access_key,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                },
                separators=(",", ":"),
            )
        )

    async def _handle(
        self, scope: Scope, request: WireRequest, request_id: str, outcome: _Outcome, started: float
    ) -> WireResponse:
        signed = parse_authorization(request, error_style=_guess_error_style(request))
        outcome.service = name = self.services.identify(request, signed.service if signed else None)
        model = service_model(name)
        style = _error_style(name, model)
        codec = codec_for_request(model, request)
        routed = self._apply_virtual_host(request, name)
        limit = self.runtime.settings.max_request_body

        signed_body = None
        if model.protocol.startswith("rest"):
            operation, path_params = codec.resolve_operation(model, routed)
        else:
            # The signature covers the body as sent, gzip-compressed or not.
            signed_body = await read_limited(routed.stream, limit)
            routed.body = decompressed(signed_body, request.headers.get("content-encoding"), limit)
            operation, path_params = codec.resolve_operation(model, routed)
        outcome.operation = operation.name

        credential = await self._credential(signed, name, style, outcome)
        streaming = streaming_input_member(operation) is not None
        if name == "s3":
            payload_hash = s3_payload_hash(request, signed)
        else:
            if model.protocol.startswith("rest") and not streaming:
                routed.body = await read_limited(routed.stream, limit)
            payload_hash = hashlib.sha256(routed.body if signed_body is None else signed_body).hexdigest()
        verified = None
        if signed is not None and credential is not None:
            # SigV4 signs the path as sent; SigV2's resource names the bucket even when virtual-hosted.
            verified = verify_signature(
                request if signed.scheme.startswith("sigv4") else routed,
                signed,
                credential.secret_access_key,
                payload_hash=payload_hash,
                host=request.headers.get("host", ""),
                error_style=style,
            )
            if credential.session is not None and credential.session.expired():
                raise credential_error("expired-token", style)
        caller = ANONYMOUS_CALLER if credential is None else await self.runtime.authorizer.caller(credential)
        outcome.caller = caller
        if name == "s3":
            body = _s3_body_stream(request, payload_hash, verified)
            if isinstance(body, AwsChunkedDecoder):
                routed.headers = _without_aws_chunked(routed.headers)
            if streaming:
                routed.stream = body
            else:
                routed.body = await read_limited(body, limit)
                # Only operations with a modelled request checksum use x-amz-checksum-* for the body.
                verify_body_integrity(
                    routed.body, request.headers, body.trailers, checksum_headers=bool(operation.http_checksum)
                )

        handler = self.routers[name].handlers.get(operation.name)
        if handler is None:
            raise NotImplementedOperation(name, operation.name)
        params = outcome.params = codec.parse(operation, routed, path_params)
        if name != "s3":
            validate_input(operation, params, skip=self.routers[name].self_validated[operation.name])
        region = outcome.region or self.runtime.settings.region
        facts = RequestFacts(
            source_ip=_client_ip(scope),
            secure_transport=scope.get("scheme") == "https",
            user_agent=request.headers.get("user-agent"),
            region=region,
        )
        denied = await self._authorize(caller, name, operation.name, params, facts, style, outcome)
        if name == "s3":
            _check_expected_owner(params, self.runtime.account_id)
        context = RequestContext(
            request_id=request_id,
            region=region,
            account_id=self.runtime.account_id,
            request=routed,
            host=request.headers.get("host", ""),
            runtime=self.runtime,
            caller=caller,
            denied_resources=denied,
            started=started,
        )
        output = await handler(context, params)
        return codec.serialize(operation, output or {}, request_id)

    async def _authorize(
        self,
        caller: Caller,
        service: str,
        operation: str,
        params: dict[str, Any],
        facts: RequestFacts,
        style: ErrorStyle,
        outcome: _Outcome,
    ) -> frozenset[str]:
        """Refuse the request unless ``caller`` may make it; for per-resource operations,
        return the resources it may not act on instead."""
        authorizer = self.runtime.authorizer
        needed = authorizer.required(caller, service, operation, params, region=facts.region)
        outcome.resources = resources_of(needed)
        if needed is not None and operation in self.routers[service].per_resource:
            return await authorizer.denied_resources(caller, service, operation, needed, facts)
        await authorizer.authorize(caller, service, operation, needed, facts, error_style=style)
        return frozenset()

    async def authenticate(self, scope: Scope, receive: Receive, service: str) -> tuple[Caller, bytes, str]:
        """Authenticate one of Shipyard's own requests, signed with SigV4 as a ``service``
        request would be (the body hashed into the signature): the caller, the body, and the
        region of the signature's scope. Raises the json family's :class:`AwsError`."""
        request = _wire_request(scope, _RequestBody(receive))
        signed = parse_authorization(request, error_style="json")
        credential = await self._credential(signed, service, "json", _Outcome())
        assert signed is not None and credential is not None  # an unsigned request raised above
        if not signed.scheme.startswith("sigv4"):
            raise credential_error("missing", "json")
        assert request.stream is not None
        body = await read_limited(request.stream, self.runtime.settings.max_request_body)
        verify_signature(
            request,
            signed,
            credential.secret_access_key,
            payload_hash=hashlib.sha256(body).hexdigest(),
            host=request.headers.get("host", ""),
            error_style="json",
        )
        if credential.session is not None and credential.session.expired():
            raise credential_error("expired-token", "json")
        return await self.runtime.authorizer.caller(credential), body, signed.region or self.runtime.settings.region

    async def _credential(
        self, signed: SignedRequestInfo | None, service: str, style: ErrorStyle, outcome: _Outcome
    ) -> Credential | None:
        """The credential that signed the request (its signature still unchecked), or None.

        Unsigned requests are anonymous; only S3 serves them (where a bucket policy may
        allow). A session key needs its own session token; a long-term key none.
        """
        if signed is None:
            if service != "s3":
                raise credential_error("missing", style)
            return None
        outcome.access_key = signed.access_key
        outcome.region = signed.region
        credential = await self.runtime.authorizer.credential(signed.access_key)
        if credential is None or not credential.active:
            raise credential_error("unknown-access-key", style, signed.access_key)
        session = credential.session
        if session is None:
            if signed.session_token:
                raise credential_error("invalid-token", style)
        elif not session.accepts_token(signed.session_token):
            raise credential_error("invalid-token", style)
        elif session.kind == "session-token" and service == "iam":
            # IAM takes session-token credentials only with MFA, which Shipyard does not issue.
            raise credential_error("invalid-token", style)
        return credential

    def _audit_event(
        self, scope: Scope, request: WireRequest, request_id: str, received_at: datetime, outcome: _Outcome
    ) -> AuditEvent:
        """What the audit trail keeps of this request: everything known when it was answered."""
        model = service_model(outcome.service) if outcome.service else None
        operation = _operation_or_none(model, outcome.operation) if model else None
        caller = outcome.caller
        params = None
        if outcome.params is not None:
            params = redact(outcome.params, operation.input_shape if operation else None)
        return AuditEvent(
            event_id=str(uuid.uuid4()),
            time=received_at,
            request_id=request_id,
            service=outcome.service,
            event_source=f"{model.signing_name or model.endpoint_prefix}.amazonaws.com" if model else None,
            operation=outcome.operation,
            principal_arn=None if caller is None or caller.is_anonymous else caller.principal.arn,
            principal_kind=caller.principal.kind if caller else None,
            principal_id=caller.user_id if caller else None,
            username=caller.display_name if caller else None,
            access_key_id=outcome.access_key,
            source_ip=_client_ip(scope),
            user_agent=request.headers.get("user-agent"),
            region=outcome.region or self.runtime.settings.region,
            resources=with_buckets(outcome.resources),
            parameters=params,
            error_code=outcome.error.code if outcome.error else None,
            error_message=outcome.error.message if outcome.error else None,
            read_only=bool(outcome.service and outcome.operation and read_only(outcome.service, outcome.operation)),
        )

    def _apply_virtual_host(self, request: WireRequest, service: str) -> WireRequest:
        """A copy of ``request`` with a virtual-hosted bucket moved into the path."""
        bucket = virtual_host_bucket(request.headers.get("host", ""), self.runtime.settings.base_domain)
        if service != "s3" or bucket is None:
            return dataclasses.replace(request)
        return dataclasses.replace(request, raw_path=f"/{bucket}{request.raw_path}", path=f"/{bucket}{request.path}")

    def _error_response(self, request: WireRequest, outcome: _Outcome, error: AwsError, request_id: str) -> WireResponse:
        # A request for a service this server does not know is answered in its protocol's family.
        model = service_model(outcome.service or _FALLBACK_MODELS[_guess_error_style(request)])
        codec: ProtocolCodec = codec_for_request(model, request)
        operation = _operation_or_none(model, outcome.operation)
        return codec.serialize_error(model, operation, error, request_id, method=request.method)


def _client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else ""


def _wire_request(scope: Scope, body: _RequestBody) -> WireRequest:
    raw_path = scope.get("raw_path")
    raw = raw_path.decode("latin-1") if raw_path else scope["path"]
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    request = WireRequest(
        method=scope["method"],
        raw_path=raw,
        path=unquote(raw),
        query=query,
        headers=Headers(scope=scope),
    )
    request.stream = PlainStream(body.chunks())
    return request


class _RequestBody:
    """The request body from the ASGI channel, remembering whether it was read to its end."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.complete = False

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise AwsError("IncompleteBody", "The client closed the connection before sending the whole body.", 400)
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                self.complete = True
                return

    def left_unread(self, request: WireRequest) -> bool:
        """Whether ``request`` announced a body that was not read to its end."""
        if self.complete:
            return False
        length = request.headers.get("content-length")
        return (length is not None and length.strip() not in ("", "0")) or "transfer-encoding" in request.headers


def _s3_body_stream(request: WireRequest, content_sha256: str, verified: VerifiedSignature) -> BodyStream:
    """The S3 request body, decoded from aws-chunked framing and checked against its hash.

    A hex ``x-amz-content-sha256`` covers the bytes as sent (framing included), so it is
    checked on the raw stream, before any decoding.
    """
    assert request.stream is not None
    raw: BodyStream = request.stream
    if is_hex_sha256(content_sha256):
        raw = Sha256VerifiedStream(raw.__aiter__(), content_sha256)
    encodings = [e.strip() for e in request.headers.get("content-encoding", "").split(",")]
    if content_sha256.startswith("STREAMING-") or "aws-chunked" in encodings:
        decoded_length = request.headers.get("x-amz-decoded-content-length")
        return AwsChunkedDecoder(
            raw.__aiter__(),
            content_sha256=content_sha256,
            signature=verified,
            decoded_length=int(decoded_length) if decoded_length and decoded_length.isdigit() else None,
        )
    return raw


def _without_aws_chunked(headers: Any) -> Headers:
    """``headers`` with ``aws-chunked`` taken out of ``Content-Encoding``.

    It names the framing the gateway decodes; S3 never stores it with the object
    (``gzip,aws-chunked`` is stored as ``gzip``, ``aws-chunked`` alone as no encoding).
    """
    raw: list[tuple[bytes, bytes]] = []
    for name, value in headers.items():
        if name.lower() == "content-encoding":
            value = ",".join(e.strip() for e in value.split(",") if e.strip() not in ("", "aws-chunked"))
            if not value:
                continue
        raw.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    return Headers(raw=raw)


def _check_expected_owner(params: Mapping[str, Any], account_id: str) -> None:
    """S3's ``x-amz-expected-bucket-owner`` (and ``...-source-bucket-owner``): every bucket
    here belongs to this server's one account, so naming any other owner is refused."""
    for member in ("ExpectedBucketOwner", "ExpectedSourceBucketOwner"):
        if params.get(member) not in (None, account_id):
            raise AwsError("AccessDenied", "Access Denied", 403)


#: A served service of each error family, whose codec answers requests for unknown services.
_FALLBACK_MODELS: dict[str, str] = {"json": "logs", "query": "sts", "s3": "s3"}


def _guess_error_style(request: WireRequest) -> ErrorStyle:
    """The error family for a malformed signature, before the service is known."""
    if "x-amz-target" in request.headers:
        return "json"
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return "query"
    return "s3"


def _error_style(name: str, model: ServiceModel) -> ErrorStyle:
    """The family whose error codes a service uses for authentication failures."""
    if name == "s3":
        return "s3"
    return "query" if model.protocol in ("query", "ec2") else "json"


def _operation_or_none(model: ServiceModel, name: str | None) -> OperationModel | None:
    return model.operation_model(name) if name else None


async def _discard(response: WireResponse) -> None:
    """Release a response that will not be sent (a streamed body holds an open file)."""
    close = getattr(response.body, "aclose", None)
    if close is not None:
        await close()


async def _send(send: Send, response: WireResponse, request_id: str, *, head: bool) -> None:
    headers = [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in response.headers]
    present = {name for name, _ in headers}
    headers += [
        (name, request_id.encode())
        for name in (b"x-amz-request-id", b"x-amzn-requestid")
        if name not in present
    ]
    body = response.body
    if isinstance(body, (bytes, bytearray)):
        if response.header("content-length") is None:
            headers.append((b"content-length", str(0 if head else len(body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else bytes(body)})
        return
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    iterator: Any = body.__aiter__()
    try:
        async for chunk in iterator:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:
        if hasattr(iterator, "aclose"):
            await iterator.aclose()
