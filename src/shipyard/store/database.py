"""The metadata database: one SQLAlchemy engine, transactions run off the event loop.

Every unit of work is a plain synchronous function that takes a
:class:`~sqlalchemy.engine.Connection`; :meth:`Database.read` and :meth:`Database.write`
run it in a worker thread inside one transaction and hand its result back to the
awaiting coroutine::

    def rename(conn: Connection) -> int:
        return conn.execute(update(things).values(name="b").where(things.c.name == "a")).rowcount

    changed = await database.write(rename)

SQLite (the default, one file in the data directory) runs in WAL mode so readers never
block the writer nor each other; all writes go through a single writer thread, so two
requests never race for SQLite's write lock ("database is locked"). PostgreSQL (chosen by
URL) takes concurrent writes; code that must serialize on a key there takes a row or
advisory lock (see :meth:`Database.is_postgresql`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

T = TypeVar("T")

MIGRATIONS = Path(__file__).parent / "migrations"

#: Execution option that marks a connection as the one running a write transaction.
_WRITE = "shipyard_write"


class Database:
    """A SQLAlchemy engine plus the threads that use it.

    ``url`` is any SQLAlchemy URL; ``sqlite:///<path>`` and ``postgresql://...`` are the
    supported ones (a PostgreSQL URL without a driver uses psycopg 3). ``readers`` bounds
    how many read transactions run at once (and, on PostgreSQL, write transactions too).
    ``durable`` (SQLite) syncs every commit to disk; PostgreSQL follows its own settings.
    """

    def __init__(self, url: str, *, readers: int = 8, durable: bool = True) -> None:
        parsed = make_url(url)
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        self.url = parsed
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(parsed, pool_size=readers + 1, durable=durable)
            writers = 1
        elif self.dialect == "postgresql":
            self.engine = create_engine(parsed, pool_size=2 * readers, max_overflow=4)
            writers = readers
        else:
            raise ValueError(f"unsupported database {parsed.render_as_string(hide_password=True)}")
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="shipyard-db-read")
        self._writers = ThreadPoolExecutor(writers, thread_name_prefix="shipyard-db-write")

    @property
    def is_postgresql(self) -> bool:
        """Whether concurrent writers exist, so per-key work needs explicit locks."""
        return self.dialect == "postgresql"

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(connection)`` in a read transaction (a consistent snapshot) off the loop.

        ``fn`` must not write: on SQLite it could hit the write lock, on PostgreSQL the
        snapshot may be stale for a write.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._transact, fn, False)

    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(connection)`` in one write transaction off the loop; commit on return.

        An exception from ``fn`` rolls the whole transaction back and is raised here. On
        SQLite the transaction starts with ``BEGIN IMMEDIATE`` on the single writer thread.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writers, self._transact, fn, True)

    def read_sync(self, fn: Callable[[Connection], T]) -> T:
        """:meth:`read` for callers that are already off the event loop (CLI, startup)."""
        return self._transact(fn, False)

    def write_sync(self, fn: Callable[[Connection], T]) -> T:
        """:meth:`write` for callers already off the event loop; serialized like ``write``."""
        return self._writers.submit(self._transact, fn, True).result()

    def migrate(self) -> None:
        """Bring the schema up to the newest Alembic revision (idempotent; blocking)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))

        def upgrade(conn: Connection) -> None:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

        self.write_sync(upgrade)

    async def close(self) -> None:
        """Finish running transactions, then release the threads and connections."""
        await asyncio.get_running_loop().run_in_executor(None, self.close_sync)

    def close_sync(self) -> None:
        """:meth:`close` for callers off the event loop."""
        self._writers.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self.engine.dispose()

    def _transact(self, fn: Callable[[Connection], T], write: bool) -> T:
        with self.engine.connect() as conn:
            if write:
                conn.execution_options(**{_WRITE: True})
            elif self.dialect == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                return fn(conn)


def _sqlite_engine(url: Any, *, pool_size: int, durable: bool) -> Engine:
    """A file SQLite engine in WAL mode whose transactions begin when SQLAlchemy says so.

    pysqlite's own transaction handling is switched off (it would begin lazily, before
    the first write only); instead ``BEGIN`` / ``BEGIN IMMEDIATE`` is sent explicitly, so a
    read transaction is a snapshot and a write transaction holds the write lock from its
    first statement. ``durable`` syncs the WAL on every commit (``synchronous=FULL``), so a
    commit survives power loss; without it (``NORMAL``) it survives a crash of the process.
    """
    if url.database in (None, "", ":memory:"):
        raise ValueError("SQLite needs a database file (sqlite:///<path>); in-memory databases are not shared")
    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_size=pool_size, max_overflow=0)

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=FULL" if durable else "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=10000",
            "temp_store=MEMORY",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")

    return engine


__all__ = ["Database"]
