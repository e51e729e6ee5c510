"""The blob store: streaming writes, ranged reads, links, copies, pins and the sweep."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
from pathlib import Path

import pytest
from store_support import blob_files, chunks, collect

from shipyard.store.blobs import CHUNK_SIZE, BlobStore

pytestmark = pytest.mark.anyio


async def test_write_streams_to_an_immutable_file(blobs: BlobStore) -> None:
    data = os.urandom(3 * CHUNK_SIZE + 123)
    seen = hashlib.md5()
    blob = await blobs.write(chunks(data, 100_000), seen.update)
    assert blob.size == len(data) and seen.digest() == hashlib.md5(data).digest()
    path = blobs.path(blob.blob)
    assert path.read_bytes() == data and path.parent.parent.parent == blobs.root / "blobs"
    assert list((blobs.root / "tmp").iterdir()) == []


async def test_empty_and_durable_writes(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "durable", durable=True)
    try:
        empty = await store.write(chunks(b""))
        assert empty.size == 0 and store.path(empty.blob).read_bytes() == b""
        full = await store.write(chunks(b"durable"))
        assert store.path(full.blob).read_bytes() == b"durable"
    finally:
        await store.close()


async def test_ranged_reads_across_segments(blobs: BlobStore) -> None:
    parts = [os.urandom(n) for n in (10, 0, CHUNK_SIZE + 5, 7)]
    segments = [await blobs.write(chunks(part)) for part in parts]
    whole = b"".join(parts)
    for start, end in ((0, None), (0, 10), (9, 11), (10, 10 + CHUNK_SIZE + 5), (5, len(whole) - 3), (len(whole), None)):
        assert await collect(blobs.open(segments, start, end)) == whole[start:end]
        assert blobs.read_sync(segments, start, end) == whole[start:end]
    sizes = [len(chunk) async for chunk in blobs.open(segments)]
    assert max(sizes) <= CHUNK_SIZE


async def test_a_failing_stream_or_observer_leaves_nothing(blobs: BlobStore) -> None:
    async def broken():
        yield b"x" * (CHUNK_SIZE + 1)
        raise ConnectionResetError

    with pytest.raises(ConnectionResetError):
        await blobs.write(broken())

    def refuse(_: bytes) -> None:
        raise ValueError("too big")

    with pytest.raises(ValueError):
        await blobs.write(chunks(b"y" * 10), refuse)
    await asyncio.sleep(0.05)
    assert list((blobs.root / "tmp").iterdir()) == [] and blob_files(blobs) == set()


async def test_link_and_copy(blobs: BlobStore) -> None:
    source = await blobs.write(chunks(b"0123456789"))
    link = await blobs.link(source.blob)
    assert link.blob != source.blob and link.size == 10
    assert os.path.samefile(blobs.path(link.blob), blobs.path(source.blob))
    seen = hashlib.md5()
    copy = await blobs.copy([source, link], 5, 15, seen.update)
    assert blobs.path(copy.blob).read_bytes() == b"5678901234" and seen.digest() == hashlib.md5(b"5678901234").digest()
    await blobs.delete([source.blob])
    assert blobs.path(link.blob).read_bytes() == b"0123456789"


async def test_link_falls_back_to_a_copy(blobs: BlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    source = await blobs.write(chunks(b"abc"))

    def no_links(*_args, **_kwargs):
        raise OSError(errno.EMLINK, "too many links")

    monkeypatch.setattr(os, "link", no_links)
    copy = await blobs.link(source.blob)
    assert blobs.path(copy.blob).read_bytes() == b"abc"
    assert not os.path.samefile(blobs.path(copy.blob), blobs.path(source.blob))


async def test_pins_defer_deletion(blobs: BlobStore) -> None:
    blob = await blobs.write(chunks(b"pinned"))
    first = blobs.pin([blob.blob])
    second = blobs.pin([blob.blob])
    await blobs.delete([blob.blob])
    assert blobs.path(blob.blob).exists()
    first.release()
    first.release()  # idempotent
    assert blobs.path(blob.blob).exists()
    second.release()
    await asyncio.sleep(0.05)
    assert not blobs.path(blob.blob).exists()
    with pytest.raises(FileNotFoundError):
        blobs.pin([blob.blob])


async def test_sweep_removes_temporary_and_unreferenced_files(blobs: BlobStore) -> None:
    kept = await blobs.write(chunks(b"kept"))
    orphan = await blobs.write(chunks(b"orphan"))
    (blobs.root / "tmp" / "abandoned.tmp").write_bytes(b"half a body")
    report = await blobs.sweep({kept.blob})
    assert (report.temporary_files, report.orphan_blobs) == (1, 1)
    assert blob_files(blobs) == {kept.blob} and not blobs.path(orphan.blob).exists()
    assert await blobs.sweep({kept.blob}) == type(report)(0, 0)


async def test_blob_ids_spread_over_directories(blobs: BlobStore) -> None:
    path = blobs.path("abcdef0123456789abcdef0123456789")
    assert path.relative_to(blobs.root).parts == ("blobs", "ab", "cd", "abcdef0123456789abcdef0123456789")
