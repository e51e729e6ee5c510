"""Finding audited events: one attribute, a time range, newest first, page by page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, Select, and_, or_, select

from shipyard.audit.events import AuditEvent
from shipyard.audit.rows import events_from_rows
from shipyard.store.tables import audit_events, audit_resources


class Attribute(StrEnum):
    """What LookupEvents can filter on (its ``AttributeKey`` values)."""

    EVENT_ID = "EventId"
    EVENT_NAME = "EventName"
    READ_ONLY = "ReadOnly"
    USERNAME = "Username"
    RESOURCE_TYPE = "ResourceType"
    RESOURCE_NAME = "ResourceName"
    EVENT_SOURCE = "EventSource"
    ACCESS_KEY_ID = "AccessKeyId"


_COLUMNS = {
    Attribute.EVENT_ID: audit_events.c.event_id,
    Attribute.EVENT_NAME: audit_events.c.event_name,
    Attribute.USERNAME: audit_events.c.username,
    Attribute.EVENT_SOURCE: audit_events.c.event_source,
    Attribute.ACCESS_KEY_ID: audit_events.c.access_key_id,
}


@dataclass(frozen=True)
class Position:
    """Where a page ended: the last event's time and row (events list newest first)."""

    time_ms: int
    seq: int


@dataclass(frozen=True)
class LookupQuery:
    """Events matching ``attribute == value`` (if given) with ``start <= time <= end``.

    ``value`` for :attr:`Attribute.READ_ONLY` is ``"true"`` or ``"false"``.
    """

    attribute: Attribute | None = None
    value: str | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class EventPage:
    """Up to ``limit`` events, newest first; ``next`` is where the next page starts, if any."""

    events: list[AuditEvent]
    next: Position | None


def find_events(
    conn: Connection, query: LookupQuery, *, limit: int, after: Position | None
) -> EventPage:
    """The page of events ``query`` matches, after ``after`` (the previous page's end)."""
    statement = _select(query, after).limit(limit + 1)
    rows = conn.execute(statement).all()
    page = rows[:limit]
    following = Position(page[-1].time_ms, page[-1].seq) if len(rows) > limit else None
    return EventPage(events_from_rows(conn, page), following)


def _select(query: LookupQuery, after: Position | None) -> Select:
    events = audit_events.c
    statement = select(audit_events).order_by(events.time_ms.desc(), events.seq.desc())
    if query.start is not None:
        statement = statement.where(events.time_ms >= _ms(query.start))
    if query.end is not None:
        statement = statement.where(events.time_ms <= _ms(query.end))
    if after is not None:
        statement = statement.where(
            or_(
                events.time_ms < after.time_ms,
                and_(events.time_ms == after.time_ms, events.seq < after.seq),
            )
        )
    match query.attribute:
        case None:
            return statement
        case Attribute.READ_ONLY:
            return statement.where(events.read_only == (query.value == "true"))
        case Attribute.RESOURCE_NAME | Attribute.RESOURCE_TYPE:
            column = (
                audit_resources.c.resource_name
                if query.attribute is Attribute.RESOURCE_NAME
                else audit_resources.c.resource_type
            )
            return statement.where(
                events.seq.in_(
                    select(audit_resources.c.event_seq).where(column == query.value)
                )
            )
        case attribute:
            return statement.where(_COLUMNS[attribute] == query.value)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
