"""What every part of the S3 storage engine shares: committing metadata with blob clean-up,
and opening a version for reading.

The order of a mutating operation is always: write new blobs → one database transaction
→ after it commits, delete the blobs the transaction orphaned. If the transaction fails
with an S3 error (nothing was committed), the new blobs are deleted instead. Whatever a
crash leaves in between is unreferenced and removed by the startup sweep.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from typing import Self, TypeVar

from sqlalchemy import Connection

from shipyard.errors import AwsError, InternalError
from shipyard.store.blobs import BlobPin, BlobStore
from shipyard.store.database import Database
from shipyard.store.naming import check_version_id
from shipyard.store.records import read_version, require_object
from shipyard.store.s3types import ObjectVersion

T = TypeVar("T")

#: Objects up to this size are read whole while their metadata is read (one thread hop).
PREFETCH_SIZE = 256 * 1024

#: Re-reads of the metadata when a version is replaced between reading it and pinning its blobs.
_OPEN_ATTEMPTS = 5

#: What a transaction function returns: its result, and the blob ids it orphaned.
Outcome = tuple[T, list[str]]

#: A handler's check of a copy source (``x-amz-copy-source-if-*``); raises to refuse.
SourceCheck = Callable[[ObjectVersion], None]


class ObjectReader:
    """An object version opened for reading: its metadata, and its bytes held on disk.

    The bytes stay readable even if the version is overwritten or deleted meanwhile.
    :meth:`body` streams a byte range and closes the reader when done; a reader whose body
    is never read (a 304, a 412) should be closed with :meth:`close` (or ``async with``);
    otherwise it is released when garbage-collected.
    """

    def __init__(self, blobs: BlobStore, version: ObjectVersion, pin: BlobPin | None, data: bytes | None) -> None:
        self.version = version
        self._blobs = blobs
        self._data = data
        self._release = weakref.finalize(self, pin.release) if pin is not None else None

    async def body(self, start: int = 0, end: int | None = None) -> AsyncGenerator[bytes, None]:
        """The bytes ``[start, end)`` of the object (``end=None``: to the end), in chunks."""
        try:
            if self._data is not None:
                if chunk := self._data[start:end]:
                    yield chunk
                return
            async with aclosing(self._blobs.open(self.version.segments, start, end)) as chunks:
                async for chunk in chunks:
                    yield chunk
        finally:
            self.close()

    def close(self) -> None:
        """Let the blobs go (idempotent)."""
        if self._release is not None:
            self._release()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()


class EngineBase:
    """The database and blob store behind :class:`~shipyard.store.objects.S3Store`."""

    def __init__(self, database: Database, blobs: BlobStore) -> None:
        self._db = database
        self._blobs = blobs

    async def _commit(self, fn: Callable[[Connection], Outcome[T]], new_blobs: Sequence[str] = ()) -> T:
        """Run ``fn`` as one write transaction; then delete the blobs it orphaned.

        ``new_blobs`` were written for this transaction: deleted if ``fn`` raises an S3
        error (a rollback). On other failures the outcome may be unknown, so they are left
        to the startup sweep rather than risk deleting committed bytes.
        """
        try:
            result, garbage = await self._db.write(fn)
        except AwsError:
            await self._blobs.delete(new_blobs)
            raise
        await self._blobs.delete(garbage)
        return result

    async def _open(
        self,
        bucket: str,
        key: str,
        version_id: str | None,
        check: Callable[[ObjectVersion], ObjectVersion] | None = None,
        prefetch: bool = True,
    ) -> ObjectReader:
        """Read a version's metadata and pin its blobs in one step (retrying on a race).

        ``check`` vets the version (delete markers, preconditions) and may raise; by
        default a delete marker raises what GetObject raises. With ``prefetch`` a small
        object's bytes are read at once (and its blobs released); without it the blobs
        stay pinned until the reader is closed (a copy links them).
        """
        if version_id is not None:
            check_version_id(version_id)
        vet = check or (lambda version: require_object(version, by_version=version_id is not None))

        def read(conn: Connection) -> tuple[ObjectVersion, BlobPin | None, bytes | None]:
            version = vet(read_version(conn, bucket, key, version_id))
            pin = self._blobs.pin([segment.blob for segment in version.segments])
            if not prefetch or version.size > PREFETCH_SIZE:
                return version, pin, None
            try:
                return version, None, self._blobs.read_sync(version.segments)
            finally:
                pin.release()

        for _ in range(_OPEN_ATTEMPTS):
            try:
                version, pin, data = await self._db.read(read)
            except FileNotFoundError:
                continue
            return ObjectReader(self._blobs, version, pin, data)
        raise InternalError()


def copy_source_check(
    version_id: str | None, source_check: SourceCheck | None
) -> Callable[[ObjectVersion], ObjectVersion]:
    """How a copy vets its source: no delete markers, then the handler's conditions."""

    def check(version: ObjectVersion) -> ObjectVersion:
        if version.is_delete_marker and version_id is not None:
            raise AwsError(
                "InvalidRequest",
                "The source of a copy request may not specifically refer to a delete marker by version id.",
                400,
            )
        require_object(version, by_version=False)
        if source_check is not None:
            source_check(version)
        return version

    return check
