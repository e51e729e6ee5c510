"""Fixtures of the metric store's tests: a freshly migrated database per backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from shipyard.store.database import Database
from shipyard.testing.postgres import temporary_database


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database of each backend: SQLite in the test's folder, or a temporary PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'metrics.db'}"
        return
    with temporary_database() as url:
        yield url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """The database at ``database_url``, migrated."""
    database = Database(database_url, durable=False)
    database.migrate()
    yield database
    await database.close()
