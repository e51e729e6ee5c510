"""Decoding of ``aws-chunked`` request bodies (``Content-Encoding: aws-chunked``).

S3 clients that stream a body of known length without hashing it first frame it as chunks::

    <hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n ... 0[;chunk-signature=<sig>]\\r\\n
    [<trailing header>:<value>\\r\\n ... [x-amz-trailer-signature:<sig>\\r\\n]]\\r\\n

``x-amz-content-sha256`` names the variant: ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` signs
every chunk (each signature chains on the previous one, starting from the request's
signature), ``...-TRAILER`` also signs the trailing headers, and
``STREAMING-UNSIGNED-PAYLOAD-TRAILER`` (what boto3 sends over https) signs nothing in the
body. Any other value with ``aws-chunked`` framing is decoded as unsigned chunks.

Decoding streams: payload bytes are handed on as they arrive, whatever the chunk size, and
a chunk's signature is checked when its last byte has passed. A consumer must therefore
treat what it received as unconfirmed until iteration ends without an error.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import AsyncIterable, AsyncIterator
from hashlib import sha256

from shipyard.aws.signing import VerifiedSignature
from shipyard.errors import AwsError

SIGNED_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_PAYLOAD_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
TRAILER_SIGNATURE = "x-amz-trailer-signature"

_EMPTY_SHA256 = sha256(b"").hexdigest()
_CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]{1,16}")
_CHUNK_SIGNATURE = re.compile(rb"chunk-signature=([0-9a-f]{64})")
#: The longest chunk-header or trailer line accepted, and the most trailing headers.
_MAX_LINE = 8192
_MAX_TRAILERS = 64


class AwsChunkedDecoder:
    """The payload of an ``aws-chunked`` body, verified as it streams.

    Iterate it once to get the payload bytes; afterwards :attr:`trailers` holds the trailing
    headers (lower-case names, e.g. ``x-amz-checksum-crc32``) except the trailer signature.

    ``content_sha256`` is the request's ``x-amz-content-sha256``; ``signature`` the verified
    request signature, required for the signed variants; ``decoded_length`` the
    ``x-amz-decoded-content-length``, checked against the payload when given.

    Bad framing raises ``IncompleteBody``, a wrong decoded length ``IncompleteBody`` and a
    wrong chunk or trailer signature ``SignatureDoesNotMatch``.
    """

    trailers: dict[str, str]

    def __init__(
        self,
        stream: AsyncIterable[bytes],
        *,
        content_sha256: str,
        signature: VerifiedSignature | None,
        decoded_length: int | None,
    ) -> None:
        self._source = _Source(stream)
        self._chain = _signature_chain(content_sha256, signature)
        self._signed_trailer = content_sha256 == SIGNED_PAYLOAD_TRAILER
        self._decoded_length = decoded_length
        self._started = False
        self.trailers = {}

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._started:
            raise RuntimeError("an aws-chunked body can be read only once")
        self._started = True
        total = 0
        while True:
            size, chunk_signature = await self._chunk_header()
            if size == 0:
                break
            total += size
            if self._decoded_length is not None and total > self._decoded_length:
                raise _length_mismatch(self._decoded_length, total)
            digest = sha256() if self._chain is not None else None
            remaining = size
            while remaining:
                data = await self._source.read(remaining)
                if not data:
                    raise _incomplete()
                remaining -= len(data)
                if digest is not None:
                    digest.update(data)
                yield data
            if await self._source.readline(0) != b"":
                raise _incomplete()
            if self._chain is not None and digest is not None:
                self._chain.verify_chunk(chunk_signature, digest.hexdigest())
        if self._chain is not None:
            self._chain.verify_chunk(chunk_signature, _EMPTY_SHA256)
        await self._read_trailers()
        if self._decoded_length is not None and total != self._decoded_length:
            raise _length_mismatch(self._decoded_length, total)

    async def _chunk_header(self) -> tuple[int, str]:
        """The size and signature (``""`` if unsigned) of the next chunk."""
        line = await self._source.readline(_MAX_LINE)
        if line is None:
            raise _incomplete()
        size, _, extensions = line.partition(b";")
        if not _CHUNK_SIZE.fullmatch(size):
            raise _incomplete()
        if self._chain is None:
            return int(size, 16), ""
        match = _CHUNK_SIGNATURE.fullmatch(extensions)
        if not match:
            raise _incomplete()
        return int(size, 16), match.group(1).decode("ascii")

    async def _read_trailers(self) -> None:
        """The trailing headers after the final chunk, up to the closing empty line.

        An empty line right after the final chunk ends the body unless trailing headers
        follow it (some encoders put one there).
        """
        lines: list[bytes] = []
        skipped_empty_line = False
        while True:
            line = await self._source.readline(_MAX_LINE)
            if line is None:
                raise _incomplete()
            if line == b"":
                if lines or skipped_empty_line or await self._source.at_end():
                    break
                skipped_empty_line = True
                continue
            if len(lines) == _MAX_TRAILERS:
                raise _incomplete()
            lines.append(line)
        if not await self._source.at_end():
            raise _incomplete()
        self._store_trailers(lines)

    def _store_trailers(self, lines: list[bytes]) -> None:
        trailer_signature = None
        for line in lines:
            name, colon, value = line.partition(b":")
            if not colon or not name.strip():
                raise _incomplete()
            key = name.strip().decode("latin-1").lower()
            text = value.strip().decode("latin-1")
            if key == TRAILER_SIGNATURE:
                trailer_signature = text
            else:
                self.trailers[key] = text
        if self._chain is not None and self._signed_trailer and self.trailers:
            self._chain.verify_trailer(trailer_signature, self.trailers)


class _SignatureChain:
    """The running chunk signature of a signed ``aws-chunked`` body."""

    def __init__(self, signature: VerifiedSignature, signing_key: bytes) -> None:
        info = signature.info
        self._key = signing_key
        self._prefix = f"{info.amz_date}\n{info.scope}\n"
        self._previous = info.signature

    def verify_chunk(self, provided: str, data_sha256: str) -> None:
        """Check one chunk's signature, given the hex SHA-256 of its data."""
        string_to_sign = f"AWS4-HMAC-SHA256-PAYLOAD\n{self._prefix}{self._previous}\n{_EMPTY_SHA256}\n{data_sha256}"
        self._verify(provided, string_to_sign)

    def verify_trailer(self, provided: str | None, trailers: dict[str, str]) -> None:
        """Check the signature of the trailing headers (``x-amz-trailer-signature``)."""
        canonical = "".join(f"{name}:{trailers[name]}\n" for name in sorted(trailers))
        digest = sha256(canonical.encode("latin-1")).hexdigest()
        self._verify(provided or "", f"AWS4-HMAC-SHA256-TRAILER\n{self._prefix}{self._previous}\n{digest}")

    def _verify(self, provided: str, string_to_sign: str) -> None:
        expected = hmac.new(self._key, string_to_sign.encode(), sha256).hexdigest()
        if not hmac.compare_digest(expected, provided):
            raise AwsError(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.",
                403,
                fields={"StringToSign": string_to_sign, "SignatureProvided": provided},
            )
        self._previous = expected


def _signature_chain(content_sha256: str, signature: VerifiedSignature | None) -> _SignatureChain | None:
    """The chain that verifies chunk signatures, or None for an unsigned variant."""
    if content_sha256 not in (SIGNED_PAYLOAD, SIGNED_PAYLOAD_TRAILER):
        return None
    if signature is None or signature.signing_key is None or signature.info.scope is None:
        raise AwsError(
            "InvalidRequest",
            f"{content_sha256} requires a request signed with AWS Signature Version 4.",
            400,
        )
    return _SignatureChain(signature, signature.signing_key)


class _Source:
    """An async byte stream read by size or by line, holding one received piece at a time."""

    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._pieces = stream.__aiter__()
        self._piece = b""
        self._pos = 0

    async def _fill(self) -> bool:
        """Make unread bytes available; False at the end of the stream."""
        while self._pos >= len(self._piece):
            try:
                self._piece = await self._pieces.__anext__()
            except StopAsyncIteration:
                return False
            self._pos = 0
        return True

    async def at_end(self) -> bool:
        """Whether the stream has no more bytes."""
        return not await self._fill()

    async def read(self, limit: int) -> bytes:
        """Up to ``limit`` bytes, without copying a piece that fits whole; ``b""`` at the end."""
        if not await self._fill():
            return b""
        piece, pos = self._piece, self._pos
        end = min(len(piece), pos + limit)
        self._pos = end
        return piece if pos == 0 and end == len(piece) else piece[pos:end]

    async def readline(self, limit: int) -> bytes | None:
        """The next CRLF-terminated line of at most ``limit`` bytes, without its CRLF.

        None if the stream ends before the line starts; ``IncompleteBody`` if it ends
        inside the line or the line is too long.
        """
        line = bytearray()
        while True:
            if not await self._fill():
                if line:
                    raise _incomplete()
                return None
            piece, pos = self._piece, self._pos
            room = limit + 2 - len(line)
            newline = piece.find(b"\n", pos, pos + room)
            end = newline + 1 if newline >= 0 else min(len(piece), pos + room)
            line += piece[pos:end]
            self._pos = end
            if newline >= 0:
                break
            if len(line) >= limit + 2:
                raise _incomplete()
        if not line.endswith(b"\r\n"):
            raise _incomplete()
        return bytes(line[:-2])


def _incomplete() -> AwsError:
    return AwsError("IncompleteBody", "The request body terminated unexpectedly", 400)


def _length_mismatch(expected: int, provided: int) -> AwsError:
    return AwsError(
        "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header",
        400,
        fields={"NumberBytesExpected": str(expected), "NumberBytesProvided": str(provided)},
    )
