"""The ``jobs`` and ``job_metrics`` tables: create, read, list and change jobs (a
:class:`~shipyard.store.record_table.RecordTable`); tags and local images."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, insert, select, update

from shipyard.compute.records import ACTIVE, Job
from shipyard.store.database import Database
from shipyard.store.record_table import RecordTable
from shipyard.store.records import now_ms
from shipyard.store.tables import job_metrics, jobs, local_images, sagemaker_tags


class JobStore(RecordTable[Job]):
    """Jobs of every kind and region, over one :class:`Database`."""

    def __init__(self, database: Database) -> None:
        super().__init__(database, jobs, Job)

    async def active(self) -> list[Job]:
        """Every job still in progress or stopping, oldest first (the capacity queue's order)."""
        return await self.where(jobs.c.status.in_(ACTIVE))

    async def add_metrics(self, job_id: int, points: Sequence[tuple[str, int, float]]) -> None:
        """Append ``(name, timestamp_ms, value)`` points to a job's metric series."""
        if not points:
            return
        rows = [{"job_id": job_id, "name": name, "timestamp_ms": at, "value": value} for name, at, value in points]
        await self._database.write(lambda conn: conn.execute(insert(job_metrics), rows))

    async def metric_values(self, job_id: int, name: str) -> list[float]:
        """Every value of metric ``name`` the job logged, in order."""

        def find(conn: Connection) -> list[float]:
            rows = conn.execute(
                select(job_metrics.c.value)
                .where(job_metrics.c.job_id == job_id, job_metrics.c.name == name)
                .order_by(job_metrics.c.seq)
            )
            return [row.value for row in rows]

        return await self._database.read(find)


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

