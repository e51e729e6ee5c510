"""Log events as rows: appending to a stream, reading one stream, scanning a group."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    delete,
    insert,
    or_,
    select,
    update,
)

from shipyard.logs.records import LogEvent, LogGroup, Position
from shipyard.store.tables import log_events, log_streams

#: Bytes an event costs beyond its UTF-8 message, in batch and response size limits.
EVENT_OVERHEAD = 26


def event_size(message: str) -> int:
    """What an event counts toward the 1 MiB limits of PutLogEvents and GetLogEvents."""
    return len(message.encode()) + EVENT_OVERHEAD


def append(conn: Connection, group: LogGroup, stream_id: int, events: Sequence[tuple[int, str]], now_ms: int) -> int:
    """Store ``events`` ``(timestamp_ms, message)`` in the stream; the stream's new sequence number."""
    stream = conn.execute(select(log_streams).where(log_streams.c.id == stream_id).with_for_update()).one()
    values: dict[str, object] = {"sequence": stream.sequence + 1}
    if events:
        rows = [
            {"stream_id": stream_id, "group_id": group.id, "timestamp_ms": ts, "ingestion_ms": now_ms, "message": msg}
            for ts, msg in events
        ]
        conn.execute(insert(log_events), rows)
        first, last = min(ts for ts, _ in events), max(ts for ts, _ in events)
        values.update(
            first_event_ms=first if stream.first_event_ms is None else min(first, stream.first_event_ms),
            last_event_ms=last if stream.last_event_ms is None else max(last, stream.last_event_ms),
            last_ingestion_ms=now_ms,
        )
    conn.execute(update(log_streams).where(log_streams.c.id == stream_id).values(**values))
    if (oldest := group.oldest_kept_ms(now_ms)) is not None:
        conn.execute(delete(log_events).where(log_events.c.group_id == group.id, log_events.c.timestamp_ms < oldest))
    return stream.sequence + 1


def read_stream(
    conn: Connection,
    stream_id: int,
    stream_name: str,
    *,
    start_ms: int | None,
    end_ms: int | None,
    boundary: Position | None,
    forward: bool,
    limit: int,
    max_bytes: int,
) -> list[LogEvent]:
    """Up to ``limit`` events (and ``max_bytes``) of a stream in ``[start_ms, end_ms)``, oldest first.

    ``forward`` reads the oldest events after ``boundary``; otherwise the newest before it.
    """
    query = _within(select(log_events.c), start_ms, end_ms).where(log_events.c.stream_id == stream_id)
    if boundary is not None:
        query = query.where(_after(boundary) if forward else _before(boundary))
    order = _ORDER if forward else [column.desc() for column in _ORDER]
    rows = conn.execute(query.order_by(*order).limit(limit)).all()
    chosen, used = [], 0
    for row in rows:
        used += event_size(row.message)
        if used > max_bytes:
            break
        chosen.append(row)
    if not forward:
        chosen.reverse()
    return [LogEvent(row.seq, stream_name, row.timestamp_ms, row.ingestion_ms, row.message) for row in chosen]


def scan_group(
    conn: Connection,
    group: LogGroup,
    stream_ids: dict[int, str],
    *,
    start_ms: int | None,
    end_ms: int | None,
    after: Position | None,
    limit: int,
) -> list[LogEvent]:
    """Up to ``limit`` events of the streams ``stream_ids`` (id → name), in time order, after ``after``."""
    query = _within(select(log_events.c), start_ms, end_ms).where(
        log_events.c.group_id == group.id, log_events.c.stream_id.in_(list(stream_ids))
    )
    if after is not None:
        query = query.where(_after(after))
    rows = conn.execute(query.order_by(*_ORDER).limit(limit))
    return [
        LogEvent(row.seq, stream_ids[row.stream_id], row.timestamp_ms, row.ingestion_ms, row.message) for row in rows
    ]


_ORDER = [log_events.c.timestamp_ms, log_events.c.seq]


def _within(query: Select, start_ms: int | None, end_ms: int | None) -> Select:
    if start_ms is not None:
        query = query.where(log_events.c.timestamp_ms >= start_ms)
    if end_ms is not None:
        query = query.where(log_events.c.timestamp_ms < end_ms)
    return query


def _after(position: Position) -> ColumnElement[bool]:
    events = log_events.c
    return or_(
        events.timestamp_ms > position.timestamp_ms,
        and_(events.timestamp_ms == position.timestamp_ms, events.seq > position.seq),
    )


def _before(position: Position) -> ColumnElement[bool]:
    events = log_events.c
    return or_(
        events.timestamp_ms < position.timestamp_ms,
        and_(events.timestamp_ms == position.timestamp_ms, events.seq < position.seq),
    )
