"""S3 object operations: put, get, head, delete (one or many), copy, object tagging."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from shipyard.errors import AwsError
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.s3.checksum_params import requested_checksum
from shipyard.services.s3.common import (
    checksum_members,
    decoded_length,
    object_headers,
    object_meta,
    parse_tagging,
)
from shipyard.services.s3.conditions import check_read_conditions, precondition_failed
from shipyard.services.s3.ranges import parse_range
from shipyard.store.s3types import DeleteFailure, ObjectToDelete, ObjectVersion

router = ServiceRouter("s3")

#: GetObject's ``response-*`` query parameters and the headers they override.
_RESPONSE_OVERRIDES = {
    "ResponseContentType": "ContentType",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentEncoding": "ContentEncoding",
    "ResponseContentLanguage": "ContentLanguage",
    "ResponseCacheControl": "CacheControl",
    "ResponseExpires": "Expires",
}


@router.operation("PutObject")
async def put_object(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    body = params["Body"]
    algorithm, expected = requested_checksum(params, ctx.request.headers, body)
    version = await ctx.runtime.s3.put_object(
        bucket=params["Bucket"],
        key=params["Key"],
        body=body,
        meta=object_meta(params),
        tags=parse_tagging(params.get("Tagging")),
        checksum_algorithm=algorithm,
        expected_checksum=expected,
        content_md5=params.get("ContentMD5"),
        expected_size=decoded_length(ctx, params),
        if_match=params.get("IfMatch"),
        if_none_match=params.get("IfNoneMatch"),
    )
    return {"ETag": version.etag, "VersionId": version.reported_version_id, **checksum_members(version)}


@router.operation("GetObject")
async def get_object(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    reader = await ctx.runtime.s3.open_object(bucket=params["Bucket"], key=params["Key"], version_id=params.get("VersionId"))
    try:
        output, start, end = _read_response(reader.version, params)
    except AwsError:
        reader.close()
        raise
    output["Body"] = reader.body(start, end)
    return output


@router.operation("HeadObject")
async def head_object(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    version = await ctx.runtime.s3.head_object(bucket=params["Bucket"], key=params["Key"], version_id=params.get("VersionId"))
    output, _, _ = _read_response(version, params)
    return output


def _read_response(version: ObjectVersion, params: dict[str, Any]) -> tuple[dict[str, Any], int, int]:
    """GetObject/HeadObject's headers for ``version``, and the byte range ``[start, end)`` to send."""
    check_read_conditions(
        etag=version.etag or "",
        last_modified=version.last_modified,
        if_match=params.get("IfMatch"),
        if_none_match=params.get("IfNoneMatch"),
        if_modified_since=params.get("IfModifiedSince"),
        if_unmodified_since=params.get("IfUnmodifiedSince"),
    )
    output = object_headers(version)
    part_number = params.get("PartNumber")
    if part_number is not None and params.get("Range"):
        raise AwsError("InvalidRequest", "Cannot specify both Range header and partNumber query parameter", 400)
    if part_number is not None:
        start, end = version.part_range(part_number)
        selected: tuple[int, int] | None = (start, end - 1)
    else:
        selected = parse_range(params.get("Range"), version.size)
    if selected is None:
        start, end = 0, version.size
        if params.get("ChecksumMode") == "ENABLED":
            output.update(checksum_members(version))
    else:
        start, end = selected[0], selected[1] + 1
        output["ContentRange"] = f"bytes {start}-{end - 1}/{version.size}"
        output["ContentLength"] = end - start
    for override, member in _RESPONSE_OVERRIDES.items():
        if params.get(override) is not None:
            output[member] = params[override]
    return output, start, end


@router.operation("DeleteObject")
async def delete_object(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    result = await ctx.runtime.s3.delete_object(
        bucket=params["Bucket"], key=params["Key"], version_id=params.get("VersionId"), if_match=params.get("IfMatch")
    )
    output: dict[str, Any] = {"VersionId": result.version_id}
    if result.delete_marker:
        output["DeleteMarker"] = True
    return output


@router.operation("DeleteObjects", per_resource=True)
async def delete_objects(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    request = params.get("Delete") or {}
    entries = [
        ObjectToDelete(key=entry["Key"], version_id=entry.get("VersionId"), if_match=entry.get("ETag"))
        for entry in request.get("Objects") or []
    ]
    if not entries:
        raise AwsError(
            "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema", 400
        )
    bucket = params["Bucket"]
    # Keys the caller may not delete are reported one by one, as S3 does; the rest go ahead.
    refused = [entry for entry in entries if f"arn:aws:s3:::{bucket}/{entry.key}" in ctx.denied_resources]
    errors: list[dict[str, Any]] = [
        {"Key": entry.key, "VersionId": entry.version_id, "Code": "AccessDenied", "Message": "Access Denied"}
        for entry in refused
    ]
    allowed = [entry for entry in entries if entry not in refused]
    outcomes = await ctx.runtime.s3.delete_objects(bucket=bucket, objects=allowed) if allowed else []
    deleted: list[dict[str, Any]] = []
    for outcome in outcomes:
        if isinstance(outcome, DeleteFailure):
            errors.append(
                {"Key": outcome.key, "VersionId": outcome.version_id, "Code": outcome.error.code, "Message": outcome.error.message}
            )
            continue
        item: dict[str, Any] = {"Key": outcome.key}
        if outcome.delete_marker:
            item.update(DeleteMarker=True, DeleteMarkerVersionId=outcome.version_id)
        if outcome.version_id is not None:
            item["VersionId"] = outcome.version_id
        deleted.append(item)
    output: dict[str, Any] = {"Errors": errors} if errors else {}
    if not request.get("Quiet"):
        output["Deleted"] = deleted
    return output


@router.operation("CopyObject")
async def copy_object(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    source_bucket, source_key, source_version = parse_copy_source(params["CopySource"])
    metadata_directive = _directive(params, "MetadataDirective")
    tagging_directive = _directive(params, "TaggingDirective")
    result = await ctx.runtime.s3.copy_object(
        source_bucket=source_bucket,
        source_key=source_key,
        source_version_id=source_version,
        bucket=params["Bucket"],
        key=params["Key"],
        replace_meta=object_meta(params) if metadata_directive == "REPLACE" else None,
        storage_class=params.get("StorageClass"),
        extra={name: value for name, value in object_meta(params).extra.items()} or None,
        replace_tags=parse_tagging(params.get("Tagging")) if tagging_directive == "REPLACE" else None,
        checksum_algorithm=params.get("ChecksumAlgorithm"),
        source_check=lambda version: check_copy_source_conditions(version, params),
        if_match=params.get("IfMatch"),
        if_none_match=params.get("IfNoneMatch"),
    )
    version = result.object
    return {
        "CopyObjectResult": {"ETag": version.etag, "LastModified": version.last_modified, **checksum_members(version)},
        "CopySourceVersionId": result.source_version_id,
        "VersionId": version.reported_version_id,
    }


def parse_copy_source(value: str) -> tuple[str, str, str | None]:
    """``bucket/key[?versionId=v]`` (URL-encoded, optionally with a leading ``/``) split up."""
    path, _, query = value.partition("?")
    version_id = None
    if query:
        name, _, version = query.partition("=")
        if name != "versionId" or not version:
            raise AwsError("InvalidArgument", "Invalid copy source: only versionId may follow '?'", 400)
        version_id = unquote(version)
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    if not bucket or not key:
        raise AwsError("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey", 400)
    return bucket, key, version_id


def check_copy_source_conditions(version: ObjectVersion, params: dict[str, Any]) -> None:
    """The ``x-amz-copy-source-if-*`` conditions: any failing one refuses the copy with 412."""
    try:
        check_read_conditions(
            etag=version.etag or "",
            last_modified=version.last_modified,
            if_match=params.get("CopySourceIfMatch"),
            if_none_match=params.get("CopySourceIfNoneMatch"),
            if_modified_since=params.get("CopySourceIfModifiedSince"),
            if_unmodified_since=params.get("CopySourceIfUnmodifiedSince"),
        )
    except AwsError as error:
        if error.status == 304:
            header = "x-amz-copy-source-If-None-Match" if params.get("CopySourceIfNoneMatch") else "x-amz-copy-source-If-Modified-Since"
            raise precondition_failed(header) from None
        raise


@router.operation("PutObjectTagging")
async def put_object_tagging(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    tag_set = (params.get("Tagging") or {}).get("TagSet") or []
    keys = [tag["Key"] for tag in tag_set]
    if len(keys) != len(set(keys)):
        raise AwsError("InvalidTag", "Cannot provide multiple Tags with the same key", 400)
    version = await ctx.runtime.s3.put_object_tags(
        bucket=params["Bucket"], key=params["Key"], version_id=params.get("VersionId"),
        tags={tag["Key"]: tag["Value"] for tag in tag_set},
    )
    return {"VersionId": version.reported_version_id}


@router.operation("GetObjectTagging")
async def get_object_tagging(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    version = await ctx.runtime.s3.head_object(bucket=params["Bucket"], key=params["Key"], version_id=params.get("VersionId"))
    return {
        "VersionId": version.reported_version_id,
        "TagSet": [{"Key": key, "Value": value} for key, value in version.tags.items()],
    }


@router.operation("DeleteObjectTagging")
async def delete_object_tagging(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    version = await ctx.runtime.s3.delete_object_tags(bucket=params["Bucket"], key=params["Key"], version_id=params.get("VersionId"))
    return {"VersionId": version.reported_version_id}


def _directive(params: dict[str, Any], name: str) -> str:
    value = params.get(name) or "COPY"
    if value not in ("COPY", "REPLACE"):
        raise AwsError("InvalidArgument", f"Unknown {name} value: {value}", 400, fields={"ArgumentName": name})
    return value

