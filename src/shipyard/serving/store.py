"""The ``hosting`` table: models, endpoint configs and endpoints (a
:class:`~shipyard.store.record_table.RecordTable`)."""

from __future__ import annotations

from shipyard.serving.records import HostingKind, HostingRecord
from shipyard.store.database import Database
from shipyard.store.record_table import RecordTable
from shipyard.store.tables import hosting


class HostingStore(RecordTable[HostingRecord]):
    """Hosting resources of every kind and region, over one :class:`Database`."""

    def __init__(self, database: Database) -> None:
        super().__init__(database, hosting, HostingRecord)

    async def all(self, kind: HostingKind) -> list[HostingRecord]:
        """Every resource of ``kind`` in every region, oldest first (for the fleet's recovery)."""
        return await self.where(hosting.c.kind == kind)
