"""The S3 storage engine: :class:`S3Store`, and its object operations.

:class:`S3Store` is the one object the S3 handlers talk to. Its bucket, listing and
multipart operations live in :mod:`~shipyard.store.buckets`, :mod:`~shipyard.store.listing`
and :mod:`~shipyard.store.multipart`; this module holds PUT, GET/HEAD, DELETE, copy and
object tagging. All methods take keyword arguments, raise :class:`~shipyard.errors.AwsError`
with S3's codes, and return the dataclasses of :mod:`~shipyard.store.s3types`.

Objects are immutable once written: a PUT streams the body into a new blob while hashing
it (MD5 for the ETag, plus the requested or default CRC64NVME checksum), then one
transaction makes it the key's latest version under the bucket's versioning status; a
conditional write (``If-Match`` / ``If-None-Match``) is decided inside that transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, select, update

from shipyard.errors import AwsError
from shipyard.store import checksums
from shipyard.store.blobs import CHUNK_SIZE, SweepReport
from shipyard.store.bodies import (
    MAX_UPLOAD_SIZE,
    ExpectedChecksum,
    entity_too_large,
    observer,
    quoted_etag,
    verify,
)
from shipyard.store.buckets import BucketOps
from shipyard.store.engine import ObjectReader, SourceCheck, copy_source_check
from shipyard.store.listing import ListingOps
from shipyard.store.multipart import MultipartOps
from shipyard.store.naming import (
    OBJECT_TAG_LIMIT,
    check_version_id,
    validate_key,
    validate_metadata,
    validate_tags,
)
from shipyard.store.records import (
    fetch_bucket,
    lock_key,
    meta_values,
    now_ms,
    read_version,
    require_object,
)
from shipyard.store.s3types import (
    CopyResult,
    DeleteFailure,
    DeleteResult,
    ObjectMeta,
    ObjectToDelete,
    ObjectVersion,
    Segment,
)
from shipyard.store.tables import object_versions, upload_parts
from shipyard.store.versions import (
    check_preconditions,
    delete_current,
    delete_version,
    key_state,
    write_version,
)

#: DeleteObjects takes at most this many keys.
MAX_DELETE_KEYS = 1000

_SELF_COPY = (
    "This copy request is illegal because it is trying to copy an object to itself without changing the"
    " object's metadata, storage class, website redirect location or encryption attributes."
)


class S3Store(BucketOps, ListingOps, MultipartOps):
    """Buckets, objects, versions and multipart uploads over a Database and a BlobStore."""

    async def put_object(
        self,
        *,
        bucket: str,
        key: str,
        body: AsyncIterable[bytes],
        meta: ObjectMeta | None = None,
        tags: Mapping[str, str] | None = None,
        checksum_algorithm: str | None = None,
        expected_checksum: ExpectedChecksum = None,
        content_md5: str | None = None,
        expected_size: int | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> ObjectVersion:
        """Store ``body`` as the latest version of ``key`` (PutObject).

        ``checksum_algorithm`` is the one the client chose (stored; default CRC64NVME);
        ``expected_checksum`` its value (or a callable for a trailer), ``content_md5`` the
        ``Content-MD5`` header, ``expected_size`` the decoded content length: any mismatch
        raises ``BadDigest`` / ``IncompleteBody`` and nothing is stored.
        """
        meta = meta or ObjectMeta()
        tags = tags or {}
        validate_key(key)
        validate_metadata(meta.metadata)
        validate_tags(tags, OBJECT_TAG_LIMIT)
        algorithm = checksums.check_algorithm(checksum_algorithm or checksums.DEFAULT_ALGORITHM)
        if content_md5 is not None:
            checksums.decode_content_md5(content_md5)
        if expected_size is not None and expected_size > MAX_UPLOAD_SIZE:
            raise entity_too_large()
        if expected_size is None or expected_size > CHUNK_SIZE:
            await self.get_bucket(bucket)  # refuse before a large body is read, not after
        summer = checksums.Checksummer([algorithm])
        blob = await self._blobs.write(body, observer(summer))
        try:
            verify(
                summer,
                content_md5=content_md5,
                algorithm=algorithm,
                expected_checksum=expected_checksum,
                expected_size=expected_size,
            )
        except AwsError:
            await self._blobs.delete([blob.blob])
            raise
        values = {
            **meta_values(meta),
            "tags": dict(tags) or None,
            "is_delete_marker": False,
            "modified_ms": now_ms(),
            "size": blob.size,
            "etag": quoted_etag(summer),
            "checksum_algorithm": algorithm,
            "checksum_type": checksums.FULL_OBJECT,
            "checksum": summer.value(algorithm),
            "parts_count": None,
            "segments": [[blob.blob, blob.size, None]],
        }

        def put(conn: Connection) -> tuple[ObjectVersion, list[str]]:
            row = fetch_bucket(conn, bucket, for_write=True)
            return write_version(conn, row, key, values, if_match=if_match, if_none_match=if_none_match)

        return await self._commit(put, [blob.blob])

    async def head_object(self, *, bucket: str, key: str, version_id: str | None = None) -> ObjectVersion:
        """The metadata of the latest version of ``key``, or of ``version_id`` (HeadObject).

        ``NoSuchBucket``, ``NoSuchKey`` / ``NoSuchVersion``; a delete marker as the latest
        version is ``NoSuchKey`` and one named by version id ``MethodNotAllowed``, both
        with ``x-amz-delete-marker: true`` in ``error.headers``. A malformed version id is
        ``InvalidArgument``.
        """
        if version_id is not None:
            check_version_id(version_id)

        def read(conn: Connection) -> ObjectVersion:
            version = read_version(conn, bucket, key, version_id)
            return require_object(version, by_version=version_id is not None)

        return await self._db.read(read)

    async def open_object(self, *, bucket: str, key: str, version_id: str | None = None) -> ObjectReader:
        """Open the latest version of ``key`` (or ``version_id``) for reading (GetObject).

        Errors as :meth:`head_object`. Use ``reader.version`` for the headers and
        ``reader.body(start, end)`` for the bytes (``version.part_range(n)`` gives a part's).
        """
        return await self._open(bucket, key, version_id)

    async def delete_object(
        self, *, bucket: str, key: str, version_id: str | None = None, if_match: str | None = None
    ) -> DeleteResult:
        """Delete ``key`` (DeleteObject).

        Without ``version_id``: in an unversioned bucket the object is removed (no error if
        it does not exist); once versioned a delete marker becomes the latest version
        (Suspended: the ``null`` version is replaced by it). With ``version_id`` that
        version is removed for good. ``if_match`` makes it conditional on the current ETag.
        """
        if version_id is not None:
            check_version_id(version_id)

        def delete(conn: Connection) -> tuple[DeleteResult, list[str]]:
            row = fetch_bucket(conn, bucket, for_write=True)
            return _delete_one(conn, row.versioning, bucket, ObjectToDelete(key, version_id, if_match))

        return await self._commit(delete)

    async def delete_objects(
        self, *, bucket: str, objects: Sequence[ObjectToDelete]
    ) -> list[DeleteResult | DeleteFailure]:
        """Delete up to 1000 keys or versions in one transaction (DeleteObjects).

        Returns one outcome per entry, in order: a :class:`DeleteResult`, or a
        :class:`DeleteFailure` carrying that entry's error (others still proceed).
        """
        if len(objects) > MAX_DELETE_KEYS:
            raise AwsError(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema",
                400,
            )

        def delete(conn: Connection) -> tuple[list[DeleteResult | DeleteFailure], list[str]]:
            row = fetch_bucket(conn, bucket, for_write=True)
            outcomes: dict[int, DeleteResult | DeleteFailure] = {}
            garbage: list[str] = []
            # Keys are locked in sorted order, so concurrent batches cannot deadlock.
            for index in sorted(range(len(objects)), key=lambda i: objects[i].key):
                entry = objects[index]
                try:
                    if entry.version_id is not None:
                        check_version_id(entry.version_id)
                    outcomes[index], orphaned = _delete_one(conn, row.versioning, bucket, entry)
                    garbage += orphaned
                except AwsError as error:
                    outcomes[index] = DeleteFailure(entry.key, entry.version_id, error)
            return [outcomes[index] for index in range(len(objects))], garbage

        return await self._commit(delete)

    async def copy_object(
        self,
        *,
        source_bucket: str,
        source_key: str,
        source_version_id: str | None = None,
        bucket: str,
        key: str,
        replace_meta: ObjectMeta | None = None,
        storage_class: str | None = None,
        extra: Mapping[str, str] | None = None,
        replace_tags: Mapping[str, str] | None = None,
        checksum_algorithm: str | None = None,
        source_check: SourceCheck | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> CopyResult:
        """Copy an object version to ``bucket``/``key`` (CopyObject).

        ``replace_meta`` is the new headers and metadata (``x-amz-metadata-directive:
        REPLACE``); None copies the source's. ``storage_class`` and ``extra`` override
        those of the result under either directive. ``replace_tags`` likewise replaces the
        tags (``x-amz-tagging-directive: REPLACE``). ``source_check`` sees the source
        version before anything is written (the ``x-amz-copy-source-if-*`` conditions).

        The bytes are not copied: the new version gets hard links to the source's blobs,
        unless a different checksum algorithm forces a re-read.
        """
        validate_key(key)
        if replace_meta is not None:
            validate_metadata(replace_meta.metadata)
        if replace_tags is not None:
            validate_tags(replace_tags, OBJECT_TAG_LIMIT)
        if checksum_algorithm is not None:
            checksums.check_algorithm(checksum_algorithm)
        reader = await self._open(
            source_bucket,
            source_key,
            source_version_id,
            check=copy_source_check(source_version_id, source_check),
            prefetch=False,
        )
        source = reader.version
        try:
            if source.size > MAX_UPLOAD_SIZE:
                raise AwsError(
                    "InvalidRequest",
                    "The specified copy source is larger than the maximum allowable size for a copy source:"
                    f" {MAX_UPLOAD_SIZE}",
                    400,
                )
            meta = replace_meta or source.meta
            meta = replace(meta, storage_class=storage_class or meta.storage_class, extra=extra or meta.extra)
            recompute = checksum_algorithm is not None and (
                source.checksum is None or source.checksum.algorithm != checksum_algorithm
            )
            unchanged = (
                replace_meta is None
                and meta.storage_class == source.meta.storage_class
                and dict(meta.extra) == dict(source.meta.extra)
                and not recompute
            )
            if unchanged and (source_bucket, source_key) == (bucket, key) and source.is_latest:
                raise AwsError("InvalidRequest", _SELF_COPY, 400)
            values = await self._copy_values(source, meta, checksum_algorithm if recompute else None)
        finally:
            reader.close()
        values["tags"] = dict(source.tags if replace_tags is None else replace_tags) or None
        new_blobs = [segment[0] for segment in values["segments"]]

        def put(conn: Connection) -> tuple[ObjectVersion, list[str]]:
            row = fetch_bucket(conn, bucket, for_write=True)
            return write_version(conn, row, key, values, if_match=if_match, if_none_match=if_none_match)

        version = await self._commit(put, new_blobs)
        return CopyResult(version, source.reported_version_id)

    async def put_object_tags(
        self, *, bucket: str, key: str, tags: Mapping[str, str], version_id: str | None = None
    ) -> ObjectVersion:
        """Replace the tag set of the latest version (or ``version_id``) (PutObjectTagging)."""
        validate_tags(tags, OBJECT_TAG_LIMIT)
        return await self._set_tags(bucket, key, version_id, dict(tags))

    async def delete_object_tags(self, *, bucket: str, key: str, version_id: str | None = None) -> ObjectVersion:
        """Remove the tag set of the latest version (or ``version_id``) (DeleteObjectTagging)."""
        return await self._set_tags(bucket, key, version_id, {})

    async def sweep(self) -> SweepReport:
        """Remove blob files no metadata references (see :meth:`BlobStore.sweep`); call before serving."""

        def referenced(conn: Connection) -> set[str]:
            ids: set[str] = set()
            segments = conn.execute(
                select(object_versions.c.segments)
                .where(object_versions.c.segments.is_not(None))
                .execution_options(yield_per=1000)
            )
            for (layout,) in segments:
                ids.update(segment[0] for segment in layout)
            ids.update(conn.execute(select(upload_parts.c.blob)).scalars())
            return ids

        return await self._blobs.sweep(await self._db.read(referenced))

    async def _copy_values(self, source: ObjectVersion, meta: ObjectMeta, recompute: str | None) -> dict[str, Any]:
        """The columns of a copy of ``source``: linked blobs, or the bytes re-read for a new checksum algorithm."""
        values: dict[str, Any] = {**meta_values(meta), "is_delete_marker": False, "modified_ms": now_ms()}
        if recompute is not None:
            summer = checksums.Checksummer([recompute])
            blob = await self._blobs.copy(source.segments, observer=summer.update)
            return values | {
                "size": blob.size,
                "etag": quoted_etag(summer),
                "checksum_algorithm": recompute,
                "checksum_type": checksums.FULL_OBJECT,
                "checksum": summer.value(recompute),
                "parts_count": None,
                "segments": [[blob.blob, blob.size, None]],
            }
        links: list[Segment] = []
        try:
            for segment in source.segments:
                links.append(await self._blobs.link(segment.blob))
        except BaseException:
            await self._blobs.delete(link.blob for link in links)
            raise
        part_checksums = [part.checksum for part in source.parts] or [None] * len(links)
        checksum = source.checksum
        return values | {
            "size": source.size,
            "etag": source.etag,
            "checksum_algorithm": checksum.algorithm if checksum else None,
            "checksum_type": checksum.type if checksum else None,
            "checksum": checksum.value if checksum else None,
            "parts_count": source.parts_count,
            "segments": [[link.blob, link.size, part] for link, part in zip(links, part_checksums, strict=True)],
        }

    async def _set_tags(self, bucket: str, key: str, version_id: str | None, tags: dict[str, str]) -> ObjectVersion:
        if version_id is not None:
            check_version_id(version_id)

        def tag(conn: Connection) -> tuple[ObjectVersion, list[str]]:
            fetch_bucket(conn, bucket, for_write=True)
            lock_key(conn, bucket, key)
            version = require_object(read_version(conn, bucket, key, version_id), by_version=version_id is not None)
            match = object_versions.c.version_id == version.version_id
            conn.execute(
                update(object_versions)
                .where(object_versions.c.bucket == bucket, object_versions.c.key == key, match)
                .values(tags=tags or None)
            )
            return replace(version, tags=tags), []

        return await self._commit(tag)


def _delete_one(
    conn: Connection, versioning: str | None, bucket: str, entry: ObjectToDelete
) -> tuple[DeleteResult, list[str]]:
    lock_key(conn, bucket, entry.key)
    state = key_state(conn, bucket, entry.key)
    if entry.if_match is not None:
        check_preconditions(state, entry.key, if_match=entry.if_match, if_none_match=None)
    if entry.version_id is not None:
        return delete_version(conn, bucket, entry.key, entry.version_id)
    return delete_current(conn, versioning, bucket, entry.key, state, now_ms())


__all__ = ["ObjectReader", "S3Store"]
