"""The dashboard's counts per département (statuses, notices) are kept by the database as they
change (``enrollment.tally``): they always equal a count of the registry and the notices,
through imports, campaigns, bounces, printed letters, oppositions, openings, deaths, moves and
compactions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from tests.enrollment.conftest import write_file
from tests.enrollment.test_campaigns import Row, holders, rows, run_jobs, start
from tests.enrollment.test_console import rt
from tests.enrollment.test_opposition import by_phone

from carnet.core.clock import FrozenClock
from carnet.enrollment import models, tally
from carnet.enrollment import service as enrollment_service
from carnet.runtime import Runtime

__all__ = ["rows", "rt"]  # the fixtures: test_campaigns's registry on test_console's runtime
# (an https base URL: printed letters link to it)
_b = models.beneficiary


def live_counts(rt: Runtime) -> dict[tuple[str, str], int]:
    with rt.transaction(readonly=True) as db:
        found = db.execute(
            select(_b.c.departement, _b.c.status, func.count()).group_by(
                _b.c.departement, _b.c.status
            )
        )
        return {(row[0], row[1]): int(row[2]) for row in found}


def kept_counts(rt: Runtime) -> dict[tuple[str, ...], int]:
    """Both tallies, as the live counts below give them."""
    with rt.transaction(readonly=True) as db:
        return {**tally.counts(db), **tally.notice_counts(db)}


def live_notice_counts(rt: Runtime) -> dict[tuple[str, ...], int]:
    _n = models.notice
    with rt.transaction(readonly=True) as db:
        found = db.execute(
            select(_b.c.departement, _n.c.channel, _n.c.status, func.count())
            .select_from(_n.join(_b, _b.c.id == _n.c.beneficiary_id))
            .group_by(_b.c.departement, _n.c.channel, _n.c.status)
        )
        return {(row[0], row[1], row[2]): int(row[3]) for row in found}


def all_live(rt: Runtime) -> dict[tuple[str, ...], int]:
    return {**live_counts(rt), **live_notice_counts(rt)}


def test_the_tally_follows_every_change_of_status(
    rt: Runtime, rows: list[Row], tmp_path: Path
) -> None:
    assert kept_counts(rt) == all_live(rt)  # the import's bulk inserts
    start(rt)
    run_jobs(rt)  # campaign steps: bulk UPDATEs of holders and their children
    assert kept_counts(rt) == all_live(rt)
    # A bounce turns a notice into a letter; printing letters marks their notices sent.
    bounced = [r for r in holders(rows) if r["email"]][-1]
    with rt.transaction() as db:
        person = enrollment_service.find_beneficiary(db, storage=rt.storage, nir=bounced["nir"])
        assert person is not None
        notice_id = rt.enrollment.notices(db, beneficiary_id=person.id)[0][0]
        rt.enrollment.record_bounce(db, notice_id=notice_id)
    assert rt.enrollment.print_letters(rt.transaction, tmp_path / "letters").letters > 0
    assert kept_counts(rt) == all_live(rt)
    assert any(key[1:] == ("email", "letter-sent") for key in all_live(rt))
    opposed = next(r for r in holders(rows) if r["email"])
    by_phone(rt, opposed)
    assert isinstance(rt.clock, FrozenClock)
    rt.clock.advance(timedelta(weeks=6, days=1))
    assert rt.enrollment.opening.open_due(rt.transaction, batch=7).opened > 0
    assert kept_counts(rt) == all_live(rt)
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
    live = all_live(rt)
    assert kept_counts(rt) == live
    assert ("2A", "open") in live and any(key[1] == "deceased" for key in live)

    # Compaction folds the rows, one per (département, status), and changes no count.
    with rt.transaction() as db:
        folded = tally.compact(db)
        left = sum(
            db.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (models.status_tally, models.notice_tally)
        )
    assert folded > left == len(live)
    assert kept_counts(rt) == live
