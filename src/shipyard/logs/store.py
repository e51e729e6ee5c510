"""The log store's API: async methods over one :class:`~shipyard.store.database.Database`."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from sqlalchemy import Connection, select

from shipyard.logs import errors, events, groups
from shipyard.logs.records import LogEvent, LogGroup, LogStream, Position, StreamOrder
from shipyard.store.database import Database
from shipyard.store.tables import log_streams


def _now_ms() -> int:
    return int(time.time() * 1000)


class LogStore:
    """Log groups, streams and events of every region.

    ``region`` is where :meth:`append` writes when its caller names none (the job runner);
    ``clock`` returns the current time in epoch milliseconds.
    """

    def __init__(self, database: Database, *, region: str = "us-east-1", clock: Callable[[], int] = _now_ms) -> None:
        self._database = database
        self._region = region
        self._clock = clock

    def now_ms(self) -> int:
        """The store's current time, in epoch milliseconds."""
        return self._clock()

    async def create_group(self, region: str, name: str, tags: dict[str, str] | None = None) -> None:
        """Create a group; ``ResourceAlreadyExistsException`` if it exists."""

        def create(conn: Connection) -> None:
            if not groups.create_group(conn, region, name, self._clock(), dict(tags or {})):
                raise errors.group_exists()

        await self._database.write(create)

    async def delete_group(self, region: str, name: str) -> None:
        """Delete a group with its streams and events."""
        await self._database.write(lambda conn: groups.delete_group(conn, region, name))

    async def group(self, region: str, name: str) -> LogGroup:
        """The group, or ``ResourceNotFoundException``."""
        return await self._database.read(lambda conn: groups.require_group(conn, region, name))

    async def groups(
        self, region: str, *, prefix: str | None = None, pattern: str | None = None, after: str | None, limit: int
    ) -> list[LogGroup]:
        """Up to ``limit`` groups in name order after ``after``."""
        return await self._database.read(
            lambda conn: groups.list_groups(conn, region, prefix=prefix, pattern=pattern, after=after, limit=limit)
        )

    async def set_retention(self, region: str, name: str, days: int | None) -> None:
        """Keep the group's events ``days`` days (None: forever)."""

        def apply(conn: Connection) -> None:
            groups.update_group(conn, groups.require_group(conn, region, name), retention_days=days)

        await self._database.write(apply)

    async def retag(self, region: str, name: str, *, add: dict[str, str], remove: Sequence[str] = ()) -> None:
        """Set the tags ``add`` and drop the keys ``remove`` of a group."""

        def apply(conn: Connection) -> None:
            group = groups.require_group(conn, region, name)
            tags = {key: value for key, value in group.tags.items() if key not in remove} | add
            groups.update_group(conn, group, tags=tags)

        await self._database.write(apply)

    async def create_stream(self, region: str, group: str, name: str) -> None:
        """Create a stream; ``ResourceAlreadyExistsException`` if it exists."""

        def create(conn: Connection) -> None:
            if not groups.create_stream(conn, groups.require_group(conn, region, group), name, self._clock()):
                raise errors.stream_exists()

        await self._database.write(create)

    async def delete_stream(self, region: str, group: str, name: str) -> None:
        """Delete a stream with its events."""
        await self._database.write(
            lambda conn: groups.delete_stream(conn, groups.require_group(conn, region, group), name)
        )

    async def streams(
        self,
        region: str,
        group: str,
        *,
        prefix: str | None = None,
        order: StreamOrder = StreamOrder.NAME,
        descending: bool = False,
        after: tuple[int, str] | None = None,
        limit: int,
    ) -> list[tuple[tuple[int, str], LogStream]]:
        """Up to ``limit`` streams of a group with their sort keys (see :func:`groups.list_streams`)."""

        def find(conn: Connection) -> list[tuple[tuple[int, str], LogStream]]:
            found = groups.require_group(conn, region, group)
            return groups.list_streams(
                conn, found, prefix=prefix, order=order, descending=descending, after=after, limit=limit
            )

        return await self._database.read(find)

    async def append(
        self,
        group: str,
        stream: str,
        batch: Sequence[tuple[int, str]],
        *,
        create: bool = True,
        region: str | None = None,
    ) -> int:
        """Store ``(timestamp_ms, message)`` events in a stream; the stream's new upload sequence.

        With ``create`` a missing group or stream is made first (the job runner's way); without,
        a missing one is ``ResourceNotFoundException`` (PutLogEvents' way).
        """
        where = region or self._region

        def write(conn: Connection) -> int:
            now = self._clock()
            if create:
                groups.create_group(conn, where, group, now, {})
            found = groups.require_group(conn, where, group)
            if create:
                groups.create_stream(conn, found, stream, now)
            stream_id = groups.stream_id(conn, found, stream)
            if stream_id is None:
                raise errors.stream_not_found()
            return events.append(conn, found, stream_id, batch, now)

        return await self._database.write(write)

    async def read(
        self,
        region: str,
        group: str,
        stream: str,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        boundary: Position | None = None,
        forward: bool = True,
        limit: int,
        max_bytes: int,
    ) -> list[LogEvent]:
        """Events of one stream, oldest first (see :func:`events.read_stream`); expired ones never."""

        def find(conn: Connection) -> list[LogEvent]:
            found = groups.require_group(conn, region, group)
            stream_id = groups.stream_id(conn, found, stream)
            if stream_id is None:
                raise errors.stream_not_found()
            return events.read_stream(
                conn,
                stream_id,
                stream,
                start_ms=_later(start_ms, found.oldest_kept_ms(self._clock())),
                end_ms=end_ms,
                boundary=boundary,
                forward=forward,
                limit=limit,
                max_bytes=max_bytes,
            )

        return await self._database.read(find)

    async def scan(
        self,
        region: str,
        group: str,
        *,
        stream_names: Sequence[str] | None = None,
        stream_prefix: str | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        after: Position | None = None,
        limit: int,
    ) -> tuple[list[LogEvent], list[str]]:
        """Up to ``limit`` events of a group's chosen streams in time order; and the streams searched.

        ``stream_names`` (those that exist) or ``stream_prefix`` choose the streams, else all of them.
        """

        def find(conn: Connection) -> tuple[list[LogEvent], list[str]]:
            found = groups.require_group(conn, region, group)
            query = select(log_streams.c.id, log_streams.c.name).where(log_streams.c.group_id == found.id)
            if stream_names is not None:
                query = query.where(log_streams.c.name.in_(list(stream_names)))
            elif stream_prefix:
                query = query.where(log_streams.c.name.startswith(stream_prefix, autoescape=True))
            chosen = {row.id: row.name for row in conn.execute(query.order_by(log_streams.c.name))}
            scanned = events.scan_group(
                conn,
                found,
                chosen,
                start_ms=_later(start_ms, found.oldest_kept_ms(self._clock())),
                end_ms=end_ms,
                after=after,
                limit=limit,
            )
            return scanned, list(chosen.values())

        return await self._database.read(find)


def _later(first: int | None, second: int | None) -> int | None:
    return max((bound for bound in (first, second) if bound is not None), default=None)
