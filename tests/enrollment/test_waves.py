"""Weekly newcomers' waves: once an initial campaign has finished, people registered since in
its départements are informed by a ``newcomers`` campaign, at most one a week, started by a
periodic job however often it runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.conftest import make_settings
from tests.enrollment.conftest import write_file
from tests.enrollment.test_campaigns import PILOTS, Row, holders, run_jobs, start, status_of

from carnet.core.clock import FrozenClock
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import service as enrollment_service
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
