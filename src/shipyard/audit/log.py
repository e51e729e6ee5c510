"""The audit log: every request is recorded, durably, before its answer leaves."""

from __future__ import annotations

import logging

from shipyard.audit.events import AuditEvent
from shipyard.audit.group_commit import GroupCommit
from shipyard.audit.lookup import EventPage, LookupQuery, Position, find_events
from shipyard.audit.rows import insert_events
from shipyard.errors import AwsError
from shipyard.store.database import Database

log = logging.getLogger("shipyard.audit")


class AuditUnavailable(AwsError):
    """The audit trail cannot be written, so the request it records must not succeed."""

    def __init__(self) -> None:
        super().__init__(
            "ServiceUnavailable",
            "Service is unable to handle request: the audit trail cannot be written.",
            503,
            sender_fault=False,
        )


class AuditLog:
    """Records :class:`AuditEvent` rows and looks them up.

    Concurrent :meth:`record` calls are group-committed: one transaction writes every
    event queued while the previous one was committing (see
    :class:`~shipyard.audit.group_commit.GroupCommit`).
    """

    def __init__(self, database: Database) -> None:
        self._database = database
        self._commits: GroupCommit[AuditEvent] = GroupCommit(self._write)

    async def record(self, event: AuditEvent) -> None:
        """Return once ``event`` is committed; raise ``ServiceUnavailable`` (503) if it cannot be."""
        try:
            await self._commits.submit(event)
        except Exception as error:
            raise AuditUnavailable() from error

    async def lookup(
        self, query: LookupQuery, *, limit: int, after: Position | None = None
    ) -> EventPage:
        """Up to ``limit`` events matching ``query``, newest first, after ``after``."""
        return await self._database.read(
            lambda conn: find_events(conn, query, limit=limit, after=after)
        )

    async def _write(self, events: list[AuditEvent]) -> None:
        try:
            await self._database.write(lambda conn: insert_events(conn, events))
        except Exception:
            log.exception("the audit trail could not record %d events", len(events))
            raise
