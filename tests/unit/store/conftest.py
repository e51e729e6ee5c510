"""Fixtures for the persistence layer: every store test runs on SQLite and on PostgreSQL.

PostgreSQL is the server named by ``SHIPYARD_TEST_POSTGRES_URL`` (default: the local one,
user ``postgres``); a throwaway database is created for the session and dropped after it.
Tests using it are marked ``postgres`` and skipped when no server answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, text

from shipyard.store.blobs import BlobStore
from shipyard.store.database import Database
from shipyard.store.objects import S3Store
from shipyard.store.tables import metadata
from shipyard.testing.postgres import temporary_database


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session (the server must answer)."""
    with temporary_database() as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def session_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """One migrated database per backend for the whole session (emptied before each test)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'shipyard.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    database = Database(url)
    database.migrate()
    yield database
    database.close_sync()


@pytest.fixture
def database(session_database: Database) -> Database:
    """The session's database, emptied."""

    def empty(conn) -> None:
        if conn.dialect.name == "postgresql":
            names = ", ".join(table.name for table in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                conn.execute(delete(table))

    session_database.write_sync(empty)
    return session_database


@pytest.fixture
async def blobs(tmp_path: Path) -> AsyncIterator[BlobStore]:
    store = BlobStore(tmp_path / "objects", durable=False)
    yield store
    await store.close()


@pytest.fixture
def s3(database: Database, blobs: BlobStore) -> S3Store:
    return S3Store(database, blobs)
