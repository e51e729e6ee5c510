"""S3 object checksums: MD5 for ETags and ``Content-MD5``, and the flexible checksums.

Values are written as S3 writes them: base64 of the big-endian digest (a CRC32 is 4 bytes,
a CRC64NVME 8). Algorithm names are S3's (``CRC32``, ``CRC32C``, ``CRC64NVME``, ``SHA1``,
``SHA256``); each travels in the header ``x-amz-checksum-<name in lower case>``.

A multipart object's checksum is ``FULL_OBJECT`` (the CRC of all its bytes, combined from
the part CRCs without re-reading them) or ``COMPOSITE`` (the checksum of the concatenated
binary part checksums, suffixed ``-<number of parts>``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Literal, Protocol

from awscrt import checksums as crt

from shipyard.errors import AwsError

ChecksumAlgorithm = Literal["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"]
#: Every flexible checksum algorithm, in S3's order.
ALGORITHMS: tuple[ChecksumAlgorithm, ...] = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
#: The algorithms whose part checksums combine into a full-object checksum.
FULL_OBJECT_ALGORITHMS: tuple[ChecksumAlgorithm, ...] = ("CRC32", "CRC32C", "CRC64NVME")
#: What S3 computes for an upload that names no algorithm.
DEFAULT_ALGORITHM: ChecksumAlgorithm = "CRC64NVME"

FULL_OBJECT = "FULL_OBJECT"
COMPOSITE = "COMPOSITE"

_SIZES: dict[str, int] = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}
_CRCS: dict[str, tuple[Callable[[bytes, int], int], Callable[[int, int, int], int]]] = {
    "CRC32": (zlib.crc32, crt.combine_crc32),
    "CRC32C": (crt.crc32c, crt.combine_crc32c),
    "CRC64NVME": (crt.crc64nvme, crt.combine_crc64nvme),
}


class _Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...


class _Crc:
    """A running CRC with the ``update``/``digest`` interface of :mod:`hashlib`."""

    def __init__(self, algorithm: str) -> None:
        self._step = _CRCS[algorithm][0]
        self._size = _SIZES[algorithm]
        self._value = 0

    def update(self, data: bytes, /) -> None:
        self._value = self._step(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._size, "big")


def checksum_header(algorithm: str) -> str:
    """The header carrying a checksum: ``CRC32`` → ``x-amz-checksum-crc32``."""
    return f"x-amz-checksum-{algorithm.lower()}"


def algorithm_named(name: str) -> ChecksumAlgorithm | None:
    """The algorithm an ``x-amz-checksum-algorithm`` value or ``x-amz-checksum-*`` header names."""
    upper = name.upper().removeprefix("X-AMZ-CHECKSUM-")
    return next((algorithm for algorithm in ALGORITHMS if algorithm == upper), None)


def check_algorithm(algorithm: str) -> ChecksumAlgorithm:
    """``algorithm`` if S3 supports it, else ``InvalidRequest``."""
    if (known := algorithm_named(algorithm)) is None or known != algorithm:
        raise AwsError("InvalidRequest", f"Checksum algorithm {algorithm!r} is not supported.", 400)
    return known


def checksum_type(algorithm: str, requested: str | None = None) -> str:
    """The multipart checksum type for ``algorithm``: ``requested``, checked, or the default.

    CRC64NVME is full-object only, SHA-1 and SHA-256 composite only; CRC32 and CRC32C can
    be either and default to composite, as CreateMultipartUpload does.
    """
    check_algorithm(algorithm)
    kind = requested or (FULL_OBJECT if algorithm == "CRC64NVME" else COMPOSITE)
    allowed = {
        FULL_OBJECT: algorithm in FULL_OBJECT_ALGORITHMS,
        COMPOSITE: algorithm != "CRC64NVME",
    }
    if not allowed.get(kind, False):
        raise AwsError(
            "InvalidRequest", f"The {algorithm} checksum algorithm does not support the {kind} checksum type.", 400
        )
    return kind


def decode_checksum(algorithm: str, value: str) -> bytes:
    """The binary digest of a base64 checksum value; ``InvalidRequest`` if it is not one."""
    digest = _b64decode(value)
    if digest is None or len(digest) != _SIZES[algorithm]:
        raise AwsError("InvalidRequest", f"Value for {checksum_header(algorithm)} header is invalid.", 400)
    return digest


def decode_content_md5(value: str) -> bytes:
    """The MD5 digest a ``Content-MD5`` header carries; ``InvalidDigest`` if it is not one."""
    digest = _b64decode(value)
    if digest is None or len(digest) != 16:
        raise AwsError("InvalidDigest", "The Content-MD5 you specified was invalid.", 400)
    return digest


class Checksummer:
    """MD5 and any flexible checksums of a body, computed in one pass as it streams.

    Feed every piece to :meth:`update`; then read :meth:`md5_hex` (the ETag of a single-part
    object) and :meth:`value` of each algorithm asked for, or check what the client sent
    with :meth:`verify_content_md5` and :meth:`verify`. ``size`` counts the bytes fed.
    """

    def __init__(self, algorithms: Iterable[str] = (), *, md5: bool = True) -> None:
        self._digests: dict[str, _Digest] = {}
        if md5:
            self._digests["MD5"] = hashlib.md5(usedforsecurity=False)
        for algorithm in algorithms:
            self._digests[algorithm] = _new_digest(algorithm)
        self.size = 0

    def update(self, data: bytes) -> None:
        """Add the next piece of the body."""
        for digest in self._digests.values():
            digest.update(data)
        self.size += len(data)

    def md5_hex(self) -> str:
        """The hex MD5 of the body, as an ETag carries it (without the quotes)."""
        return self._digest("MD5").hex()

    def digest(self, algorithm: str) -> bytes:
        """The binary checksum of the body (big-endian for the CRCs)."""
        return self._digest(algorithm)

    def value(self, algorithm: str) -> str:
        """The checksum as S3 sends it: base64 of :meth:`digest`."""
        return base64.b64encode(self._digest(algorithm)).decode("ascii")

    def verify_content_md5(self, content_md5: str) -> None:
        """Check a ``Content-MD5`` header: ``InvalidDigest`` if malformed, ``BadDigest`` if wrong."""
        if decode_content_md5(content_md5) != self._digest("MD5"):
            raise AwsError("BadDigest", "The Content-MD5 you specified did not match what we received.", 400)

    def verify(self, algorithm: str, expected: str) -> None:
        """Check a flexible checksum the client sent: ``InvalidRequest`` if malformed, ``BadDigest`` if wrong."""
        if decode_checksum(algorithm, expected) != self._digest(algorithm):
            raise AwsError("BadDigest", f"The {algorithm} you specified did not match the calculated checksum.", 400)

    def _digest(self, name: str) -> bytes:
        try:
            return self._digests[name].digest()
        except KeyError:
            raise ValueError(f"{name} was not computed by this Checksummer") from None


def composite_checksum(algorithm: str, part_checksums: Sequence[str]) -> str:
    """A multipart object's COMPOSITE checksum: ``<checksum of the part checksums>-<parts>``."""
    combined = _new_digest(algorithm)
    for value in part_checksums:
        combined.update(decode_checksum(algorithm, value))
    return f"{base64.b64encode(combined.digest()).decode('ascii')}-{len(part_checksums)}"


def full_object_checksum(algorithm: str, parts: Sequence[tuple[str, int]]) -> str:
    """A multipart object's FULL_OBJECT checksum, from each part's ``(checksum, size)``.

    The CRC of the whole object, combined from the part CRCs without the data; only the
    CRC algorithms (:data:`FULL_OBJECT_ALGORITHMS`) combine this way.
    """
    if algorithm not in FULL_OBJECT_ALGORITHMS:
        raise ValueError(f"{algorithm} checksums cannot be combined into a full-object checksum")
    combine = _CRCS[algorithm][1]
    crc = 0
    for value, length in parts:
        crc = combine(crc, int.from_bytes(decode_checksum(algorithm, value), "big"), length)
    return base64.b64encode(crc.to_bytes(_SIZES[algorithm], "big")).decode("ascii")


def _new_digest(algorithm: str) -> _Digest:
    if algorithm == "SHA1":
        return hashlib.sha1(usedforsecurity=False)
    if algorithm == "SHA256":
        return hashlib.sha256()
    return _Crc(algorithm)


def _b64decode(value: str) -> bytes | None:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
