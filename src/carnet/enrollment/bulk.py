"""Many rows into one enrollment table in one go (a campaign step's notices and codes).

PostgreSQL: COPY, one stream instead of a bound INSERT of a thousand rows (the driver's work on
such a statement outweighed the database's). SQLite, and a few rows anywhere: one executemany.
A unique violation raises ``IntegrityError`` either way, and the caller's transaction rolls back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import psycopg
from sqlalchemy import Connection, Table, insert
from sqlalchemy.exc import IntegrityError

_COPY_FROM: Final = 50
"""From this many rows, COPY beats an executemany."""


def insert_rows(db: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ``rows`` (all with the same keys) into ``table`` in the caller's transaction."""
    if not rows:
        return
    if db.dialect.name != "postgresql" or len(rows) < _COPY_FROM:
        db.execute(insert(table), list(rows))
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
