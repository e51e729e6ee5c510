"""The database: migrations, SQLite's settings, transactions and the single writer."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, func, insert, select, text

from shipyard.store.database import MIGRATIONS, Database
from shipyard.store.tables import accounts, metadata

pytestmark = pytest.mark.anyio


def test_migrations_create_exactly_the_declared_schema(database: Database) -> None:
    def differences(conn: Connection) -> list:
        return compare_metadata(MigrationContext.configure(conn), metadata)

    assert database.read_sync(differences) == []
    database.migrate()  # idempotent
    head = database.read_sync(lambda conn: conn.execute(text("SELECT version_num FROM alembic_version")).scalar())
    assert head == ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_migration_files_ship_with_the_package() -> None:
    assert {p.name for p in MIGRATIONS.iterdir()} >= {"env.py", "script.py.mako", "versions"}
    assert (MIGRATIONS / "versions" / "0001_initial.py").is_file()


@pytest.mark.parametrize(("durable", "synchronous"), [(True, 2), (False, 1)])
def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path, durable: bool, synchronous: int) -> None:
    """WAL always; commits synced to disk (FULL = 2) only when durable, else NORMAL = 1."""
    database = Database(f"sqlite:///{tmp_path / 'nested' / 'db.sqlite'}", durable=durable)
    try:
        pragmas = database.read_sync(
            lambda conn: [
                conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "synchronous")
            ]
        )
        assert pragmas == ["wal", 1, synchronous]
    finally:
        database.close_sync()


def test_urls() -> None:
    assert Database("postgresql://user@localhost/db").url.drivername == "postgresql+psycopg"
    with pytest.raises(ValueError):
        Database("sqlite://")
    with pytest.raises(ValueError):
        Database("mysql://localhost/db")


async def test_a_failing_write_commits_nothing(database: Database) -> None:
    def write_then_fail(conn: Connection) -> None:
        conn.execute(insert(accounts).values(id="123456789012", created_ms=0))
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await database.write(write_then_fail)
    assert await database.read(lambda conn: conn.execute(select(func.count()).select_from(accounts)).scalar()) == 0


async def test_concurrent_writes_never_collide(database: Database) -> None:
    def add(index: int):
        def write(conn: Connection) -> None:
            count = conn.execute(select(func.count()).select_from(accounts)).scalar()
            conn.execute(insert(accounts).values(id=f"{index:012d}", created_ms=count))

        return write

    await asyncio.gather(*(database.write(add(i)) for i in range(40)))
    counts = await database.read(lambda conn: sorted(conn.execute(select(accounts.c.created_ms)).scalars()))
    assert len(counts) == 40
    if not database.is_postgresql:
        assert counts == list(range(40))  # one writer: each write saw every earlier one


def test_postgresql_compares_keys_bytewise(postgres_url: str) -> None:
    """PostgreSQL's default collation would reorder keys; SQLite's is bytewise already."""
    database = Database(postgres_url)
    database.migrate()
    query = text(
        "SELECT table_name, column_name, collation_name FROM information_schema.columns"
        " WHERE (table_name, column_name) IN (('object_versions', 'key'), ('uploads', 'key'), ('uploads', 'upload_id'),"
        " ('buckets', 'name'), ('object_versions', 'bucket'))"
    )
    try:
        collations = database.read_sync(lambda conn: {tuple(row[:2]): row[2] for row in conn.execute(query)})
    finally:
        database.close_sync()
    assert set(collations.values()) == {"C"} and len(collations) == 5
