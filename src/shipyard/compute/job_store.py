"""The ``jobs`` and ``job_metrics`` tables: create, read, list and change jobs.

Every change is a read-modify-write of one row inside one write transaction
(:meth:`JobStore.mutate`), so the API handlers (a stop) and the supervisor (progress)
never overwrite each other's changes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from shipyard.compute.records import ACTIVE, Job, JobKind
from shipyard.store.database import Database
from shipyard.store.listing_query import ListQuery, page_select
from shipyard.store.records import AnyRow, now_ms
from shipyard.store.tables import job_metrics, jobs, local_images, sagemaker_tags

T = TypeVar("T")


class JobExists(Exception):
    """A job of that kind and name exists in the region already."""


class JobStore:
    """Jobs of every kind and region, over one :class:`Database`."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def create(self, job: Job) -> Job:
        """Insert ``job`` (its id is assigned here); :class:`JobExists` for a taken name."""

        def insert_job(conn: Connection) -> int:
            taken = conn.execute(
                select(jobs.c.id).where(jobs.c.kind == job.kind, jobs.c.region == job.region, jobs.c.name == job.name)
            ).first()
            if taken is not None:
                raise JobExists(job.name)
            try:
                return conn.execute(insert(jobs).values(**_values(job))).inserted_primary_key[0]
            except IntegrityError as error:
                raise JobExists(job.name) from error

        job.id = await self._database.write(insert_job)
        return job

    async def get(self, kind: JobKind, region: str, name: str) -> Job | None:
        """The job of ``kind`` named ``name`` in ``region``, or None."""

        def find(conn: Connection) -> Job | None:
            row = conn.execute(
                select(jobs).where(jobs.c.kind == kind, jobs.c.region == region, jobs.c.name == name)
            ).first()
            return None if row is None else _job(row)

        return await self._database.read(find)

    async def get_by_arn(self, arn: str) -> Job | None:
        """The job whose ARN is ``arn`` (as SageMaker writes it: the name lower-cased), or None."""

        def find(conn: Connection) -> Job | None:
            row = conn.execute(select(jobs).where(jobs.c.arn == arn).order_by(jobs.c.id).limit(1)).first()
            return None if row is None else _job(row)

        return await self._database.read(find)

    async def active(self) -> list[Job]:
        """Every job still in progress or stopping, oldest first (the capacity queue's order)."""

        def find(conn: Connection) -> list[Job]:
            rows = conn.execute(select(jobs).where(jobs.c.status.in_(ACTIVE)).order_by(jobs.c.id))
            return [_job(row) for row in rows]

        return await self._database.read(find)

    async def mutate(self, job_id: int, change: Callable[[Job], T]) -> tuple[Job, T]:
        """Apply ``change`` to the stored job in one transaction; the job after it and what
        ``change`` returned. ``LastModifiedTime`` moves when anything changed."""

        def apply(conn: Connection) -> tuple[Job, T]:
            job = _by_id(conn, job_id, for_update=True)
            if job is None:
                raise LookupError(f"job {job_id} is gone")
            before = copy.deepcopy(_values(job))
            result = change(job)
            if _values(job) != before:
                job.modified_ms = max(now_ms(), job.modified_ms)
                conn.execute(update(jobs).where(jobs.c.id == job_id).values(**_values(job)))
            return job, result

        return await self._database.write(apply)

    async def list(self, kind: JobKind, region: str, query: ListQuery) -> list[Job]:
        """One page (``limit`` + 1 rows, so the caller sees whether more follow)."""

        def find(conn: Connection) -> list[Job]:
            rows = conn.execute(page_select(jobs, [jobs.c.kind == kind, jobs.c.region == region], query))
            return [_job(row) for row in rows]

        return await self._database.read(find)

    async def add_metrics(self, job_id: int, points: Sequence[tuple[str, int, float]]) -> None:
        """Append ``(name, timestamp_ms, value)`` points to a job's metric series."""
        if not points:
            return
        rows = [{"job_id": job_id, "name": name, "timestamp_ms": at, "value": value} for name, at, value in points]
        await self._database.write(lambda conn: conn.execute(insert(job_metrics), rows))


class TagStore:
    """Tags of SageMaker resources, by ARN (AddTags, ListTags, DeleteTags)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def tags(self, arn: str) -> dict[str, str]:
        def find(conn: Connection) -> dict[str, str]:
            rows = conn.execute(
                select(sagemaker_tags.c.key, sagemaker_tags.c.value)
                .where(sagemaker_tags.c.arn == arn)
                .order_by(sagemaker_tags.c.key)
            )
            return {row.key: row.value for row in rows}

        return await self._database.read(find)

    async def set(self, arn: str, tags: dict[str, str], *, limit: int | None = None) -> bool:
        """Add or overwrite ``tags``; False (and nothing changed) if more than ``limit`` would result."""

        def apply(conn: Connection) -> bool:
            existing = {
                row.key
                for row in conn.execute(select(sagemaker_tags.c.key).where(sagemaker_tags.c.arn == arn))
            }
            if limit is not None and len(existing | set(tags)) > limit:
                return False
            for key, value in tags.items():
                if key in existing:
                    conn.execute(
                        update(sagemaker_tags)
                        .where(sagemaker_tags.c.arn == arn, sagemaker_tags.c.key == key)
                        .values(value=value)
                    )
                else:
                    conn.execute(insert(sagemaker_tags).values(arn=arn, key=key, value=value))
            return True

        return await self._database.write(apply)

    async def remove(self, arn: str, keys: Sequence[str]) -> None:
        await self._database.write(
            lambda conn: conn.execute(
                delete(sagemaker_tags).where(sagemaker_tags.c.arn == arn, sagemaker_tags.c.key.in_(list(keys)))
            )
        )


class ImageStore:
    """Registered local images: a name for a directory holding ``train`` / ``serve``."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def add_sync(self, name: str, path: str) -> None:
        """Register (or re-point) ``name``; for the CLI, off the event loop."""

        def apply(conn: Connection) -> None:
            conn.execute(delete(local_images).where(local_images.c.name == name))
            conn.execute(insert(local_images).values(name=name, path=path, created_ms=now_ms()))

        self._database.write_sync(apply)

    def remove_sync(self, name: str) -> bool:
        return bool(
            self._database.write_sync(
                lambda conn: conn.execute(delete(local_images).where(local_images.c.name == name)).rowcount
            )
        )

    def list_sync(self) -> list[tuple[str, str, int]]:
        """``(name, path, created_ms)`` of every image, by name."""

        def find(conn: Connection) -> list[tuple[str, str, int]]:
            rows = conn.execute(select(local_images).order_by(local_images.c.name))
            return [(row.name, row.path, row.created_ms) for row in rows]

        return self._database.read_sync(find)

    async def path(self, name: str) -> str | None:
        """The directory registered as ``name``, or None."""

        def find(conn: Connection) -> str | None:
            return conn.execute(select(local_images.c.path).where(local_images.c.name == name)).scalar()

        return await self._database.read(find)


def _by_id(conn: Connection, job_id: int, *, for_update: bool = False) -> Job | None:
    query = select(jobs).where(jobs.c.id == job_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else _job(row)


def _job(row: AnyRow) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        region=row.region,
        name=row.name,
        arn=row.arn,
        status=row.status,
        secondary_status=row.secondary_status,
        request=row.request,
        details=row.details,
        created_ms=row.created_ms,
        modified_ms=row.modified_ms,
        stop_reason=row.stop_reason,
    )


def _values(job: Job) -> dict[str, Any]:
    return {
        "kind": job.kind,
        "region": job.region,
        "name": job.name,
        "arn": job.arn,
        "status": job.status,
        "secondary_status": job.secondary_status,
        "stop_reason": job.stop_reason,
        "request": job.request,
        "details": job.details,
        "created_ms": job.created_ms,
        "modified_ms": job.modified_ms,
    }
