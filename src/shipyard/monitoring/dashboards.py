"""CloudWatch dashboards as the server keeps them: one row of ``dashboards`` each.

Dashboards are global (their ARNs name no region), so a name is unique in the account.
The body is kept as the client sent it: GetDashboard answers it byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, delete, insert, select, update

from shipyard.store.database import Database
from shipyard.store.records import now_ms
from shipyard.store.tables import dashboards


@dataclass(frozen=True)
class Dashboard:
    """One dashboard."""

    name: str
    body: str
    modified_ms: int
    tags: dict[str, str] = field(default_factory=dict)


class DashboardStore:
    """The account's dashboards, over one :class:`Database`."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def put(self, name: str, body: str, tags: dict[str, str] | None = None) -> None:
        """Create dashboard ``name`` with ``tags``, or replace its body (an existing
        dashboard keeps its tags, as PutDashboard ignores them on update)."""

        def upsert(conn: Connection) -> None:
            exists = conn.execute(select(dashboards.c.id).where(dashboards.c.name == name)).first() is not None
            if exists:
                conn.execute(update(dashboards).where(dashboards.c.name == name).values(body=body, modified_ms=now_ms()))
            else:
                conn.execute(insert(dashboards).values(name=name, body=body, tags=dict(tags or {}), modified_ms=now_ms()))

        await self._database.write(upsert)

    async def get(self, name: str) -> Dashboard | None:
        row = await self._database.read(
            lambda conn: conn.execute(select(dashboards).where(dashboards.c.name == name)).first()
        )
        return None if row is None else Dashboard(row.name, row.body, row.modified_ms, dict(row.tags))

    async def page(self, prefix: str, after: str | None, limit: int) -> list[Dashboard]:
        """Up to ``limit`` dashboards whose names start with ``prefix``, by name, after ``after``."""
        statement = select(dashboards).where(dashboards.c.name.startswith(prefix, autoescape=True))
        if after is not None:
            statement = statement.where(dashboards.c.name > after)
        statement = statement.order_by(dashboards.c.name).limit(limit)
        rows = await self._database.read(lambda conn: conn.execute(statement).all())
        return [Dashboard(row.name, row.body, row.modified_ms, dict(row.tags)) for row in rows]

    async def delete(self, names: Sequence[str]) -> list[str]:
        """Delete the dashboards of ``names`` that exist (as many as possible, as
        DeleteDashboards does); the names that do not."""

        def delete_found(conn: Connection) -> list[str]:
            found = set(conn.execute(select(dashboards.c.name).where(dashboards.c.name.in_(names))).scalars())
            conn.execute(delete(dashboards).where(dashboards.c.name.in_(found)))
            return [name for name in names if name not in found]

        return await self._database.write(delete_found)

    async def change_tags(self, name: str, change: Callable[[dict[str, str]], None]) -> bool:
        """Apply ``change`` to dashboard ``name``'s tags; False if there is no such dashboard."""

        def retag(conn: Connection) -> bool:
            found = conn.execute(select(dashboards.c.tags).where(dashboards.c.name == name)).first()
            if found is None:
                return False
            tags = dict(found.tags)
            change(tags)
            conn.execute(update(dashboards).where(dashboards.c.name == name).values(tags=tags))
            return True

        return await self._database.write(retag)
