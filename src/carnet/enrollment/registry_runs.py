"""Bookkeeping of registry imports: one row per run, for resuming and for operators.

A run is one file (named by its SHA-256) being imported. Each committed batch records the last
line it covered, the counters so far and the size of the rejected-lines report, so a run that
stopped (a crash, Ctrl-C, an outage) resumes exactly after its last commit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select, update

from carnet.enrollment import models
from carnet.enrollment.errors import RegistryImportRunning
from carnet.enrollment.schemas import RegistryReport, RunStatus

_run = models.registry_run
_UNFINISHED = ("running", "interrupted")


@dataclass(frozen=True, slots=True)
class RunState:
    run: int
    lines_done: int
    report: RegistryReport
    report_size: int
    """Bytes of the rejected-lines report written when the last batch committed."""


def _counters(report: RegistryReport, report_size: int) -> str:
    data = asdict(report)
    data.pop("report_path")
    data["report_size"] = report_size
    return orjson.dumps(data).decode()


def _report_from(text: str, path: Path | None) -> tuple[RegistryReport, int]:
    data = orjson.loads(text)
    size = int(data.pop("report_size", 0))
    return RegistryReport(**data, report_path=path), size


def open_run(
    db: Connection,
    *,
    digest: str,
    name: str,
    now: datetime,
    stale_after: timedelta,
    report_path: Path | None,
) -> RunState:
    """Resume the unfinished run of this same file, or start a new one.

    Raises RegistryImportRunning when an unfinished run committed a batch within
    ``stale_after`` (an importer is alive). Unfinished runs of other files are abandoned: what
    they applied stays applied (each batch was whole), the rest is simply not done.
    """
    rows = db.execute(
        select(_run).where(_run.c.status.in_(_UNFINISHED)).order_by(_run.c.run.desc())
    ).all()
    if any(row.status == "running" and row.updated_at > now - stale_after for row in rows):
        raise RegistryImportRunning
    resumable = next((row for row in rows if row.source_digest == digest), None)
    others = [row.run for row in rows if resumable is None or row.run != resumable.run]
    if others:
        db.execute(update(_run).where(_run.c.run.in_(others)).values(status="abandoned"))
    if resumable is not None:
        report, size = _report_from(resumable.report, report_path)
        report.resumed = True
        report.status = "running"
        save_progress(
            db, resumable.run, lines_done=resumable.lines_done, report=report, size=size, now=now
        )
        return RunState(resumable.run, resumable.lines_done, report, size)
    run = int(
        db.execute(
            insert(_run).returning(_run.c.run),
            {
                "source_digest": digest,
                "source_name": name[:255],
                "status": "running",
                "lines_done": 0,
                "report": "{}",
                "report_path": str(report_path)[:1024] if report_path else None,
                "started_at": now,
                "updated_at": now,
            },
        ).scalar_one()
    )
    report = RegistryReport(run=run, report_path=report_path)
    save_progress(db, run, lines_done=0, report=report, size=0, now=now)
    return RunState(run, 0, report, 0)


def save_progress(
    db: Connection,
    run: int,
    *,
    lines_done: int,
    report: RegistryReport,
    size: int,
    now: datetime,
    finished: bool = False,
) -> None:
    """Record a committed batch (or the end of the run) with the counters so far."""
    values: dict[str, Any] = {
        "lines_done": lines_done,
        "report": _counters(report, size),
        "status": report.status,
        "updated_at": now,
    }
    if finished:
        values["finished_at"] = now
    db.execute(update(_run).where(_run.c.run == run).values(**values))


def set_status(db: Connection, run: int, status: RunStatus, now: datetime) -> None:
    db.execute(update(_run).where(_run.c.run == run).values(status=status, updated_at=now))
