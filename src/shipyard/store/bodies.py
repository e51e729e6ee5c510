"""Receiving an object body: hashing it on its way to disk, and checking it against the
request's promises (``Content-Length``, ``Content-MD5``, an ``x-amz-checksum-*`` value).
"""

from __future__ import annotations

from collections.abc import Callable

from shipyard.errors import AwsError
from shipyard.store.checksums import Checksummer

#: Largest object one PutObject (or one part) may carry: 5 GiB.
MAX_UPLOAD_SIZE = 5 * 1024**3

#: A checksum the client sent: a value known up front, one known once the body has been
#: read (an ``aws-chunked`` trailer: pass a callable), or None.
ExpectedChecksum = str | Callable[[], str | None] | None


def entity_too_large(limit: int = MAX_UPLOAD_SIZE) -> AwsError:
    """S3's error for a body over ``limit`` bytes."""
    return AwsError(
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size",
        400,
        fields={"MaxSizeAllowed": str(limit)},
    )


def observer(summer: Checksummer, limit: int = MAX_UPLOAD_SIZE) -> Callable[[bytes], None]:
    """A blob-write observer feeding ``summer`` that aborts the write past ``limit`` bytes."""

    def observe(data: bytes) -> None:
        summer.update(data)
        if summer.size > limit:
            raise entity_too_large(limit)

    return observe


def verify(
    summer: Checksummer,
    *,
    content_md5: str | None,
    algorithm: str,
    expected_checksum: ExpectedChecksum,
    expected_size: int | None,
) -> None:
    """Raise what S3 raises when the body received is not the one the request described."""
    if expected_size is not None and expected_size != summer.size:
        raise AwsError(
            "IncompleteBody",
            "You did not provide the number of bytes specified by the Content-Length HTTP header",
            400,
        )
    if content_md5 is not None:
        summer.verify_content_md5(content_md5)
    expected = expected_checksum() if callable(expected_checksum) else expected_checksum
    if expected is not None:
        summer.verify(algorithm, expected)


def quoted_etag(summer: Checksummer) -> str:
    """The ETag of a single-part body: its MD5 in hex, quoted."""
    return f'"{summer.md5_hex()}"'
