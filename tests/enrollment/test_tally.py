"""The dashboard's counts per département and status are kept by the database as statuses
change (``enrollment.tally``): they always equal a count of the registry, through imports,
campaigns, oppositions, openings, deaths and compactions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from tests.enrollment.conftest import write_file
from tests.enrollment.test_campaigns import Row, holders, rows, rt, run_jobs, start
from tests.enrollment.test_opposition import by_phone

from carnet.core.clock import FrozenClock
from carnet.enrollment import models, tally
from carnet.enrollment import service as enrollment_service
from carnet.runtime import Runtime

__all__ = ["rows", "rt"]  # the fixtures, shared with test_campaigns
_b = models.beneficiary


def live_counts(rt: Runtime) -> dict[tuple[str, str], int]:
    with rt.transaction(readonly=True) as db:
        found = db.execute(
            select(_b.c.departement, _b.c.status, func.count()).group_by(
                _b.c.departement, _b.c.status
            )
        )
        return {(row[0], row[1]): int(row[2]) for row in found}


def kept_counts(rt: Runtime) -> dict[tuple[str, str], int]:
    with rt.transaction(readonly=True) as db:
        return tally.counts(db)


def test_the_tally_follows_every_change_of_status(
    rt: Runtime, rows: list[Row], tmp_path: Path
) -> None:
    assert kept_counts(rt) == live_counts(rt)  # the import's bulk inserts
    start(rt)
    run_jobs(rt)  # campaign steps: bulk UPDATEs of holders and their children
    assert kept_counts(rt) == live_counts(rt)
    opposed = next(r for r in holders(rows) if r["email"])
    by_phone(rt, opposed)
    assert isinstance(rt.clock, FrozenClock)
    rt.clock.advance(timedelta(weeks=6, days=1))
    assert rt.enrollment.opening.open_due(rt.transaction, batch=7).opened > 0
    assert kept_counts(rt) == live_counts(rt)
    # A later registry file records a death (of someone never informed: no space to close)
    # and moves someone to another département.
    moved = next(r for r in holders(rows) if r is not opposed and r["email"])
    pilots = enrollment_service.PILOT_DEPARTEMENTS
    dead = next(r for r in rows if not r["nir_ouvrant_droit"] and r["departement"] not in pilots)
    later = [
        r | {"date_deces": "2026-12-20"}
        if r is dead
        else r | {"departement": "2A", "code_postal": "20000", "commune": "AJACCIO"}
        if r is moved
        else r
        for r in rows
    ]
    report = enrollment_service.import_registry(
        source=write_file(tmp_path / "later.txt", later),
        storage=rt.storage,
        audit=rt.audit,
        transaction=rt.transaction,
    )
    assert report.lines_rejected == 0
    live = live_counts(rt)
    assert kept_counts(rt) == live
    assert any(status == "deceased" for _, status in live)
    assert any(departement == "2A" for departement, _ in live)

    # Compaction folds the rows, one per (département, status), and changes no count.
    with rt.transaction() as db:
        folded = tally.compact(db)
        left = db.execute(select(func.count()).select_from(models.status_tally)).scalar_one()
    assert folded > left == len(live)
    assert kept_counts(rt) == live
