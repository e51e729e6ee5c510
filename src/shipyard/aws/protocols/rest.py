"""What rest-json and rest-xml share: routing, and members bound to the URI, the query
string, headers and the status code. Subclasses only say how a body is written and read.
"""

from __future__ import annotations

import functools
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape

from shipyard.aws.protocols.routing import router_for
from shipyard.aws.protocols.values import RFC822, InvalidValue, from_text, to_text
from shipyard.aws.wire import WireRequest, WireResponse
from shipyard.errors import AwsError

_HEADER_LIST_ITEM = re.compile(r'\s*("(?:[^"\\]|\\.)*"|[^,]*?)\s*(?:,|$)')


class BytesStream:
    """A request body already read whole, offered as the stream a streaming member expects."""

    def __init__(self, body: bytes) -> None:
        self._body = body
        self.trailers: dict[str, str] = {}

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._body:
            yield self._body


@dataclass
class _InputPlan:
    """Where each member of an input shape lives in a request, computed once per operation."""

    uri: list[tuple[str, str, Shape]] = field(default_factory=list)  # (member, label, shape)
    query: dict[str, tuple[str, Shape]] = field(default_factory=dict)
    query_map: tuple[str, Shape] | None = None
    headers: dict[str, tuple[str, Shape]] = field(default_factory=dict)  # by lower-case name
    header_maps: list[tuple[str, str]] = field(default_factory=list)  # (lower-case prefix, member)
    payload: tuple[str, Shape] | None = None
    has_body_members: bool = False
    literal_query: frozenset[str] = frozenset()  # keys spelled by the requestUri (``?uploads``)


@functools.cache
def _input_plan(operation: OperationModel) -> _InputPlan:
    shape = operation.input_shape
    literal_query = operation.http["requestUri"].partition("?")[2]
    plan = _InputPlan(literal_query=frozenset(part.partition("=")[0] for part in literal_query.split("&")))
    payload = shape.serialization.get("payload")
    for name, member in shape.members.items():
        serialization = member.serialization
        location = serialization.get("location")
        wire = serialization.get("name", name)
        if location == "uri":
            plan.uri.append((name, wire, member))
        elif location == "querystring":
            if member.type_name == "map":
                plan.query_map = (name, member)
            else:
                plan.query[wire] = (name, member)
        elif location == "header":
            plan.headers[wire.lower()] = (name, member)
        elif location == "headers":
            plan.header_maps.append((wire.lower(), name))
        elif name == payload:
            plan.payload = (name, member)
        elif location is None:
            plan.has_body_members = True
    return plan


def split_header_list(text: str) -> list[str]:
    """The items of a comma-separated header value; items may be double-quoted."""
    if '"' not in text:
        return [item.strip() for item in text.split(",")]
    items = []
    for match in _HEADER_LIST_ITEM.finditer(text):
        item = match.group(1)
        if item.startswith('"') and item.endswith('"') and len(item) > 1:
            item = item[1:-1].replace('\\"', '"')
        items.append(item)
        if match.end() >= len(text):
            break
    return items


def header_text(shape: Shape, value: Any) -> str:
    """``value`` of ``shape`` as a header value (timestamps in RFC 822 unless modelled)."""
    if shape.type_name == "list":
        return ",".join(_quote_list_item(header_text(shape.member, item)) for item in value)
    return to_text(shape, value, RFC822)


def _quote_list_item(item: str) -> str:
    if "," in item or '"' in item:
        return '"' + item.replace('"', '\\"') + '"'
    return item


class RestCodec(ABC):
    """The shared half of the rest protocols; see :class:`ProtocolCodec` for the contract."""

    name: str

    # -- subclass hooks -----------------------------------------------------------

    @abstractmethod
    def content_type(self, service: ServiceModel) -> str:
        """The Content-Type of structured (XML or JSON) bodies."""

    @abstractmethod
    def no_route(self, service: ServiceModel, request: WireRequest) -> AwsError:
        """The error for a request that names no operation."""

    @abstractmethod
    def invalid_input(self, message: str) -> AwsError:
        """The error for an input value that does not fit its shape."""

    @abstractmethod
    def read_body(self, shape: Shape, body: bytes) -> dict[str, Any]:
        """The members of structure ``shape`` in a structured request body."""

    @abstractmethod
    def write_body(
        self, operation: OperationModel, shape: Shape, value: dict[str, Any], root: str | None
    ) -> bytes:
        """Structure ``value`` of ``shape`` as a response body.

        ``root`` is the payload member's name, or None when ``shape`` is the output itself.
        """

    def id_headers(self, service: ServiceModel, request_id: str) -> list[tuple[str, str]]:
        """The request-id headers of every response."""
        return [("x-amzn-RequestId", request_id)]

    # -- ProtocolCodec ------------------------------------------------------------

    def resolve_operation(
        self, service: ServiceModel, request: WireRequest
    ) -> tuple[OperationModel, dict[str, str]]:
        """The operation whose method, URI template and required parameters fit the request."""
        found = router_for(service).match(request)
        if found is None:
            raise self.no_route(service, request)
        return found

    def parse(
        self, operation: OperationModel, request: WireRequest, path_params: dict[str, str]
    ) -> dict[str, Any]:
        """The input members from the URI labels, query string, headers and body.

        A streaming payload (S3 ``PutObject`` ``Body``) is not read: the request's
        ``stream`` is handed over as the member's value.
        """
        shape = operation.input_shape
        if shape is None:
            return {}
        plan = _input_plan(operation)
        try:
            params = self._located(plan, request, path_params)
            if plan.payload is not None:
                name, member = plan.payload
                if member.serialization.get("streaming"):
                    params[name] = request.stream if request.stream is not None else BytesStream(request.body)
                elif member.type_name in ("blob", "string"):
                    # An empty body is an absent member, unless the member is required.
                    if request.body or name in shape.required_members:
                        params[name] = request.body if member.type_name == "blob" else request.body.decode()
                elif request.body.strip():
                    params[name] = self.read_body(member, request.body)
            elif plan.has_body_members and request.body.strip():
                params.update(self.read_body(shape, request.body))
        except (InvalidValue, UnicodeDecodeError) as exc:
            raise self.invalid_input(str(exc)) from exc
        return params

    def serialize(self, operation: OperationModel, output: dict[str, Any], request_id: str) -> WireResponse:
        """Header and status-code members into the head; the payload or body members into the body.

        A blob payload (bytes, or an async iterator of bytes) is the body as it is, with
        no Content-Type unless the output gives one.
        """
        service = operation.service_model
        response = WireResponse(operation.http.get("responseCode", 200), self.id_headers(service, request_id))
        shape = operation.output_shape
        if shape is None:
            return response
        output = output or {}
        members = shape.members
        body_values = {}
        for key, value in output.items():
            member = members.get(key)
            if value is None or member is None:
                continue
            serialization = member.serialization
            location = serialization.get("location")
            if location == "header":
                if member.type_name != "list" or value:
                    response.headers.append((serialization.get("name", key), header_text(member, value)))
            elif location == "headers":
                prefix = serialization.get("name", "")
                response.headers.extend((prefix + name, str(item)) for name, item in value.items())
            elif location == "statusCode":
                response.status = int(value)
            elif location is None:
                body_values[key] = value
        if output.get("ContentRange") and "ContentRange" in members:
            # HTTP: a partial body (S3 ranged GET, GetObject partNumber) is 206 Partial Content.
            response.status = 206
        payload = shape.serialization.get("payload")
        if payload is not None:
            member = members[payload]
            value = output.get(payload)
            if value is None:
                return response
            if member.type_name in ("blob", "string"):
                response.body = value.encode() if isinstance(value, str) else value
                return response
            root = member.serialization.get("name", payload)
            response.body = self.write_body(operation, member, value, root)
        elif _has_body_members(shape):
            response.body = self.write_body(operation, shape, body_values, None)
        else:
            return response
        if response.header("Content-Type") is None:
            response.headers.append(("Content-Type", self.content_type(service)))
        return response

    # -- helpers ------------------------------------------------------------------

    def _located(self, plan: _InputPlan, request: WireRequest, path_params: dict[str, str]) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for name, label, member in plan.uri:
            if label in path_params:
                params[name] = from_text(member, path_params[label])
        if plan.query or plan.query_map:
            self._query_members(plan, request, params)
        if plan.headers or plan.header_maps:
            self._header_members(plan, request, params)
        return params

    @staticmethod
    def _query_members(plan: _InputPlan, request: WireRequest, params: dict[str, Any]) -> None:
        for key, text in request.query:
            found = plan.query.get(key)
            if found is not None:
                name, member = found
                if member.type_name == "list":
                    params.setdefault(name, []).append(from_text(member.member, text))
                elif name not in params:
                    params[name] = from_text(member, text)
            elif plan.query_map is not None and key not in plan.literal_query:
                name, member = plan.query_map
                values = params.setdefault(name, {})
                if member.value.type_name == "list":
                    values.setdefault(key, []).append(from_text(member.value.member, text))
                else:
                    values.setdefault(key, from_text(member.value, text))

    @staticmethod
    def _header_members(plan: _InputPlan, request: WireRequest, params: dict[str, Any]) -> None:
        texts: dict[str, str] = {}
        for key, text in request.headers.items():
            key = key.lower()
            texts[key] = f"{texts[key]},{text}" if key in texts else text
        for key, text in texts.items():
            found = plan.headers.get(key)
            if found is not None:
                name, member = found
                if member.type_name == "list":
                    params[name] = [from_text(member.member, item) for item in split_header_list(text)]
                else:
                    params[name] = from_text(member, text)
                continue
            for prefix, name in plan.header_maps:
                if key.startswith(prefix):
                    params.setdefault(name, {})[key[len(prefix) :]] = text


@functools.cache
def _has_body_members(shape: Shape) -> bool:
    return any("location" not in member.serialization for member in shape.members.values())
