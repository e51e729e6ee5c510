"""Which operation of a rest service a request names: method, URI template and conditions.

Every operation's ``requestUri`` (``/{Bucket}/{Key+}?uploads``) becomes a route: a
regular expression for the path, the query keys (and values) it spells, and the query
parameters and headers its input requires (S3 ``UploadPart`` needs ``partNumber`` and
``uploadId``, ``CopyObject`` needs ``x-amz-copy-source``: that is all that tells them
from ``PutObject``). Routes are tried most specific first and built once per service.

Paths are matched in their raw, percent-encoded form and each label is decoded once
after matching, so an encoded ``/`` (``%2F``) stays inside its label and a key may hold
``?``, ``%``, ``+`` or ``//`` unharmed.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, unquote_to_bytes

from botocore.model import OperationModel, ServiceModel

from shipyard.aws.wire import WireRequest

_LABEL = re.compile(r"\{([^}+]+)(\+?)\}")


@dataclass(frozen=True)
class Route:
    """One operation's place in the URI space."""

    operation: OperationModel
    pattern: re.Pattern[str]
    labels: tuple[str, ...]
    query: tuple[tuple[str, str | None], ...]  # (key, value or None for "any value")
    headers: tuple[str, ...]  # lower-case names of required header members

    def accepts(self, query: dict[str, str], request: WireRequest) -> bool:
        """Whether the request carries every query parameter and header this route needs."""
        for key, value in self.query:
            if key not in query or (value is not None and query[key] != value):
                return False
        return all(name in request.headers for name in self.headers)


class Router:
    """The routes of one rest service, grouped by HTTP method, most specific first."""

    def __init__(self, service: ServiceModel) -> None:
        ranked: dict[str, list[tuple[tuple[int, ...], Route]]] = {}
        patterns: dict[str, tuple[re.Pattern[str], tuple[str, ...]]] = {}
        for index, name in enumerate(service.operation_names):
            operation = service.operation_model(name)
            path, _, literal_query = operation.http["requestUri"].partition("?")
            if path not in patterns:
                patterns[path] = _compile(path)
            route = _route(operation, *patterns[path], literal_query)
            literal_chars = len(_LABEL.sub("", path))
            greedy = path.count("+}")
            conditions = len(route.query) + len(route.headers)
            deprecated = 1 if operation.deprecated else 0
            rank = (-literal_chars, greedy, -conditions, deprecated, index)
            ranked.setdefault(operation.http.get("method", "POST"), []).append((rank, route))
        self._routes = {
            method: [route for _, route in sorted(pairs, key=lambda pair: pair[0])]
            for method, pairs in ranked.items()
        }

    def match(self, request: WireRequest) -> tuple[OperationModel, dict[str, str]] | None:
        """The operation the request names and its decoded URI labels, or None."""
        raw_path = request.raw_path.partition("?")[0] if request.raw_path else quote(request.path)
        query = request.query_dict()
        tried: dict[re.Pattern[str], re.Match[str] | None] = {}
        for route in self._routes.get(request.method.upper(), ()):
            if route.pattern not in tried:
                tried[route.pattern] = route.pattern.match(raw_path)
            found = tried[route.pattern]
            if found is not None and route.accepts(query, request):
                return route.operation, {
                    label: _decode(value) for label, value in zip(route.labels, found.groups(), strict=True)
                }
        return None


def _decode(value: str) -> str:
    """A URI label decoded once, as UTF-8.

    A client may send raw UTF-8 bytes instead of percent-escapes; a gateway that decodes
    the raw path byte for byte (latin-1) hands them over as latin-1 text, recoded here.
    """
    if value.isascii():
        return unquote(value)
    try:
        return unquote_to_bytes(value.encode("latin-1")).decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):  # the path was decoded as text already
        return unquote(value)


@functools.cache
def router_for(service: ServiceModel) -> Router:
    """The router of ``service``, built on first use."""
    return Router(service)


def _compile(path: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    pieces = ["^"]
    labels = []
    position = 0
    for label in _LABEL.finditer(path):
        pieces.append(re.escape(path[position : label.start()]))
        pieces.append("(.+)" if label.group(2) else "([^/]+)")
        labels.append(label.group(1))
        position = label.end()
    tail = path[position:]
    pieces.append(re.escape(tail))
    if not tail.endswith("/") and not (tail == "" and path.endswith("+}")):
        pieces.append("/?")  # "/bucket/" names the bucket as "/bucket" does
    pieces.append("$")
    return re.compile("".join(pieces), re.DOTALL), tuple(labels)


def _route(
    operation: OperationModel, pattern: re.Pattern[str], labels: tuple[str, ...], literal_query: str
) -> Route:
    query: list[tuple[str, str | None]] = []
    for part in filter(None, literal_query.split("&")):
        key, has_value, value = part.partition("=")
        query.append((key, value if has_value else None))
    headers: list[str] = []
    shape = operation.input_shape
    if shape is not None:
        for name in shape.required_members:
            serialization = shape.members[name].serialization
            location = serialization.get("location")
            if location == "querystring" and shape.members[name].type_name != "map":
                query.append((serialization.get("name", name), None))
            elif location == "header":
                headers.append(serialization.get("name", name).lower())
    return Route(operation, pattern, tuple(labels), tuple(query), tuple(headers))
