"""Audit events to rows and back (synchronous; runs inside a database transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select

from shipyard.audit.events import AuditEvent
from shipyard.audit.resources import describe
from shipyard.store.records import AnyRow, to_datetime
from shipyard.store.tables import audit_events, audit_resources

_INSERT_EVENTS = insert(audit_events).returning(
    audit_events.c.seq, sort_by_parameter_order=True
)


def insert_events(conn: Connection, events: Sequence[AuditEvent]) -> None:
    """Insert ``events`` and their resources with one statement per table."""
    seqs = (
        conn.execute(_INSERT_EVENTS, [_event_values(event) for event in events])
        .scalars()
        .all()
    )
    resources = [
        {
            "event_seq": seq,
            "position": position,
            "arn": resource.arn,
            "resource_type": resource.type,
            "resource_name": resource.name,
        }
        for seq, event in zip(seqs, events, strict=True)
        for position, resource in enumerate(describe(arn) for arn in event.resources)
    ]
    if resources:
        conn.execute(insert(audit_resources), resources)


def _event_values(event: AuditEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "time_ms": int(event.time.timestamp() * 1000),
        "request_id": event.request_id,
        "service": event.service,
        "event_source": event.event_source,
        "event_name": event.operation,
        "principal_arn": event.principal_arn,
        "principal_id": event.principal_id,
        "principal_kind": event.principal_kind,
        "username": event.username,
        "access_key_id": event.access_key_id,
        "source_ip": event.source_ip,
        "user_agent": event.user_agent,
        "region": event.region,
        "read_only": event.read_only,
        "error_code": event.error_code,
        "error_message": event.error_message,
        "parameters": None if event.parameters is None else dict(event.parameters),
    }


def events_from_rows(conn: Connection, rows: Sequence[AnyRow]) -> list[AuditEvent]:
    """The events stored in ``rows`` of ``audit_events``, with their resources, in order."""
    arns: dict[int, list[str]] = {row.seq: [] for row in rows}
    if arns:
        query = (
            select(audit_resources.c.event_seq, audit_resources.c.arn)
            .where(audit_resources.c.event_seq.in_(list(arns)))
            .order_by(audit_resources.c.event_seq, audit_resources.c.position)
        )
        for seq, arn in conn.execute(query):
            arns[seq].append(arn)
    return [_event_from_row(row, tuple(arns[row.seq])) for row in rows]


def _event_from_row(row: AnyRow, resources: tuple[str, ...]) -> AuditEvent:
    return AuditEvent(
        event_id=row.event_id,
        time=to_datetime(row.time_ms),
        request_id=row.request_id,
        service=row.service,
        event_source=row.event_source,
        operation=row.event_name,
        principal_arn=row.principal_arn,
        principal_kind=row.principal_kind,
        username=row.username,
        access_key_id=row.access_key_id,
        source_ip=row.source_ip,
        user_agent=row.user_agent,
        region=row.region,
        resources=resources,
        parameters=row.parameters,
        error_code=row.error_code,
        error_message=row.error_message,
        read_only=row.read_only,
        principal_id=row.principal_id,
    )
