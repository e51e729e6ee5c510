"""The ``smithy-rpc-v2-cbor`` protocol (CloudWatch lists it first; boto3 sends json today).

``POST /service/<targetPrefix>/operation/<Operation>`` with a CBOR body: the JSON
protocol's document model, keyed by member names, with raw byte strings for blobs and
tag-1 epoch timestamps. Needs the ``cbor2`` package, imported when first used.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape

from shipyard.aws.models import operation_names
from shipyard.aws.protocols.json import (
    JsonShapes,
    error_document,
    error_type,
    query_error_headers,
    request_id_headers,
)
from shipyard.aws.protocols.values import InvalidValue, to_datetime
from shipyard.aws.wire import WireRequest, WireResponse
from shipyard.errors import AwsError


class CborShapes(JsonShapes):
    """The JSON document model as RPC v2 CBOR writes it."""

    location_names = False

    def encode_timestamp(self, shape: Shape, value: Any) -> Any:
        return to_datetime(value)  # cbor2 writes it as tag 1 (epoch seconds)

    def decode_timestamp(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return to_datetime(value)
        return super().decode_timestamp(value)

    def encode_blob(self, value: Any) -> Any:
        return value.encode() if isinstance(value, str) else bytes(value)

    def decode_blob(self, value: Any) -> Any:
        if not isinstance(value, bytes):
            raise InvalidValue("expected a byte string")
        return value


SHAPES = CborShapes()
_PROTOCOL_HEADERS = [("smithy-protocol", "rpc-v2-cbor"), ("Content-Type", "application/cbor")]


def _loads(body: bytes) -> Any:
    import cbor2

    if not body:
        return {}
    try:
        return cbor2.loads(body)
    except (cbor2.CBORDecodeError, ValueError) as exc:
        raise InvalidValue(f"the request body is not valid CBOR: {exc}") from exc


def _dumps(value: Any) -> bytes:
    import cbor2

    return cbor2.dumps(value, datetime_as_timestamp=True)


class CborCodec:
    """Smithy RPC v2 CBOR: the operation is named by the path, errors by ``__type``."""

    name = "smithy-rpc-v2-cbor"

    def resolve_operation(
        self, service: ServiceModel, request: WireRequest
    ) -> tuple[OperationModel, dict[str, str]]:
        """The operation named by ``/service/<targetPrefix>/operation/<Operation>``."""
        parts = request.path.split("/")
        if (
            request.method.upper() != "POST"
            or len(parts) != 5
            or parts[:2] != ["", "service"]
            or parts[2] != service.metadata.get("targetPrefix")
            or parts[3] != "operation"
            or parts[4] not in operation_names(service)
        ):
            raise AwsError("UnknownOperationException", f"Unknown operation {request.path}", 404)
        return service.operation_model(parts[4]), {}

    def parse(
        self, operation: OperationModel, request: WireRequest, path_params: dict[str, str]
    ) -> dict[str, Any]:
        """The input members of the CBOR body."""
        try:
            document = _loads(request.body)
            if operation.input_shape is None:
                return {}
            return SHAPES.decode(operation.input_shape, document)
        except InvalidValue as exc:
            raise AwsError("SerializationException", str(exc), 400) from exc

    def serialize(self, operation: OperationModel, output: dict[str, Any], request_id: str) -> WireResponse:
        """A 200 with the output members as a CBOR map."""
        shape = operation.output_shape
        headers = [*_PROTOCOL_HEADERS, *request_id_headers(request_id)]
        if shape is None:
            return WireResponse(200, headers)
        return WireResponse(200, headers, _dumps(SHAPES.encode(shape, output or {})))

    def serialize_error(
        self,
        service: ServiceModel,
        operation: OperationModel | None,
        error: AwsError,
        request_id: str,
        *,
        method: str = "POST",
    ) -> WireResponse:
        """``{"__type": shape, "message": ...}`` (query-compatible codes in ``x-amzn-query-error``)."""
        headers = [
            *_PROTOCOL_HEADERS,
            *request_id_headers(request_id),
            *query_error_headers(service, error),
            *error.headers.items(),
        ]
        body = {"__type": error_type(service, error), **error_document(service, error, SHAPES)}
        return WireResponse(error.status, headers, _dumps(body))
