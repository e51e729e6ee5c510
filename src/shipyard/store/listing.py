"""Listing objects, object versions and multipart uploads, in S3's key order.

Keys are compared as UTF-8 bytes (the same as Python's code-point order of ``str``). A
listing is an indexed range scan over ``(bucket, key)``: rows are fetched in batches from
a position, and a key that rolls up into a common prefix (``delimiter``) makes the scan
jump past every key under that prefix with one seek, however many there are. Each
common prefix counts once towards ``max_keys``.

Markers are exclusive positions: a page resumes after its last entry. When that entry
was a common prefix (it contains the delimiter after ``prefix``), the next page starts
after every key under it.
"""

from __future__ import annotations

import base64
import binascii
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, false, select, true

from shipyard.errors import AwsError
from shipyard.store.engine import EngineBase
from shipyard.store.naming import check_version_id
from shipyard.store.records import (
    SUMMARY_COLUMNS,
    AnyRow,
    fetch_bucket,
    summary_from_row,
    upload_from_row,
)
from shipyard.store.s3types import ObjectListing, UploadListing, VersionListing
from shipyard.store.tables import object_versions as ov
from shipyard.store.tables import uploads

MAX_KEYS = 1000


@dataclass(frozen=True)
class _Position:
    """Where a scan resumes: after (or at, if ``inclusive``) ``key``; with ``after`` set,
    first the remaining rows of ``key`` itself past that secondary sort value.
    """

    key: str
    inclusive: bool = False
    after: Any = None


#: Fetches up to ``limit`` rows in listing order from a position, within the prefix.
_Fetch = Callable[[_Position, int], list[AnyRow]]


class _Scan:
    """The rows of a key range in listing order, fetched lazily in batches."""

    def __init__(self, fetch: _Fetch, start: _Position | None, batch: int, secondary: str | None) -> None:
        self._fetch = fetch
        self._position = start
        self._batch = batch
        self._secondary = secondary
        self._buffer: deque[AnyRow] = deque()

    def __iter__(self) -> Iterator[AnyRow]:
        while True:
            if not self._buffer:
                if self._position is None:
                    return
                rows = self._fetch(self._position, self._batch)
                self._buffer.extend(rows)
                if len(rows) < self._batch:
                    self._position = None  # the range is exhausted
                else:
                    last = rows[-1]
                    after = getattr(last, self._secondary) if self._secondary else None
                    self._position = _Position(last.key, after=after)
                if not rows:
                    return
            yield self._buffer.popleft()

    def skip_prefix(self, prefix: str) -> None:
        """Drop every row whose key starts with ``prefix`` (buffered, then by a seek)."""
        while self._buffer and self._buffer[0].key.startswith(prefix):
            self._buffer.popleft()
        if not self._buffer and self._position is not None:
            end = prefix_end(prefix)
            self._position = None if end is None else _Position(end, inclusive=True)


def prefix_end(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix`` (None: unbounded)."""
    chars = list(prefix)
    while chars:
        last = ord(chars.pop())
        if last < 0x10FFFF:
            following = 0xE000 if 0xD7FF <= last < 0xE000 else last + 1
            return "".join(chars) + chr(following)
    return None


def common_prefix(key: str, prefix: str, delimiter: str | None) -> str | None:
    """The common prefix ``key`` rolls up into, or None if it is listed as itself."""
    if not delimiter or not key.startswith(prefix):
        return None
    index = key.find(delimiter, len(prefix))
    return None if index < 0 else key[: index + len(delimiter)]


def encode_continuation_token(marker: str) -> str:
    """An opaque ListObjectsV2 continuation token for resuming after ``marker``."""
    return base64.urlsafe_b64encode(b"1" + marker.encode()).decode("ascii")


def decode_continuation_token(token: str) -> str:
    """The marker in a token made by :func:`encode_continuation_token`; else ``InvalidArgument``."""
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
        if raw[:1] == b"1":
            return raw[1:].decode()
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise AwsError(
        "InvalidArgument",
        "The continuation token provided is incorrect",
        400,
        fields={"ArgumentName": "continuation-token"},
    )


def _start(prefix: str, delimiter: str | None, marker: str | None) -> _Position | None:
    """The first position of a listing: the prefix itself, or past the marker."""
    if not marker or marker < prefix:
        return _Position(prefix, inclusive=True)
    rolled_up = common_prefix(marker, prefix, delimiter)
    if rolled_up is None:
        return _Position(marker)
    end = prefix_end(rolled_up)
    return None if end is None else _Position(end, inclusive=True)


def _collect(scan: _Scan, prefix: str, delimiter: str | None, max_keys: int) -> tuple[list[AnyRow | str], bool]:
    """Up to ``max_keys`` entries (rows and common prefixes) and whether more remain."""
    entries: list[AnyRow | str] = []
    if max_keys <= 0:
        return entries, False
    for row in scan:
        if len(entries) == max_keys:
            return entries, True
        rolled_up = common_prefix(row.key, prefix, delimiter)
        if rolled_up is None:
            entries.append(row)
        else:
            entries.append(rolled_up)
            scan.skip_prefix(rolled_up)
    return entries, False


def _key_range(query: Select[Any], column: Any, prefix: str, position: _Position) -> Select[Any]:
    end = prefix_end(prefix)
    if end is not None:
        query = query.where(column < end)
    return query.where(column >= position.key if position.inclusive else column > position.key)


def _split(entries: list[AnyRow | str]) -> tuple[list[AnyRow], list[str]]:
    return [e for e in entries if not isinstance(e, str)], [e for e in entries if isinstance(e, str)]


def _last_key(entry: AnyRow | str) -> str:
    return entry if isinstance(entry, str) else entry.key


class ListingOps(EngineBase):
    """Listing operations (mixed into :class:`~shipyard.store.objects.S3Store`)."""

    async def list_objects(
        self,
        *,
        bucket: str,
        prefix: str = "",
        delimiter: str | None = None,
        marker: str | None = None,
        max_keys: int = MAX_KEYS,
    ) -> ObjectListing:
        """The current objects (no delete markers) of ``bucket`` after ``marker`` (ListObjects).

        At most ``max_keys`` (capped at 1000) objects and common prefixes in key order.
        """
        return await self._list_current(bucket, prefix, delimiter or None, marker, max_keys)

    async def list_objects_v2(
        self,
        *,
        bucket: str,
        prefix: str = "",
        delimiter: str | None = None,
        continuation_token: str | None = None,
        start_after: str | None = None,
        max_keys: int = MAX_KEYS,
    ) -> ObjectListing:
        """ListObjectsV2: as :meth:`list_objects`, resuming from ``continuation_token``
        (which wins over ``start_after``); ``InvalidArgument`` for a token not made here.
        """
        marker = decode_continuation_token(continuation_token) if continuation_token is not None else start_after
        return await self._list_current(bucket, prefix, delimiter or None, marker, max_keys)

    async def list_object_versions(
        self,
        *,
        bucket: str,
        prefix: str = "",
        delimiter: str | None = None,
        key_marker: str | None = None,
        version_id_marker: str | None = None,
        max_keys: int = MAX_KEYS,
    ) -> VersionListing:
        """Every version and delete marker, by key, newest first per key (ListObjectVersions).

        ``key_marker`` alone resumes after all versions of that key; with
        ``version_id_marker``, after that version of it.
        """
        delimiter = delimiter or None
        if version_id_marker is not None:
            if not key_marker:
                raise AwsError(
                    "InvalidArgument",
                    "A version-id marker cannot be specified without a key marker.",
                    400,
                    fields={"ArgumentName": "version-id-marker", "ArgumentValue": version_id_marker},
                )
            check_version_id(version_id_marker)
        max_keys = min(max_keys, MAX_KEYS)

        def read(conn: Connection) -> VersionListing:
            fetch_bucket(conn, bucket)
            base = select(*SUMMARY_COLUMNS).where(ov.c.bucket == bucket)

            def fetch(position: _Position, limit: int) -> list[AnyRow]:
                rows: list[AnyRow] = []
                if position.after is not None:
                    same_key = base.where(ov.c.key == position.key, ov.c.seq < position.after)
                    rows = list(conn.execute(same_key.order_by(ov.c.seq.desc()).limit(limit)))
                    position = _Position(position.key)
                query = _key_range(base, ov.c.key, prefix, position).order_by(ov.c.key, ov.c.seq.desc())
                return rows + list(conn.execute(query.limit(limit - len(rows)))) if len(rows) < limit else rows

            start = _start(prefix, delimiter, key_marker)
            if version_id_marker is not None and start is not None and not start.inclusive:
                seq = conn.execute(
                    select(ov.c.seq).where(
                        ov.c.bucket == bucket, ov.c.key == key_marker, ov.c.version_id == version_id_marker
                    )
                ).scalar()
                if seq is None:
                    raise AwsError(
                        "InvalidArgument",
                        "Invalid version id specified",
                        400,
                        fields={"ArgumentName": "version-id-marker", "ArgumentValue": version_id_marker},
                    )
                start = _Position(start.key, after=seq)
            scan = _Scan(fetch, start, max_keys + 1, "seq")
            entries, truncated = _collect(scan, prefix, delimiter, max_keys)
            rows, prefixes = _split(entries)
            last = entries[-1] if truncated else None
            return VersionListing(
                versions=[summary_from_row(row) for row in rows],
                common_prefixes=prefixes,
                is_truncated=truncated,
                next_key_marker=None if last is None else _last_key(last),
                next_version_id_marker=None if last is None or isinstance(last, str) else last.version_id,
            )

        return await self._db.read(read)

    async def list_multipart_uploads(
        self,
        *,
        bucket: str,
        prefix: str = "",
        delimiter: str | None = None,
        key_marker: str | None = None,
        upload_id_marker: str | None = None,
        max_uploads: int = MAX_KEYS,
    ) -> UploadListing:
        """Uploads in progress by key, oldest first per key (ListMultipartUploads).

        ``key_marker`` alone resumes after every upload of that key; with
        ``upload_id_marker``, after that upload (ids sort by initiation time).
        """
        delimiter = delimiter or None
        max_uploads = min(max_uploads, MAX_KEYS)

        def read(conn: Connection) -> UploadListing:
            fetch_bucket(conn, bucket)
            base = select(uploads).where(uploads.c.bucket == bucket)

            def fetch(position: _Position, limit: int) -> list[AnyRow]:
                rows: list[AnyRow] = []
                if position.after is not None:
                    same_key = base.where(uploads.c.key == position.key, uploads.c.upload_id > position.after)
                    rows = list(conn.execute(same_key.order_by(uploads.c.upload_id).limit(limit)))
                    position = _Position(position.key)
                query = _key_range(base, uploads.c.key, prefix, position).order_by(uploads.c.key, uploads.c.upload_id)
                return rows + list(conn.execute(query.limit(limit - len(rows)))) if len(rows) < limit else rows

            start = _start(prefix, delimiter, key_marker)
            if upload_id_marker and start is not None and not start.inclusive:
                start = _Position(start.key, after=upload_id_marker)
            scan = _Scan(fetch, start, max_uploads + 1, "upload_id")
            entries, truncated = _collect(scan, prefix, delimiter, max_uploads)
            rows, prefixes = _split(entries)
            last = entries[-1] if truncated else None
            return UploadListing(
                uploads=[upload_from_row(row) for row in rows],
                common_prefixes=prefixes,
                is_truncated=truncated,
                next_key_marker=None if last is None else _last_key(last),
                next_upload_id_marker=None if last is None or isinstance(last, str) else last.upload_id,
            )

        return await self._db.read(read)

    async def _list_current(
        self, bucket: str, prefix: str, delimiter: str | None, marker: str | None, max_keys: int
    ) -> ObjectListing:
        max_keys = min(max_keys, MAX_KEYS)

        def read(conn: Connection) -> ObjectListing:
            fetch_bucket(conn, bucket)
            base = select(*SUMMARY_COLUMNS).where(
                ov.c.bucket == bucket, ov.c.is_latest == true(), ov.c.is_delete_marker == false()
            )

            def fetch(position: _Position, limit: int) -> list[AnyRow]:
                query = _key_range(base, ov.c.key, prefix, position).order_by(ov.c.key).limit(limit)
                return list(conn.execute(query))

            scan = _Scan(fetch, _start(prefix, delimiter, marker), max_keys + 1, None)
            entries, truncated = _collect(scan, prefix, delimiter, max_keys)
            rows, prefixes = _split(entries)
            next_marker = _last_key(entries[-1]) if truncated else None
            return ObjectListing(
                objects=[summary_from_row(row) for row in rows],
                common_prefixes=prefixes,
                is_truncated=truncated,
                next_marker=next_marker,
                next_continuation_token=None if next_marker is None else encode_continuation_token(next_marker),
            )

        return await self._db.read(read)
