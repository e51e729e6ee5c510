"""The ``rest-json`` protocol (SageMaker Runtime): rest routing with JSON bodies."""

from __future__ import annotations

from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape

from shipyard.aws.protocols.json import SHAPES, dump_json, error_document, load_json
from shipyard.aws.protocols.rest import RestCodec
from shipyard.aws.wire import WireRequest, WireResponse
from shipyard.errors import AwsError


class RestJsonCodec(RestCodec):
    """rest-json: errors name their code in ``X-Amzn-ErrorType`` with a JSON ``message``."""

    name = "rest-json"

    def content_type(self, service: ServiceModel) -> str:
        return "application/json"

    def no_route(self, service: ServiceModel, request: WireRequest) -> AwsError:
        return AwsError(
            "UnknownOperationException", f"No operation matches {request.method} {request.path}", 404
        )

    def invalid_input(self, message: str) -> AwsError:
        return AwsError("SerializationException", message, 400)

    def read_body(self, shape: Shape, body: bytes) -> dict[str, Any]:
        return SHAPES.decode(shape, load_json(body))

    def write_body(
        self, operation: OperationModel, shape: Shape, value: dict[str, Any], root: str | None
    ) -> bytes:
        return dump_json(SHAPES.encode(shape, value))

    def serialize_error(
        self,
        service: ServiceModel,
        operation: OperationModel | None,
        error: AwsError,
        request_id: str,
        *,
        method: str = "POST",
    ) -> WireResponse:
        """The code in ``X-Amzn-ErrorType``; message and fields as JSON (no body for HEAD)."""
        headers = [
            ("X-Amzn-ErrorType", error.code),
            *self.id_headers(service, request_id),
            *error.headers.items(),
        ]
        if method.upper() == "HEAD":
            return WireResponse(error.status, headers)
        headers.append(("Content-Type", self.content_type(service)))
        return WireResponse(error.status, headers, dump_json(error_document(service, error)))
