"""Bookkeeping of directory imports: runs (for resuming) and entries (for idempotence and
removals). Rows only: the importer decides."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update

from carnet.interop import models
from carnet.interop.errors import ImportAlreadyRunning
from carnet.interop.schemas import ImportMode, ImportReport, RunStatus, TypeCounts

Key = tuple[str, str]
"""(resource type, resource id)"""

_run = models.directory_run
_entry = models.directory_entry
_RESUMABLE = ("running", "interrupted")
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Entry:
    content_hash: str
    last_seen_run: int
    active: bool


@dataclass(frozen=True, slots=True)
class RunState:
    run: int
    lines_done: int
    report: ImportReport
    report_size: int
    """Bytes of the error report written when the last batch committed."""


def _report_json(report: ImportReport, report_size: int) -> str:
    data = asdict(report)
    data.pop("report_path")
    data["unknown_columns"] = list(report.unknown_columns)
    data["report_size"] = report_size
    return orjson.dumps(data).decode()


def _report_from(text: str, path: Any) -> tuple[ImportReport, int]:
    data = orjson.loads(text)
    size = int(data.pop("report_size", 0))
    counts = {name: TypeCounts(**values) for name, values in data.pop("counts").items()}
    unknown = tuple(data.pop("unknown_columns", ()))
    return ImportReport(**data, counts=counts, unknown_columns=unknown, report_path=path), size


def open_run(
    db: Connection,
    *,
    digest: str,
    name: str,
    mode: ImportMode,
    now: datetime,
    stale_after: timedelta,
    report_path: Any,
) -> RunState:
    """Resume the unfinished run of this same file and mode, or start a new one.

    Raises ImportAlreadyRunning when an unfinished run was active within ``stale_after`` (a
    live importer); unfinished runs of other files are marked abandoned (their marks are
    harmless: removals compare with the newest run only).
    """
    rows = db.execute(
        select(_run).where(_run.c.status.in_(_RESUMABLE)).order_by(_run.c.run.desc())
    ).all()
    if any(r.status == "running" and r.updated_at > now - stale_after for r in rows):
        raise ImportAlreadyRunning
    resumable = next((r for r in rows if r.source_digest == digest and r.mode == mode), None)
    others = [r.run for r in rows if resumable is None or r.run != resumable.run]
    if others:
        db.execute(update(_run).where(_run.c.run.in_(others)).values(status="abandoned"))
    if resumable is not None:
        report, size = _report_from(resumable.report, report_path)
        report.resumed = True
        report.status = "running"
        save_progress(
            db,
            resumable.run,
            lines_done=resumable.lines_done,
            report=report,
            report_size=size,
            now=now,
        )
        return RunState(resumable.run, resumable.lines_done, report, size)
    run = db.execute(
        insert(_run).returning(_run.c.run),
        {
            "source_digest": digest,
            "source_name": name[:255],
            "mode": mode,
            "status": "running",
            "lines_done": 0,
            "report": "{}",
            "started_at": now,
            "updated_at": now,
        },
    ).scalar_one()
    report = ImportReport(run=int(run), mode=mode, report_path=report_path)
    save_progress(db, int(run), lines_done=0, report=report, report_size=0, now=now)
    return RunState(int(run), 0, report, 0)


def save_progress(
    db: Connection,
    run: int,
    *,
    lines_done: int,
    report: ImportReport,
    report_size: int,
    now: datetime,
    finished: bool = False,
) -> None:
    """Record a committed batch (or the end of the run) with the counters so far."""
    values: dict[str, Any] = {
        "lines_done": lines_done,
        "report": _report_json(report, report_size),
        "status": report.status,
        "updated_at": now,
    }
    if finished:
        values["finished_at"] = now
    db.execute(update(_run).where(_run.c.run == run).values(**values))


def set_status(db: Connection, run: int, status: RunStatus, now: datetime) -> None:
    db.execute(update(_run).where(_run.c.run == run).values(status=status, updated_at=now))


def entries(db: Connection, keys: Iterable[Key]) -> dict[Key, Entry]:
    """The entries of ``keys`` that exist."""
    by_type: dict[str, list[str]] = {}
    for resource_type, resource_id in keys:
        by_type.setdefault(resource_type, []).append(resource_id)
    found: dict[Key, Entry] = {}
    for resource_type, ids in by_type.items():
        for start in range(0, len(ids), _CHUNK):
            rows = db.execute(
                select(
                    _entry.c.resource_id,
                    _entry.c.content_hash,
                    _entry.c.last_seen_run,
                    _entry.c.active,
                )
                .where(_entry.c.resource_type == resource_type)
                .where(_entry.c.resource_id.in_(ids[start : start + _CHUNK]))
            )
            for row in rows:
                found[(resource_type, row.resource_id)] = Entry(
                    row.content_hash, row.last_seen_run, row.active
                )
    return found


def add_entries(db: Connection, run: int, written: Sequence[tuple[Key, str]]) -> None:
    """New entries for resources written for the first time, seen by ``run``."""
    if written:
        db.execute(
            insert(_entry),
            [
                {
                    "resource_type": key[0],
                    "resource_id": key[1],
                    "content_hash": digest,
                    "last_seen_run": run,
                    "active": True,
                }
                for key, digest in written
            ],
        )


_UPDATE_ENTRY = (
    update(_entry)
    .where(_entry.c.resource_type == bindparam("k_type"))
    .where(_entry.c.resource_id == bindparam("k_id"))
    .values(
        content_hash=bindparam("v_hash"),
        last_seen_run=bindparam("v_run"),
        active=bindparam("v_active"),
    )
)


def update_entries(
    db: Connection, run: int, written: Sequence[tuple[Key, str]], *, active: bool = True
) -> None:
    """Entries of resources given a new version: their new hash, seen by ``run``."""
    if written:
        db.execute(
            _UPDATE_ENTRY,
            [
                {"k_type": k[0], "k_id": k[1], "v_hash": h, "v_run": run, "v_active": active}
                for k, h in written
            ],
        )


def touch_entries(db: Connection, run: int, keys: Sequence[Key]) -> None:
    """Entries of unchanged resources: seen by ``run``."""
    by_type: dict[str, list[str]] = {}
    for resource_type, resource_id in keys:
        by_type.setdefault(resource_type, []).append(resource_id)
    for resource_type, ids in by_type.items():
        for start in range(0, len(ids), _CHUNK):
            db.execute(
                update(_entry)
                .where(_entry.c.resource_type == resource_type)
                .where(_entry.c.resource_id.in_(ids[start : start + _CHUNK]))
                .values(last_seen_run=run)
            )


def count_active(db: Connection) -> int:
    return int(db.execute(select(func.count()).where(_entry.c.active.is_(True))).scalar_one())


def _stale(run: int) -> Any:
    return and_(_entry.c.active.is_(True), _entry.c.last_seen_run < run)


def count_stale(db: Connection, run: int) -> int:
    """Active entries the run did not see: what a full import makes inactive."""
    return int(db.execute(select(func.count()).where(_stale(run))).scalar_one())


def stale_page(db: Connection, run: int, after: Key | None, limit: int) -> list[Key]:
    """The next ``limit`` stale entries after ``after``, in key order."""
    stmt = select(_entry.c.resource_type, _entry.c.resource_id).where(_stale(run))
    if after is not None:
        stmt = stmt.where(
            or_(
                _entry.c.resource_type > after[0],
                and_(_entry.c.resource_type == after[0], _entry.c.resource_id > after[1]),
            )
        )
    rows = db.execute(
        stmt.order_by(_entry.c.resource_type, _entry.c.resource_id).limit(limit)
    ).all()
    return [(row[0], row[1]) for row in rows]
