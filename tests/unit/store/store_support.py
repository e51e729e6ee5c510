"""Helpers shared by the store tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

from sqlalchemy import insert

from shipyard.store.blobs import BlobStore
from shipyard.store.database import Database
from shipyard.store.tables import object_versions


async def chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """``data`` as a request body arriving in ``size`` chunks."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def collect(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in stream])


def blob_files(store: BlobStore) -> set[str]:
    """The names of the finished blob files on disk."""
    return {path.name for path in (store.root / "blobs").rglob("*") if path.is_file()}


def seed(database: Database, bucket: str, keys: Iterable[str]) -> None:
    """Empty current objects for ``keys``, inserted in one transaction (fast listing fixtures)."""
    rows = [
        {
            "bucket": bucket,
            "key": key,
            "version_id": "null",
            "is_latest": True,
            "is_delete_marker": False,
            "modified_ms": 0,
            "size": 0,
            "etag": '"d41d8cd98f00b204e9800998ecf8427e"',
            "storage_class": "STANDARD",
            "checksum_algorithm": "CRC64NVME",
            "checksum_type": "FULL_OBJECT",
            "checksum": "AAAAAAAAAAA=",
        }
        for key in keys
    ]
    database.write_sync(lambda conn: conn.execute(insert(object_versions), rows))
