"""Weekly newcomers' waves: once an initial campaign has finished, people registered since in
its départements are informed by a ``newcomers`` campaign, at most one a week, started by a
periodic job however often it runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.conftest import make_settings
from tests.enrollment.conftest import write_file
from tests.enrollment.test_campaigns import (
    CODE,
    PILOTS,
    Row,
    holders,
    run_jobs,
    start,
    status_of,
)
from tests.enrollment.test_child_opposition import child_by_phone

from carnet.core.clock import FrozenClock
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import models
from carnet.enrollment import service as enrollment_service
from carnet.notify.adapters.local import MemoryEmailSender
from carnet.runtime import Runtime, build_runtime

Status = enrollment_service.BeneficiaryStatus
Kind = enrollment_service.CampaignKind


@pytest.fixture
def rt(fresh_database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    settings = make_settings(fresh_database_url, tmp_path / "var", enrollment={"campaign_batch": 3})
    # A Thursday: ISO week 2026-W48 runs to Sunday the 29th.
    clock = FrozenClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    runtime = build_runtime(settings, clock=clock, configure_logs=False)
    yield runtime
    runtime.close()


def register(rt: Runtime, path: Path, lines: int) -> list[Row]:
    """The first ``lines`` lines of one generated registry (a longer file adds people)."""
    rows = list(synthetic_registry(lines, seed=5))
    enrollment_service.import_registry(
        source=write_file(path, rows),
        storage=rt.storage,
        audit=rt.audit,
        transaction=rt.transaction,
    )
    return rows


def newcomers_campaigns(rt: Runtime) -> list[enrollment_service.Campaign]:
    with rt.transaction(readonly=True) as db:
        return [c for c in rt.enrollment.campaigns(db) if c.kind is Kind.NEWCOMERS]


def check_now(rt: Runtime) -> enrollment_service.Campaign | None:
    with rt.transaction() as db:
        return rt.enrollment.waves.start_newcomers(db)


def pass_days(rt: Runtime, days: int) -> None:
    """Let ``days`` go by and run whatever jobs fall due (the daily check among them)."""
    assert isinstance(rt.clock, FrozenClock)
    rt.clock.advance(timedelta(days=days))
    run_jobs(rt)


def test_newcomers_are_informed_once_a_week_in_the_initial_departements(
    rt: Runtime, tmp_path: Path
) -> None:
    first = register(rt, tmp_path / "week-1.txt", 80)
    assert check_now(rt) is None  # no initial campaign yet: nothing to follow up
    start(rt)
    run_jobs(rt)
    assert check_now(rt) is None  # everyone of 31, 44 and 80 was just informed

    second = register(rt, tmp_path / "week-2.txt", 120)
    arrived = [r for r in second[80:] if not r["nir_ouvrant_droit"]]
    in_pilots = holders(second[80:], PILOTS)
    elsewhere = [r for r in arrived if r["departement"] not in PILOTS]
    assert in_pilots and elsewhere
    pass_days(rt, 1)  # the daily check runs on Friday: this week's campaign
    [campaign] = newcomers_campaigns(rt)
    assert campaign.departements == ("31", "44", "80")
    assert campaign.status is enrollment_service.CampaignStatus.FINISHED
    assert campaign.emailed + campaign.letters_due == len(in_pilots)
    for row in in_pilots:
        assert status_of(rt, row["nir"]) in {Status.NOTIFIED, Status.LETTER_DUE}
    for row in elsewhere:
        assert status_of(rt, row["nir"]) is Status.REGISTERED  # no initial wave there yet
    for row in holders(first):
        assert (
            status_of(rt, row["nir"]) is not Status.REGISTERED or row["departement"] not in PILOTS
        )

    # More people the same week wait for next week, however often the check runs.
    third = register(rt, tmp_path / "week-2b.txt", 160)
    late = holders(third[120:], PILOTS)
    assert late
    assert check_now(rt) is None
    pass_days(rt, 1)  # Saturday: same week
    assert len(newcomers_campaigns(rt)) == 1
    assert all(status_of(rt, r["nir"]) is Status.REGISTERED for r in late)

    pass_days(rt, 2)  # Monday: a new week
    assert len(newcomers_campaigns(rt)) == 2
    for row in late:
        assert status_of(rt, row["nir"]) in {Status.NOTIFIED, Status.LETTER_DUE}
    pass_days(rt, 1)  # and nobody is left waiting: no empty campaign
    assert len(newcomers_campaigns(rt)) == 2


def test_a_check_run_twice_starts_one_campaign(rt: Runtime, tmp_path: Path) -> None:
    register(rt, tmp_path / "one.txt", 80)
    start(rt)
    run_jobs(rt)
    register(rt, tmp_path / "two.txt", 120)
    first = check_now(rt)
    assert first is not None
    assert check_now(rt) is None
    run_jobs(rt)
    assert [c.id for c in newcomers_campaigns(rt)] == [first.id]


def test_a_child_attached_after_the_holders_notice_is_informed_through_the_holder(
    rt: Runtime, tmp_path: Path, importer: Callable[..., enrollment_service.RegistryReport]
) -> None:
    rows = list(synthetic_registry(80, seed=5))
    holder = next(
        h
        for h in holders(rows)
        if h["email"] and any(r["nir_ouvrant_droit"] == h["nir"] for r in rows)
    )
    child = next(r for r in rows if r["nir_ouvrant_droit"] == holder["nir"])
    # The child is not in the first file: born, or attached, after the holder's notice.
    importer(write_file(tmp_path / "before.txt", [r for r in rows if r is not child]))
    start(rt)
    run_jobs(rt)
    assert status_of(rt, holder["nir"]) is Status.NOTIFIED
    pass_days(rt, 7)  # a week later (Thursday 3 December) the child is attached
    importer(write_file(tmp_path / "after.txt", rows))
    assert status_of(rt, child["nir"]) is Status.REGISTERED

    pass_days(rt, 1)  # Friday 4 December: this week's newcomers' campaign
    assert status_of(rt, child["nir"]) is Status.NOTIFIED
    sender = rt.notify.email
    assert isinstance(sender, MemoryEmailSender)
    [notice] = [m for m in sender.outbox if m.kind == "dependant_notice"]
    assert notice.to == holder["email"]
    # No code (the holder acts for the child), no name, no NIR.
    assert CODE.search(notice.text) is None
    for secret in (child["nir"], child["prenoms"], child["nom_naissance"]):
        assert secret not in notice.text and secret not in notice.subject
    with rt.transaction(readonly=True) as db:
        child_id = enrollment_service.find_beneficiary(db, storage=rt.storage, nir=child["nir"])
        assert child_id is not None
        codes = db.execute(
            select(func.count())
            .select_from(models.activation_code)
            .where(models.activation_code.c.beneficiary_id == child_id.id)
        ).scalar_one()
    assert codes == 0

    # The holder's window ends first: the holder's space opens, the child's window still runs,
    # and the holder may still oppose for the child by phone.
    assert isinstance(rt.clock, FrozenClock)
    rt.clock.advance(timedelta(weeks=5, days=1))  # 9 January: the holder's window ended on
    # the 7th, the child's ends on the 15th
    rt.enrollment.opening.open_due(rt.transaction)
    assert status_of(rt, holder["nir"]) is Status.OPEN
    assert status_of(rt, child["nir"]) is Status.NOTIFIED
    receipt = child_by_phone(rt, holder, child)
    assert receipt.beneficiary_id == child_id.id
    assert status_of(rt, child["nir"]) is Status.OPPOSED
