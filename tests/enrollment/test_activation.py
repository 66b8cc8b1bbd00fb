"""Activation end to end on a real database: a generated registry is imported and informed,
then people activate their space with the code of their notice (identity proof, contact
verified by a one-time code, login and password, terms, first choices), or through
FranceConnect; and every wrong turn is refused with nothing half-done."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from tests.conftest import make_settings
from tests.enrollment.conftest import write_file

from carnet.core.actor import CARNET
from carnet.core.clock import FrozenClock
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import models, opening
from carnet.enrollment import service as enrollment_service
from carnet.enrollment.errors import (
    ActivationExpired,
    ActivationLocked,
    ActivationOutOfStep,
    ActivationRefused,
    WrongContactCode,
)
from carnet.enrollment.schemas import ActivationStep, FirstChoices
from carnet.identity.accounts.errors import InvalidLogin, LoginTaken, WeakPassword
from carnet.notify.adapters.local import MemoryEmailSender
from carnet.runtime import Runtime, build_runtime

Status = enrollment_service.BeneficiaryStatus
Channel = enrollment_service.CodeChannel
NOTICE_CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b")
SIX = re.compile(r"\b\d{6}\b")
PASSWORD = "Tournesol-42!"
Row = dict[str, str]


@pytest.fixture
def rt(fresh_database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    settings = make_settings(
        fresh_database_url,
        tmp_path / "var",
        enrollment={"regeneration_failures": 3, "address_failures": 5},
    )
    clock = FrozenClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    runtime = build_runtime(settings, clock=clock, configure_logs=False)
    yield runtime
    runtime.close()


@dataclass
class Person:
    row: Row
    code: str

    @property
    def nir(self) -> str:
        return self.row["nir"]

    @property
    def email(self) -> str:
        return self.row["email"]


def emails(rt: Runtime) -> MemoryEmailSender:
    sender = rt.notify.email
    assert isinstance(sender, MemoryEmailSender)
    return sender


def run_jobs(rt: Runtime) -> None:
    rt.worker(name="test").run_until_idle()


@pytest.fixture
def people(rt: Runtime, tmp_path: Path) -> list[Person]:
    """The pilot holders informed by e-mail, each with the code of their notice."""
    rows = list(synthetic_registry(40, seed=11))
    enrollment_service.import_registry(
        source=write_file(tmp_path / "registry.txt", rows),
        storage=rt.storage,
        audit=rt.audit,
        transaction=rt.transaction,
    )
    with rt.transaction() as db:
        rt.enrollment.start_campaign(
            db, actor=CARNET, departements="31,44,80", send_date=date(2026, 11, 26)
        )
    run_jobs(rt)
    found = []
    for row in rows:
        sent = [m for m in emails(rt).outbox if m.to == row["email"] and m.kind == "space_opening"]
        if sent and not row["nir_ouvrant_droit"]:
            match = NOTICE_CODE.search(sent[-1].text)
            assert match is not None
            found.append(Person(row, match.group()))
    assert len(found) >= 4
    return found


def begin(rt: Runtime, person: Person, **changes: str) -> str:
    values = {
        "code": person.code,
        "nir": person.nir,
        "vitale_serial": person.row["numero_serie_vitale"],
        "birth_date": date.fromisoformat(person.row["date_naissance"]),
        "client_address": "192.0.2.10",
    } | changes
    with rt.transaction() as db:
        return rt.enrollment.activation.start(db, **values)  # type: ignore[arg-type]


def refused(rt: Runtime, person: Person, **changes: str) -> str:
    with pytest.raises(ActivationRefused) as caught:
        begin(rt, person, **changes)
    return caught.value.reason


def otp_for(rt: Runtime, address: str) -> str:
    run_jobs(rt)
    sent = [m for m in emails(rt).outbox if m.to == address and m.kind == "activation_contact"]
    assert sent
    match = SIX.search(sent[-1].text)
    assert match is not None
    return match.group()


def verified(rt: Runtime, person: Person) -> str:
    token = begin(rt, person)
    with rt.transaction() as db:
        rt.enrollment.activation.send_contact_code(
            db, token=token, channel=Channel.EMAIL, contact=person.email
        )
    code = otp_for(rt, person.email)
    with rt.transaction() as db:
        rt.enrollment.activation.verify_contact(db, token=token, code=code)
    return token


def up_to_choices(rt: Runtime, person: Person, login: str) -> str:
    token = verified(rt, person)
    rt.enrollment.activation.choose_credentials(
        rt.transaction, token=token, login=login, password=PASSWORD
    )
    with rt.transaction() as db:
        rt.enrollment.activation.accept_terms(db, token=token)
    return token


def finish(rt: Runtime, token: str, choices: FirstChoices | None = None):  # type: ignore[no-untyped-def]
    with rt.transaction() as db:
        return rt.enrollment.activation.finish(
            db,
            token=token,
            choices=choices or FirstChoices(),
            client_address="192.0.2.10",
            user_agent="test",
        )


def status_of(rt: Runtime, person: Person) -> Status:
    with rt.transaction(readonly=True) as db:
        found = enrollment_service.find_beneficiary(db, storage=rt.storage, nir=person.nir)
    assert found is not None
    return found.status


def id_of(rt: Runtime, person: Person) -> str:
    with rt.transaction(readonly=True) as db:
        found = enrollment_service.find_beneficiary(db, storage=rt.storage, nir=person.nir)
    assert found is not None
    return found.id


def set_status(rt: Runtime, person: Person, status: Status) -> None:
    with rt.transaction() as db:
        db.execute(
            update(models.beneficiary)
            .where(models.beneficiary.c.id == id_of(rt, person))
            .values(status=status.value)
        )


def accounts_of(rt: Runtime, person: Person) -> str | None:
    with rt.transaction(readonly=True) as db:
        return rt.accounts.account_for_person(
            db, person_kind="patient", person_id=id_of(rt, person), create=False
        )


def test_the_whole_activation_opens_and_activates_the_space(
    rt: Runtime, people: list[Person]
) -> None:
    person = people[0]
    token = begin(rt, person)
    with rt.transaction() as db:
        ticket = rt.enrollment.activation.ticket(db, token=token)
    assert (ticket.step, ticket.email) == (ActivationStep.CONTACT, person.email)
    assert person.email not in repr(ticket)
    token_after = up_to_choices(rt, person, "camille.activation")
    choices = FirstChoices("masked", samu_access=False, break_glass_access=True)
    done = finish(rt, token_after, choices)
    assert status_of(rt, person) is Status.ACTIVE
    assert done.session.token
    with rt.transaction(readonly=True) as db:
        space = db.execute(
            select(models.space).where(models.space.c.patient_id == done.beneficiary_id)
        ).one()
        assert rt.accounts.find_account(db, login="Camille.Activation") == done.account_id
    assert space.opened_by == "activation"
    assert (space.account_id, space.terms_version) == (done.account_id, "2026-11")
    assert space.activated_at is not None and space.terms_accepted_at is not None
    assert (space.default_confidentiality, space.samu_access) == ("masked", False)
    assert (space.break_glass_access, space.emergency_masked_access) == (True, False)
    run_jobs(rt)
    assert [m for m in emails(rt).outbox if m.to == person.email and m.kind == "space_activated"]
    # The code is used up, and the ticket is over.
    assert refused(rt, person) == "active"
    with rt.transaction() as db, pytest.raises(ActivationExpired):
        rt.enrollment.activation.ticket(db, token=token)


def test_a_space_already_open_is_activated_without_reopening(
    rt: Runtime, people: list[Person]
) -> None:
    person = people[1]
    with rt.transaction() as db:
        opening.open_space(
            db,
            rt.enrollment._wiring,
            actor=CARNET,
            beneficiary_id=id_of(rt, person),
            opened_by="request",
            now=rt.clock.now(),
        )
    assert status_of(rt, person) is Status.OPEN
    finish(rt, up_to_choices(rt, person, "open.space.person"))
    assert status_of(rt, person) is Status.ACTIVE
    with rt.transaction(readonly=True) as db:
        space = db.execute(
            select(models.space).where(models.space.c.patient_id == id_of(rt, person))
        ).one()
    assert space.opened_by == "request" and space.default_confidentiality == "visible"


def test_mismatching_details_are_refused_alike_then_lock_the_nir(
    rt: Runtime, people: list[Person]
) -> None:
    person = people[0]
    serial = person.row["numero_serie_vitale"]
    wrong_serial = ("1" if serial[0] != "1" else "2") + serial[1:]
    assert refused(rt, person, vitale_serial=wrong_serial) == "mismatch"
    assert refused(rt, person, birth_date=date(1901, 1, 1)) == "mismatch"  # type: ignore[arg-type]
    with pytest.raises(ActivationLocked) as caught:
        begin(rt, person, code="AAAA-BBBB-CCCC")
    assert caught.value.minutes == 60
    with pytest.raises(ActivationLocked):
        begin(rt, person)  # the right details too, while locked
    rt.clock.advance(timedelta(minutes=61))  # type: ignore[attr-defined]
    assert begin(rt, person)
    assert accounts_of(rt, person) is None


def test_one_address_trying_many_nirs_is_locked(rt: Runtime, people: list[Person]) -> None:
    for other in people[:4]:
        assert refused(rt, other, code="AAAA-BBBB-CCCC") == "mismatch"
    with pytest.raises(ActivationLocked):
        begin(rt, people[4 % len(people)], code="AAAA-BBBB-CCCC")
    with pytest.raises(ActivationLocked):
        begin(rt, people[0])
    assert begin(rt, people[0], client_address="198.51.100.7")  # another address is fine


def test_an_expired_or_replaced_code_says_so(rt: Runtime, people: list[Person]) -> None:
    person = people[0]
    with rt.transaction() as db:
        rt.enrollment.regenerate_code(
            db,
            nir=person.nir,
            vitale_serial=person.row["numero_serie_vitale"],
            birth_date=date.fromisoformat(person.row["date_naissance"]),
            channel=Channel.EMAIL,
        )
    assert refused(rt, person) == "code-used"  # the letter's code was replaced
    run_jobs(rt)
    sent = [m for m in emails(rt).outbox if m.to == person.email and m.kind == "activation_code"]
    match = NOTICE_CODE.search(sent[-1].text)
    assert match is not None
    fresh = Person(person.row, match.group())
    rt.clock.advance(timedelta(days=400))  # type: ignore[attr-defined]
    assert refused(rt, fresh) == "code-expired"


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (Status.OPPOSED, "opposed"),
        (Status.DECEASED, "ended"),
        (Status.SUSPENDED, "ended"),
        (Status.CLOSED, "ended"),
    ],
)
def test_people_who_cannot_activate_are_told_why(
    rt: Runtime, people: list[Person], status: Status, reason: str
) -> None:
    set_status(rt, people[0], status)
    assert refused(rt, people[0]) == reason


def test_the_contact_code_is_checked_and_burnt_after_five_wrong_tries(
    rt: Runtime, people: list[Person]
) -> None:
    person = people[0]
    token = begin(rt, person)
    with rt.transaction() as db:
        masked = rt.enrollment.activation.send_contact_code(
            db, token=token, channel=Channel.EMAIL, contact="  Nouvelle.Adresse@Example.ORG "
        )
    assert masked == "N…@example.org"
    right = otp_for(rt, "Nouvelle.Adresse@example.org")
    wrong = "000000" if right != "000000" else "111111"
    for attempt in range(5):
        with pytest.raises(WrongContactCode) as caught, rt.transaction() as db:
            rt.enrollment.activation.verify_contact(db, token=token, code=wrong)
        assert caught.value.burnt is (attempt == 4)
    with pytest.raises(WrongContactCode), rt.transaction() as db:
        rt.enrollment.activation.verify_contact(db, token=token, code=right)
    # A new code works; one that waited too long does not.
    with rt.transaction() as db:
        rt.enrollment.activation.send_contact_code(
            db, token=token, channel=Channel.EMAIL, contact=person.email
        )
    late = otp_for(rt, person.email)
    rt.clock.advance(timedelta(minutes=11))  # type: ignore[attr-defined]
    with pytest.raises(WrongContactCode) as caught, rt.transaction() as db:
        rt.enrollment.activation.verify_contact(db, token=token, code=late)
    assert caught.value.burnt


def test_steps_cannot_be_skipped_and_tickets_expire(rt: Runtime, people: list[Person]) -> None:
    token = begin(rt, people[0])
    with pytest.raises(ActivationOutOfStep) as caught, rt.transaction() as db:
        rt.enrollment.activation.accept_terms(db, token=token)
    assert caught.value.step == "contact"
    with pytest.raises(ActivationOutOfStep):
        finish(rt, token)
    with pytest.raises(ActivationExpired), rt.transaction() as db:
        rt.enrollment.activation.ticket(db, token="not-a-ticket")
    rt.clock.advance(timedelta(minutes=61))  # type: ignore[attr-defined]
    with pytest.raises(ActivationExpired), rt.transaction() as db:
        rt.enrollment.activation.ticket(db, token=token)


def test_bad_credentials_are_refused_with_their_rule(rt: Runtime, people: list[Person]) -> None:
    token = verified(rt, people[0])
    activation = rt.enrollment.activation
    with pytest.raises(InvalidLogin):
        activation.choose_credentials(rt.transaction, token=token, login="court", password=PASSWORD)
    with pytest.raises(InvalidLogin):
        activation.choose_credentials(
            rt.transaction, token=token, login="élodie.martin", password=PASSWORD
        )
    with pytest.raises(WeakPassword) as weak:
        activation.choose_credentials(
            rt.transaction, token=token, login="good.login", password="tournesol"
        )
    assert weak.value.rule == "upper"
    given = people[0].row["prenoms"].split()[0]
    with pytest.raises(WeakPassword) as personal:
        activation.choose_credentials(
            rt.transaction, token=token, login="good.login", password=f"{given}-2026-X!"
        )
    assert personal.value.rule == "personal"


def test_a_login_taken_meanwhile_leaves_nothing_half_done(
    rt: Runtime, people: list[Person]
) -> None:
    first, second = people[0], people[1]
    token = up_to_choices(rt, first, "same.login.here")
    other = up_to_choices(rt, second, "same.login.here")  # free when chosen
    finish(rt, other)
    with pytest.raises(LoginTaken):
        finish(rt, token)
    assert status_of(rt, first) is Status.NOTIFIED
    assert accounts_of(rt, first) is None
    with rt.transaction(readonly=True) as db:
        assert rt.enrollment.activation.ticket(db, token=token).step is ActivationStep.ACCOUNT
        assert not db.execute(
            select(models.space).where(models.space.c.patient_id == id_of(rt, first))
        ).first()
    with pytest.raises(LoginTaken):
        rt.enrollment.activation.choose_credentials(
            rt.transaction, token=token, login="SAME.login.here", password=PASSWORD
        )


def test_an_abandoned_activation_leaves_the_code_working(rt: Runtime, people: list[Person]) -> None:
    person = people[2]
    up_to_choices(rt, person, "abandoned.one")
    assert accounts_of(rt, person) is None
    assert status_of(rt, person) is Status.NOTIFIED
    finish(rt, up_to_choices(rt, person, "second.try"))
    assert status_of(rt, person) is Status.ACTIVE


def test_two_tickets_on_one_code_activate_once(rt: Runtime, people: list[Person]) -> None:
    person = people[3]
    first = up_to_choices(rt, person, "first.browser")
    second = up_to_choices(rt, person, "second.browser")
    finish(rt, first)
    with pytest.raises(ActivationExpired):
        finish(rt, second)  # the other browser's activation ended with the first


def test_a_code_replaced_during_the_activation_stops_it(rt: Runtime, people: list[Person]) -> None:
    person = people[3]
    token = up_to_choices(rt, person, "replaced.code")
    with rt.transaction() as db:
        rt.enrollment.regenerate_code(
            db,
            nir=person.nir,
            vitale_serial=person.row["numero_serie_vitale"],
            birth_date=date.fromisoformat(person.row["date_naissance"]),
            channel=Channel.EMAIL,
        )
    with pytest.raises(ActivationRefused) as caught:
        finish(rt, token)
    assert caught.value.reason == "code-used"
    assert accounts_of(rt, person) is None
    assert status_of(rt, person) is Status.NOTIFIED
    with rt.transaction() as db, pytest.raises(ActivationExpired):
        rt.enrollment.activation.ticket(db, token=token)


def test_franceconnect_activation_binds_a_passwordless_account(
    rt: Runtime, people: list[Person]
) -> None:
    person = people[0]
    with rt.transaction() as db:
        assert rt.enrollment.activation.awaiting_activation(db, beneficiary_id=id_of(rt, person))
        token = rt.enrollment.activation.start_federated(db, beneficiary_id=id_of(rt, person))
        assert rt.enrollment.activation.ticket(db, token=token).step is ActivationStep.TERMS
        rt.enrollment.activation.accept_terms(db, token=token)
    done = finish(rt, token)
    assert accounts_of(rt, person) == done.account_id
    assert status_of(rt, person) is Status.ACTIVE
    with rt.transaction() as db:
        assert not rt.enrollment.activation.awaiting_activation(
            db, beneficiary_id=id_of(rt, person)
        )
        with pytest.raises(ActivationRefused):
            rt.enrollment.activation.start_federated(db, beneficiary_id=id_of(rt, person))
