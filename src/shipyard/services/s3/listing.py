"""S3 listings of a bucket's keys: ListObjects, ListObjectsV2 and ListObjectVersions.

The store pages through keys; these handlers validate the query, shape the pages as S3
does and apply ``encoding-type=url``. boto3 always asks for it and decodes the answer with
``unquote_plus``, so with it every key-like value (keys, prefixes, the delimiter, markers)
is sent percent-encoded, a space as ``+``: a raw ``+`` in a key would come back a space.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote_plus

from shipyard.errors import AwsError
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.s3.common import owner
from shipyard.store.listing import MAX_KEYS
from shipyard.store.s3types import ObjectSummary

router = ServiceRouter("s3")

#: Encodes one key-like value of a listing for the response (identity without encoding-type).
Encoder = Callable[[str], str]


def url_encoder(params: dict[str, Any]) -> Encoder:
    """How a listing writes keys, prefixes and markers, from its ``EncodingType``.

    ``url`` percent-encodes them (a space as ``+``, ``/`` kept), as S3 does; no encoding
    type sends them as they are. Any other value is ``InvalidArgument``.
    """
    encoding = params.get("EncodingType")
    if encoding is None:
        return _unchanged
    if encoding != "url":
        raise AwsError(
            "InvalidArgument",
            "Invalid Encoding Method specified in Request",
            400,
            fields={"ArgumentName": "encoding-type", "ArgumentValue": str(encoding)},
        )
    return _url_encode


def page_size(params: dict[str, Any], member: str, argument: str) -> int:
    """A listing's requested page size (``MaxKeys``, ``MaxUploads``...), default 1000.

    Negative values are ``InvalidArgument``; values above 1000 are accepted (and echoed)
    but a page never holds more than 1000 entries.
    """
    value = params.get(member)
    if value is None:
        return MAX_KEYS
    if value < 0:
        raise AwsError(
            "InvalidArgument",
            f"Provided {argument} not an integer or within integer range",
            400,
            fields={"ArgumentName": argument, "ArgumentValue": str(value)},
        )
    return value


def common_prefixes(prefixes: Iterable[str], encode: Encoder) -> list[dict[str, str]]:
    """The ``CommonPrefixes`` entries of a listing."""
    return [{"Prefix": encode(prefix)} for prefix in prefixes]


@router.operation("ListObjects")
async def list_objects(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    encode = url_encoder(params)
    max_keys = page_size(params, "MaxKeys", "max-keys")
    prefix, delimiter, marker = params.get("Prefix") or "", params.get("Delimiter") or None, params.get("Marker") or ""
    listing = await ctx.runtime.s3.list_objects(
        bucket=params["Bucket"], prefix=prefix, delimiter=delimiter, marker=marker or None, max_keys=max_keys
    )
    output: dict[str, Any] = {
        "Name": params["Bucket"],
        "Prefix": encode(prefix),
        "Marker": encode(marker),
        "MaxKeys": max_keys,
        "Delimiter": encode(delimiter) if delimiter else None,
        "IsTruncated": listing.is_truncated,
        "Contents": _contents(listing.objects, encode, owner(ctx)),
        "CommonPrefixes": common_prefixes(listing.common_prefixes, encode),
        "EncodingType": params.get("EncodingType"),
    }
    # As S3: NextMarker only with a delimiter; otherwise clients resume after the last key.
    if delimiter and listing.next_marker is not None:
        output["NextMarker"] = encode(listing.next_marker)
    return output


@router.operation("ListObjectsV2")
async def list_objects_v2(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    encode = url_encoder(params)
    max_keys = page_size(params, "MaxKeys", "max-keys")
    prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter") or None
    token, start_after = params.get("ContinuationToken"), params.get("StartAfter")
    if token == "":
        raise AwsError(
            "InvalidArgument",
            "The continuation token provided is incorrect",
            400,
            fields={"ArgumentName": "continuation-token"},
        )
    listing = await ctx.runtime.s3.list_objects_v2(
        bucket=params["Bucket"],
        prefix=prefix,
        delimiter=delimiter,
        continuation_token=token,
        start_after=start_after or None,
        max_keys=max_keys,
    )
    return {
        "Name": params["Bucket"],
        "Prefix": encode(prefix),
        "Delimiter": encode(delimiter) if delimiter else None,
        "MaxKeys": max_keys,
        "KeyCount": listing.key_count,
        "IsTruncated": listing.is_truncated,
        "Contents": _contents(listing.objects, encode, owner(ctx) if params.get("FetchOwner") else None),
        "CommonPrefixes": common_prefixes(listing.common_prefixes, encode),
        "EncodingType": params.get("EncodingType"),
        "ContinuationToken": token,
        "NextContinuationToken": listing.next_continuation_token,
        "StartAfter": encode(start_after) if start_after else None,
    }


@router.operation("ListObjectVersions")
async def list_object_versions(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    encode = url_encoder(params)
    max_keys = page_size(params, "MaxKeys", "max-keys")
    prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter") or None
    key_marker, version_id_marker = params.get("KeyMarker") or "", params.get("VersionIdMarker") or ""
    listing = await ctx.runtime.s3.list_object_versions(
        bucket=params["Bucket"],
        prefix=prefix,
        delimiter=delimiter,
        key_marker=key_marker or None,
        version_id_marker=version_id_marker or None,
        max_keys=max_keys,
    )
    account = owner(ctx)
    versions: list[dict[str, Any]] = []
    delete_markers: list[dict[str, Any]] = []
    for entry in listing.versions:
        common = {
            "Key": encode(entry.key),
            "VersionId": entry.version_id,
            "IsLatest": entry.is_latest,
            "LastModified": entry.last_modified,
            "Owner": account,
        }
        if entry.is_delete_marker:
            delete_markers.append(common)
        else:
            versions.append({**common, **_object_fields(entry)})
    return {
        "Name": params["Bucket"],
        "Prefix": encode(prefix),
        "Delimiter": encode(delimiter) if delimiter else None,
        "KeyMarker": encode(key_marker),
        "VersionIdMarker": version_id_marker,
        "MaxKeys": max_keys,
        "IsTruncated": listing.is_truncated,
        "NextKeyMarker": None if listing.next_key_marker is None else encode(listing.next_key_marker),
        "NextVersionIdMarker": listing.next_version_id_marker,
        "Versions": versions,
        "DeleteMarkers": delete_markers,
        "CommonPrefixes": common_prefixes(listing.common_prefixes, encode),
        "EncodingType": params.get("EncodingType"),
    }


def _contents(objects: Iterable[ObjectSummary], encode: Encoder, account: dict[str, str] | None) -> list[dict[str, Any]]:
    """The ``Contents`` entries of ListObjects(V2); ``Owner`` only when ``account`` is given."""
    return [
        {"Key": encode(entry.key), "LastModified": entry.last_modified, **_object_fields(entry), "Owner": account}
        for entry in objects
    ]


def _object_fields(entry: ObjectSummary) -> dict[str, Any]:
    """What an object entry (not a delete marker) of any listing shows besides its key."""
    fields: dict[str, Any] = {"ETag": entry.etag, "Size": entry.size, "StorageClass": entry.storage_class}
    if entry.checksum_algorithm is not None:
        fields["ChecksumAlgorithm"] = [entry.checksum_algorithm]
        fields["ChecksumType"] = entry.checksum_type
    return fields


def _unchanged(value: str) -> str:
    return value


def _url_encode(value: str) -> str:
    return quote_plus(value, safe="/")
