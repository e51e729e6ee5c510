"""S3 multipart uploads: create, upload and copy parts, complete, abort, list parts and uploads.

The store enforces the semantics (part order, sizes, ETags, checksums, preconditions);
these handlers translate the request members and shape the answers as S3 does. One rule
from the wire matters to clients: UploadPart echoes the part's ``x-amz-checksum-*``, and
boto3 only lists per-part checksums in CompleteMultipartUpload when it was echoed.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import quote

from shipyard.errors import AwsError
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.s3.checksum_params import requested_checksum
from shipyard.services.s3.common import (
    checksum_members,
    decoded_length,
    object_meta,
    owner,
    parse_tagging,
)
from shipyard.services.s3.conditions import precondition_failed
from shipyard.services.s3.listing import common_prefixes, page_size, url_encoder
from shipyard.services.s3.objects import check_copy_source_conditions, parse_copy_source
from shipyard.store.checksums import ALGORITHMS
from shipyard.store.s3types import CompletedPart, Part, Upload

router = ServiceRouter("s3")

_COPY_RANGE = re.compile(r"bytes=(\d+)-(\d+)")


@router.operation("CreateMultipartUpload")
async def create_multipart_upload(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    algorithm = params.get("ChecksumAlgorithm")
    upload = await ctx.runtime.s3.create_multipart_upload(
        bucket=params["Bucket"],
        key=params["Key"],
        initiator=ctx.principal_arn or ctx.account_id,
        meta=object_meta(params),
        tags=parse_tagging(params.get("Tagging")),
        checksum_algorithm=algorithm.upper() if algorithm else None,
        checksum_type=params.get("ChecksumType"),
    )
    return {
        "Bucket": upload.bucket,
        "Key": upload.key,
        "UploadId": upload.upload_id,
        **_upload_checksum(upload),
        **upload.meta.extra,
    }


@router.operation("UploadPart")
async def upload_part(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    body = params["Body"]
    algorithm, expected = requested_checksum(params, ctx.request.headers, body)
    part = await ctx.runtime.s3.upload_part(
        bucket=params["Bucket"],
        key=params["Key"],
        upload_id=params["UploadId"],
        part_number=params["PartNumber"],
        body=body,
        checksum_algorithm=algorithm,
        expected_checksum=expected,
        content_md5=params.get("ContentMD5"),
        expected_size=decoded_length(ctx, params),
    )
    output: dict[str, Any] = {"ETag": part.etag}
    # Echo the checksum the client sent (verified by now; a trailer is read once the body is),
    # else the part's checksum under the algorithm the upload named.
    sent = expected() if callable(expected) else expected
    if algorithm is not None and sent is not None:
        output[f"Checksum{algorithm}"] = sent
    else:
        upload = await _upload_of(ctx, params)
        output.update(_part_checksum(upload, part))
    return output


@router.operation("UploadPartCopy")
async def upload_part_copy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    source_bucket, source_key, source_version = parse_copy_source(params["CopySource"])
    copied = await ctx.runtime.s3.upload_part_copy(
        bucket=params["Bucket"],
        key=params["Key"],
        upload_id=params["UploadId"],
        part_number=params["PartNumber"],
        source_bucket=source_bucket,
        source_key=source_key,
        source_version_id=source_version,
        source_range=_copy_range(params.get("CopySourceRange")),
        source_check=lambda version: check_copy_source_conditions(version, params),
    )
    upload = await _upload_of(ctx, params)
    part = copied.part
    return {
        "CopyPartResult": {"ETag": part.etag, "LastModified": part.last_modified, **_part_checksum(upload, part)},
        "CopySourceVersionId": copied.source_version_id,
    }


@router.operation("CompleteMultipartUpload")
async def complete_multipart_upload(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    requested = (params.get("MultipartUpload") or {}).get("Parts") or []
    parts = [
        CompletedPart(part_number=part["PartNumber"], etag=part["ETag"], checksum=_first_checksum(part))
        for part in requested
    ]
    version = await ctx.runtime.s3.complete_multipart_upload(
        bucket=params["Bucket"],
        key=params["Key"],
        upload_id=params["UploadId"],
        parts=parts,
        expected_checksum=_first_checksum(params),
        expected_size=params.get("MpuObjectSize"),
        if_match=params.get("IfMatch"),
        if_none_match=params.get("IfNoneMatch"),
    )
    return {
        "Location": _location(ctx, version.bucket, version.key),
        "Bucket": version.bucket,
        "Key": version.key,
        "ETag": version.etag,
        **checksum_members(version),
        "VersionId": version.reported_version_id,
        **version.meta.extra,
    }


@router.operation("AbortMultipartUpload")
async def abort_multipart_upload(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    initiated: datetime | None = params.get("IfMatchInitiatedTime")
    if initiated is not None:
        upload = await _upload_of(ctx, params)
        if upload.initiated.replace(microsecond=0) != initiated.replace(microsecond=0):
            raise precondition_failed("x-amz-if-match-initiated-time")
    await ctx.runtime.s3.abort_multipart_upload(bucket=params["Bucket"], key=params["Key"], upload_id=params["UploadId"])
    return {}


@router.operation("ListParts")
async def list_parts(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    max_parts = page_size(params, "MaxParts", "max-parts")
    marker = params.get("PartNumberMarker") or 0
    if marker < 0:
        raise AwsError(
            "InvalidArgument",
            "Argument part-number-marker must be an integer between 0 and 2147483647",
            400,
            fields={"ArgumentName": "part-number-marker", "ArgumentValue": str(marker)},
        )
    listing = await ctx.runtime.s3.list_parts(
        bucket=params["Bucket"], key=params["Key"], upload_id=params["UploadId"],
        part_number_marker=marker, max_parts=max_parts,
    )
    upload = listing.upload
    parts = [
        {
            "PartNumber": part.part_number,
            "LastModified": part.last_modified,
            "ETag": part.etag,
            "Size": part.size,
            **_part_checksum(upload, part),
        }
        for part in listing.parts
    ]
    return {
        "Bucket": upload.bucket,
        "Key": upload.key,
        "UploadId": upload.upload_id,
        "PartNumberMarker": marker,
        "NextPartNumberMarker": listing.next_part_number_marker,
        "MaxParts": max_parts,
        "IsTruncated": listing.is_truncated,
        "Parts": parts,
        "Initiator": _initiator(ctx, upload),
        "Owner": owner(ctx),
        "StorageClass": upload.meta.storage_class,
        **_upload_checksum(upload),
    }


@router.operation("ListMultipartUploads")
async def list_multipart_uploads(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    encode = url_encoder(params)
    max_uploads = page_size(params, "MaxUploads", "max-uploads")
    prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter") or None
    key_marker, upload_id_marker = params.get("KeyMarker") or "", params.get("UploadIdMarker") or ""
    listing = await ctx.runtime.s3.list_multipart_uploads(
        bucket=params["Bucket"],
        prefix=prefix,
        delimiter=delimiter,
        key_marker=key_marker or None,
        upload_id_marker=upload_id_marker or None,
        max_uploads=max_uploads,
    )
    account = owner(ctx)
    uploads = [
        {
            "UploadId": upload.upload_id,
            "Key": encode(upload.key),
            "Initiated": upload.initiated,
            "StorageClass": upload.meta.storage_class,
            "Owner": account,
            "Initiator": _initiator(ctx, upload),
            **_upload_checksum(upload),
        }
        for upload in listing.uploads
    ]
    return {
        "Bucket": params["Bucket"],
        "KeyMarker": encode(key_marker),
        "UploadIdMarker": upload_id_marker,
        "NextKeyMarker": None if listing.next_key_marker is None else encode(listing.next_key_marker),
        "NextUploadIdMarker": listing.next_upload_id_marker,
        "Prefix": encode(prefix),
        "Delimiter": encode(delimiter) if delimiter else None,
        "MaxUploads": max_uploads,
        "IsTruncated": listing.is_truncated,
        "Uploads": uploads,
        "CommonPrefixes": common_prefixes(listing.common_prefixes, encode),
        "EncodingType": params.get("EncodingType"),
    }


async def _upload_of(ctx: RequestContext, params: dict[str, Any]) -> Upload:
    """The upload a part request names (``NoSuchUpload`` if it is gone)."""
    listing = await ctx.runtime.s3.list_parts(
        bucket=params["Bucket"], key=params["Key"], upload_id=params["UploadId"], max_parts=0
    )
    return listing.upload


def _upload_checksum(upload: Upload) -> dict[str, str]:
    """``ChecksumAlgorithm`` and ``ChecksumType`` of an upload that named an algorithm.

    An upload that named none gets S3's default checksum, which S3 does not show here.
    """
    if upload.checksum_algorithm is None:
        return {}
    return {"ChecksumAlgorithm": upload.checksum_algorithm, "ChecksumType": upload.checksum_type or ""}


def _part_checksum(upload: Upload, part: Part) -> dict[str, str]:
    """A part's ``Checksum<alg>`` member, shown when the upload named the algorithm."""
    if upload.checksum_algorithm is None or part.checksum is None:
        return {}
    return {f"Checksum{upload.checksum_algorithm}": part.checksum}


def _first_checksum(members: dict[str, Any]) -> str | None:
    """The value of the first supported ``Checksum<alg>`` member present, or None."""
    return next((members[f"Checksum{name}"] for name in ALGORITHMS if members.get(f"Checksum{name}")), None)


def _copy_range(header: str | None) -> tuple[int, int] | None:
    """``x-amz-copy-source-range: bytes=first-last`` as the half-open ``(first, last + 1)``."""
    if header is None:
        return None
    match = _COPY_RANGE.fullmatch(header.strip())
    if match is None or int(match.group(2)) < int(match.group(1)):
        raise AwsError(
            "InvalidArgument",
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are"
            " the zero-based offsets of the first and last bytes to copy",
            400,
            fields={"ArgumentName": "x-amz-copy-source-range", "ArgumentValue": header},
        )
    return int(match.group(1)), int(match.group(2)) + 1


def _location(ctx: RequestContext, bucket: str, key: str) -> str:
    """The URL of a completed object, in the addressing style of the request (path or virtual host)."""
    settings = ctx.runtime.settings
    path = quote(key, safe="/~")
    if ctx.host.rsplit(":", 1)[0] == f"{bucket}.{settings.base_domain}":
        return f"{settings.scheme}://{ctx.host}/{path}"
    return f"{settings.scheme}://{ctx.host}/{quote(bucket)}/{path}"


def _initiator(ctx: RequestContext, upload: Upload) -> dict[str, str]:
    """``Initiator``: the account (as ``Owner``) for its root, else the IAM principal's ARN and name."""
    who = upload.initiator
    if not who.startswith("arn:") or who.endswith(":root"):
        return owner(ctx)
    return {"ID": who, "DisplayName": who.rsplit("/", 1)[-1]}
