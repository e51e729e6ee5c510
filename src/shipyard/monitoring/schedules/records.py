"""Model Monitor's resources as the server keeps them.

Table ``monitoring`` holds records (:class:`MonitoringRecord`) of three kinds:

- ``data-quality-job-definition`` and ``model-quality-job-definition``: ``request`` is the
  Create*JobDefinition request as sent (JSON-safe, no tags); ``status`` is ``Created``;
- ``monitoring-schedule``: ``request`` is CreateMonitoringSchedule as sent (no tags), its
  ``MonitoringScheduleConfig`` replaced by UpdateMonitoringSchedule; ``status`` is
  MonitoringScheduleStatus; ``details``: ``endpoint``, ``monitoring_type``,
  ``job_definition_name`` (None for an inline definition), ``next_ms`` (the next scheduled
  time, None once a one-time schedule has run), ``failure_reason``.

Table ``monitoring_executions`` holds one row per execution (:class:`Execution`), written
before its processing job is created, so a restart neither loses nor repeats one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from shipyard.store.database import Database
from shipyard.store.record_table import RecordExists, RecordTable
from shipyard.store.records import AnyRow, now_ms
from shipyard.store.tables import monitoring, monitoring_executions

DATA_QUALITY = "data-quality-job-definition"
MODEL_QUALITY = "model-quality-job-definition"
SCHEDULE = "monitoring-schedule"

#: MonitoringType -> the kind of its job definitions.
DEFINITION_KINDS = {"DataQuality": DATA_QUALITY, "ModelQuality": MODEL_QUALITY}

#: Execution statuses in which the runner still has work to do.
ACTIVE = ("Pending", "InProgress", "Stopping")


@dataclass
class MonitoringRecord:
    """One job definition or monitoring schedule."""

    id: int
    kind: str
    region: str
    name: str
    arn: str
    status: str
    request: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)
    created_ms: int = 0
    modified_ms: int = 0


class MonitoringStore(RecordTable[MonitoringRecord]):
    """Job definitions and schedules of every region, over one :class:`Database`."""

    def __init__(self, database: Database) -> None:
        super().__init__(database, monitoring, MonitoringRecord)

    async def of_kind(self, kind: str, region: str | None = None) -> list[MonitoringRecord]:
        """Every record of ``kind`` (of ``region``, if given), oldest first."""
        conditions = [monitoring.c.kind == kind]
        if region is not None:
            conditions.append(monitoring.c.region == region)
        return await self.where(*conditions)


@dataclass
class Execution:
    """One monitoring execution: a row of ``monitoring_executions``.

    ``details``: ``endpoint``, ``monitoring_type``, ``job_definition_name``, ``window``
    (``[start_ms, end_ms]``), ``definition`` (the job definition it runs, in
    MonitoringJobDefinition's terms, as it was when the execution was planned),
    ``processing_job_arn``, ``failure_reason``, ``metrics_published``.
    """

    id: int
    region: str
    schedule_name: str
    scheduled_ms: int
    status: str
    processing_job_name: str | None
    details: dict[str, Any] = field(default_factory=dict)
    created_ms: int = 0
    modified_ms: int = 0


class ExecutionStore:
    """Rows of ``monitoring_executions``; one per (region, schedule, scheduled time)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def create(self, execution: Execution) -> Execution:
        """Insert ``execution``; :class:`RecordExists` if its schedule has one at that time."""

        def insert_row(conn: Connection) -> int:
            values = _values(execution)
            try:
                return conn.execute(insert(monitoring_executions).values(**values)).inserted_primary_key[0]
            except IntegrityError as error:
                raise RecordExists(execution.schedule_name) from error

        execution.id = await self._database.write(insert_row)
        return execution

    async def active(self) -> list[Execution]:
        """Every execution not ended yet, oldest first."""
        return await self._select(monitoring_executions.c.status.in_(ACTIVE))

    async def of_schedule(self, region: str, schedule: str) -> list[Execution]:
        """Every execution of a schedule, oldest scheduled time first."""
        columns = monitoring_executions.c
        return await self._select(columns.region == region, columns.schedule_name == schedule)

    async def of_region(self, region: str) -> list[Execution]:
        return await self._select(monitoring_executions.c.region == region)

    async def latest(self, region: str, schedule: str) -> Execution | None:
        """The execution of a schedule with the latest scheduled time, or None."""
        found = await self.of_schedule(region, schedule)
        return found[-1] if found else None

    async def update(self, execution: Execution, *, also: Callable[[Connection], None] | None = None) -> None:
        """Write ``execution``'s status, job and details (``modified_ms`` moves); ``also``
        makes the writes that must commit with it, in the same transaction."""
        execution.modified_ms = max(now_ms(), execution.modified_ms)
        values = _values(execution)

        def write(conn: Connection) -> None:
            conn.execute(update(monitoring_executions).where(monitoring_executions.c.id == execution.id).values(**values))
            if also is not None:
                also(conn)

        await self._database.write(write)

    async def delete_schedule(self, region: str, schedule: str) -> None:
        """Forget every execution of a deleted schedule."""
        columns = monitoring_executions.c
        await self._database.write(
            lambda conn: conn.execute(
                delete(monitoring_executions).where(columns.region == region, columns.schedule_name == schedule)
            )
        )

    async def _select(self, *conditions: Any) -> list[Execution]:
        columns = monitoring_executions.c

        def find(conn: Connection) -> list[Execution]:
            query = select(monitoring_executions).where(*conditions).order_by(columns.scheduled_ms, columns.id)
            return [_execution(row) for row in conn.execute(query)]

        return await self._database.read(find)


def _values(execution: Execution) -> dict[str, Any]:
    return {
        "region": execution.region,
        "schedule_name": execution.schedule_name,
        "scheduled_ms": execution.scheduled_ms,
        "status": execution.status,
        "processing_job_name": execution.processing_job_name,
        "details": execution.details,
        "created_ms": execution.created_ms,
        "modified_ms": execution.modified_ms,
    }


def _execution(row: AnyRow) -> Execution:
    mapping = row._mapping
    return Execution(**{item.name: mapping[item.name] for item in fields(Execution)})
