"""Object bytes on local disk: immutable blob files, written once, read in ranges.

Layout under ``root``::

    tmp/<id>.tmp           a blob being written (never referenced; swept at start)
    blobs/<ab>/<cd>/<id>   a finished blob; ``id`` is 32 random hex digits

A blob is written to ``tmp/``, fsynced, then renamed into ``blobs/`` (and the directory
fsynced), so a file under ``blobs/`` is always complete. The metadata row that references
it is committed afterwards; a blob no row references (a crash between the two, or after a
commit that dropped a row but before its blob was deleted) is removed by :meth:`sweep`.

Each blob belongs to exactly one metadata row. A copy of an object gets its own hard link
(:meth:`link`), so deleting one row's blob never touches another's bytes and no reference
counts are kept.

Readers and deleters in this process coordinate through :meth:`pin`: a blob deleted while
a reader has it pinned is removed when the last pin is released, so a GET that has started
streaming an object finishes even if the object is overwritten meanwhile.

All disk work runs on the store's own threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shutil
import threading
import uuid
from collections import Counter
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Callable,
    Collection,
    Iterable,
    Sequence,
)
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

from shipyard.store.s3types import Segment

T = TypeVar("T")

#: Bytes per disk read or write: large enough to amortize a thread hop, small enough to stream.
CHUNK_SIZE = 1 << 20

#: Called with every chunk of a blob as it is written (on a store thread), e.g. a hash update.
Observer = Callable[[bytes], None]


@dataclass(frozen=True)
class SweepReport:
    """What :meth:`BlobStore.sweep` removed."""

    temporary_files: int
    orphan_blobs: int


class BlobStore:
    """Blob files under ``root``.

    ``durable`` fsyncs every new blob and its directory before the write returns (turn it
    off only for throwaway data). ``threads`` bounds concurrent disk operations.
    """

    def __init__(self, root: Path, *, durable: bool = True, threads: int = 8) -> None:
        self.root = Path(root)
        self.durable = durable
        self._blobs = self.root / "blobs"
        self._tmp = self.root / "tmp"
        self._blobs.mkdir(parents=True, exist_ok=True)
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="shipyard-blob")
        self._known_dirs: set[Path] = set()
        # Re-entrant: a reader released by the garbage collector may unpin while this thread holds it.
        self._lock = threading.RLock()
        self._pins: Counter[str] = Counter()
        self._doomed: set[str] = set()  # deleted while pinned: unlink at the last unpin
        self._dying: set[str] = set()  # being unlinked right now

    def path(self, blob_id: str) -> Path:
        """Where blob ``blob_id`` lives."""
        return self._blobs / blob_id[:2] / blob_id[2:4] / blob_id

    async def write(self, chunks: AsyncIterable[bytes], observer: Observer | None = None) -> Segment:
        """Store a stream as a new blob and return it.

        Memory stays bounded (about two :data:`CHUNK_SIZE` buffers): the next chunk is
        received while the previous one is written. ``observer`` sees every byte, in
        order, on a store thread; an exception it raises aborts the write (and is raised
        here) with nothing left behind.
        """
        writer = _Writer(self, observer)
        pending: asyncio.Future[None] | None = None
        buffered: list[bytes] = []
        size = 0
        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                buffered.append(chunk)
                size += len(chunk)
                if size >= CHUNK_SIZE:
                    if pending is not None:
                        await pending
                    pending = self._submit(writer.append, buffered)
                    buffered, size = [], 0
            if pending is not None:
                await pending
            return await self._submit(writer.finish, buffered)
        except BaseException:
            self._executor.submit(writer.discard)
            raise

    async def link(self, blob_id: str) -> Segment:
        """A new blob with the same bytes as ``blob_id`` (a hard link: no data is copied)."""
        return await self._submit(self._link_sync, blob_id)

    async def copy(
        self, segments: Sequence[Segment], start: int = 0, end: int | None = None, observer: Observer | None = None
    ) -> Segment:
        """A new blob holding bytes ``[start, end)`` of the concatenated ``segments``.

        The copy runs entirely on a store thread; ``observer`` sees the copied bytes.
        """
        return await self._submit(self._copy_sync, segments, start, end, observer)

    def pin(self, blob_ids: Collection[str]) -> BlobPin:
        """Keep ``blob_ids`` on disk until the returned pin is released; thread-safe.

        Raises :class:`FileNotFoundError` if any of them is already gone (its row was
        replaced after the caller read it): the caller should read the metadata again.
        """
        with self._lock:
            if not self._dying.isdisjoint(blob_ids):
                raise FileNotFoundError(errno.ENOENT, "blob is being deleted")
            self._pins.update(blob_ids)
        pin = BlobPin(self, blob_ids)
        try:
            for blob_id in blob_ids:
                os.stat(self.path(blob_id))
        except FileNotFoundError:
            pin.release()
            raise
        return pin

    def read_sync(self, segments: Sequence[Segment], start: int = 0, end: int | None = None) -> bytes:
        """Bytes ``[start, end)`` of the concatenated ``segments``, read whole (call off the loop)."""
        reader = _Reader(self, segments, start, end)
        try:
            return b"".join(iter(lambda: reader.read(CHUNK_SIZE), b""))
        finally:
            reader.close()

    async def open(
        self, segments: Sequence[Segment], start: int = 0, end: int | None = None
    ) -> AsyncGenerator[bytes, None]:
        """Stream bytes ``[start, end)`` of the concatenated ``segments`` in chunks.

        Each chunk (at most :data:`CHUNK_SIZE`) is read on a store thread.
        """
        reader = _Reader(self, segments, start, end)
        try:
            while chunk := await self._submit(reader.read, CHUNK_SIZE):
                yield chunk
        finally:
            if not reader.close(wait=False):  # a read cancelled mid-way still runs
                self._executor.submit(reader.close)

    async def delete(self, blob_ids: Iterable[str]) -> None:
        """Remove blobs whose rows are gone (after the commit); pinned ones at their last unpin."""
        ids = list(blob_ids)
        if ids:
            await self._submit(self._delete_sync, ids)

    async def sweep(self, referenced: Collection[str]) -> SweepReport:
        """Remove temporary files and every blob not in ``referenced``.

        Call it at startup, before serving: a blob written by a request in flight is not
        referenced yet and would be removed.
        """
        return await self._submit(self._sweep_sync, referenced)

    async def close(self) -> None:
        """Wait for disk work in progress, then stop the store's threads."""
        await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown)

    # -- on store threads ---------------------------------------------------------------

    def _submit(self, fn: Callable[..., T], *args: object) -> asyncio.Future[T]:
        return asyncio.wrap_future(self._executor.submit(fn, *args))

    def _new_id(self) -> str:
        return uuid.uuid4().hex

    def _place(self, source: Path, blob_id: str, *, link: bool = False) -> None:
        """Move (or hard-link) a complete file into the blob tree, durably."""
        target = self.path(blob_id)
        directory = target.parent
        if directory not in self._known_dirs:
            directory.mkdir(parents=True, exist_ok=True)
            if self.durable:
                _fsync_directory(directory.parent)
                _fsync_directory(directory.parent.parent)
            self._known_dirs.add(directory)
        if link:
            os.link(source, target)
        else:
            os.replace(source, target)
        if self.durable:
            _fsync_directory(directory)

    def _link_sync(self, blob_id: str) -> Segment:
        new_id = self._new_id()
        source = self.path(blob_id)
        try:
            self._place(source, new_id, link=True)
        except OSError as error:
            if error.errno not in (errno.EMLINK, errno.EPERM, errno.ENOTSUP, errno.EXDEV):
                raise
            return self._copy_sync([Segment(blob_id, source.stat().st_size)], 0, None, None)
        return Segment(new_id, source.stat().st_size)

    def _copy_sync(
        self, segments: Sequence[Segment], start: int, end: int | None, observer: Observer | None
    ) -> Segment:
        writer = _Writer(self, observer)
        reader = _Reader(self, segments, start, end)
        try:
            while chunk := reader.read(CHUNK_SIZE):
                writer.append([chunk])
            return writer.finish([])
        except BaseException:
            writer.discard()
            raise
        finally:
            reader.close()

    def _delete_sync(self, blob_ids: list[str]) -> None:
        with self._lock:
            now = [blob_id for blob_id in blob_ids if not self._pins[blob_id]]
            self._doomed.update(blob_id for blob_id in blob_ids if self._pins[blob_id])
            self._dying.update(now)
        self._unlink(now)

    def _unpin(self, blob_ids: Collection[str]) -> None:
        released = []
        with self._lock:
            self._pins.subtract(blob_ids)
            for blob_id in blob_ids:
                if self._pins[blob_id] <= 0:
                    del self._pins[blob_id]
                    if blob_id in self._doomed:
                        self._doomed.discard(blob_id)
                        released.append(blob_id)
            self._dying.update(released)
        if released:
            self._executor.submit(self._unlink, released)

    def _unlink(self, blob_ids: list[str]) -> None:
        try:
            for blob_id in blob_ids:
                self.path(blob_id).unlink(missing_ok=True)
        finally:
            with self._lock:
                self._dying.difference_update(blob_ids)

    def _sweep_sync(self, referenced: Collection[str]) -> SweepReport:
        temporary = 0
        for entry in os.scandir(self._tmp):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                Path(entry.path).unlink(missing_ok=True)
            temporary += 1
        orphans = 0
        for first in _subdirectories(self._blobs):
            for second in _subdirectories(first):
                for entry in os.scandir(second):
                    if entry.name not in referenced:
                        Path(entry.path).unlink(missing_ok=True)
                        orphans += 1
        return SweepReport(temporary, orphans)


class BlobPin:
    """Blobs held on disk for a reader; :meth:`release` (idempotent) lets them go."""

    def __init__(self, store: BlobStore, blob_ids: Collection[str]) -> None:
        self._store = store
        self._ids: Collection[str] | None = blob_ids

    def release(self) -> None:
        """Unpin the blobs; any deleted meanwhile go now."""
        if self._ids is not None:
            ids, self._ids = self._ids, None
            self._store._unpin(ids)


class _Writer:
    """One blob being written: a temporary file filled by successive :meth:`append` calls."""

    def __init__(self, store: BlobStore, observer: Observer | None) -> None:
        self._store = store
        self._observer = observer
        self._id = store._new_id()
        self._temporary = store._tmp / f"{self._id}.tmp"
        self._file: BinaryIO | None = None
        self._size = 0
        self._lock = threading.Lock()  # discard() waits for an append still running

    def append(self, chunks: list[bytes]) -> None:
        with self._lock:
            self._append(chunks)

    def finish(self, chunks: list[bytes]) -> Segment:
        with self._lock:
            self._append(chunks)
            file = self._file or open(self._temporary, "xb")  # noqa: SIM115 - closed below
            self._file = None
            with file:
                if self._store.durable:
                    file.flush()
                    os.fsync(file.fileno())
            self._store._place(self._temporary, self._id)
            return Segment(self._id, self._size)

    def discard(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
            self._temporary.unlink(missing_ok=True)

    def _append(self, chunks: list[bytes]) -> None:
        if not chunks:
            return
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if self._observer is not None:
            self._observer(data)
        if self._file is None:
            self._file = open(self._temporary, "xb")  # noqa: SIM115 - closed in finish/discard
        self._file.write(data)
        self._size += len(data)


class _Reader:
    """Sequential reads of a byte range across the files of consecutive segments.

    :meth:`close` may be called from another thread while a read is still running (a
    cancelled stream); the lock makes it wait for that read.
    """

    def __init__(self, store: BlobStore, segments: Sequence[Segment], start: int, end: int | None) -> None:
        total = sum(segment.size for segment in segments)
        self._store = store
        self._segments = list(segments)
        self._remaining = max(0, min(total if end is None else end, total) - start)
        self._index = 0
        self._offset = start  # within segment self._index
        while self._index < len(self._segments) and self._offset >= self._segments[self._index].size > 0:
            self._offset -= self._segments[self._index].size
            self._index += 1
        self._file: BinaryIO | None = None
        self._lock = threading.Lock()

    def read(self, size: int) -> bytes:
        with self._lock:
            return self._read(size)

    def close(self, wait: bool = True) -> bool:
        """Close the open file; without ``wait``, give up (False) if a read is running."""
        if not self._lock.acquire(blocking=wait):
            return False
        try:
            if self._file is not None:
                self._file.close()
                self._file = None
            self._remaining = 0
            return True
        finally:
            self._lock.release()

    def _read(self, size: int) -> bytes:
        while self._remaining > 0:
            if self._file is None:
                self._file = open(self._store.path(self._segments[self._index].blob), "rb")  # noqa: SIM115
                self._file.seek(self._offset)
            data = self._file.read(min(size, self._remaining))
            if data:
                self._remaining -= len(data)
                return data
            self._file.close()
            self._file = None
            self._index += 1
            self._offset = 0
            if self._index >= len(self._segments):
                raise OSError(errno.EIO, "blob shorter than its recorded size")
        if self._file is not None:
            self._file.close()
            self._file = None
        return b""


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _subdirectories(path: Path) -> list[Path]:
    with contextlib.suppress(FileNotFoundError):
        return [Path(entry.path) for entry in os.scandir(path) if entry.is_dir()]
    return []
