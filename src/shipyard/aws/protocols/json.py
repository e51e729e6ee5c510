"""The ``json`` protocol (AWS JSON 1.0 and 1.1): ``X-Amz-Target`` names the operation.

Also home of the shape-driven JSON value conversion that rest-json (and CBOR) share.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape

from shipyard.aws.models import error_shape, operation_names
from shipyard.aws.protocols.values import (
    EPOCH,
    InvalidValue,
    b64decode,
    b64encode,
    format_timestamp,
    from_text,
    timestamp_format,
    to_datetime,
)
from shipyard.aws.wire import WireRequest, WireResponse
from shipyard.errors import AwsError


class JsonShapes:
    """Converts between service values and JSON-ready values, following shapes.

    Structures use each member's ``locationName`` as the key; blobs are base64 text;
    timestamps epoch seconds unless the member says otherwise. Members with an HTTP
    location (rest-json headers, URI labels) and unknown keys are left out.
    """

    location_names = True  # False: keys are member names, whatever the model says (RPC v2)

    def encode(self, shape: Shape, value: Any) -> Any:
        """The JSON-ready form of ``value`` of ``shape``."""
        kind = shape.type_name
        if kind == "structure":
            if shape.is_document_type:
                return value
            members = shape.members
            result = {}
            for key, item in value.items():
                member = members.get(key)
                if item is None or member is None or "location" in member.serialization:
                    continue
                result[self.key(member, key)] = self.encode(member, item)
            return result
        if kind == "list":
            return [None if item is None else self.encode(shape.member, item) for item in value]
        if kind == "map":
            return {
                key: None if item is None else self.encode(shape.value, item) for key, item in value.items()
            }
        if kind == "timestamp":
            return self.encode_timestamp(shape, value)
        if kind == "blob":
            return self.encode_blob(value)
        if kind in ("float", "double"):
            return float(value)
        return value

    def decode(self, shape: Shape, value: Any) -> Any:
        """The service value of ``shape`` from its JSON form (raises InvalidValue)."""
        kind = shape.type_name
        if kind == "structure":
            if shape.is_document_type:
                return value
            _expect(value, dict, shape)
            names = _wire_names(shape, self.location_names)
            result = {}
            for key, item in value.items():
                found = names.get(key)
                if found is not None and item is not None:
                    result[found[0]] = self.decode(found[1], item)
            return result
        if kind == "list":
            _expect(value, list, shape)
            return [None if item is None else self.decode(shape.member, item) for item in value]
        if kind == "map":
            _expect(value, dict, shape)
            return {
                key: None if item is None else self.decode(shape.value, item) for key, item in value.items()
            }
        if kind == "timestamp":
            return self.decode_timestamp(value)
        if kind == "blob":
            return self.decode_blob(value)
        return _scalar(shape, value)

    def key(self, member: Shape, name: str) -> str:
        """The key of structure member ``name`` in a document."""
        return member.serialization.get("name", name) if self.location_names else name

    def encode_timestamp(self, shape: Shape, value: Any) -> Any:
        return format_timestamp(value, timestamp_format(shape, EPOCH))

    def decode_timestamp(self, value: Any) -> Any:
        if isinstance(value, bool):
            raise InvalidValue(f"not a timestamp: {value!r}")
        return to_datetime(value)

    def encode_blob(self, value: Any) -> Any:
        return b64encode(value)

    def decode_blob(self, value: Any) -> Any:
        _expect(value, str, None)
        return b64decode(value)


_SCALAR_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "character": str,
    "boolean": bool,
    "integer": int,
    "long": int,
    "short": int,
    "byte": int,
    "float": (int, float),
    "double": (int, float),
}


def _scalar(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    expected = _SCALAR_TYPES.get(kind)
    if isinstance(value, str) and kind in ("float", "double"):
        return from_text(shape, value)  # "NaN", "Infinity", "-Infinity"
    if expected is not None:
        _expect(value, expected, shape)
        if isinstance(value, bool) and kind != "boolean":
            raise InvalidValue(f"expected {kind}, got a boolean")
    return value


def _expect(value: Any, expected: type | tuple[type, ...], shape: Shape | None) -> None:
    if not isinstance(value, expected):
        what = shape.type_name if shape is not None else "blob"
        raise InvalidValue(f"expected {what}, got {type(value).__name__}")


@functools.cache
def _wire_names(shape: Shape, location_names: bool) -> dict[str, tuple[str, Shape]]:
    """Keys of a structure's body members -> (member name, member shape)."""
    return {
        member.serialization.get("name", name) if location_names else name: (name, member)
        for name, member in shape.members.items()
        if "location" not in member.serialization
    }


SHAPES = JsonShapes()


def load_json(body: bytes) -> Any:
    """The JSON document in ``body`` (an empty body is ``{}``); raises InvalidValue."""
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidValue(f"the request body is not valid JSON: {exc}") from exc


def dump_json(value: Any) -> bytes:
    """Compact JSON bytes of ``value``."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def error_document(service: ServiceModel, error: AwsError, shapes: JsonShapes = SHAPES) -> dict[str, Any]:
    """The body members of ``error``: its message, and its fields typed by the error's shape."""
    shape = error_shape(service, error.code)
    members = shape.members if shape is not None else {}
    message_key = next((shapes.key(m, n) for n, m in members.items() if n.lower() == "message"), "message")
    document: dict[str, Any] = {message_key: error.message}
    for name, value in error.fields.items():
        member = members.get(name)
        if member is None:
            document[name] = value
            continue
        if isinstance(value, str) and member.type_name not in _TEXT_KINDS:
            value = from_text(member, value)
        document[shapes.key(member, name)] = shapes.encode(member, value)
    return document


_TEXT_KINDS = frozenset({"string", "character", "blob", "structure", "list", "map"})


def error_type(service: ServiceModel, error: AwsError) -> str:
    """The ``__type`` of an error body: the code, which botocore maps to the exception.

    ``awsQueryCompatible`` services name the modelled shape instead, as AWS does; their
    code travels in ``x-amzn-query-error`` (see :func:`query_error_headers`).
    """
    shape = error_shape(service, error.code)
    if shape is not None and "awsQueryCompatible" in service.metadata:
        return shape.name
    return error.code


def query_error_headers(service: ServiceModel, error: AwsError) -> list[tuple[str, str]]:
    """``x-amzn-query-error: <code>;<Sender|Receiver>`` for ``awsQueryCompatible`` services.

    Their services raise query-protocol codes (CloudWatch ``InvalidParameterValue``);
    botocore takes the code from this header, and ``__type`` names the shape.
    """
    if "awsQueryCompatible" not in service.metadata:
        return []
    return [("x-amzn-query-error", f"{error.code};{'Sender' if error.sender_fault else 'Receiver'}")]


def request_id_headers(request_id: str) -> list[tuple[str, str]]:
    """The request-id header every non-S3 AWS response carries."""
    return [("x-amzn-RequestId", request_id)]


class JsonCodec:
    """AWS JSON 1.0 / 1.1: ``POST /`` with ``X-Amz-Target: <targetPrefix>.<Operation>``."""

    name = "json"

    def resolve_operation(
        self, service: ServiceModel, request: WireRequest
    ) -> tuple[OperationModel, dict[str, str]]:
        """The operation that ``X-Amz-Target`` names; no path parameters."""
        target = request.headers.get("x-amz-target") or ""
        prefix, _, name = target.rpartition(".")
        if prefix != service.metadata.get("targetPrefix") or name not in operation_names(service):
            raise AwsError("UnknownOperationException", f"Unknown operation {target}", 400)
        return service.operation_model(name), {}

    def parse(
        self, operation: OperationModel, request: WireRequest, path_params: dict[str, str]
    ) -> dict[str, Any]:
        """The input members of the JSON body."""
        try:
            document = load_json(request.body)
            if operation.input_shape is None:
                return {}
            return SHAPES.decode(operation.input_shape, document)
        except InvalidValue as exc:
            raise AwsError("SerializationException", str(exc), 400) from exc

    def serialize(self, operation: OperationModel, output: dict[str, Any], request_id: str) -> WireResponse:
        """A 200 with the output members as a JSON body."""
        shape = operation.output_shape
        document = SHAPES.encode(shape, output or {}) if shape is not None else {}
        headers = [("Content-Type", _content_type(operation.service_model)), *request_id_headers(request_id)]
        return WireResponse(200, headers, dump_json(document))

    def serialize_error(
        self,
        service: ServiceModel,
        operation: OperationModel | None,
        error: AwsError,
        request_id: str,
        *,
        method: str = "POST",
    ) -> WireResponse:
        """``{"__type": ..., "message": ...}`` with ``x-amzn-ErrorType`` (see :func:`query_error_headers`)."""
        headers = [
            ("Content-Type", _content_type(service)),
            ("x-amzn-ErrorType", error.code),
            *request_id_headers(request_id),
            *query_error_headers(service, error),
            *error.headers.items(),
        ]
        body = {"__type": error_type(service, error), **error_document(service, error)}
        return WireResponse(error.status, headers, dump_json(body))


def _content_type(service: ServiceModel) -> str:
    return f"application/x-amz-json-{service.metadata.get('jsonVersion', '1.0')}"
