"""The server side of AWS's wire protocols, driven by botocore's service models.

A codec does what botocore's client does, inverted: it finds the operation a request
names, parses the request into the input dict a boto3 user passed, and serializes the
output dict (or an :class:`~shipyard.errors.AwsError`) into the response boto3 parses.

Typical use in the gateway::

    codec = codec_for_request(service, request)
    operation, path_params = codec.resolve_operation(service, request)
    params = codec.parse(operation, request, path_params)
    response = codec.serialize(operation, output, request_id)
    # or, on failure:
    response = codec.serialize_error(service, operation, error, request_id, method=request.method)
"""

from __future__ import annotations

from typing import Any, Protocol

from botocore.model import OperationModel, ServiceModel

from shipyard.aws.protocols.cbor import CborCodec
from shipyard.aws.protocols.json import JsonCodec
from shipyard.aws.protocols.query import QueryCodec
from shipyard.aws.protocols.rest_json import RestJsonCodec
from shipyard.aws.protocols.rest_xml import RestXmlCodec
from shipyard.aws.wire import WireRequest, WireResponse
from shipyard.errors import AwsError

__all__ = ["ProtocolCodec", "codec_for", "codec_for_request", "codec_named"]


class ProtocolCodec(Protocol):
    """One wire protocol, for any service that speaks it. Codecs keep no per-request state."""

    name: str

    def resolve_operation(
        self, service: ServiceModel, request: WireRequest
    ) -> tuple[OperationModel, dict[str, str]]:
        """Which operation the request names, and the URI path params (rest protocols; {} otherwise).

        Raises AwsError for unknown operations (json: UnknownOperationException 400; query:
        InvalidAction 400; rest-xml: MethodNotAllowed 405; rest-json and CBOR:
        UnknownOperationException 404).
        """
        ...

    def parse(
        self, operation: OperationModel, request: WireRequest, path_params: dict[str, str]
    ) -> dict[str, Any]:
        """The operation's input as a dict keyed by member names, like the params a boto3 user passed.

        Values are typed (``datetime`` in UTC, ``bytes`` for blobs, ``int``, ``bool``...);
        a streaming payload is the request's ``BodyStream``, unread. Raises AwsError for
        bodies or values that do not fit the model.
        """
        ...

    def serialize(self, operation: OperationModel, output: dict[str, Any], request_id: str) -> WireResponse:
        """The success response for ``output``, a dict keyed by member names (like boto3 returns)."""
        ...

    def serialize_error(
        self,
        service: ServiceModel,
        operation: OperationModel | None,
        error: AwsError,
        request_id: str,
        *,
        method: str = "POST",
    ) -> WireResponse:
        """The error response for ``error`` (no body when ``method`` is HEAD on rest protocols)."""
        ...


_CODECS: dict[str, ProtocolCodec] = {
    codec.name: codec for codec in (JsonCodec(), QueryCodec(), RestJsonCodec(), RestXmlCodec(), CborCodec())
}


def codec_named(protocol: str) -> ProtocolCodec:
    """The codec of ``protocol``: json, query, rest-json, rest-xml or smithy-rpc-v2-cbor."""
    try:
        return _CODECS[protocol]
    except KeyError:
        raise ValueError(f"unsupported protocol {protocol!r}") from None


def codec_for(service: ServiceModel) -> ProtocolCodec:
    """The codec of the protocol boto3 uses for ``service``.

    That is botocore's ``resolved_protocol``: the first protocol of the model's
    ``protocols`` list that botocore supports, by botocore's priority (CloudWatch:
    ``json``, though its list starts with ``smithy-rpc-v2-cbor``).
    """
    return codec_named(service.resolved_protocol)


def codec_for_request(service: ServiceModel, request: WireRequest) -> ProtocolCodec:
    """The codec of the protocol ``request`` is written in, among those ``service`` speaks.

    ``X-Amz-Target`` means json; ``smithy-protocol: rpc-v2-cbor`` means CBOR; a form
    body or an ``Action`` query parameter means query; anything else is the protocol
    boto3 uses for the service (:func:`codec_for`).
    """
    protocols = service.metadata.get("protocols") or [service.protocol]
    if len(protocols) > 1:
        if "json" in protocols and "x-amz-target" in request.headers:
            return _CODECS["json"]
        if "smithy-rpc-v2-cbor" in protocols and request.headers.get("smithy-protocol") == "rpc-v2-cbor":
            return _CODECS["smithy-rpc-v2-cbor"]
        if "query" in protocols and _looks_like_query(request):
            return _CODECS["query"]
    return codec_for(service)


def _looks_like_query(request: WireRequest) -> bool:
    content_type = request.headers.get("content-type") or ""
    if content_type.startswith("application/x-www-form-urlencoded"):
        return True
    return any(key == "Action" for key, _ in request.query)
