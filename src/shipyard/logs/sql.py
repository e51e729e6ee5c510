"""Creating a named row once, however many writers race to create it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_if_absent(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert ``values`` unless a unique key already holds them; whether a row was inserted.

    ``ON CONFLICT DO NOTHING`` rather than catching the error: on PostgreSQL a failed insert
    would abort the whole transaction, and two writers may race to create the same name.
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    # RETURNING rather than ``rowcount``, which psycopg leaves at -1 for these inserts.
    statement = dialect.insert(table).values(values).on_conflict_do_nothing().returning(*table.primary_key.columns)
    return conn.execute(statement).first() is not None
