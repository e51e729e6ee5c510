"""Request bodies as the gateway hands them on: read whole, or streamed and verified."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import AsyncIterator

from shipyard.aws.wire import Headers
from shipyard.errors import AwsError
from shipyard.store.checksums import ALGORITHMS, Checksummer, checksum_header

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


async def read_limited(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """The whole body, refusing one larger than ``limit`` bytes."""
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise AwsError("RequestEntityTooLarge", f"The request body exceeds {limit} bytes.", 413)
    return bytes(body)


def decompressed(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """``body`` without the ``gzip`` encoding that SDKs apply to large RPC requests
    (botocore's ``requestcompression``: CloudWatch PutMetricData), at most ``limit`` bytes."""
    if not content_encoding or "gzip" not in (e.strip() for e in content_encoding.lower().split(",")):
        return body
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        plain = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise AwsError("SerializationException", "The request body is not valid gzip.", 400) from None
    if len(plain) > limit or inflater.unconsumed_tail:
        raise AwsError("RequestEntityTooLarge", f"The decompressed request body exceeds {limit} bytes.", 413)
    return plain


class Sha256VerifiedStream:
    """Passes a body through and, at its end, checks it against the signed SHA-256.

    S3 clients sign ``x-amz-content-sha256`` and then stream the body, so the signature
    only covers the bytes once the last one has arrived: a mismatch raises
    ``XAmzContentSHA256Mismatch`` before the consumer commits anything.
    """

    trailers: dict[str, str]

    def __init__(self, chunks: AsyncIterator[bytes], expected_hex: str) -> None:
        self._chunks = chunks
        self._expected = expected_hex.lower()
        self.trailers = {}

    async def __aiter__(self) -> AsyncIterator[bytes]:
        digest = hashlib.sha256()
        async for chunk in self._chunks:
            digest.update(chunk)
            yield chunk
        actual = digest.hexdigest()
        if actual != self._expected:
            raise AwsError(
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                400,
                fields={"ClientComputedContentSHA256": self._expected, "S3ComputedContentSHA256": actual},
            )


class PlainStream:
    """A body passed through unchanged (``UNSIGNED-PAYLOAD``)."""

    trailers: dict[str, str]

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self.trailers = {}

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks.__aiter__()


def is_hex_sha256(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value)


def verify_body_integrity(
    body: bytes, headers: Headers, trailers: dict[str, str], *, checksum_headers: bool = True
) -> None:
    """Check a whole (non-streamed) body against its ``Content-MD5`` and ``x-amz-checksum-*``
    headers (or ``aws-chunked`` trailers): S3 refuses with ``BadDigest`` before acting on a
    body that does not match.

    ``checksum_headers=False`` is for operations whose ``x-amz-checksum-*`` headers say
    something else (CompleteMultipartUpload: the whole object's checksum, not the body's).
    """
    content_md5 = headers.get("content-md5")
    named = [
        (
            algorithm,
            (headers.get(checksum_header(algorithm)) if checksum_headers else None)
            or trailers.get(checksum_header(algorithm)),
        )
        for algorithm in ALGORITHMS
    ]
    named = [(algorithm, value) for algorithm, value in named if value]
    if content_md5 is None and not named:
        return
    summer = Checksummer([algorithm for algorithm, _ in named], md5=content_md5 is not None)
    summer.update(body)
    if content_md5 is not None:
        summer.verify_content_md5(content_md5)
    for algorithm, value in named:
        summer.verify(algorithm, value)
