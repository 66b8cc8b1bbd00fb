"""A small registry of families and adults for the families and caregivers tests, on a runtime
whose clock the tests move, and ways to make people's spaces active and sign them in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import update
from tests.conftest import make_settings
from tests.enrollment.conftest import write_file

from carnet.core.actor import CARNET
from carnet.core.clock import FrozenClock
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import models
from carnet.enrollment import service as enrollment_service
from carnet.identity.accounts.service import CurrentSession
from carnet.notify.adapters.local import MemoryEmailSender
from carnet.runtime import Runtime, build_runtime

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
Row = dict[str, str]


@pytest.fixture
def rt(fresh_database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    settings = make_settings(
        fresh_database_url, tmp_path / "var", enrollment={"invitation_days": 30}
    )
    runtime = build_runtime(settings, clock=FrozenClock(START), configure_logs=False)
    yield runtime
    runtime.close()


@dataclass(frozen=True)
class People:
    """The imported rows: a holder with two children, and adults with an e-mail address."""

    holder: Row
    older: Row
    """The holder's child born 2009-01-19: 18 on 2027-01-19."""
    younger: Row
    adults: list[Row]
    other_holder: Row
    other_child: Row


@pytest.fixture
def people(rt: Runtime, tmp_path: Path) -> People:
    rows = list(synthetic_registry(60, seed=5))
    by_nir = {r["nir"]: r for r in rows}
    holder = by_nir["103103114920181"]
    older, younger = by_nir["109010608800120"], by_nir["213012B09684317"]
    older["email"] = "clement@example.org"  # so the young adult can be sent a code
    holder["email"] = holder["email"] or "holder@example.org"
    adults = [
        r
        for r in rows
        if not r["nir_ouvrant_droit"]
        and r["email"]
        and "1950" < r["date_naissance"] < "2000"
        and r is not holder
    ]
    report = enrollment_service.import_registry(
        source=write_file(tmp_path / "registry.txt", rows),
        storage=rt.storage,
        audit=rt.audit,
        transaction=rt.transaction,
    )
    assert report.lines_rejected == 0
    return People(
        holder=holder,
        older=older,
        younger=younger,
        adults=adults,
        other_holder=by_nir["299074410940102"],
        other_child=by_nir["117013417268632"],
    )


def beneficiary_id(rt: Runtime, row: Row) -> str:
    with rt.transaction(readonly=True) as db:
        found = enrollment_service.find_beneficiary(db, storage=rt.storage, nir=row["nir"])
    assert found is not None
    return found.id


def make_active(rt: Runtime, row: Row) -> str:
    """Open the person's space, give them an account and mark it active (what the activation
    flow ends with); their account id."""
    person = beneficiary_id(rt, row)
    with rt.transaction() as db:
        rt.enrollment.opening.open(db, actor=CARNET, beneficiary_id=person, opened_by="request")
        account = rt.accounts.account_for_person(
            db, person_kind="patient", person_id=person, create=True
        )
        assert account is not None
        now = rt.accounts.clock.now()
        db.execute(
            update(models.beneficiary)
            .where(models.beneficiary.c.id == person)
            .values(status="active", status_at=now)
        )
        db.execute(
            update(models.space)
            .where(models.space.c.patient_id == person)
            .values(account_id=account, activated_at=now)
        )
    return account


def sign_in(rt: Runtime, row: Row, *, create: bool = False) -> CurrentSession:
    """A live session of the person's account (their profiles as the portal would see them);
    ``create`` makes the account first (someone whose space is not active)."""
    person = beneficiary_id(rt, row)
    with rt.transaction() as db:
        account = rt.accounts.account_for_person(
            db, person_kind="patient", person_id=person, create=create
        )
        assert account is not None
        issued = rt.accounts.open_session(
            db,
            account_id=account,
            method="test",
            acr=None,
            client_address=None,
            user_agent=None,
            now=rt.accounts.clock.now(),
        )
        session = rt.accounts.current(db, token=issued.token)
    assert session is not None
    return session


def identity(row: Row) -> dict[str, object]:
    """What someone types to name ``row``'s person."""
    return {
        "nir": row["nir"],
        "family_name": row["nom_naissance"],
        "given_name": row["prenoms"].split(" ")[0],
        "birth_date": date.fromisoformat(row["date_naissance"]),
    }


def emails(rt: Runtime) -> MemoryEmailSender:
    sender = rt.notify.email
    assert isinstance(sender, MemoryEmailSender)
    return sender


def send_emails(rt: Runtime) -> list[str]:
    """Run the outbox; the kinds of the messages sent."""
    before = len(emails(rt).outbox)
    rt.worker(name="test").run_until_idle()
    return [message.kind for message in emails(rt).outbox[before:]]
