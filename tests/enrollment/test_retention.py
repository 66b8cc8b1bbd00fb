"""The closure jobs with time moved on: archives destroyed by crypto-shredding after 10 years
(or soon after a deletion request), in resumable batches through the jobs; deaths reported by
the registry close spaces."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select
from tests.enrollment import test_closure
from tests.enrollment.conftest import write_file
from tests.enrollment.test_closure import (
    OPERATOR,
    START,
    Row,
    alive,
    close,
    events,
    id_of,
    mails,
    open_space,
    reopen,
    session_of,
    state,
)
from typer.testing import CliRunner

from carnet.audit.schemas import SYSTEM_CHAIN
from carnet.cli import app as cli_app
from carnet.core.clock import FrozenClock
from carnet.core.errors import Gone
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import models
from carnet.enrollment import service as enrollment_service
from carnet.enrollment.closure import CLOSURE_MORE_JOB
from carnet.enrollment.errors import SpaceErased, SpaceNotFound
from carnet.enrollment.schemas import CloseReason
from carnet.runtime import Runtime

Status = enrollment_service.BeneficiaryStatus
# The fixtures of test_closure: a runtime with a frozen clock, an imported registry.
clock = test_closure.clock
rt = test_closure.rt
holders = test_closure.holders


def sweep(rt: Runtime) -> enrollment_service.ClosureSweep:
    with rt.transaction() as db:
        return rt.enrollment.closure.sweep(db)


def test_the_archive_is_destroyed_ten_years_after_closing(
    rt: Runtime, holders: list[Row], clock: FrozenClock
) -> None:
    opened = open_space(rt, holders[0])
    close(rt, opened)
    clock.advance(timedelta(days=3652 - 1))  # 2026-11-26 + 10 years is 3652 days later
    assert sweep(rt).erased == 0
    assert reopen(rt, opened.row).status is Status.ACTIVE  # still within the archive period
    close(rt, opened)
    clock.advance(timedelta(days=3653))
    assert sweep(rt).erased == 1
    assert state(rt, opened).status is Status.ERASED
    # Every copy is unreadable: the registry entry and the record.
    with rt.transaction(readonly=True) as db, pytest.raises(Gone):
        enrollment_service.find_beneficiary(db, storage=rt.storage, nir=opened.row["nir"])
    with pytest.raises(Gone), rt.carnet_repository() as repository:
        repository.read("Patient", opened.patient_id)
    # The account is anonymised: its login no longer exists.
    with rt.transaction(readonly=True) as db:
        assert rt.accounts.find_account(db, login=opened.login or "") is None
        erased = events(db, SYSTEM_CHAIN, "enrollment:space:erase")
    assert erased == [
        (
            "success",
            {"reason": "holder", "deletion_requested": False, "key_destroyed": True, "told": True},
        )
    ]
    assert len(mails(rt, "space_erased")) == 1
    # Afterwards: a clear "gone" for reopening and for any operator step.
    with pytest.raises(SpaceErased):
        reopen(rt, opened.row)
    with rt.transaction() as db, pytest.raises(SpaceErased):
        rt.enrollment.closure.suspend(
            db, actor=OPERATOR, patient_id=opened.patient_id, reason="fraud"
        )
    assert sweep(rt).erased == 0  # nothing left to do


def test_a_deletion_request_is_honoured_after_its_delay(
    rt: Runtime, holders: list[Row], clock: FrozenClock
) -> None:
    opened = open_space(rt, holders[0])
    kept = open_space(rt, holders[1])
    close(rt, opened, deletion=True)
    close(rt, kept)
    clock.advance(timedelta(days=29))
    assert sweep(rt).erased == 0
    clock.advance(timedelta(days=1))
    assert sweep(rt).erased == 1
    assert state(rt, opened).status is Status.ERASED
    assert state(rt, kept).status is Status.CLOSED
    # A later deletion request for the closed one (through support) shortens its archive.
    with rt.transaction() as db:
        asked = rt.enrollment.closure.request_deletion(
            db, actor=OPERATOR, patient_id=kept.patient_id
        )
    assert asked.erase_after == START + timedelta(days=60)
    clock.advance(timedelta(days=30))
    assert sweep(rt).erased == 1


def test_erasure_runs_in_batches_through_the_jobs(
    rt: Runtime, holders: list[Row], clock: FrozenClock
) -> None:
    spaces = [open_space(rt, row) for row in holders[:5]]
    for opened in spaces:
        close(rt, opened, deletion=True)
    clock.advance(timedelta(days=31))
    with rt.transaction() as db:
        first = rt.enrollment.closure.sweep(db)
        assert (first.erased, first.more) == (2, True)  # closure_batch is 2
        rt.jobs.enqueue(db, kind=CLOSURE_MORE_JOB, dedup_key=CLOSURE_MORE_JOB)
    rt.worker(name="test").run_until_idle()
    assert {state(rt, opened).status for opened in spaces} == {Status.ERASED}
    with rt.transaction(readonly=True) as db:
        assert len(events(db, SYSTEM_CHAIN, "enrollment:space:erase")) == 5


def test_a_death_in_the_registry_closes_the_space(
    rt: Runtime, holders: list[Row], tmp_path: Path
) -> None:
    opened = open_space(rt, holders[0])
    token, _session = session_of(rt, opened)
    never = holders[1]  # listed, never opened
    rows = list(synthetic_registry(30, seed=11))
    for row in rows:
        if row["nir"] in (opened.row["nir"], never["nir"]):
            row["date_deces"] = "2026-11-20"
    report = enrollment_service.import_registry(
        source=write_file(tmp_path / "deaths.txt", rows),
        storage=rt.storage,
        audit=rt.audit,
        transaction=rt.transaction,
    )
    assert (report.lines_rejected, report.deceased) == (0, 2)
    assert state(rt, opened).status is Status.ACTIVE  # until the job runs
    assert sweep(rt).deaths == 1
    closed = state(rt, opened)
    assert closed.status is Status.CLOSED
    assert closed.close_reason is CloseReason.DEATH
    assert closed.erase_after == START.replace(year=2036)
    assert not alive(rt, token)
    assert mails(rt, "space_closed") == []  # nobody is written to about a death
    with rt.transaction(readonly=True) as db:
        status = db.execute(
            select(models.beneficiary.c.status).where(
                models.beneficiary.c.id == id_of(rt, never["nir"])
            )
        ).scalar_one()
        detail = events(db, opened.patient_id, "enrollment:space:close")[-1][1]
    assert status == Status.DECEASED
    assert detail["reason"] == "death"
    assert orjson.dumps(detail)  # ids and codes only
    assert sweep(rt).deaths == 0  # a second run finds nothing
    with pytest.raises(SpaceNotFound):  # the dead do not reopen with a card
        reopen(rt, opened.row)


def test_the_command_runs_the_sweep(
    rt: Runtime,
    holders: list[Row],
    tmp_path: Path,
    fresh_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``carnet enrollment closure-sweep`` on the same database (a death: no clock needed)."""
    opened = open_space(rt, holders[0])
    rows = list(synthetic_registry(30, seed=11))
    for row in rows:
        if row["nir"] == opened.row["nir"]:
            row["date_deces"] = "2026-11-20"
    enrollment_service.import_registry(
        source=write_file(tmp_path / "deaths.txt", rows),
        storage=rt.storage,
        audit=rt.audit,
        transaction=rt.transaction,
    )
    monkeypatch.setenv("CARNET_ENVIRONMENT", "test")
    monkeypatch.setenv("CARNET_DATA_DIR", str(tmp_path / "var"))  # the runtime's keyring
    monkeypatch.setenv("CARNET_DATABASE__URL", fresh_database_url)
    monkeypatch.setenv("CARNET_JOBS__WORKER_IN_SERVER", "false")
    result = CliRunner().invoke(cli_app, ["enrollment", "closure-sweep"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "1 reported deaths handled" in result.output
    assert state(rt, opened).close_reason is CloseReason.DEATH
