"""Crash safety: what a failure between writing bytes and committing metadata leaves behind,
and how the startup sweep and a restart deal with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_support import blob_files, chunks, collect

from shipyard.store.blobs import BlobStore
from shipyard.store.database import Database
from shipyard.store.objects import S3Store
from shipyard.store.s3types import CompletedPart

pytestmark = pytest.mark.anyio

BUCKET = "crash-bucket"


@pytest.fixture
async def s3(s3: S3Store) -> S3Store:
    await s3.create_bucket(name=BUCKET, region="us-east-1", owner="111122223333")
    return s3


async def test_a_failed_commit_keeps_the_old_bytes(
    s3: S3Store, database: Database, blobs: BlobStore, monkeypatch
) -> None:
    await s3.put_object(bucket=BUCKET, key="k", body=chunks(b"old"))
    real_write = database.write

    async def write_then_crash(fn):
        def crash(conn):
            fn(conn)
            raise ConnectionError("lost the database mid-transaction")

        return await real_write(crash)

    monkeypatch.setattr(database, "write", write_then_crash)
    with pytest.raises(ConnectionError):
        await s3.put_object(bucket=BUCKET, key="k", body=chunks(b"new"))
    monkeypatch.undo()

    reader = await s3.open_object(bucket=BUCKET, key="k")
    assert await collect(reader.body()) == b"old"
    assert len(blob_files(blobs)) == 2  # the uncommitted body waits for the sweep
    report = await s3.sweep()
    assert report.orphan_blobs == 1 and len(blob_files(blobs)) == 1
    reader = await s3.open_object(bucket=BUCKET, key="k")
    assert await collect(reader.body()) == b"old"


async def test_sweep_keeps_everything_referenced(s3: S3Store, blobs: BlobStore) -> None:
    await s3.put_bucket_versioning(BUCKET, "Enabled")
    await s3.put_object(bucket=BUCKET, key="a", body=chunks(b"1"))
    await s3.put_object(bucket=BUCKET, key="a", body=chunks(b"2"))
    upload = await s3.create_multipart_upload(bucket=BUCKET, key="m", initiator="me")
    part = await s3.upload_part(bucket=BUCKET, key="m", upload_id=upload.upload_id, part_number=1, body=chunks(b"p"))
    other = await s3.create_multipart_upload(bucket=BUCKET, key="n", initiator="me")
    await s3.upload_part(bucket=BUCKET, key="n", upload_id=other.upload_id, part_number=1, body=chunks(b"q"))
    await s3.complete_multipart_upload(
        bucket=BUCKET, key="m", upload_id=upload.upload_id, parts=[CompletedPart(1, part.etag)]
    )
    orphan = await blobs.write(chunks(b"never committed"))
    (blobs.root / "tmp" / "partial.tmp").write_bytes(b"cut short")
    before = blob_files(blobs)

    report = await s3.sweep()
    assert (report.temporary_files, report.orphan_blobs) == (1, 1)
    assert blob_files(blobs) == before - {orphan.blob}
    listing = await s3.list_object_versions(bucket=BUCKET)
    assert len(listing.versions) == 3


async def test_a_restart_sees_every_acknowledged_write(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shipyard.db'}"
    database = Database(url)
    database.migrate()
    store = S3Store(database, BlobStore(tmp_path / "objects"))
    await store.create_bucket(name=BUCKET, region="us-east-1", owner="me")
    await store.put_object(bucket=BUCKET, key="durable", body=chunks(b"survives"))
    await database.close()  # the process ends (no checkpoint is forced)

    restarted_db = Database(url)
    restarted_db.migrate()
    restarted = S3Store(restarted_db, BlobStore(tmp_path / "objects"))
    assert (await restarted.sweep()).orphan_blobs == 0
    reader = await restarted.open_object(bucket=BUCKET, key="durable")
    assert await collect(reader.body()) == b"survives"
    await restarted_db.close()
