"""Multipart uploads: create, upload (or copy) parts, list, abort, complete.

Each part is its own blob. Completing an upload copies no bytes: the new object version
lists the chosen parts' blobs as its segments, in order, so CompleteMultipartUpload costs
one transaction whatever the object's size, and readers see the old object or the new one,
never a mix. Parts uploaded but not listed in the completion are deleted after it commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from shipyard.errors import AwsError
from shipyard.store import checksums
from shipyard.store.bodies import (
    MAX_UPLOAD_SIZE,
    ExpectedChecksum,
    observer,
    quoted_etag,
    verify,
)
from shipyard.store.engine import EngineBase, SourceCheck, copy_source_check
from shipyard.store.naming import (
    OBJECT_TAG_LIMIT,
    is_upload_id,
    new_upload_id,
    validate_key,
    validate_metadata,
    validate_tags,
)
from shipyard.store.records import (
    fetch_bucket,
    fetch_upload,
    meta_values,
    no_such_upload,
    now_ms,
    part_from_row,
    to_datetime,
    upload_from_row,
    upload_part_rows,
)
from shipyard.store.s3types import (
    CompletedPart,
    CopiedPart,
    ObjectMeta,
    ObjectVersion,
    Part,
    PartListing,
    Segment,
    Upload,
)
from shipyard.store.tables import upload_parts, uploads
from shipyard.store.versions import write_version

#: Every part but the last must have at least 5 MiB.
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_NUMBER = 10_000
MAX_PARTS_LISTED = 1000


class MultipartOps(EngineBase):
    """Multipart-upload operations (mixed into :class:`~shipyard.store.objects.S3Store`)."""

    async def create_multipart_upload(
        self,
        *,
        bucket: str,
        key: str,
        initiator: str,
        meta: ObjectMeta | None = None,
        tags: Mapping[str, str] | None = None,
        checksum_algorithm: str | None = None,
        checksum_type: str | None = None,
    ) -> Upload:
        """Start an upload (CreateMultipartUpload); what the object will carry is fixed now.

        ``checksum_type`` (``COMPOSITE`` / ``FULL_OBJECT``) defaults per algorithm; with no
        algorithm the object gets S3's default full-object CRC64NVME.
        """
        meta = meta or ObjectMeta()
        tags = dict(tags or {})
        validate_key(key)
        validate_metadata(meta.metadata)
        validate_tags(tags, OBJECT_TAG_LIMIT)
        if checksum_algorithm is not None:
            checksum_type = checksums.checksum_type(checksums.check_algorithm(checksum_algorithm), checksum_type)
        elif checksum_type is not None:
            raise AwsError(
                "InvalidRequest", "The x-amz-checksum-type header requires the x-amz-checksum-algorithm header.", 400
            )
        upload_id, initiated_ms = new_upload_id(), now_ms()
        values = {
            **meta_values(meta),
            "upload_id": upload_id,
            "bucket": bucket,
            "key": key,
            "initiated_ms": initiated_ms,
            "initiator": initiator,
            "tags": tags or None,
            "checksum_algorithm": checksum_algorithm,
            "checksum_type": checksum_type,
        }

        def create(conn: Connection) -> Upload:
            fetch_bucket(conn, bucket, for_write=True)
            conn.execute(insert(uploads).values(**values))
            return Upload(
                upload_id=upload_id,
                bucket=bucket,
                key=key,
                initiated=to_datetime(initiated_ms),
                initiator=initiator,
                meta=meta,
                tags=tags,
                checksum_algorithm=checksum_algorithm,
                checksum_type=checksum_type,
            )

        return await self._db.write(create)

    async def upload_part(
        self,
        *,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        body: AsyncIterable[bytes],
        checksum_algorithm: str | None = None,
        expected_checksum: ExpectedChecksum = None,
        content_md5: str | None = None,
        expected_size: int | None = None,
    ) -> Part:
        """Store part ``part_number`` (1..10000) of an upload, replacing any earlier one (UploadPart).

        Digest checks as :meth:`S3Store.put_object`; ``checksum_algorithm`` must be the
        upload's, if the upload named one.
        """
        _check_part_number(part_number)
        if content_md5 is not None:
            checksums.decode_content_md5(content_md5)
        upload = await self._read_upload(bucket, key, upload_id)
        algorithm = upload.checksum_algorithm or checksums.DEFAULT_ALGORITHM
        if checksum_algorithm is not None:
            checksums.check_algorithm(checksum_algorithm)
            if upload.checksum_algorithm is not None and checksum_algorithm != upload.checksum_algorithm:
                raise AwsError(
                    "InvalidRequest",
                    f"Checksum Type mismatch occurred, expected checksum Type: {upload.checksum_algorithm.lower()},"
                    f" actual checksum Type: {checksum_algorithm.lower()}",
                    400,
                )
        summer = checksums.Checksummer({algorithm, checksum_algorithm or algorithm})
        blob = await self._blobs.write(body, observer(summer))
        try:
            verify(
                summer,
                content_md5=content_md5,
                algorithm=checksum_algorithm or algorithm,
                expected_checksum=expected_checksum,
                expected_size=expected_size,
            )
        except AwsError:
            await self._blobs.delete([blob.blob])
            raise
        return await self._store_part(
            bucket, key, upload_id, part_number, blob, quoted_etag(summer), summer.value(algorithm)
        )

    async def upload_part_copy(
        self,
        *,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        source_bucket: str,
        source_key: str,
        source_version_id: str | None = None,
        source_range: tuple[int, int] | None = None,
        source_check: SourceCheck | None = None,
    ) -> CopiedPart:
        """Make part ``part_number`` from an object's bytes ``[start, end)`` (UploadPartCopy).

        ``source_range`` None copies the whole object. ``source_check`` is a callable that
        sees the source version first, as in :meth:`S3Store.copy_object`. A whole
        single-blob source with matching checksum is hard-linked, not copied.
        """
        _check_part_number(part_number)
        upload = await self._read_upload(bucket, key, upload_id)
        algorithm = upload.checksum_algorithm or checksums.DEFAULT_ALGORITHM
        reader = await self._open(
            source_bucket,
            source_key,
            source_version_id,
            check=copy_source_check(source_version_id, source_check),
            prefetch=False,
        )
        source = reader.version
        try:
            start, end = source_range or (0, source.size)
            if source_range is not None and not 0 <= start < end <= source.size:
                raise AwsError(
                    "InvalidArgument",
                    f"Range specified is not valid for source object of size: {source.size}",
                    400,
                    fields={"ArgumentName": "x-amz-copy-source-range"},
                )
            if end - start > MAX_UPLOAD_SIZE:
                raise AwsError(
                    "InvalidRequest",
                    "The specified copy source is larger than the maximum allowable size for a copy source:"
                    f" {MAX_UPLOAD_SIZE}",
                    400,
                )
            checksum = source.checksum
            whole_blob = source_range is None and len(source.segments) == 1 and not source.parts
            if (
                whole_blob
                and checksum is not None
                and (checksum.algorithm, checksum.type) == (algorithm, checksums.FULL_OBJECT)
            ):
                blob = await self._blobs.link(source.segments[0].blob)
                etag, value = source.etag or "", checksum.value
            else:
                summer = checksums.Checksummer([algorithm])
                blob = await self._blobs.copy(source.segments, start, end, observer=summer.update)
                etag, value = quoted_etag(summer), summer.value(algorithm)
        finally:
            reader.close()
        part = await self._store_part(bucket, key, upload_id, part_number, blob, etag, value)
        return CopiedPart(part, source.reported_version_id)

    async def list_parts(
        self,
        *,
        bucket: str,
        key: str,
        upload_id: str,
        part_number_marker: int = 0,
        max_parts: int = MAX_PARTS_LISTED,
    ) -> PartListing:
        """The upload's parts after ``part_number_marker``, by number (ListParts)."""
        _require_upload_id(upload_id)
        max_parts = max(0, min(max_parts, MAX_PARTS_LISTED))

        def read(conn: Connection) -> PartListing:
            fetch_bucket(conn, bucket)
            upload = fetch_upload(conn, bucket, key, upload_id)
            query = (
                select(upload_parts)
                .where(upload_parts.c.upload_seq == upload.seq, upload_parts.c.part_number > part_number_marker)
                .order_by(upload_parts.c.part_number)
                .limit(max_parts + 1)
            )
            rows = list(conn.execute(query))
            parts = [part_from_row(row) for row in rows[:max_parts]]
            return PartListing(
                upload=upload_from_row(upload),
                parts=parts,
                is_truncated=len(rows) > max_parts,
                next_part_number_marker=parts[-1].part_number if parts else None,
            )

        return await self._db.read(read)

    async def abort_multipart_upload(self, *, bucket: str, key: str, upload_id: str) -> None:
        """Discard an upload and its parts (AbortMultipartUpload); ``NoSuchUpload`` if unknown."""
        _require_upload_id(upload_id)

        def abort(conn: Connection) -> tuple[None, list[str]]:
            fetch_bucket(conn, bucket, for_write=True)
            upload = fetch_upload(conn, bucket, key, upload_id, for_update=True)
            return None, _drop_upload(conn, upload.seq)

        await self._commit(abort)

    async def complete_multipart_upload(
        self,
        *,
        bucket: str,
        key: str,
        upload_id: str,
        parts: Sequence[CompletedPart],
        expected_checksum: str | None = None,
        expected_size: int | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> ObjectVersion:
        """Make the listed parts the latest version of ``key`` (CompleteMultipartUpload).

        The list must be in ascending part order (``InvalidPartOrder``); each part must
        exist with the given ETag (``InvalidPart``); all but the last must have 5 MiB
        (``EntityTooSmall``). Part checksums are required and compared when the upload
        named an algorithm. ``expected_checksum`` is the client's full-object checksum,
        ``expected_size`` its ``x-amz-mp-object-size``. On a failed precondition (412)
        the upload is kept.
        """
        _require_upload_id(upload_id)
        if not parts:
            raise AwsError(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema",
                400,
            )
        numbers = [part.part_number for part in parts]
        if any(a >= b for a, b in pairwise(numbers)):
            raise _invalid_part_order(upload_id)

        def complete(conn: Connection) -> tuple[ObjectVersion, list[str]]:
            bucket_row = fetch_bucket(conn, bucket, for_write=True)
            row = fetch_upload(conn, bucket, key, upload_id, for_update=True)
            upload = upload_from_row(row)
            stored = {part.part_number: part for part in upload_part_rows(conn, row.seq)}
            chosen = _check_completion(upload, parts, stored)
            values = _object_values(upload, chosen, expected_checksum, expected_size)
            version, garbage = write_version(
                conn, bucket_row, key, values, if_match=if_match, if_none_match=if_none_match
            )
            unused = set(_drop_upload(conn, row.seq)) - {part.blob for part in chosen}
            return version, garbage + sorted(unused)

        return await self._commit(complete)

    async def _read_upload(self, bucket: str, key: str, upload_id: str) -> Upload:
        _require_upload_id(upload_id)

        def read(conn: Connection) -> Upload:
            fetch_bucket(conn, bucket)
            return upload_from_row(fetch_upload(conn, bucket, key, upload_id))

        return await self._db.read(read)

    async def _store_part(
        self, bucket: str, key: str, upload_id: str, number: int, blob: Segment, etag: str, checksum: str
    ) -> Part:
        modified_ms = now_ms()
        values = {"blob": blob.blob, "size": blob.size, "etag": etag, "modified_ms": modified_ms, "checksum": checksum}

        def store(conn: Connection) -> tuple[Part, list[str]]:
            fetch_bucket(conn, bucket, for_write=True)
            upload = fetch_upload(conn, bucket, key, upload_id, for_update=True)
            where = (upload_parts.c.upload_seq == upload.seq) & (upload_parts.c.part_number == number)
            replaced = conn.execute(select(upload_parts.c.blob).where(where)).scalar()
            if replaced is None:
                conn.execute(insert(upload_parts).values(upload_seq=upload.seq, part_number=number, **values))
            else:
                conn.execute(update(upload_parts).where(where).values(**values))
            part = Part(number, blob.size, etag, to_datetime(modified_ms), checksum)
            return part, [] if replaced is None else [replaced]

        return await self._commit(store, [blob.blob])


def _check_part_number(part_number: int) -> None:
    if not 1 <= part_number <= MAX_PART_NUMBER:
        raise AwsError(
            "InvalidArgument",
            "Part number must be an integer between 1 and 10000, inclusive",
            400,
            fields={"ArgumentName": "partNumber", "ArgumentValue": str(part_number)},
        )


def _require_upload_id(upload_id: str) -> None:
    if not is_upload_id(upload_id):
        raise no_such_upload(upload_id)


def _invalid_part_order(upload_id: str) -> AwsError:
    return AwsError(
        "InvalidPartOrder",
        "The list of parts was not in ascending order. Parts must be ordered by part number.",
        400,
        fields={"UploadId": upload_id},
    )


def _check_completion(upload: Upload, parts: Sequence[CompletedPart], stored: Mapping[int, Any]) -> list[Any]:
    """The stored part rows a completion names, after S3's checks on the list."""
    explicit = upload.checksum_algorithm
    if explicit is not None and [part.part_number for part in parts] != list(range(1, len(parts) + 1)):
        raise _invalid_part_order(upload.upload_id)
    chosen = []
    for index, requested in enumerate(parts):
        row = stored.get(requested.part_number)
        if row is None or requested.etag.strip().strip('"') != row.etag.strip('"'):
            raise AwsError(
                "InvalidPart",
                "One or more of the specified parts could not be found.  The part may not have been uploaded,"
                " or the specified entity tag may not match the part's entity tag.",
                400,
                fields={"UploadId": upload.upload_id, "PartNumber": str(requested.part_number), "ETag": requested.etag},
            )
        if explicit is not None:
            if requested.checksum is None:
                raise AwsError(
                    "InvalidRequest",
                    f"The upload was created using a {explicit.lower()} checksum. The complete request must include"
                    f" the checksum for each part. It was missing for part {requested.part_number} in the request.",
                    400,
                )
            if requested.checksum != row.checksum:
                raise AwsError(
                    "InvalidPart",
                    f"The {explicit.lower()} checksum of part {requested.part_number} does not match the uploaded"
                    " part.",
                    400,
                    fields={"UploadId": upload.upload_id, "PartNumber": str(requested.part_number)},
                )
        if index < len(parts) - 1 and row.size < MIN_PART_SIZE:
            raise AwsError(
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed object size.",
                400,
                fields={
                    "ETag": row.etag,
                    "MinSizeAllowed": str(MIN_PART_SIZE),
                    "PartNumber": str(requested.part_number),
                    "ProposedSize": str(row.size),
                },
            )
        chosen.append(row)
    return chosen


def _object_values(
    upload: Upload, chosen: Sequence[Any], expected_checksum: str | None, expected_size: int | None
) -> dict[str, Any]:
    """The columns of the object a completion makes from its ``chosen`` part rows."""
    size = sum(part.size for part in chosen)
    if expected_size is not None and expected_size != size:
        raise AwsError(
            "InvalidRequest",
            f"The provided 'x-amz-mp-object-size' header value {expected_size} does not match what was computed:"
            f" {size}",
            400,
        )
    md5s = b"".join(bytes.fromhex(part.etag.strip('"')) for part in chosen)
    algorithm = upload.checksum_algorithm or checksums.DEFAULT_ALGORITHM
    checksum_type = upload.checksum_type or checksums.checksum_type(algorithm)
    if checksum_type == checksums.FULL_OBJECT:
        checksum = checksums.full_object_checksum(algorithm, [(part.checksum, part.size) for part in chosen])
    else:
        checksum = checksums.composite_checksum(algorithm, [part.checksum for part in chosen])
    if expected_checksum is not None and expected_checksum != checksum:
        raise AwsError("BadDigest", f"The {algorithm} you specified did not match the calculated checksum.", 400)
    return {
        **meta_values(upload.meta),
        "tags": dict(upload.tags) or None,
        "is_delete_marker": False,
        "modified_ms": now_ms(),
        "size": size,
        "etag": f'"{hashlib.md5(md5s).hexdigest()}-{len(chosen)}"',
        "checksum_algorithm": algorithm,
        "checksum_type": checksum_type,
        "checksum": checksum,
        "parts_count": len(chosen),
        "segments": [[part.blob, part.size, part.checksum] for part in chosen],
    }


def _drop_upload(conn: Connection, upload_seq: int) -> list[str]:
    """Delete an upload and its part rows; the parts' blob ids."""
    blobs = [part.blob for part in upload_part_rows(conn, upload_seq)]
    conn.execute(delete(upload_parts).where(upload_parts.c.upload_seq == upload_seq))
    conn.execute(delete(uploads).where(uploads.c.seq == upload_seq))
    return blobs
