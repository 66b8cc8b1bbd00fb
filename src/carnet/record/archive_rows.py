"""The statements on ``record_archive`` (``record.models.archive``; download my data).

One row per archive a person asked for: who asked (only they may download it), the bulk export
it is built from, where it stands, and the ids of the blobs, sealed under the person's key, that
hold the ZIP in order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    delete,
    insert,
    select,
    update,
)

from carnet.record import models

PREPARING, READY, FAILED, EXPIRED = "preparing", "ready", "failed", "expired"

archive = models.archive


def add(db: Connection, values: dict[str, Any]) -> None:
    db.execute(insert(archive).values(**values))


def get(db: Connection, archive_id: str, *, lock: bool = False) -> Any:
    query = select(archive).where(archive.c.id == archive_id)
    if lock and db.dialect.name == "postgresql":
        query = query.with_for_update()
    return db.execute(query).first()


def of_patient(db: Connection, patient_id: str) -> list[Any]:
    """The person's archives, newest first."""
    query = (
        select(archive)
        .where(archive.c.patient_id == patient_id)
        .order_by(archive.c.created_at.desc(), archive.c.id.desc())
    )
    return list(db.execute(query).all())


def save(db: Connection, archive_id: str, **values: Any) -> None:
    db.execute(update(archive).where(archive.c.id == archive_id).values(**values))


def remove(db: Connection, archive_id: str) -> None:
    db.execute(delete(archive).where(archive.c.id == archive_id))


def expired(db: Connection, now: datetime, *, limit: int) -> list[str]:
    """Ready archives past their time."""
    query = (
        select(archive.c.id)
        .where(archive.c.status == READY, archive.c.expires_at < now)
        .order_by(archive.c.expires_at)
        .limit(limit)
    )
    return list(db.execute(query).scalars())


def parts_of(row: Any) -> list[str]:
    return list(orjson.loads(row.parts)) if row.parts else []
