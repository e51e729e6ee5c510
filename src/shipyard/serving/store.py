"""The ``hosting`` table: create, read, list, change and delete models, endpoint configs
and endpoints.

Every change is a read-modify-write of one row inside one write transaction
(:meth:`HostingStore.mutate`), so the API handlers and the fleet never overwrite each
other's changes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from shipyard.serving.records import HostingKind, HostingRecord
from shipyard.store.database import Database
from shipyard.store.listing_query import ListQuery, page_select
from shipyard.store.records import AnyRow, now_ms
from shipyard.store.tables import hosting

T = TypeVar("T")


class HostingExists(Exception):
    """A resource of that kind and name exists in the region already."""


class HostingStore:
    """Hosting resources of every kind and region, over one :class:`Database`."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def create(self, record: HostingRecord) -> HostingRecord:
        """Insert ``record`` (its id is assigned here); :class:`HostingExists` for a taken name."""

        def insert_record(conn: Connection) -> int:
            if _find(conn, record.kind, record.region, record.name) is not None:
                raise HostingExists(record.name)
            try:
                return conn.execute(insert(hosting).values(**_values(record))).inserted_primary_key[0]
            except IntegrityError as error:
                raise HostingExists(record.name) from error

        record.id = await self._database.write(insert_record)
        return record

    async def get(self, kind: HostingKind, region: str, name: str) -> HostingRecord | None:
        """The resource of ``kind`` named ``name`` in ``region``, or None."""
        return await self._database.read(lambda conn: _find(conn, kind, region, name))

    async def get_by_arn(self, arn: str) -> HostingRecord | None:
        """The resource whose ARN is ``arn`` (as SageMaker writes it: the name lower-cased), or None."""

        def find(conn: Connection) -> HostingRecord | None:
            row = conn.execute(select(hosting).where(hosting.c.arn == arn).order_by(hosting.c.id).limit(1)).first()
            return None if row is None else _record(row)

        return await self._database.read(find)

    async def get_by_id(self, record_id: int) -> HostingRecord | None:
        return await self._database.read(lambda conn: _by_id(conn, record_id))

    async def all(self, kind: HostingKind) -> list[HostingRecord]:
        """Every resource of ``kind`` in every region, oldest first (for the fleet's recovery)."""

        def find(conn: Connection) -> list[HostingRecord]:
            rows = conn.execute(select(hosting).where(hosting.c.kind == kind).order_by(hosting.c.id))
            return [_record(row) for row in rows]

        return await self._database.read(find)

    async def list(self, kind: HostingKind, region: str, query: ListQuery) -> list[HostingRecord]:
        """One page (``limit`` + 1 rows, so the caller sees whether more follow)."""

        def find(conn: Connection) -> list[HostingRecord]:
            rows = conn.execute(page_select(hosting, [hosting.c.kind == kind, hosting.c.region == region], query))
            return [_record(row) for row in rows]

        return await self._database.read(find)

    async def mutate(self, record_id: int, change: Callable[[HostingRecord], T]) -> tuple[HostingRecord, T]:
        """Apply ``change`` to the stored resource in one transaction; the resource after it
        and what ``change`` returned. ``LastModifiedTime`` moves when anything changed.
        Raises LookupError if the resource is gone."""

        def apply(conn: Connection) -> tuple[HostingRecord, T]:
            record = _by_id(conn, record_id, for_update=True)
            if record is None:
                raise LookupError(f"hosting resource {record_id} is gone")
            before = copy.deepcopy(_values(record))
            result = change(record)
            if _values(record) != before:
                record.modified_ms = max(now_ms(), record.modified_ms)
                conn.execute(update(hosting).where(hosting.c.id == record_id).values(**_values(record)))
            return record, result

        return await self._database.write(apply)

    async def delete(self, record_id: int) -> bool:
        """Remove the resource; whether it existed."""
        return bool(
            await self._database.write(
                lambda conn: conn.execute(delete(hosting).where(hosting.c.id == record_id)).rowcount
            )
        )


def _find(conn: Connection, kind: str, region: str, name: str) -> HostingRecord | None:
    row = conn.execute(
        select(hosting).where(hosting.c.kind == kind, hosting.c.region == region, hosting.c.name == name)
    ).first()
    return None if row is None else _record(row)


def _by_id(conn: Connection, record_id: int, *, for_update: bool = False) -> HostingRecord | None:
    query = select(hosting).where(hosting.c.id == record_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else _record(row)


def _record(row: AnyRow) -> HostingRecord:
    return HostingRecord(
        id=row.id,
        kind=row.kind,
        region=row.region,
        name=row.name,
        arn=row.arn,
        status=row.status,
        request=row.request,
        details=row.details,
        created_ms=row.created_ms,
        modified_ms=row.modified_ms,
    )


def _values(record: HostingRecord) -> dict[str, Any]:
    return {
        "kind": record.kind,
        "region": record.region,
        "name": record.name,
        "arn": record.arn,
        "status": record.status,
        "request": record.request,
        "details": record.details,
        "created_ms": record.created_ms,
        "modified_ms": record.modified_ms,
    }
