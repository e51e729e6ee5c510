"""A table of SageMaker resources kept as mutable records: jobs, models, endpoints...

Each row is one record of a dataclass whose fields are the table's columns: ``id``,
``kind``, ``region``, ``name`` (unique together with kind and region), ``arn``,
``status``, ``created_ms``, ``modified_ms`` and whatever else the resource keeps. Every
change is a read-modify-write of one row inside one write transaction
(:meth:`RecordTable.mutate`), so the API handlers and the reconcilers never overwrite
each other's changes.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import ColumnElement, Connection, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from shipyard.store.database import Database
from shipyard.store.listing_query import ListQuery, page_select
from shipyard.store.records import AnyRow, now_ms

T = TypeVar("T")


class Record(Protocol):
    """What a record has that the table relies on."""

    id: int
    kind: str
    region: str
    name: str
    modified_ms: int


R = TypeVar("R", bound=Record)


class RecordExists(Exception):
    """A resource of that kind and name exists in the region already."""


class RecordTable(Generic[R]):
    """Records of ``record_type`` in ``table``, over one :class:`Database`."""

    def __init__(self, database: Database, table: Table, record_type: type[R]) -> None:
        self._database = database
        self._table = table
        self._type = record_type
        self._fields = [field.name for field in dataclasses.fields(record_type)]  # type: ignore[arg-type]

    async def create(self, record: R) -> R:
        """Insert ``record`` (its id is assigned here); :class:`RecordExists` for a taken name."""

        def insert_record(conn: Connection) -> int:
            if self._find(conn, self._named(record.kind, record.region, record.name)) is not None:
                raise RecordExists(record.name)
            try:
                return conn.execute(insert(self._table).values(**self._values(record))).inserted_primary_key[0]
            except IntegrityError as error:
                raise RecordExists(record.name) from error

        record.id = await self._database.write(insert_record)
        return record

    async def get(self, kind: str, region: str, name: str) -> R | None:
        """The record of ``kind`` named ``name`` in ``region``, or None."""
        return await self._database.read(lambda conn: self._find(conn, self._named(kind, region, name)))

    async def get_by_id(self, record_id: int) -> R | None:
        return await self._database.read(lambda conn: self._find(conn, [self._table.c.id == record_id]))

    async def get_by_arn(self, arn: str) -> R | None:
        """The record whose ARN is ``arn`` (as SageMaker writes it: the name lower-cased), or None."""
        return await self._database.read(lambda conn: self._find(conn, [self._table.c.arn == arn]))

    async def where(self, *conditions: ColumnElement[bool]) -> list[R]:
        """Every record that meets ``conditions``, oldest first."""

        def find(conn: Connection) -> list[R]:
            rows = conn.execute(select(self._table).where(*conditions).order_by(self._table.c.id))
            return [self._record(row) for row in rows]

        return await self._database.read(find)

    async def list(self, kind: str, region: str, query: ListQuery) -> list[R]:
        """One page of a List* operation (``limit`` + 1 rows, so the caller sees whether more follow)."""
        where = [self._table.c.kind == kind, self._table.c.region == region]

        def find(conn: Connection) -> list[R]:
            return [self._record(row) for row in conn.execute(page_select(self._table, where, query))]

        return await self._database.read(find)

    async def mutate(
        self, record_id: int, change: Callable[[R], T], *, then: Callable[[Connection, R, T], None] | None = None
    ) -> tuple[R, T]:
        """Apply ``change`` to the stored record in one transaction; the record after it and
        what ``change`` returned. ``LastModifiedTime`` moves when anything changed. Raises
        LookupError if the record is gone. ``then`` (connection, record, result) makes the
        writes that must commit together with the change, in the same transaction."""

        def apply(conn: Connection) -> tuple[R, T]:
            query = select(self._table).where(self._table.c.id == record_id)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            row = conn.execute(query).first()
            if row is None:
                raise LookupError(f"{self._table.name} row {record_id} is gone")
            record = self._record(row)
            before = copy.deepcopy(self._values(record))
            result = change(record)
            if self._values(record) != before:
                record.modified_ms = max(now_ms(), record.modified_ms)
                conn.execute(update(self._table).where(self._table.c.id == record_id).values(**self._values(record)))
            if then is not None:
                then(conn, record, result)
            return record, result

        return await self._database.write(apply)

    async def delete(self, record_id: int) -> bool:
        """Remove the record; whether it existed."""
        return bool(
            await self._database.write(
                lambda conn: conn.execute(delete(self._table).where(self._table.c.id == record_id)).rowcount
            )
        )

    def _named(self, kind: str, region: str, name: str) -> list[ColumnElement[bool]]:
        columns = self._table.c
        return [columns.kind == kind, columns.region == region, columns.name == name]

    def _find(self, conn: Connection, where: list[ColumnElement[bool]]) -> R | None:
        row = conn.execute(select(self._table).where(*where).order_by(self._table.c.id).limit(1)).first()
        return None if row is None else self._record(row)

    def _record(self, row: AnyRow) -> R:
        mapping = row._mapping
        return self._type(**{name: mapping[name] for name in self._fields})

    def _values(self, record: R) -> dict[str, Any]:
        return {name: getattr(record, name) for name in self._fields if name != "id"}
