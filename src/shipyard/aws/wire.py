"""Protocol-neutral views of an HTTP request and response, as the gateway sees them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class Headers(Protocol):
    """Case-insensitive, multi-valued header access (Starlette's ``Headers`` fits)."""

    def get(self, key: str, default: Any = None) -> Any: ...
    def getlist(self, key: str) -> list[str]: ...
    def items(self) -> Any: ...
    def __contains__(self, key: object) -> bool: ...


class BodyStream(Protocol):
    """An incoming request body that is read once, in chunks, never held whole.

    ``trailers`` holds the trailing headers of an ``aws-chunked`` body (for example
    ``x-amz-checksum-crc32``) once the stream has been read to its end; empty otherwise.
    """

    trailers: dict[str, str]

    def __aiter__(self) -> AsyncIterator[bytes]: ...


@dataclass
class WireRequest:
    """One request as received.

    ``raw_path`` is the path exactly as the client sent it (still percent-encoded);
    ``path`` is it decoded once. ``query`` keeps every pair, decoded, in order (a key
    without ``=`` has the value ``""``). ``body`` is the whole body for protocols that
    need it parsed; requests whose modelled payload is a stream (S3 PutObject, UploadPart)
    carry ``stream`` instead and ``body`` stays ``b""``.
    """

    method: str
    raw_path: str
    path: str
    query: list[tuple[str, str]]
    headers: Headers
    body: bytes = b""
    stream: BodyStream | None = None

    def query_dict(self) -> dict[str, str]:
        """The query as a dict; on a repeated key the first value wins."""
        result: dict[str, str] = {}
        for key, value in self.query:
            result.setdefault(key, value)
        return result


@dataclass
class WireResponse:
    """One response to send.

    ``body`` is bytes, or an async iterator of bytes for streamed payloads (S3 GetObject).
    """

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | AsyncIterator[bytes] = b""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None


Params = Mapping[str, Any]
