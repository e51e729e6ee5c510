"""What the S3 handlers share: owner identity, object headers in and out."""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl

from shipyard.services.base import RequestContext
from shipyard.store.s3types import ObjectMeta, ObjectVersion

#: Request members stored verbatim with an object and echoed on GET/HEAD.
EXTRA_MEMBERS = (
    "WebsiteRedirectLocation",
    "ServerSideEncryption",
    "SSEKMSKeyId",
    "ObjectLockMode",
    "ObjectLockLegalHoldStatus",
)


def owner(ctx: RequestContext) -> dict[str, str]:
    """The ``Owner`` element of listings: the account's canonical user id."""
    return {"ID": canonical_user_id(ctx.account_id), "DisplayName": "shipyard"}


def canonical_user_id(account_id: str) -> str:
    """A stable 64-hex canonical user id for the account, as S3 shows owners."""
    return hashlib.sha256(f"shipyard-account:{account_id}".encode()).hexdigest()


def object_meta(params: dict[str, Any]) -> ObjectMeta:
    """The headers and metadata a PutObject/CreateMultipartUpload/CopyObject(REPLACE) sets."""
    expires = params.get("Expires")
    return ObjectMeta(
        content_type=params.get("ContentType") or "binary/octet-stream",
        content_encoding=params.get("ContentEncoding"),
        content_disposition=params.get("ContentDisposition"),
        content_language=params.get("ContentLanguage"),
        cache_control=params.get("CacheControl"),
        expires=_http_date(expires) if expires is not None else None,
        metadata=dict(params.get("Metadata") or {}),
        storage_class=params.get("StorageClass") or "STANDARD",
        extra={name: str(params[name]) for name in EXTRA_MEMBERS if params.get(name)},
    )


def parse_tagging(value: str | None) -> dict[str, str]:
    """The ``x-amz-tagging`` header (URL-encoded ``k=v&k2=v2``) as a dict."""
    return dict(parse_qsl(value, keep_blank_values=True)) if value else {}


def object_headers(version: ObjectVersion) -> dict[str, Any]:
    """The output members GetObject and HeadObject share for ``version``."""
    meta = version.meta
    out: dict[str, Any] = {
        "ETag": version.etag,
        "LastModified": version.last_modified,
        "ContentLength": version.size,
        "ContentType": meta.content_type,
        "ContentEncoding": meta.content_encoding,
        "ContentDisposition": meta.content_disposition,
        "ContentLanguage": meta.content_language,
        "CacheControl": meta.cache_control,
        "Metadata": dict(meta.metadata),
        "AcceptRanges": "bytes",
        "VersionId": version.reported_version_id,
        "PartsCount": version.parts_count,
        "TagCount": len(version.tags) or None,
    }
    if meta.expires:
        out["Expires"] = _parse_http_date(meta.expires)
    if meta.storage_class != "STANDARD":
        out["StorageClass"] = meta.storage_class
    out.update(meta.extra)
    return {name: value for name, value in out.items() if value is not None}


def checksum_members(version: ObjectVersion) -> dict[str, str]:
    """``ChecksumCRC32`` & co. and ``ChecksumType`` of ``version`` (for x-amz-checksum-mode)."""
    if version.checksum is None:
        return {}
    return {
        f"Checksum{version.checksum.algorithm}": version.checksum.value,
        "ChecksumType": version.checksum.type,
    }


def decoded_length(ctx: RequestContext, params: dict[str, Any]) -> int | None:
    """An upload body's size before ``aws-chunked`` framing, as the client declared it."""
    decoded = ctx.request.headers.get("x-amz-decoded-content-length")
    if decoded is not None:
        return int(decoded) if decoded.isdigit() else None
    return params.get("ContentLength")


def _http_date(value: Any) -> str:
    return format_datetime(value, usegmt=True) if isinstance(value, datetime) else str(value)


def _parse_http_date(value: str) -> datetime | None:
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
