"""Row-level access to the record tables, for the repository alone.

Nothing here decides or audits: these functions read and write rows. They are private to the
record area (an import-linter contract keeps every other module out), and the repository is the
only caller.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from carnet.core.db import among, on_commit
from carnet.record import models
from carnet.record.bulk import bulk_insert
from carnet.record.hashes import reference_hash
from carnet.record.index_rows import SECOND_TABLES as _SECOND_TABLES
from carnet.record.index_rows import index_rows
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
    models.resource.c.held,
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
# A bundle's first versions in one statement (executemany with RETURNING, keys in order).
_INSERT_MANY = insert(models.resource).returning(
    models.resource.c.key, sort_by_parameter_order=True
)
_NEXT_KEYS = text(
    "SELECT nextval(pg_get_serial_sequence('record_resource', 'key')) FROM generate_series(1, :n)"
)
_SELECT_MANY = (
    select(*_CURRENT_COLUMNS, *_KEY_COLUMNS, models.resource.c.resource_type, models.resource.c.id)
    .select_from(_WITH_KEY)
    .where(models.resource.c.resource_type.in_(bindparam("types", expanding=True)))
)
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
        held=bindparam("held"),
    )
)
_ARCHIVE = insert(models.resource_version)
_INDEX_DELETES = {
    name: delete(table).where(table.c.resource_key == bindparam("key"))
    for name, table in models.INDEX_TABLES.items()
}
_SELECT_PATIENT_KEY = select(models.record_patient.c.key).where(
    models.record_patient.c.patient_id == bindparam("patient_id")
)
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
    held: int = 0
    """The version's visibility labels (``labels.held_bits``); a deletion keeps the last."""


def current(db: Connection, resource_type: str, resource_id: str) -> AnyRow | None:
    """The current version's row, with its owner's wrapped data key (``key_*`` columns), or None.

    Nothing is decided here; the key columns save the read path a round trip.
    """
    return db.execute(
        _SELECT_CURRENT, {"resource_type": resource_type, "resource_id": resource_id}
    ).first()


ROW_COLUMNS = (
    models.resource.c.resource_type,
    models.resource.c.id,
    *_CURRENT_COLUMNS,
    *_KEY_COLUMNS,
)
"""A current row as search reads it: type, id, the row, its owner's wrapped key."""
ROWS_FROM = _WITH_KEY
"""``record_resource`` joined to the owners' keys (search selects ``ROW_COLUMNS`` from it)."""
_SELECT_BY_KEYS = (
    select(*ROW_COLUMNS)
    .select_from(_WITH_KEY)
    .where(models.resource.c.key.in_(bindparam("keys", expanding=True)))
)


def rows_by_keys(db: Connection, keys: Sequence[int]) -> list[AnyRow]:
    """Current rows (with their owners' wrapped keys) by row key, in the order of ``keys``."""
    if not keys:
        return []
    found = {row.key: row for row in db.execute(_SELECT_BY_KEYS, {"keys": list(keys)})}
    return [found[key] for key in keys if key in found]


def past_version(db: Connection, key: int, version: int) -> AnyRow | None:
    table = models.resource_version
    return db.execute(
        select(table).where(table.c.resource_key == key).where(table.c.version == version)
    ).first()


def past_versions(
    db: Connection,
    key: int,
    *,
    limit: int,
    before: int | None = None,
    since: datetime | None = None,
) -> Sequence[AnyRow]:
    """Earlier versions, newest first: below version ``before``, made at or after ``since``."""
    table = models.resource_version
    stmt = select(table).where(table.c.resource_key == key)
    if before is not None:
        stmt = stmt.where(table.c.version < before)
    if since is not None:
        stmt = stmt.where(table.c.last_updated >= since)
    return db.execute(stmt.order_by(table.c.version.desc()).limit(limit)).all()


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
        _INSERT_FIRST, _first_row(resource_type, resource_id, new, indexed)
    ).scalar_one()
    return int(key)


def insert_many(db: Connection, rows: Sequence[tuple[str, str, NewVersion, int]]) -> list[int]:
    """Insert version 1 of several resources (type, id, version, indexed bits) at once; return
    their row keys in the same order. Raises IntegrityError on a race.

    PostgreSQL: keys drawn from the table's sequence in one query, then one COPY (an INSERT with
    RETURNING for hundreds of rows cost more in the driver than the database spent on it).
    SQLite: one INSERT with RETURNING, the keys in the rows' order.
    """
    params = [_first_row(kind, resource_id, new, bits) for kind, resource_id, new, bits in rows]
    if db.dialect.name != "postgresql":
        return [int(key) for key in db.execute(_INSERT_MANY, params).scalars()]
    keys = [int(key) for key in db.execute(_NEXT_KEYS, {"n": len(params)}).scalars()]
    for row, key in zip(params, keys, strict=True):
        row["key"] = key
    bulk_insert(db, models.resource, params)
    return keys


def current_many(
    db: Connection, wanted: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], AnyRow]:
    """The current rows (as ``current`` gives them) of several resources, by (type, id)."""
    found: dict[tuple[str, str], AnyRow] = {}
    pairs = set(wanted)
    types = sorted({resource_type for resource_type, _ in pairs})
    ids = sorted({resource_id for _, resource_id in pairs})
    for condition in among(db, models.resource.c.id, ids):
        rows = db.execute(_SELECT_MANY.where(condition), {"types": types})
        for row in rows:
            if (row.resource_type, row.id) in pairs:
                found[(row.resource_type, row.id)] = row
    return found


def _first_row(
    resource_type: str, resource_id: str, new: NewVersion, indexed: int
) -> dict[str, Any]:
    return {
        "resource_type": resource_type,
        "id": resource_id,
        "patient_id": new.patient_id,
        "version": new.version,
        "last_updated": new.last_updated,
        "deleted": new.deleted,
        "body": new.body,
        "blob_id": new.blob_id,
        "held": new.held,
        "indexed": indexed,
        "ref_hash": reference_hash(resource_type, resource_id),
    }


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
            "held": new.held,
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


@dataclass(frozen=True, slots=True)
class IndexWrite:
    """One resource's index rows to replace (``entries`` None: remove them all).

    ``previous_bits`` says which tables hold rows to delete, ``stored_bits`` what the resource
    row says now (a new row is inserted with its final bits, saving an UPDATE).
    """

    key: int
    resource_type: str
    patient_id: str | None
    entries: IndexEntries | None
    previous_bits: int
    stored_bits: int


class PatientKeys:
    """Patient ids to their ``record_patient`` keys, cached for the process once committed.

    A key read or made inside a transaction is cached only after that transaction commits
    (``on_commit``): a rolled-back creation must not leave a key that no row holds. Committed
    rows never change, so the cache never goes stale. One per database (held by ``Record``).
    """

    def __init__(self, size: int = 200_000) -> None:
        # Bounded: a national server sees tens of millions of patients over time.
        self._known: OrderedDict[str, int] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, db: Connection, patient_id: str, *, create: bool) -> int | None:
        """The patient's key; made when ``create`` (and absent), else None when absent."""
        known = self._known.get(patient_id)
        if known is not None:
            return known
        key = db.execute(_SELECT_PATIENT_KEY, {"patient_id": patient_id}).scalar_one_or_none()
        if key is None and create:
            insert_stmt: Any = pg_insert if db.dialect.name == "postgresql" else sqlite_insert
            db.execute(
                insert_stmt(models.record_patient)
                .values(patient_id=patient_id)
                .on_conflict_do_nothing(index_elements=["patient_id"])
            )
            key = db.execute(_SELECT_PATIENT_KEY, {"patient_id": patient_id}).scalar_one()
        if key is not None:
            on_commit(db, lambda: self._remember(patient_id, int(key)))
        return None if key is None else int(key)

    def get_many(self, db: Connection, patient_ids: Sequence[str]) -> dict[str, int]:
        """The keys of several patients, made for those who have none: a few statements for a
        whole bundle (a batch of spaces opened writes a thousand new patients at once)."""
        found = {pid: key for pid in patient_ids if (key := self._known.get(pid)) is not None}
        wanted = sorted(set(patient_ids) - set(found))
        if wanted:
            found.update(self._read_many(db, wanted))
            missing = [pid for pid in wanted if pid not in found]
            if missing:
                insert_stmt: Any = pg_insert if db.dialect.name == "postgresql" else sqlite_insert
                db.execute(
                    insert_stmt(models.record_patient).on_conflict_do_nothing(
                        index_elements=["patient_id"]
                    ),
                    [{"patient_id": pid} for pid in missing],
                )
                found.update(self._read_many(db, missing))
            made = {pid: found[pid] for pid in wanted}
            on_commit(db, lambda: self._remember_all(made))
        return found

    def _read_many(self, db: Connection, patient_ids: list[str]) -> dict[str, int]:
        table = models.record_patient
        keys: dict[str, int] = {}
        for condition in among(db, table.c.patient_id, patient_ids):
            rows = db.execute(select(table.c.patient_id, table.c.key).where(condition))
            keys.update({row.patient_id: int(row.key) for row in rows})
        return keys

    def _remember_all(self, keys: dict[str, int]) -> None:
        for patient_id, key in keys.items():
            self._remember(patient_id, key)

    def _remember(self, patient_id: str, key: int) -> None:
        with self._lock:
            self._known[patient_id] = key
            self._known.move_to_end(patient_id)
            if len(self._known) > self._size:
                self._known.popitem(last=False)


def write_index(
    db: Connection,
    *,
    key: int,
    resource_type: str,
    patient_id: str | None,
    entries: IndexEntries | None,
    blind_hash: Callable[[str, str], str],
    patient_keys: PatientKeys,
    previous_bits: int,
    stored_bits: int,
) -> None:
    """Replace one resource's index rows (see ``write_indexes``)."""
    item = IndexWrite(key, resource_type, patient_id, entries, previous_bits, stored_bits)
    write_indexes(db, [item], blind_hash=blind_hash, patient_keys=patient_keys)


def write_indexes(
    db: Connection,
    items: Sequence[IndexWrite],
    *,
    blind_hash: Callable[[str, str], str],
    patient_keys: PatientKeys,
) -> None:
    """Replace the index rows of several resources: per table, one DELETE and one INSERT, each
    executed once for all the resources (a transaction bundle writes its rows in a few round
    trips). ``blind_hash(domain, key)`` is the storage's keyed hash of identifying values.
    """
    for name in models.INDEX_TABLES:
        doomed = [{"key": item.key} for item in items if item.previous_bits & _TABLE_BITS[name]]
        if doomed:
            db.execute(_INDEX_DELETES[name], doomed)
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in models.INDEX_TABLES}
    changed_bits = []
    # A bundle's resources share a few patients, or are a thousand new ones: read (or make)
    # their keys together.
    patients = [item.patient_id for item in items if item.entries is not None and item.patient_id]
    owners: dict[str, int | None] = (
        dict(patient_keys.get_many(db, patients)) if len(patients) > 1 else {}
    )
    for item in items:
        bits = 0
        if item.entries is not None:
            owner = _patient_key(db, patient_keys, owners, item.patient_id)
            for name, table_rows in index_rows(item, owner, blind_hash).items():
                rows[name].extend(table_rows)
                bits |= _TABLE_BITS[name] if table_rows else 0
        if bits != item.stored_bits:
            changed_bits.append({"row_key": item.key, "bits": bits})
    for name, table_rows in rows.items():
        if table_rows:
            bulk_insert(db, models.INDEX_TABLES[name], table_rows)
    if changed_bits:
        db.execute(_SET_INDEXED, changed_bits)


def _patient_key(
    db: Connection, patient_keys: PatientKeys, owners: dict[str, int | None], patient_id: str | None
) -> int | None:
    """The patient's index key, looked up once per write (``owners`` remembers it)."""
    if patient_id is None:
        return None
    if patient_id not in owners:
        owners[patient_id] = patient_keys.get(db, patient_id, create=True)
    return owners[patient_id]


def index_bits(entries: IndexEntries | None) -> int:
    """The ``indexed`` bits ``write_indexes`` will set for ``entries``."""
    if entries is None:
        return 0
    bits = sum(bit for name, bit in _TABLE_BITS.items() if getattr(entries, name))
    for entry in entries.composite:
        bits |= _TABLE_BITS[_SECOND_TABLES[type(entry.second)]]
    return bits
