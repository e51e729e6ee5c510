"""botocore as the oracle for the protocol codecs (imported by the other test_protocols_* files).

``wire_request`` makes a real botocore client build and sign a request, catches it just
before it would be sent and turns it into the ``WireRequest`` the gateway would see.
``client_call`` makes a real botocore client receive a ``WireResponse`` and returns what
boto3 would give its user (or raises the ``ClientError`` it would raise). So a codec is
right when ``parse(wire_request(...))`` gives back the params and ``client_call`` gives
back the output.
"""

from __future__ import annotations

import asyncio
import functools
import io
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import botocore.session
from botocore import xform_name
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config
from botocore.model import OperationModel
from starlette.datastructures import Headers

from shipyard.aws.models import operation_model, service_model, streaming_input_member
from shipyard.aws.protocols import codec_for, codec_for_request
from shipyard.aws.wire import WireRequest, WireResponse

ENDPOINT = "http://127.0.0.1:8600"
REQUEST_ID = "4442587f-d4b9-4e6a-9c55-0e3f2e6a8a11"


class _Captured(Exception):
    def __init__(self, request: AWSPreparedRequest) -> None:
        super().__init__("captured")
        self.request = request


class ChunkStream:
    """A BodyStream over bytes, as the gateway would hand a streamed request body."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.trailers: dict[str, str] = {}

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data


@functools.cache
def client(service: str) -> Any:
    """A botocore client of ``service`` aimed at a fake endpoint; no retries."""
    return botocore.session.get_session().create_client(
        service,
        region_name="us-east-1",
        endpoint_url=ENDPOINT,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        config=Config(retries={"total_max_attempts": 1}),
    )


def _method(service: str, operation: str) -> Any:
    return getattr(client(service), xform_name(operation))


def prepared_request(service: str, operation: str, params: dict[str, Any]) -> AWSPreparedRequest:
    """The request botocore would send for ``operation(**params)``, signed and ready."""

    def capture(request: AWSPreparedRequest, **_: Any) -> None:
        raise _Captured(request)

    api = client(service)
    api.meta.events.register_first("before-send", capture)
    try:
        _method(service, operation)(**params)
    except _Captured as captured:
        return captured.request
    finally:
        api.meta.events.unregister("before-send", capture)
    raise AssertionError("botocore sent nothing")


def wire_request(service: str, operation: str, params: dict[str, Any]) -> WireRequest:
    """What the gateway would see of the request boto3 sends for ``operation(**params)``."""
    prepared = prepared_request(service, operation, params)
    url = urlsplit(prepared.url)
    headers = Headers(
        raw=[
            (key.lower().encode("latin-1"), (value if isinstance(value, bytes) else value.encode("latin-1")))
            for key, value in prepared.headers.items()
        ]
    )
    body = prepared.body
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, bytes):
        body = body.read()
    request = WireRequest(
        method=prepared.method,
        raw_path=url.path,
        path=unquote(url.path),
        query=parse_qsl(url.query, keep_blank_values=True),
        headers=headers,
        body=body,
    )
    if streaming_input_member(operation_model(service, operation)):
        request.stream, request.body = ChunkStream(body), b""
    return request


def parse_request(
    service: str, operation: str, params: dict[str, Any]
) -> tuple[OperationModel, dict[str, Any]]:
    """Route and parse, with the codec the gateway would pick, what boto3 sends."""
    request = wire_request(service, operation, params)
    model = service_model(service)
    codec = codec_for_request(model, request)
    resolved, path_params = codec.resolve_operation(model, request)
    return resolved, codec.parse(resolved, request, path_params)


def body_bytes(response: WireResponse) -> bytes:
    """The whole body of ``response``, draining a streamed one."""
    if isinstance(response.body, bytes):
        return response.body

    async def drain() -> bytes:
        return b"".join([chunk async for chunk in response.body])  # type: ignore[union-attr]

    return asyncio.run(drain())


class _Raw(io.BytesIO):
    def stream(self, **_: Any) -> Any:
        yield self.read()


def client_call(
    service: str, operation: str, params: dict[str, Any], response: WireResponse
) -> dict[str, Any]:
    """What boto3 returns for ``operation(**params)`` when the server answers ``response``.

    Raises the ``ClientError`` subclass boto3 would raise for an error response.
    """
    data = body_bytes(response)

    def answer(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, response.status, dict(response.headers), _Raw(data))

    api = client(service)
    api.meta.events.register_first("before-send", answer)
    try:
        return _method(service, operation)(**params)
    finally:
        api.meta.events.unregister("before-send", answer)


def respond(service: str, operation: str, output: dict[str, Any]) -> WireResponse:
    """The codec's answer to ``operation`` with ``output``."""
    return codec_for(service_model(service)).serialize(
        operation_model(service, operation), output, REQUEST_ID
    )


def without_metadata(parsed: dict[str, Any]) -> dict[str, Any]:
    """boto3's answer without ``ResponseMetadata``."""
    return {key: value for key, value in parsed.items() if key != "ResponseMetadata"}


def test_wire_request_decodes_the_path_once() -> None:
    request = wire_request("s3", "GetObject", {"Bucket": "b", "Key": "a%20b c+d"})
    assert request.raw_path == "/b/a%2520b%20c%2Bd"
    assert request.path == "/b/a%20b c+d"


def test_client_call_reports_the_http_status() -> None:
    parsed = client_call(
        "sts", "GetCallerIdentity", {}, respond("sts", "GetCallerIdentity", {"Account": "1"})
    )
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID
