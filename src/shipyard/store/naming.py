"""S3 names, identifiers and limits: bucket names, keys, tags, metadata, version and upload ids."""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
from collections.abc import Mapping

from shipyard.errors import AwsError

#: The version id of objects written while a bucket is unversioned or suspended.
NULL_VERSION = "null"

MAX_KEY_BYTES = 1024
MAX_METADATA_BYTES = 2048
OBJECT_TAG_LIMIT = 10
BUCKET_TAG_LIMIT = 50

_BUCKET_CHARS = re.compile(r"[a-z0-9][a-z0-9.-]*[a-z0-9]")
_IP_ADDRESS = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VERSION_ID = re.compile(f"[{_CROCKFORD}]{{26}}")
_UPLOAD_ID = re.compile(f"[{_CROCKFORD}]{{26}}[A-Za-z0-9_-]{{32}}")


def validate_bucket_name(name: str) -> None:
    """Raise ``InvalidBucketName`` unless ``name`` follows AWS's general-purpose bucket rules."""
    valid = (
        3 <= len(name) <= 63
        and _BUCKET_CHARS.fullmatch(name) is not None
        and ".." not in name
        and _IP_ADDRESS.fullmatch(name) is None
        and not name.startswith(_RESERVED_PREFIXES)
        and not name.endswith(_RESERVED_SUFFIXES)
    )
    if not valid:
        raise AwsError("InvalidBucketName", "The specified bucket is not valid.", 400, fields={"BucketName": name})


def validate_key(key: str) -> None:
    """Raise ``KeyTooLongError`` for a key over 1024 UTF-8 bytes (and reject the empty key)."""
    if not key:
        raise AwsError("InvalidArgument", "The object key must not be empty.", 400)
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        raise AwsError(
            "KeyTooLongError",
            "Your key is too long",
            400,
            fields={"MaxSizeAllowed": str(MAX_KEY_BYTES), "Size": str(size)},
        )


def validate_tags(tags: Mapping[str, str], limit: int) -> None:
    """``InvalidTag`` unless ``tags`` fit S3's limits (``limit`` tags, 128/256-character keys/values)."""
    kind = "Object" if limit == OBJECT_TAG_LIMIT else "Bucket"
    if len(tags) > limit:
        raise AwsError("InvalidTag", f"{kind} tags cannot be greater than {limit}", 400)
    for key, value in tags.items():
        if not 1 <= len(key) <= 128:
            raise AwsError("InvalidTag", "The TagKey you have provided is invalid", 400, fields={"TagKey": key})
        if len(value) > 256:
            raise AwsError("InvalidTag", "The TagValue you have provided is invalid", 400, fields={"TagKey": key})
        if key.startswith("aws:"):
            raise AwsError("InvalidTag", "Your TagKey cannot be prefixed with aws:", 400, fields={"TagKey": key})


def validate_metadata(metadata: Mapping[str, str]) -> None:
    """``MetadataTooLarge`` if user metadata (names plus values, UTF-8) passes 2 KB."""
    size = sum(len(name.encode()) + len(value.encode()) for name, value in metadata.items())
    if size > MAX_METADATA_BYTES:
        raise AwsError(
            "MetadataTooLarge",
            "Your metadata headers exceed the maximum allowed metadata size",
            400,
            fields={"MaxSizeAllowed": str(MAX_METADATA_BYTES), "Size": str(size)},
        )


def check_version_id(version_id: str) -> None:
    """Raise ``InvalidArgument`` unless ``version_id`` is ``null`` or one this server issues."""
    if version_id != NULL_VERSION and _VERSION_ID.fullmatch(version_id) is None:
        raise AwsError(
            "InvalidArgument",
            "Invalid version id specified",
            400,
            fields={"ArgumentName": "versionId", "ArgumentValue": version_id},
        )


def is_upload_id(upload_id: str) -> bool:
    """Whether ``upload_id`` has the shape of one this server issues."""
    return _UPLOAD_ID.fullmatch(upload_id) is not None


class _VersionIds:
    """Version ids that sort by creation: 48 bits of milliseconds, 80 random bits, base32.

    Within one millisecond the random part counts up, so ids made by this process are
    strictly increasing; they are URL-safe and never ``null``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._last_random = 0

    def __call__(self) -> str:
        now = time.time_ns() // 1_000_000
        with self._lock:
            if now <= self._last_ms:
                now, random = self._last_ms, self._last_random + 1
            else:
                random = int.from_bytes(os.urandom(10), "big") >> 1
            self._last_ms, self._last_random = now, random
        value = (now << 80) | random
        return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


new_version_id = _VersionIds()


def new_upload_id() -> str:
    """A URL-safe multipart upload id: sortable by initiation time, then 192 random bits."""
    return new_version_id() + secrets.token_urlsafe(24)
