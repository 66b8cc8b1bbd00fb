"""Row-level access to the record tables, for the repository alone.

Nothing here decides or audits: these functions read and write rows. They are private to the
record area (an import-linter contract keeps every other module out), and the repository is the
only caller.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, select, update

from carnet.record import models
from carnet.record.indexing import IndexEntries
from carnet.storage import service as storage_service

AnyRow = Row[*tuple[Any, ...]]
"""A row of any width (SQLAlchemy 2.1 types rows by their columns)."""

_CURRENT_COLUMNS = (
    models.resource.c.key,
    models.resource.c.patient_id,
    models.resource.c.version,
    models.resource.c.last_updated,
    models.resource.c.deleted,
    models.resource.c.body,
    models.resource.c.blob_id,
    models.resource.c.indexed,
)
_TABLE_BITS = {name: 1 << bit for bit, name in enumerate(models.INDEX_TABLES)}

# Statements built once: SQLAlchemy then reuses their compiled form without rebuilding them (a
# third of a read's time went into constructing statements anew on every call).
_WITH_KEY, _KEY_COLUMNS = storage_service.join_data_key(
    models.resource, func.coalesce(models.resource.c.patient_id, storage_service.SYSTEM_OWNER)
)
_SELECT_CURRENT = (
    select(*_CURRENT_COLUMNS, *_KEY_COLUMNS)
    .select_from(_WITH_KEY)
    .where(models.resource.c.resource_type == bindparam("resource_type"))
    .where(models.resource.c.id == bindparam("resource_id"))
)
_INSERT_FIRST = insert(models.resource).returning(models.resource.c.key)
_REPLACE_CURRENT = (
    update(models.resource)
    .where(models.resource.c.key == bindparam("old_key"))
    .where(models.resource.c.version == bindparam("old_version"))
    .values(
        patient_id=bindparam("patient_id"),
        version=bindparam("version"),
        last_updated=bindparam("last_updated"),
        deleted=bindparam("deleted"),
        body=bindparam("body"),
        blob_id=bindparam("blob_id"),
    )
)
_ARCHIVE = insert(models.resource_version)
_INDEX_INSERTS = {name: insert(table) for name, table in models.INDEX_TABLES.items()}
_INDEX_DELETES = {
    name: delete(table).where(table.c.resource_key == bindparam("key"))
    for name, table in models.INDEX_TABLES.items()
}
_SET_INDEXED = (
    update(models.resource)
    .where(models.resource.c.key == bindparam("row_key"))
    .values(indexed=bindparam("bits"))
)


@dataclass(frozen=True, slots=True)
class NewVersion:
    """What the repository has prepared for one version of a resource."""

    patient_id: str | None
    version: int
    last_updated: datetime
    deleted: bool
    body: bytes | None
    blob_id: str | None


def current(db: Connection, resource_type: str, resource_id: str) -> AnyRow | None:
    """The current version's row, with its owner's wrapped data key (``key_*`` columns), or None.

    Nothing is decided here; the key columns save the read path a round trip.
    """
    return db.execute(
        _SELECT_CURRENT, {"resource_type": resource_type, "resource_id": resource_id}
    ).first()


def past_version(db: Connection, key: int, version: int) -> AnyRow | None:
    table = models.resource_version
    return db.execute(
        select(table).where(table.c.resource_key == key).where(table.c.version == version)
    ).first()


def past_versions(db: Connection, key: int, *, limit: int) -> Sequence[AnyRow]:
    """Earlier versions, newest first."""
    table = models.resource_version
    return db.execute(
        select(table)
        .where(table.c.resource_key == key)
        .order_by(table.c.version.desc())
        .limit(limit)
    ).all()


def patient_of(db: Connection, resource_type: str, resource_id: str) -> str | None:
    """The compartment owner of a stored resource (for Binary.securityContext)."""
    return db.execute(
        select(models.resource.c.patient_id)
        .where(models.resource.c.resource_type == resource_type)
        .where(models.resource.c.id == resource_id)
    ).scalar_one_or_none()


def insert_first(
    db: Connection, resource_type: str, resource_id: str, new: NewVersion, *, indexed: int
) -> int:
    """Insert version 1 of a resource; return its row key. Raises IntegrityError on a race."""
    key = db.execute(
        _INSERT_FIRST,
        {
            "resource_type": resource_type,
            "id": resource_id,
            "patient_id": new.patient_id,
            "version": new.version,
            "last_updated": new.last_updated,
            "deleted": new.deleted,
            "body": new.body,
            "blob_id": new.blob_id,
            "indexed": indexed,
        },
    ).scalar_one()
    return int(key)


def replace(db: Connection, old: AnyRow, new: NewVersion) -> bool:
    """Archive ``old`` and make ``new`` current; False if ``old`` is no longer current.

    The UPDATE is conditional on the version read earlier, so two concurrent writers cannot both
    succeed: the loser changes no row and the caller reports a conflict.
    """
    changed = db.execute(
        _REPLACE_CURRENT,
        {
            "old_key": old.key,
            "old_version": old.version,
            "patient_id": new.patient_id,
            "version": new.version,
            "last_updated": new.last_updated,
            "deleted": new.deleted,
            "body": new.body,
            "blob_id": new.blob_id,
        },
    ).rowcount
    if changed != 1:
        return False
    db.execute(
        _ARCHIVE,
        {
            "resource_key": old.key,
            "version": old.version,
            "patient_id": old.patient_id,
            "last_updated": old.last_updated,
            "deleted": old.deleted,
            "body": old.body,
            "blob_id": old.blob_id,
        },
    )
    return True


def write_index(
    db: Connection,
    *,
    key: int,
    resource_type: str,
    patient_id: str | None,
    entries: IndexEntries | None,
    blind_hash: Callable[[str, str], str],
    previous_bits: int,
    stored_bits: int,
) -> None:
    """Replace the resource's index rows with ``entries`` (None: remove them all).

    ``previous_bits`` says which tables hold rows to delete, ``stored_bits`` what the resource
    row says now (a new row is inserted with its final bits, saving an UPDATE).
    """
    for name in models.INDEX_TABLES:
        if previous_bits & _TABLE_BITS[name]:
            db.execute(_INDEX_DELETES[name], {"key": key})
    bits = 0
    if entries is not None:
        common = {"resource_key": key, "resource_type": resource_type, "patient_id": patient_id}
        for name in models.INDEX_TABLES:
            rows = _rows(name, getattr(entries, name), common, resource_type, blind_hash)
            if rows:
                db.execute(_INDEX_INSERTS[name], rows)
                bits |= _TABLE_BITS[name]
    if bits != stored_bits:
        db.execute(_SET_INDEXED, {"row_key": key, "bits": bits})


def index_bits(entries: IndexEntries | None) -> int:
    """The ``indexed`` bits ``write_index`` will set for ``entries``."""
    if entries is None:
        return 0
    return sum(bit for name, bit in _TABLE_BITS.items() if getattr(entries, name))


def _rows(
    name: str,
    values: Sequence[Any],
    common: dict[str, Any],
    resource_type: str,
    blind_hash: Callable[[str, str], str],
) -> list[dict[str, Any]]:
    if name == "blind":
        # Identifying values arrive normalised and leave as keyed hashes, never in clear.
        unique = {(v.param, blind_hash(f"{resource_type}.{v.param}", v.key)) for v in values}
        return [{**common, "param": param, "hash": digest} for param, digest in sorted(unique)]
    unique_rows = dict.fromkeys(tuple(v) for v in values)
    return [{**common, **dict(zip(values[0]._fields, row, strict=True))} for row in unique_rows]
