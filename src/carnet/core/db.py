"""Database plumbing: metadata, engines, and the unit of work.

SQLAlchemy 2 Core, synchronous (DESIGN.md §1b). Every area declares its tables on ``metadata``
in its private ``models.py``; services receive a ``Connection`` already inside a transaction and
never commit (DESIGN.md §8.1): the entry point owns the transaction (``Database.transaction``).

The same tables and statements run on SQLite (the embedded default) and PostgreSQL (production).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    DateTime,
    Dialect,
    Engine,
    Integer,
    MetaData,
    Table,
    any_,
    create_engine,
    event,
    literal,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.types import TypeDecorator

from carnet.core.errors import ClientError, ConfigurationError

try:
    import fcntl
except ImportError:  # not on Windows: threads are still ordered, processes by SQLite alone
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)
"""The one MetaData every area's tables belong to (Alembic compares it with the migrations)."""

BigIntegerKey = BigInteger().with_variant(Integer, "sqlite")
"""A 64-bit surrogate key that SQLite also auto-increments (only INTEGER aliases the rowid)."""

SQLITE_BUSY_TIMEOUT_MS = 30_000
_ON_COMMIT = "carnet_on_commit"
_SAVEPOINTS = "carnet_savepoints"


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC instant on both databases.

    SQLite has no time zone type and would hand back naive values; PostgreSQL's timestamptz
    would hand back the session's zone. Both are normalised to aware UTC so that values hash,
    compare and serialise identically everywhere (the audit chain depends on it).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: pass an aware UTC instant")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        del dialect  # both databases are read the same way
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def normalise_url(url: str) -> str:
    """Pick the drivers Carnet supports: psycopg 3 on PostgreSQL, the stdlib on SQLite."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername not in {"postgresql+psycopg", "sqlite", "sqlite+pysqlite"}:
        raise ConfigurationError(
            f"unsupported database driver {parsed.drivername!r}: use postgresql:// or sqlite://"
        )
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine tuned for Carnet on either database.

    ``hide_parameters`` keeps bound values (which may be health data) out of exception messages
    and therefore out of logs.
    """
    url = normalise_url(url)
    if is_sqlite(url):
        return _track_savepoints(_sqlite_engine(url))
    return _track_savepoints(
        create_engine(
            url,
            hide_parameters=True,
            pool_size=pool_size,
            max_overflow=pool_size,
            # No pre-ping: it is one more round trip on every transaction. A connection the
            # server dropped fails its first statement, SQLAlchemy invalidates the pool, and the
            # request gets a 5xx once; recycling connections hourly keeps them from going stale.
            pool_recycle=3600,
        )
    )


def _track_savepoints(engine: Engine) -> Engine:
    """Drop the ``on_commit`` callbacks registered inside a savepoint that rolls back.

    The entry point commits when a ClientError escapes, after the service rolled its own work
    back to a savepoint: a callback registered by that undone work (a cache of a row that no
    longer exists) must not run. Savepoints nest strictly, so a stack of "callbacks pending when
    it began" is enough (SQLAlchemy names them after this event).
    """

    @event.listens_for(engine, "savepoint")
    def _begin(conn: Connection, _name: str | None) -> None:
        pending = len(conn.info.get(_ON_COMMIT, ()))
        conn.info.setdefault(_SAVEPOINTS, []).append(pending)

    @event.listens_for(engine, "rollback_savepoint")
    def _rollback(conn: Connection, _name: str, _context: object) -> None:
        marks = conn.info.get(_SAVEPOINTS)
        if marks:
            del conn.info.get(_ON_COMMIT, [])[marks.pop() :]

    @event.listens_for(engine, "release_savepoint")
    def _release(conn: Connection, _name: str, _context: object) -> None:
        marks = conn.info.get(_SAVEPOINTS)
        if marks:
            marks.pop()

    return engine


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        hide_parameters=True,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        pool_size=8,
        max_overflow=24,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the sqlite3 module, so that BEGIN IMMEDIATE and
        # SAVEPOINT behave as written (SQLAlchemy's documented recipe for pysqlite).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # WAL with NORMAL survives a killed process (the tests kill one mid-write) and stays
        # consistent on power loss, losing at most the last commits; FULL would fsync on every
        # commit, and every read commits an audit event. Production runs on PostgreSQL.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front: a deferred transaction that reads then writes
        # can fail with SQLITE_BUSY instead of waiting.
        readonly = conn.get_execution_options().get("carnet_readonly")
        # Straight to the driver: this runs on every transaction, and SQLAlchemy's statement
        # machinery would cost more than the statement.
        conn.connection.dbapi_connection.execute(  # type: ignore[union-attr]
            "BEGIN DEFERRED" if readonly else "BEGIN IMMEDIATE"
        )

    return engine


class _SqliteWriterLock:
    """One writer at a time across the threads of this process and the processes of this host.

    A threading lock orders the process's own threads; ``flock`` on a file beside the database
    orders processes, and the kernel wakes the next waiter as soon as the lock is released.
    """

    def __init__(self, url: str) -> None:
        self._threads = threading.Lock()
        database = make_url(url).database
        self._path = None if not database or database == ":memory:" else Path(database + ".lock")
        self._fd: int | None = None

    def _file(self) -> int | None:
        if self._path is None or fcntl is None:
            return None
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd

    def acquire(self) -> None:
        self._threads.acquire()
        try:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        try:
            if self._fd is not None and fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


def on_commit(conn: Connection, callback: Callable[[], None]) -> None:
    """Run ``callback`` after the current transaction commits; never if it rolls back, nor if
    the savepoint it was registered in rolls back."""
    conn.info.setdefault(_ON_COMMIT, []).append(callback)


class Database:
    """The engine and the unit of work.

    ``transaction()`` is the only way the entry points (HTTP handlers, CLI commands, jobs) open a
    transaction. It commits when the block ends normally *or* with a ClientError (see
    ``core.errors``), rolls back on anything else, and runs ``on_commit`` callbacks afterwards.
    """

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, pool_size=pool_size)
        self.is_sqlite = is_sqlite(self.url)
        # SQLite has one writer at a time. Queueing writers on a lock is fairer and faster than
        # SQLite's busy handler, which sleeps and retries (p99 near a second with two server
        # processes); the file lock extends the queue to every process using the file.
        self._sqlite_writer = _SqliteWriterLock(self.url) if self.is_sqlite else None
        self.max_concurrency = 1 if self.is_sqlite else pool_size
        """How many threads can usefully run transactions at once in this process. On SQLite,
        one: more threads only queue on the writer lock while competing for the GIL, and the
        lock holder gets preempted (a convoy that tripled read latency under load)."""

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[Connection]:
        lock = None if readonly else self._sqlite_writer
        committed: list[Callable[[], None]] | None = None
        if lock is not None:
            lock.acquire()
        try:
            with self.engine.connect() as conn:
                if readonly:
                    conn.execution_options(carnet_readonly=True)
                trans = conn.begin()
                try:
                    yield conn
                except ClientError:
                    trans.commit()
                    committed = _pending(conn)
                    raise
                except BaseException:
                    trans.rollback()
                    _pending(conn)
                    raise
                trans.commit()
                committed = _pending(conn)
        finally:
            if lock is not None:
                lock.release()
            if committed:
                _run_callbacks(committed)

    def dispose(self) -> None:
        self.engine.dispose()


def _pending(conn: Connection) -> list[Callable[[], None]]:
    """The callbacks of the transaction that just ended (taken off the connection)."""
    conn.info.pop(_SAVEPOINTS, None)
    callbacks: list[Callable[[], None]] = conn.info.pop(_ON_COMMIT, [])
    return callbacks


def _run_callbacks(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:
            log.exception("an after-commit callback failed")


def insert_or_ignore(conn: Connection, table: Table, values: dict[str, Any], *, key: str) -> bool:
    """INSERT a row unless one with the same ``key`` exists; True when inserted.

    Uses each database's ON CONFLICT DO NOTHING, which never aborts the transaction (a plain
    INSERT hitting a unique constraint would, on PostgreSQL). Whether a row went in is read from
    RETURNING: psycopg reports no row count for this statement.
    """
    insert_stmt: Any = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert_stmt(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[key])
        .returning(table.c[key])
    )
    return conn.execute(stmt).first() is not None


SQLITE_BOUND_VALUES = 500
"""Values per IN list on SQLite, well under its cap on bound values per statement."""


def among(conn: Connection, column: ColumnElement[Any], values: Sequence[Any]) -> Iterator[Any]:
    """Conditions "``column`` is one of ``values``", as few as the database takes: on PostgreSQL
    one ``column = ANY(array)`` whatever the number, on SQLite one IN list per 500 values.

    Why not an IN list on PostgreSQL too: psycopg prepares a statement run five times, and the
    plan PostgreSQL then keeps for an IN list of 500 parameters is chosen from the table's
    statistics as they were. On a table grown since its last ANALYZE (a batch job filling it, or
    autovacuum off) that plan became a sequential scan per batch, whose cost grows with the
    table: opening spaces slowed from 485 to 120 a second by the 139,000th. With one array
    parameter the planner counts on a few values and keeps the index probe.
    """
    if not values:
        return
    if conn.dialect.name == "postgresql":
        yield column == any_(literal(list(values), ARRAY(column.type)))
        return
    for start in range(0, len(values), SQLITE_BOUND_VALUES):
        yield column.in_(values[start : start + SQLITE_BOUND_VALUES])
