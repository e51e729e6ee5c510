"""Rows to dataclasses and back, and the lookups every S3 operation starts with.

Everything here is synchronous and runs inside a :class:`~shipyard.store.database.Database`
transaction, on a worker thread.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

from sqlalchemy import Connection, Row, bindparam, func, select, true
from sqlalchemy.dialects import postgresql, sqlite

from shipyard.errors import AwsError
from shipyard.store.s3types import (
    Bucket,
    Checksum,
    ObjectMeta,
    ObjectPart,
    ObjectSummary,
    ObjectVersion,
    Part,
    Segment,
    Upload,
)
from shipyard.store.tables import buckets, object_versions, upload_parts, uploads

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: A result row of any shape.
AnyRow: TypeAlias = "Row[*tuple[Any, ...]]"

#: The columns a listing entry needs (no metadata, no blob layout).
SUMMARY_COLUMNS = [
    object_versions.c.seq,
    object_versions.c.key,
    object_versions.c.version_id,
    object_versions.c.is_latest,
    object_versions.c.is_delete_marker,
    object_versions.c.modified_ms,
    object_versions.c.size,
    object_versions.c.etag,
    object_versions.c.storage_class,
    object_versions.c.checksum_algorithm,
    object_versions.c.checksum_type,
]


def now_ms() -> int:
    """The current time in milliseconds since the epoch (how rows store times)."""
    return time.time_ns() // 1_000_000


def to_datetime(ms: int) -> datetime:
    """A stored time as an aware UTC datetime."""
    return _EPOCH + timedelta(milliseconds=ms)


# -- errors ---------------------------------------------------------------------------


def no_such_bucket(name: str) -> AwsError:
    """S3's 404 for a missing bucket."""
    return AwsError("NoSuchBucket", "The specified bucket does not exist", 404, fields={"BucketName": name})


def no_such_key(key: str, headers: dict[str, str] | None = None) -> AwsError:
    """S3's 404 for a missing key (``headers``: a delete marker's)."""
    return AwsError("NoSuchKey", "The specified key does not exist.", 404, fields={"Key": key}, headers=headers)


def no_such_upload(upload_id: str) -> AwsError:
    """S3's 404 for an unknown, completed or aborted multipart upload."""
    return AwsError(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted"
        " or completed.",
        404,
        fields={"UploadId": upload_id},
    )


# -- content headers ------------------------------------------------------------------


def meta_values(meta: ObjectMeta) -> dict[str, Any]:
    """The column values that store ``meta`` (empty mappings as NULL)."""
    return {
        "content_type": meta.content_type,
        "content_encoding": meta.content_encoding,
        "content_disposition": meta.content_disposition,
        "content_language": meta.content_language,
        "cache_control": meta.cache_control,
        "expires": meta.expires,
        "user_metadata": dict(meta.metadata) or None,
        "extra": dict(meta.extra) or None,
        "storage_class": meta.storage_class,
    }


def meta_from_row(row: AnyRow) -> ObjectMeta:
    """The :class:`ObjectMeta` stored in an object or upload row."""
    return ObjectMeta(
        content_type=row.content_type,
        content_encoding=row.content_encoding,
        content_disposition=row.content_disposition,
        content_language=row.content_language,
        cache_control=row.cache_control,
        expires=row.expires,
        metadata=row.user_metadata or {},
        storage_class=row.storage_class,
        extra=row.extra or {},
    )


# -- objects --------------------------------------------------------------------------


def version_from_row(bucket: str, row: Any, versioning: str | None) -> ObjectVersion:
    """An :class:`ObjectVersion` from a full ``object_versions`` row (or an object with its attributes)."""
    segments = tuple(Segment(blob, size) for blob, size, _ in row.segments or ())
    parts: tuple[ObjectPart, ...] = ()
    if row.parts_count:
        parts = tuple(ObjectPart(n, size, checksum) for n, (_, size, checksum) in enumerate(row.segments, 1))
    checksum = None
    if row.checksum is not None:
        checksum = Checksum(row.checksum_algorithm, row.checksum_type, row.checksum)
    return ObjectVersion(
        bucket=bucket,
        key=row.key,
        version_id=row.version_id,
        is_latest=row.is_latest,
        is_delete_marker=row.is_delete_marker,
        last_modified=to_datetime(row.modified_ms),
        size=row.size,
        etag=row.etag,
        meta=meta_from_row(row),
        tags=row.tags or {},
        checksum=checksum,
        parts=parts,
        versioning=versioning,
        segments=segments,
    )


def summary_from_row(row: AnyRow) -> ObjectSummary:
    """A listing entry from a row of :data:`SUMMARY_COLUMNS`."""
    return ObjectSummary(
        key=row.key,
        version_id=row.version_id,
        is_latest=row.is_latest,
        is_delete_marker=row.is_delete_marker,
        last_modified=to_datetime(row.modified_ms),
        size=row.size,
        etag=row.etag,
        storage_class=row.storage_class,
        checksum_algorithm=row.checksum_algorithm,
        checksum_type=row.checksum_type,
    )


def bucket_from_row(row: AnyRow) -> Bucket:
    """A :class:`Bucket` from a ``buckets`` row."""
    return Bucket(
        name=row.name,
        region=row.region,
        owner=row.owner,
        created=to_datetime(row.created_ms),
        versioning=row.versioning,
    )


def upload_from_row(row: AnyRow) -> Upload:
    """An :class:`Upload` from an ``uploads`` row."""
    return Upload(
        upload_id=row.upload_id,
        bucket=row.bucket,
        key=row.key,
        initiated=to_datetime(row.initiated_ms),
        initiator=row.initiator,
        meta=meta_from_row(row),
        tags=row.tags or {},
        checksum_algorithm=row.checksum_algorithm,
        checksum_type=row.checksum_type,
    )


def part_from_row(row: AnyRow) -> Part:
    """A :class:`Part` from an ``upload_parts`` row."""
    return Part(
        part_number=row.part_number,
        size=row.size,
        etag=row.etag,
        last_modified=to_datetime(row.modified_ms),
        checksum=row.checksum,
    )


# -- lookups --------------------------------------------------------------------------


# Hot statements are built once, with bound parameters: building a statement costs more
# than running it on SQLite.
_BUCKET = select(buckets).where(buckets.c.name == bindparam("b_name"))
_BUCKET_SHARED = _BUCKET.with_for_update(key_share=True)
_BUCKET_EXCLUSIVE = _BUCKET.with_for_update()
_KEY_LOCK = select(func.pg_advisory_xact_lock(func.hashtextextended(bindparam("b_lock"), 0)))


def _version_query(by_version: bool) -> Any:
    match = (
        object_versions.c.version_id == bindparam("b_version") if by_version else object_versions.c.is_latest == true()
    )
    join = buckets.outerjoin(
        object_versions,
        (object_versions.c.bucket == buckets.c.name) & (object_versions.c.key == bindparam("b_key")) & match,
    )
    return (
        select(buckets.c.versioning, *object_versions.c).select_from(join).where(buckets.c.name == bindparam("b_name"))
    )


_LATEST_VERSION = _version_query(by_version=False)
_GIVEN_VERSION = _version_query(by_version=True)


def fetch_bucket(conn: Connection, name: str, *, for_write: bool = False, exclusive: bool = False) -> AnyRow:
    """The bucket's row, or ``NoSuchBucket``.

    On PostgreSQL, ``for_write`` takes a ``FOR KEY SHARE`` lock, so the bucket cannot be
    deleted before the caller's transaction ends, and ``exclusive`` a ``FOR UPDATE`` lock
    that waits for those writers (deleting the bucket). SQLite has one writer anyway.
    """
    query = _BUCKET_EXCLUSIVE if exclusive else _BUCKET_SHARED if for_write else _BUCKET
    row = conn.execute(query, {"b_name": name}).first()
    if row is None:
        raise no_such_bucket(name)
    return row


def lock_key(conn: Connection, bucket: str, key: str) -> None:
    """Serialize writers of one key until the transaction ends (PostgreSQL; SQLite has one writer)."""
    if conn.dialect.name == "postgresql":
        conn.execute(_KEY_LOCK, {"b_lock": f"{bucket}/{key}"})


def read_version(conn: Connection, bucket: str, key: str, version_id: str | None) -> ObjectVersion:
    """The latest version of ``key``, or version ``version_id``, delete markers included.

    One query answers for the bucket and the key: ``NoSuchBucket``, ``NoSuchKey`` or
    ``NoSuchVersion`` when either is missing.
    """
    params = {"b_name": bucket, "b_key": key, "b_version": version_id}
    row = conn.execute(_GIVEN_VERSION if version_id else _LATEST_VERSION, params).first()
    if row is None:
        raise no_such_bucket(bucket)
    if row.seq is None:
        if version_id:
            raise AwsError(
                "NoSuchVersion",
                "The specified version does not exist.",
                404,
                fields={"Key": key, "VersionId": version_id},
            )
        raise no_such_key(key)
    return version_from_row(bucket, row, row.versioning)


def require_object(version: ObjectVersion, *, by_version: bool) -> ObjectVersion:
    """``version`` if it is an object; the errors S3 gives for a delete marker otherwise.

    The latest version being a delete marker reads as ``NoSuchKey``; naming a delete
    marker's version id is ``MethodNotAllowed`` (the handler may add the ``Method`` field).
    Both carry ``x-amz-delete-marker: true`` and the marker's version id.
    """
    if not version.is_delete_marker:
        return version
    headers = {"x-amz-delete-marker": "true"}
    if version.reported_version_id:
        headers["x-amz-version-id"] = version.version_id
    if by_version:
        raise AwsError(
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
            405,
            fields={"ResourceType": "DeleteMarker"},
            headers=headers,
        )
    raise no_such_key(version.key, headers)


def fetch_upload(conn: Connection, bucket: str, key: str, upload_id: str, *, for_update: bool = False) -> AnyRow:
    """The upload's row (``NoSuchUpload`` if absent or not for this key)."""
    query = select(uploads).where(uploads.c.upload_id == upload_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None or row.bucket != bucket or row.key != key:
        raise no_such_upload(upload_id)
    return row


def upload_part_rows(conn: Connection, upload_seq: int) -> list[AnyRow]:
    """The part rows of an upload, by part number."""
    query = select(upload_parts).where(upload_parts.c.upload_seq == upload_seq).order_by(upload_parts.c.part_number)
    return list(conn.execute(query))


def insert_ignoring_duplicate(conn: Connection, table: Any, values: Mapping[str, Any]) -> bool:
    """Insert a row unless its primary key exists; whether it was inserted."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing()
    return conn.execute(statement.returning(*table.primary_key.columns)).first() is not None
