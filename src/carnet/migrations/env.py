"""Alembic environment: runs migrations on the connection or URL the CLI hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

# Every area's tables must be imported so that ``alembic check`` compares all of them.
import carnet.audit.models
import carnet.authz.models
import carnet.enrollment.models
import carnet.identity.accounts.models
import carnet.interop.models
import carnet.jobs.models
import carnet.notify.models
import carnet.record.models
import carnet.storage.models  # noqa: F401
from carnet.core.db import make_engine, metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(context.config.attributes["url"])
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `carnet db upgrade`")
run_migrations_online()
