"""The ``query`` protocol (IAM, STS): form-encoded ``Action=<Op>`` requests, XML answers."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import parse_qsl

from botocore.model import OperationModel, ServiceModel, Shape

from shipyard.aws.models import operation_names
from shipyard.aws.protocols import xml
from shipyard.aws.protocols.values import InvalidValue, from_text
from shipyard.aws.wire import WireRequest, WireResponse
from shipyard.errors import AwsError

# A form turned into a tree on the dots of its keys: "Tags.member.1.Key" -> t["Tags"]["member"]["1"]["Key"].
Tree = dict[str, "Tree | str"]


def form_pairs(request: WireRequest) -> list[tuple[str, str]]:
    """Every parameter of a query request: its URL query, then its form body."""
    pairs = list(request.query)
    if request.body:
        pairs.extend(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
    return pairs


class QueryCodec:
    """AWS query: ``Action`` and ``Version`` plus the input flattened into form fields."""

    name = "query"

    def resolve_operation(
        self, service: ServiceModel, request: WireRequest
    ) -> tuple[OperationModel, dict[str, str]]:
        """The operation that the ``Action`` parameter names; no path parameters."""
        action = next((value for key, value in form_pairs(request) if key == "Action"), None)
        if action is None:
            raise AwsError("MissingAction", "The request must contain the parameter Action.", 400)
        if action not in operation_names(service):
            raise AwsError(
                "InvalidAction",
                f"Could not find operation {action} for version {service.api_version}",
                400,
            )
        return service.operation_model(action), {}

    def parse(
        self, operation: OperationModel, request: WireRequest, path_params: dict[str, str]
    ) -> dict[str, Any]:
        """The input members spelled by the form (``X.member.N``, ``X.entry.N.key`` ...)."""
        shape = operation.input_shape
        if shape is None:
            return {}
        try:
            return _decode(shape, _tree(form_pairs(request)))
        except InvalidValue as exc:
            raise AwsError("ValidationError", str(exc), 400) from exc

    def serialize(self, operation: OperationModel, output: dict[str, Any], request_id: str) -> WireResponse:
        """``<OpResponse><OpResult>...</OpResult><ResponseMetadata>...`` as text/xml."""
        root = f"{operation.name}Response"
        out = [f'<{root} xmlns="{xml.service_namespace(operation.service_model)}">']
        shape = operation.output_shape
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper")
            if wrapper:
                xml.write(shape, output or {}, wrapper, out)
            else:
                xml.write_members(shape, output or {}, out)
        out.append(f"<ResponseMetadata><RequestId>{xml.escape(request_id)}</RequestId>")
        out.append(f"</ResponseMetadata></{root}>")
        return WireResponse(200, _headers(request_id), "".join(out).encode())

    def serialize_error(
        self,
        service: ServiceModel,
        operation: OperationModel | None,
        error: AwsError,
        request_id: str,
        *,
        method: str = "POST",
    ) -> WireResponse:
        """``<ErrorResponse><Error><Type/><Code/><Message/>{fields}</Error><RequestId/>``."""
        fault = "Sender" if error.sender_fault else "Receiver"
        fields = "".join(f"<{name}>{xml.escape(str(value))}</{name}>" for name, value in error.fields.items())
        body = (
            f'<ErrorResponse xmlns="{xml.service_namespace(service)}"><Error>'
            f"<Type>{fault}</Type><Code>{xml.escape(error.code)}</Code>"
            f"<Message>{xml.escape(error.message)}</Message>{fields}</Error>"
            f"<RequestId>{xml.escape(request_id)}</RequestId></ErrorResponse>"
        )
        headers = _headers(request_id) + list(error.headers.items())
        return WireResponse(error.status, headers, body.encode())


def _headers(request_id: str) -> list[tuple[str, str]]:
    return [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]


def _tree(pairs: list[tuple[str, str]]) -> Tree:
    root: Tree = {}
    for key, value in pairs:
        node = root
        *parents, last = key.split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}  # a nested key wins over an empty "X=" leaf
            node = child
        if not isinstance(node.get(last), dict):
            node[last] = value
    return root


def _decode(shape: Shape, node: Tree | str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(node, dict):
            return {}
        names = _field_names(shape)
        result = {}
        for key, child in node.items():
            found = names.get(key)
            if found is not None:
                result[found[0]] = _decode(found[1], child)
        return result
    if kind == "list":
        if not isinstance(node, dict):
            return []  # "X=" is the empty list
        if not shape.serialization.get("flattened"):
            node = node.get(shape.member.serialization.get("name", "member"), {})
        return [_decode(shape.member, item) for item in _numbered(node)]
    if kind == "map":
        if not isinstance(node, dict):
            return {}
        if not shape.serialization.get("flattened"):
            node = node.get("entry", {})
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        result = {}
        for entry in _numbered(node):
            if not isinstance(entry, dict) or key_name not in entry:
                raise InvalidValue(f"map entry without {key_name}")
            result[_decode(shape.key, entry[key_name])] = _decode(shape.value, entry.get(value_name, ""))
        return result
    if isinstance(node, dict):
        raise InvalidValue(f"expected a {kind} value")
    if kind in ("string", "character"):
        return node
    return from_text(shape, node)


def _numbered(node: Tree | str) -> list[Tree | str]:
    """The children of ``node`` keyed 1, 2, 3 ... in numeric order."""
    if not isinstance(node, dict):
        return []
    return [node[key] for key in sorted((k for k in node if k.isdigit()), key=int)]


@functools.cache
def _field_names(shape: Shape) -> dict[str, tuple[str, Shape]]:
    """Form field names of a structure's members -> (member name, member shape)."""
    names: dict[str, tuple[str, Shape]] = {}
    for name, member in shape.members.items():
        names[member.serialization.get("name", name)] = (name, member)
        # botocore names a flattened list after its items' locationName when it has one.
        names.setdefault(xml.element_name(member, name), (name, member))
    return names
