"""Rows of ``record_export``, for the repository's export methods (nothing decided here).

An export row carries three JSON documents: ``requester`` (the access context the job acts
with), ``plan`` (what to export) and ``progress`` (where the job is, and the files and parts it
wrote). They are read and written whole; the row is locked while a job step or a deletion works
on it, so the two never interleave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, delete, insert, select, update

from carnet.core.db import UTCDateTime
from carnet.record import models
from carnet.record.store import AnyRow

_E = models.export
_SELECT = select(_E).where(_E.c.id == bindparam("export_id"))
_LOCK = _SELECT.with_for_update()
_DELETE = delete(_E).where(_E.c.id == bindparam("export_id"))
_EXPIRED = (
    select(_E.c.id)
    .where(_E.c.expires_at < bindparam("now", type_=UTCDateTime()))
    .order_by(_E.c.expires_at)
    .limit(bindparam("limit"))
)


@dataclass
class FileEntry:
    """One NDJSON file of an export: its lines are spread over ``parts`` (blob ids)."""

    id: str
    resource_type: str
    count: int = 0
    parts: list[str] = field(default_factory=list)
    error: bool = False


@dataclass
class Progress:
    """Where an export stands; the job's cursor is (``segment``, ``after``)."""

    segment: int = 0
    after: str = ""
    """The id of the last row read in the current segment ("" at its start)."""
    written: int = 0
    erased: dict[str, int] = field(default_factory=dict)
    """Resources left out by type because their owner's data key was destroyed."""
    failures: int = 0
    files: list[FileEntry] = field(default_factory=list)

    def dumps(self) -> str:
        return orjson.dumps(self).decode()

    @classmethod
    def loads(cls, text: str) -> Progress:
        data = orjson.loads(text)
        files = [FileEntry(**f) for f in data.pop("files")]
        return cls(**data, files=files)

    def file(self, file_id: str) -> FileEntry | None:
        return next((f for f in self.files if f.id == file_id), None)

    def blob_ids(self) -> list[str]:
        return [blob_id for f in self.files for blob_id in f.parts]


@dataclass(frozen=True, slots=True)
class Plan:
    """What an export reads: types in order, and from which compartments."""

    types: tuple[str, ...]
    since: datetime | None
    members: tuple[str, ...] | None
    """One patient or a group's members (one segment per type and member); None: no patient
    filter (``any_patient`` then says whether rows outside every compartment are left out)."""
    any_patient: bool

    def dumps(self) -> str:
        return orjson.dumps(self).decode()

    @classmethod
    def loads(cls, text: str) -> Plan:
        data = orjson.loads(text)
        since = datetime.fromisoformat(data["since"]) if data["since"] else None
        members = tuple(data["members"]) if data["members"] is not None else None
        return cls(tuple(data["types"]), since, members, data["any_patient"])

    @property
    def segments(self) -> int:
        return len(self.types) * (len(self.members) if self.members is not None else 1)

    def segment(self, index: int) -> tuple[str, str | None]:
        """The type and the patient (None: no single patient) of segment ``index``."""
        if self.members is None:
            return self.types[index], None
        per_type = len(self.members)
        return self.types[index // per_type], self.members[index % per_type]


def insert_export(db: Connection, values: dict[str, Any]) -> None:
    db.execute(insert(_E).values(**values))


def get(db: Connection, export_id: str, *, lock: bool = False) -> AnyRow | None:
    """The export's row; with ``lock``, held until the transaction ends (PostgreSQL; SQLite's
    single writer serialises the writers already)."""
    stmt = _LOCK if lock and db.dialect.name == "postgresql" else _SELECT
    return db.execute(stmt, {"export_id": export_id}).first()


def save(db: Connection, export_id: str, **values: Any) -> None:
    db.execute(update(_E).where(_E.c.id == export_id).values(**values))


def remove(db: Connection, export_id: str) -> None:
    db.execute(_DELETE, {"export_id": export_id})


def expired(db: Connection, now: datetime, *, limit: int) -> Sequence[str]:
    return list(db.execute(_EXPIRED, {"now": now, "limit": limit}).scalars())
