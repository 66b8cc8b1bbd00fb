"""Closing, reopening and suspending spaces on a real database, with a clock the tests move:
the holder closes (password again, or a fresh sign-in without one), with or without a deletion
request; the person reopens with their card; an operator suspends and lifts; bad input is
refused with nothing half-done. (Erasure, deaths and ended suspensions: ``test_retention``.)"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Connection, select, update
from tests.conftest import make_settings
from tests.enrollment.conftest import write_file

from carnet.audit import models as audit_models
from carnet.core.actor import CARNET, Actor, ActorKind
from carnet.core.clock import FrozenClock
from carnet.core.errors import InvalidInput
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import models
from carnet.enrollment import service as enrollment_service
from carnet.enrollment.errors import (
    ReopenNotAllowed,
    SpaceNotFound,
    SpaceStateConflict,
    TooManyTries,
)
from carnet.enrollment.schemas import CloseReason, SpaceState
from carnet.identity.accounts.errors import FreshSignInRequired, SignInRefused
from carnet.identity.accounts.service import CurrentSession
from carnet.notify.adapters.local import MemoryEmailSender
from carnet.runtime import Runtime, build_runtime

Status = enrollment_service.BeneficiaryStatus
Row = dict[str, str]
PASSWORD = "Tournesol-bleu-42!"
OPERATOR = Actor(kind=ActorKind.OPERATOR, id="operator-1")
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def rt(fresh_database_url: str, tmp_path: Path, clock: FrozenClock) -> Iterator[Runtime]:
    settings = make_settings(
        fresh_database_url,
        tmp_path / "var",
        enrollment={"closure_batch": 2, "regeneration_failures": 3},
    )
    runtime = build_runtime(settings, clock=clock, configure_logs=False)
    yield runtime
    runtime.close()


@pytest.fixture
def holders(rt: Runtime, tmp_path: Path) -> list[Row]:
    """A generated registry, imported: its holders with an e-mail address."""
    rows = list(synthetic_registry(30, seed=11))
    report = enrollment_service.import_registry(
        source=write_file(tmp_path / "registry.txt", rows),
        storage=rt.storage,
        audit=rt.audit,
        transaction=rt.transaction,
    )
    assert report.lines_rejected == 0
    chosen = [r for r in rows if not r["nir_ouvrant_droit"] and r["email"] and not r["date_deces"]]
    assert len(chosen) >= 6
    return chosen


@dataclass(frozen=True)
class Opened:
    patient_id: str
    row: Row
    login: str | None
    account_id: str | None


def id_of(rt: Runtime, nir: str) -> str:
    with rt.transaction(readonly=True) as db:
        found = enrollment_service.find_beneficiary(db, storage=rt.storage, nir=nir)
    assert found is not None
    return found.id


def open_space(rt: Runtime, row: Row, *, account: str | None = "password") -> Opened:
    """Open the person's space (``opening``), then give it an account as activation would:
    with a password (``"password"``), without one (``"federated"``), or none (``None``)."""
    patient_id = id_of(rt, row["nir"])
    with rt.transaction() as db:
        assert rt.enrollment.opening.open(
            db, actor=CARNET, beneficiary_id=patient_id, opened_by="request"
        )
    if account is None:
        return Opened(patient_id, row, None, None)
    login = f"closure.{secrets.token_hex(4)}" if account == "password" else None
    hashed = rt.accounts.hash_password(PASSWORD) if login else None
    with rt.transaction() as db:
        account_id = rt.accounts.create_account(
            db,
            actor=CARNET,
            kind="patient",
            person_id=patient_id,
            login=login,
            password=hashed,
            email=f"{secrets.token_hex(4)}@example.org",
        )
        # What activation's last step records (the activation flow is tested on its own).
        db.execute(
            update(models.space)
            .where(models.space.c.patient_id == patient_id)
            .values(account_id=account_id, activated_at=rt.clock.now())
        )
        db.execute(
            update(models.beneficiary)
            .where(models.beneficiary.c.id == patient_id)
            .values(status=Status.ACTIVE.value)
        )
    return Opened(patient_id, row, login, account_id)


def session_of(rt: Runtime, opened: Opened) -> tuple[str, CurrentSession]:
    """A live session of the space's account: its token and the session it names."""
    assert opened.account_id is not None
    with rt.transaction() as db:
        issued = rt.accounts.open_session(
            db,
            account_id=opened.account_id,
            method="password",
            acr=None,
            client_address=None,
            user_agent=None,
            now=rt.clock.now(),
        )
        current = rt.accounts.current(db, token=issued.token)
    assert current is not None
    return issued.token, current


def alive(rt: Runtime, token: str) -> bool:
    with rt.transaction(readonly=True) as db:
        return rt.accounts.current(db, token=token) is not None


def state(rt: Runtime, opened: Opened) -> SpaceState:
    with rt.transaction(readonly=True) as db:
        found = rt.enrollment.closure.state(db, patient_id=opened.patient_id)
    assert found is not None
    return found


def patient_active(rt: Runtime, patient_id: str) -> bool | None:
    with rt.carnet_repository() as repository:
        body = orjson.loads(repository.read("Patient", patient_id).body)
    active: bool | None = body.get("active")
    return active


def mails(rt: Runtime, kind: str) -> list[str]:
    rt.worker(name="test").run_until_idle()
    sender = rt.notify.email
    assert isinstance(sender, MemoryEmailSender)
    return [m.to for m in sender.outbox if m.kind == kind]


def events(db: Connection, chain: str, tag: str) -> list[tuple[str, dict[str, object]]]:
    table = audit_models.event
    rows = db.execute(
        select(table.c.outcome, table.c.detail)
        .where(table.c.chain_id == chain, table.c.tag == tag)
        .order_by(table.c.seq)
    )
    return [(r.outcome, orjson.loads(r.detail)) for r in rows]


def close(rt: Runtime, opened: Opened, *, deletion: bool = False) -> SpaceState:
    _token, session = session_of(rt, opened)
    return rt.enrollment.closure.close_by_holder(
        rt.transaction,
        session=session,
        password=PASSWORD,
        deletion_requested=deletion,
        client_address="203.0.113.7",
    )


def reopen(rt: Runtime, row: Row, **changes: str) -> SpaceState:
    values = {
        "nir": row["nir"],
        "vitale_serial": row["numero_serie_vitale"],
        "birth_date": row["date_naissance"],
    } | changes
    with rt.transaction() as db:
        return rt.enrollment.closure.reopen_with_card(
            db,
            nir=values["nir"],
            vitale_serial=values["vitale_serial"],
            birth_date=date.fromisoformat(values["birth_date"]),
            client_address="203.0.113.7",
        )


# --- closing ------------------------------------------------------------------------------------


def test_the_holder_closes_with_their_password_and_everything_follows(
    rt: Runtime, holders: list[Row]
) -> None:
    opened = open_space(rt, holders[0])
    token, _session = session_of(rt, opened)
    closed = close(rt, opened)
    assert closed.status is Status.CLOSED
    assert closed.close_reason is CloseReason.HOLDER
    assert closed.closed_at == START
    assert closed.erase_after == START.replace(year=2036)
    assert closed.deletion_requested_at is None
    assert not alive(rt, token)  # every session ended
    with pytest.raises(SignInRefused):  # the account cannot sign in any more
        rt.accounts.sign_in_password(
            rt.transaction,
            login=opened.login or "",
            password=PASSWORD,
            area="patient",
            client_address=None,
            user_agent=None,
            device_token=None,
        )
    assert patient_active(rt, opened.patient_id) is False
    assert len(mails(rt, "space_closed")) == 1
    with rt.transaction(readonly=True) as db:
        audited = events(db, opened.patient_id, "enrollment:space:close")
    assert audited[-1][0] == "success"
    assert audited[-1][1]["reason"] == "holder"
    assert audited[-1][1]["sessions_ended"] >= 1


def test_a_deletion_request_brings_destruction_within_three_months(
    rt: Runtime, holders: list[Row]
) -> None:
    opened = open_space(rt, holders[0])
    closed = close(rt, opened, deletion=True)
    assert closed.deletion_requested_at == START
    assert closed.erase_after == START + timedelta(days=30)
    assert closed.erase_after <= START + timedelta(days=92)


def test_a_wrong_password_closes_nothing(rt: Runtime, holders: list[Row]) -> None:
    opened = open_space(rt, holders[0])
    token, session = session_of(rt, opened)
    with pytest.raises(SignInRefused):
        rt.enrollment.closure.close_by_holder(
            rt.transaction,
            session=session,
            password="not-the-password",
            deletion_requested=True,
            client_address=None,
        )
    assert state(rt, opened).status is Status.ACTIVE
    assert state(rt, opened).erase_after is None
    assert alive(rt, token)
    assert patient_active(rt, opened.patient_id) is not False


def test_an_account_without_password_confirms_by_a_fresh_sign_in(
    rt: Runtime, holders: list[Row], clock: FrozenClock
) -> None:
    opened = open_space(rt, holders[0], account="federated")
    _token, session = session_of(rt, opened)
    clock.advance(timedelta(minutes=11))
    with pytest.raises(FreshSignInRequired):
        rt.enrollment.closure.close_by_holder(
            rt.transaction,
            session=session,
            password="",
            deletion_requested=False,
            client_address=None,
        )
    assert state(rt, opened).status is Status.ACTIVE
    _token, fresh = session_of(rt, opened)
    closed = rt.enrollment.closure.close_by_holder(
        rt.transaction, session=fresh, password="", deletion_requested=False, client_address=None
    )
    assert closed.status is Status.CLOSED


def test_closing_twice_is_refused_and_audited(rt: Runtime, holders: list[Row]) -> None:
    opened = open_space(rt, holders[0])
    first = close(rt, opened)
    actor = Actor(kind=ActorKind.PATIENT, id=opened.patient_id)
    with pytest.raises(SpaceStateConflict) as refused, rt.transaction() as db:
        rt.enrollment.closure.close(db, actor=actor, patient_id=opened.patient_id)
    assert refused.value.state == "closed"
    assert state(rt, opened) == first  # nothing moved
    with rt.transaction(readonly=True) as db:
        audited = events(db, opened.patient_id, "enrollment:space:close")
    assert [outcome for outcome, _ in audited] == ["success", "conflict"]
    with pytest.raises(SpaceNotFound), rt.transaction() as db:
        rt.enrollment.closure.close(db, actor=actor, patient_id="no-such-space")


# --- reopening ----------------------------------------------------------------------------------


def test_reopening_with_the_card_brings_everything_back(rt: Runtime, holders: list[Row]) -> None:
    opened = open_space(rt, holders[0])
    close(rt, opened, deletion=True)
    reopened = reopen(rt, opened.row)
    assert reopened.status is Status.ACTIVE
    assert reopened.erase_after is None and reopened.closed_at is None
    assert reopened.deletion_requested_at is None
    assert patient_active(rt, opened.patient_id) is True
    token, _session = session_of(rt, opened)
    assert alive(rt, token)  # the account signs in again
    assert len(mails(rt, "space_reopened")) == 1
    # A space that never had an account comes back open, waiting for its activation.
    bare = open_space(rt, holders[1], account=None)
    with rt.transaction() as db:
        rt.enrollment.closure.close(db, actor=CARNET, patient_id=bare.patient_id)
    assert reopen(rt, bare.row).status is Status.OPEN


def test_reopening_refuses_wrong_details_then_locks(rt: Runtime, holders: list[Row]) -> None:
    opened = open_space(rt, holders[0])
    close(rt, opened)
    for _ in range(2):
        with pytest.raises(SpaceNotFound):
            reopen(rt, opened.row, birth_date="1901-01-01")
    with pytest.raises(TooManyTries):
        reopen(rt, opened.row, vitale_serial="00000000000")
    with pytest.raises(TooManyTries):  # right details included, while locked
        reopen(rt, opened.row)
    assert state(rt, opened).status is Status.CLOSED
    with pytest.raises(InvalidInput):  # not a NIR: refused before anything is counted
        reopen(rt, opened.row, nir="123")


def test_reopening_an_open_space_is_a_conflict(rt: Runtime, holders: list[Row]) -> None:
    opened = open_space(rt, holders[0])
    with pytest.raises(SpaceStateConflict) as refused:
        reopen(rt, opened.row)
    assert refused.value.state == "active"


# --- suspension ---------------------------------------------------------------------------------


def test_an_operator_suspends_then_lifts(rt: Runtime, holders: list[Row]) -> None:
    opened = open_space(rt, holders[0])
    token, _session = session_of(rt, opened)
    with rt.transaction() as db:
        suspended = rt.enrollment.closure.suspend(
            db, actor=OPERATOR, patient_id=opened.patient_id, reason="fraud"
        )
    assert suspended.status is Status.SUSPENDED
    assert suspended.suspended_at == START
    assert suspended.closes_at == START + timedelta(days=42)
    assert not alive(rt, token)
    assert len(mails(rt, "space_suspended")) == 1
    with rt.transaction() as db, pytest.raises(SpaceStateConflict):
        rt.enrollment.closure.suspend(
            db, actor=OPERATOR, patient_id=opened.patient_id, reason="fraud"
        )
    with rt.transaction() as db:
        lifted = rt.enrollment.closure.lift_suspension(
            db, actor=OPERATOR, patient_id=opened.patient_id
        )
    assert lifted.status is Status.ACTIVE and lifted.suspended_at is None
    token, _session = session_of(rt, opened)
    assert alive(rt, token)
    assert len(mails(rt, "space_restored")) == 1
    with rt.transaction(readonly=True) as db:
        audited = events(db, opened.patient_id, "enrollment:space:suspend")
        history = rt.enrollment.closure.history(db, patient_id=opened.patient_id)
    assert audited[0][1]["reason"] == "fraud"
    assert {(e.kind, e.reason, e.actor) for e in history} == {
        ("suspended", "fraud", "operator:operator-1"),
        ("lifted", None, "operator:operator-1"),
    }


def test_suspension_refusals(rt: Runtime, holders: list[Row]) -> None:
    opened = open_space(rt, holders[0])
    closure = rt.enrollment.closure
    with rt.transaction() as db, pytest.raises(SpaceStateConflict):
        closure.lift_suspension(db, actor=OPERATOR, patient_id=opened.patient_id)
    with rt.transaction() as db, pytest.raises(InvalidInput):
        closure.suspend(db, actor=OPERATOR, patient_id=opened.patient_id, reason="boredom")
    with rt.transaction() as db, pytest.raises(SpaceNotFound):
        closure.suspend(db, actor=OPERATOR, patient_id="nobody", reason="fraud")
    close(rt, opened)
    with rt.transaction() as db, pytest.raises(SpaceStateConflict) as refused:
        closure.suspend(db, actor=OPERATOR, patient_id=opened.patient_id, reason="malfunction")
    assert refused.value.state == "closed"
    assert state(rt, opened).status is Status.CLOSED


def test_an_unlifted_suspension_closes_after_six_weeks_for_fraud(
    rt: Runtime, holders: list[Row], clock: FrozenClock
) -> None:
    opened = open_space(rt, holders[0])
    with rt.transaction() as db:
        rt.enrollment.closure.suspend(
            db, actor=OPERATOR, patient_id=opened.patient_id, reason="fraud"
        )
    clock.advance(timedelta(days=41))
    with rt.transaction() as db:
        assert rt.enrollment.closure.sweep(db).suspensions_closed == 0
    clock.advance(timedelta(days=1, minutes=1))
    with rt.transaction() as db:
        assert rt.enrollment.closure.sweep(db).suspensions_closed == 1
    closed = state(rt, opened)
    assert closed.status is Status.CLOSED
    assert closed.close_reason is CloseReason.FRAUD
    assert len(mails(rt, "space_closed_fraud")) == 1
    with pytest.raises(ReopenNotAllowed):  # through support only
        reopen(rt, opened.row)
