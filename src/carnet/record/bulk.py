"""Many rows into one table in one go (for the repository's store alone).

PostgreSQL: COPY, a stream instead of a protocol message per row (an executemany of a bundle's
index rows cost more in the driver than in the database). SQLite, and a few rows anywhere: one
executemany of a statement built once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from sqlalchemy import Connection, Table, insert
from sqlalchemy.exc import IntegrityError

from carnet.record import models

_STATEMENTS = {
    table.name: insert(table) for table in (models.resource, *models.INDEX_TABLES.values())
}
_COPY_FROM = 50
"""From this many rows, COPY beats an executemany."""


def bulk_insert(db: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT many rows with the same columns: COPY on PostgreSQL when there are many (a stream,
    not a message per row), one executemany otherwise. A unique violation raises IntegrityError
    either way."""
    if not rows:
        return
    if db.dialect.name != "postgresql" or len(rows) < _COPY_FROM:
        statement = _STATEMENTS.get(table.name)
        db.execute(insert(table) if statement is None else statement, list(rows))
        return
    columns = list(rows[0])
    names = ", ".join(f'"{column}"' for column in columns)
    cursor = db.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(tuple(row[column] for column in columns))
    except psycopg.IntegrityError as exc:
        raise IntegrityError(f"COPY {table.name}", None, exc) from None
    finally:
        cursor.close()
