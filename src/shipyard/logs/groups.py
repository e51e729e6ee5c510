"""Log groups and streams as rows (synchronous; runs inside a database transaction)."""

from __future__ import annotations

from sqlalchemy import Connection, and_, delete, func, literal, or_, select, update

from shipyard.logs import errors
from shipyard.logs.records import (
    LogGroup,
    LogStream,
    StreamOrder,
    row_group,
    row_stream,
)
from shipyard.logs.sql import insert_if_absent
from shipyard.store.tables import log_groups, log_streams

#: The sort key of a stream with no events yet under ``LastEventTime``.
_NO_EVENTS = -1


def create_group(conn: Connection, region: str, name: str, now_ms: int, tags: dict[str, str]) -> bool:
    """Create the group; False if it already exists."""
    values = {"region": region, "name": name, "created_ms": now_ms, "retention_days": None, "tags": tags}
    return insert_if_absent(conn, log_groups, values)


def find_group(conn: Connection, region: str, name: str) -> LogGroup | None:
    row = conn.execute(select(log_groups).where(log_groups.c.region == region, log_groups.c.name == name)).first()
    return None if row is None else row_group(row)


def require_group(conn: Connection, region: str, name: str) -> LogGroup:
    """The group, or ``ResourceNotFoundException``."""
    group = find_group(conn, region, name)
    if group is None:
        raise errors.group_not_found()
    return group


def update_group(conn: Connection, group: LogGroup, **values: object) -> None:
    conn.execute(update(log_groups).where(log_groups.c.id == group.id).values(**values))


def delete_group(conn: Connection, region: str, name: str) -> None:
    group = require_group(conn, region, name)
    conn.execute(delete(log_groups).where(log_groups.c.id == group.id))


def list_groups(
    conn: Connection, region: str, *, prefix: str | None, pattern: str | None, after: str | None, limit: int
) -> list[LogGroup]:
    """Up to ``limit`` groups by name after ``after``; ``pattern`` matches anywhere, ignoring case."""
    query = select(log_groups).where(log_groups.c.region == region).order_by(log_groups.c.name).limit(limit)
    if prefix:
        query = query.where(log_groups.c.name.startswith(prefix, autoescape=True))
    if pattern:
        query = query.where(func.lower(log_groups.c.name).contains(pattern.lower(), autoescape=True))
    if after is not None:
        query = query.where(log_groups.c.name > after)
    return [row_group(row) for row in conn.execute(query)]


def create_stream(conn: Connection, group: LogGroup, name: str, now_ms: int) -> bool:
    """Create the stream; False if it already exists."""
    values = {"group_id": group.id, "name": name, "created_ms": now_ms, "sequence": 1}
    return insert_if_absent(conn, log_streams, values)


def stream_id(conn: Connection, group: LogGroup, name: str) -> int | None:
    query = select(log_streams.c.id).where(log_streams.c.group_id == group.id, log_streams.c.name == name)
    return conn.execute(query).scalar()


def delete_stream(conn: Connection, group: LogGroup, name: str) -> None:
    deleted = conn.execute(delete(log_streams).where(log_streams.c.group_id == group.id, log_streams.c.name == name))
    if deleted.rowcount == 0:
        raise errors.stream_not_found()


def list_streams(
    conn: Connection,
    group: LogGroup,
    *,
    prefix: str | None,
    order: StreamOrder,
    descending: bool,
    after: tuple[int, str] | None,
    limit: int,
) -> list[tuple[tuple[int, str], LogStream]]:
    """Up to ``limit`` streams in ``order`` after the sort key ``after``, each with its sort key.

    The key is ``(last event time or -1, name)`` under ``LastEventTime`` and ``(0, name)`` by name.
    """
    streams = log_streams.c
    by_time = order is StreamOrder.LAST_EVENT_TIME
    rank = func.coalesce(streams.last_event_ms, _NO_EVENTS) if by_time else literal(0)
    keys = [rank, streams.name] if by_time else [streams.name]
    query = (
        select(log_streams, rank.label("rank"))
        .where(streams.group_id == group.id)
        .order_by(*(key.desc() if descending else key for key in keys))
        .limit(limit)
    )
    if prefix:
        query = query.where(streams.name.startswith(prefix, autoescape=True))
    if after is not None:
        last_rank, last_name = after
        if descending:
            query = query.where(or_(rank < last_rank, and_(rank == last_rank, streams.name < last_name)))
        else:
            query = query.where(or_(rank > last_rank, and_(rank == last_rank, streams.name > last_name)))
    return [((row.rank, row.name), row_stream(row)) for row in conn.execute(query)]
