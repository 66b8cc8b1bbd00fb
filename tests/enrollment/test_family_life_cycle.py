"""Where the life-cycle steps meet families and caregivers, on a real database: a closing space
ends its links, a young adult activates the space a parent activated for them, the holder
withdraws an invitation."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from tests.enrollment.conftest import write_file
from tests.enrollment.family_setup import (
    People,
    Row,
    beneficiary_id,
    emails,
    identity,
    make_active,
    send_emails,
    sign_in,
)
from tests.enrollment.family_setup import people as people  # noqa: PLC0414 - a fixture
from tests.enrollment.family_setup import rt as rt  # noqa: PLC0414 - a fixture

from carnet.core.actor import CARNET
from carnet.core.clock import FrozenClock
from carnet.core.errors import NotFound
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import enrollment_codes, models
from carnet.enrollment import service as enrollment_service
from carnet.enrollment.errors import ActivationRefused, FamilyRefused
from carnet.enrollment.schemas import BeneficiaryStatus, CodeChannel, FirstChoices
from carnet.runtime import Runtime

NOTICE_CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b")
SIX = re.compile(r"\b\d{6}\b")
PASSWORD = "Tournesol-42!"


def events(rt: Runtime, tag: str, outcome: str = "success") -> int:
    with rt.transaction(readonly=True) as db:
        return int(
            db.execute(
                text("SELECT count(*) FROM audit_event WHERE tag = :tag AND outcome = :outcome"),
                {"tag": tag, "outcome": outcome},
            ).scalar_one()
        )


def status_of(rt: Runtime, person_id: str) -> str:
    with rt.transaction(readonly=True) as db:
        return str(
            db.execute(
                select(models.beneficiary.c.status).where(models.beneficiary.c.id == person_id)
            ).scalar_one()
        )


def live_representatives(rt: Runtime, child_id: str) -> list[tuple[str, str | None]]:
    """Who represents ``child_id``: (representative, end reason) of every row, live first."""
    rep = models.representative
    with rt.transaction(readonly=True) as db:
        rows = db.execute(
            select(rep.c.representative_id, rep.c.end_reason).where(rep.c.child_id == child_id)
        )
        return sorted((r.representative_id, r.end_reason) for r in rows)


@pytest.fixture
def family(rt: Runtime, people: People) -> People:
    """The holder and a second parent active; the younger child activated by the holder,
    represented by both; a caregiver link on each side of the holder."""
    make_active(rt, people.holder)
    second = people.adults[0]
    make_active(rt, second)
    holder = sign_in(rt, people.holder)
    families = rt.enrollment.families
    younger = beneficiary_id(rt, people.younger)
    with rt.transaction() as db:
        families.activate_child(db, session=holder, child_id=younger)
        invitation = families.invite_second(
            db,
            session=holder,
            child_id=younger,
            **identity(second),  # type: ignore[arg-type]
        )
    session = sign_in(rt, second)
    with rt.transaction() as db:
        families.answer(db, session=session, invitation_id=invitation.id, accept=True)
    return people


def caregiving(rt: Runtime, person: Row, caregiver: Row) -> str:
    """An accepted caregiving link of ``caregiver`` for ``person`` (both made active)."""
    for row in (person, caregiver):
        if status_of(rt, beneficiary_id(rt, row)) != "active":
            make_active(rt, row)
    caregivers = rt.enrollment.caregivers
    asking, answering = sign_in(rt, person), sign_in(rt, caregiver)
    with rt.transaction() as db:
        invitation = caregivers.invite(
            db,
            session=asking,
            **identity(caregiver),  # type: ignore[arg-type]
        )
    with rt.transaction() as db:
        caregivers.answer(db, session=answering, link_id=invitation.id, accept=True)
    return invitation.id


def caregiver_statuses(rt: Runtime) -> set[str]:
    with rt.transaction(readonly=True) as db:
        return set(db.execute(select(models.caregiver.c.status)).scalars())


# --- 1. closing a space ends its links ----------------------------------------------------------


def test_a_holder_closing_their_space_ends_their_links_and_keeps_the_childrens_spaces(
    rt: Runtime, family: People
) -> None:
    helped_by = caregiving(rt, family.holder, family.adults[1])
    helping = caregiving(rt, family.adults[2], family.holder)
    assert helped_by != helping
    holder_id, second_id = beneficiary_id(rt, family.holder), beneficiary_id(rt, family.adults[0])
    younger = beneficiary_id(rt, family.younger)
    older = beneficiary_id(rt, family.older)
    with rt.transaction() as db:  # a pending invitation the holder received: cancelled too
        db.execute(
            models.family_invitation.insert().values(
                id="pending-for-holder",
                child_id=older,
                inviter_id=second_id,
                invitee_id=holder_id,
                status="pending",
                created_at=rt.accounts.clock.now(),
                expires_at=rt.accounts.clock.now() + timedelta(days=3),
                answered_at=None,
            )
        )
    send_emails(rt)
    with rt.transaction() as db:
        state = rt.enrollment.closure.close(db, actor=CARNET, patient_id=holder_id)
    assert state.status is BeneficiaryStatus.CLOSED
    assert sorted(send_emails(rt)) == ["family_news", "space_closed"]
    (news,) = [m for m in emails(rt).outbox if m.kind == "family_news"][-1:]
    assert news.to == family.adults[0]["email"]  # the other parent is told
    # The child's space stays open; the second parent still acts for the child.
    assert status_of(rt, younger) == "active"
    assert live_representatives(rt, younger) == sorted(
        [(holder_id, "own-closed"), (second_id, None)]
    )
    assert [p.patient_id for p in sign_in(rt, family.adults[0]).profiles[1:]] == [younger]
    assert caregiver_statuses(rt) == {"revoked"}
    with rt.transaction(readonly=True) as db:
        invitations = set(db.execute(select(models.family_invitation.c.status)).scalars())
    assert invitations == {"accepted", "cancelled"}
    # Audited on the child's and both parents' chains.
    assert events(rt, "enrollment:family:end") == 3
    assert events(rt, "enrollment:caregiver:revoke") == 4
    # Reopened, the holder adds the child's profile again from « Ma famille ».
    with rt.transaction() as db:
        rt.enrollment.closure.reopen(db, actor=CARNET, patient_id=holder_id)
    holder = sign_in(rt, family.holder)
    with rt.transaction() as db:
        rt.enrollment.families.activate_child(db, session=holder, child_id=younger)
    assert live_representatives(rt, younger) == sorted([(holder_id, None), (second_id, None)])
    assert [p.patient_id for p in sign_in(rt, family.holder).profiles[1:]] == [younger]


def test_a_childs_space_closing_ends_every_representation(
    rt: Runtime, family: People, tmp_path: Path
) -> None:
    younger = beneficiary_id(rt, family.younger)
    helper = caregiving(rt, family.adults[1], family.adults[2])
    rows = list(synthetic_registry(60, seed=5))
    for row in rows:  # the same registry as family_setup's, reporting the child's death
        if row["nir"] == family.younger["nir"]:
            row["date_deces"] = "2026-11-20"
        if row["nir"] == family.older["nir"]:
            row["email"] = family.older["email"]
        if row["nir"] == family.holder["nir"]:
            row["email"] = family.holder["email"]
    report = enrollment_service.import_registry(
        source=write_file(tmp_path / "deaths.txt", rows),
        storage=rt.storage,
        audit=rt.audit,
        transaction=rt.transaction,
    )
    assert report.deceased == 1
    send_emails(rt)
    with rt.transaction() as db:
        assert rt.enrollment.closure.sweep(db).deaths == 1
    assert send_emails(rt) == []  # nobody is written to about a death
    assert status_of(rt, younger) == "closed"
    assert [reason for _, reason in live_representatives(rt, younger)] == ["child-closed"] * 2
    for parent in (family.holder, family.adults[0]):
        assert sign_in(rt, parent).profiles[1:] == ()
    assert events(rt, "enrollment:family:end") == 3  # the child's and both parents' chains
    assert helper  # a link between others is untouched
    assert caregiver_statuses(rt) == {"accepted"}


# --- 2. a young adult activates their own space -------------------------------------------------


def clock(rt: Runtime) -> FrozenClock:
    value = rt.accounts.clock
    assert isinstance(value, FrozenClock)
    return value


def start(rt: Runtime, row: Row, code: str) -> str:
    with rt.transaction() as db:
        return rt.enrollment.activation.start(
            db,
            code=code,
            nir=row["nir"],
            vitale_serial=row["numero_serie_vitale"],
            birth_date=date.fromisoformat(row["date_naissance"]),
            client_address="192.0.2.10",
        )


def ask_code(rt: Runtime, row: Row) -> list[str]:
    """Ask for a new code with the person's details; the kinds of the messages sent."""
    with rt.transaction() as db:
        rt.enrollment.regenerate_code(
            db,
            nir=row["nir"],
            vitale_serial=row["numero_serie_vitale"],
            birth_date=date.fromisoformat(row["date_naissance"]),
            channel=CodeChannel.EMAIL,
        )
    return send_emails(rt)


def test_a_young_adult_activates_the_space_a_parent_activated(rt: Runtime, people: People) -> None:
    young = people.older  # Clément, 18 on 2027-01-19
    make_active(rt, people.holder)
    older = beneficiary_id(rt, young)
    holder = sign_in(rt, people.holder)
    with rt.transaction() as db:
        rt.enrollment.families.activate_child(db, session=holder, child_id=older)
        activated_at = db.execute(
            select(models.space.c.activated_at).where(models.space.c.patient_id == older)
        ).scalar_one()
        # A minor with a code of their own is still sent to the holder's account.
        code = enrollment_codes.replace_code(
            db, rt.storage, beneficiary_id=older, now=clock(rt).now(), lifetime=timedelta(days=9)
        )
    with pytest.raises(ActivationRefused) as minor:
        start(rt, young, code)
    assert minor.value.reason == "dependant"
    send_emails(rt)
    assert ask_code(rt, young) == []  # a minor cannot ask for a code either

    clock(rt).advance(timedelta(days=54))  # 2027-01-19: Clément turns 18
    with rt.transaction() as db:
        assert rt.enrollment.families.run_daily(db) == 1
    assert sorted(send_emails(rt)) == ["coming_of_age", "representation_ended"]
    assert sign_in(rt, people.holder).profiles[1:] == ()
    (letter,) = [m for m in emails(rt).outbox if m.kind == "coming_of_age"]
    assert letter.to == young["email"]
    found = NOTICE_CODE.search(letter.text)
    assert found is not None

    token = start(rt, young, found.group())
    activation = rt.enrollment.activation
    with rt.transaction() as db:
        activation.send_contact_code(
            db, token=token, channel=CodeChannel.EMAIL, contact=young["email"]
        )
    send_emails(rt)
    otp = SIX.search(emails(rt).outbox[-1].text)
    assert otp is not None
    with rt.transaction() as db:
        activation.verify_contact(db, token=token, code=otp.group())
    activation.choose_credentials(
        rt.transaction, token=token, login="clement.humbert", password=PASSWORD
    )
    with rt.transaction() as db:
        activation.accept_terms(db, token=token)
    with rt.transaction() as db:
        done = activation.finish(
            db, token=token, choices=FirstChoices(), client_address=None, user_agent="test"
        )
    assert done.beneficiary_id == older
    with rt.transaction(readonly=True) as db:
        space = db.execute(select(models.space).where(models.space.c.patient_id == older)).one()
    assert space.account_id == done.account_id
    assert space.activated_at == activated_at  # the parent's activation day stays
    assert status_of(rt, older) == "active"
    assert sign_in(rt, young).person_id == older
    assert "space_activated" in send_emails(rt)  # welcomed at their own address
    # Now they have their own account: no second activation, no new code.
    assert ask_code(rt, young) == []
    with rt.transaction() as db:
        again = enrollment_codes.replace_code(
            db, rt.storage, beneficiary_id=older, now=clock(rt).now(), lifetime=timedelta(days=9)
        )
    with pytest.raises(ActivationRefused) as active:
        start(rt, young, again)
    assert active.value.reason == "active"


def test_a_young_adult_whose_space_a_parent_activated_can_ask_for_a_code(
    rt: Runtime, people: People
) -> None:
    young = people.older
    make_active(rt, people.holder)
    holder, child_id = sign_in(rt, people.holder), beneficiary_id(rt, young)
    with rt.transaction() as db:
        rt.enrollment.families.activate_child(db, session=holder, child_id=child_id)
    clock(rt).advance(timedelta(days=54))
    send_emails(rt)
    assert ask_code(rt, young) == ["activation_code"]
    found = NOTICE_CODE.search(emails(rt).outbox[-1].text)
    assert found is not None
    assert start(rt, young, found.group())  # the ticket's token


def test_a_young_adult_activates_with_franceconnect_from_18(rt: Runtime, people: People) -> None:
    young = people.older  # 18 on 2027-01-19
    make_active(rt, people.holder)
    holder, child_id = sign_in(rt, people.holder), beneficiary_id(rt, young)
    with rt.transaction() as db:
        rt.enrollment.families.activate_child(db, session=holder, child_id=child_id)
    activation = rt.enrollment.activation
    with rt.transaction() as db:
        assert not activation.awaiting_activation(db, beneficiary_id=child_id)
        with pytest.raises(ActivationRefused) as minor:
            activation.start_federated(db, beneficiary_id=child_id)
    assert minor.value.reason == "dependant"

    clock(rt).advance(timedelta(days=54))  # 18 today
    with rt.transaction() as db:
        assert activation.awaiting_activation(db, beneficiary_id=child_id)
        token = activation.start_federated(db, beneficiary_id=child_id)
        activation.accept_terms(db, token=token)
    with rt.transaction() as db:
        done = activation.finish(
            db, token=token, choices=FirstChoices(), client_address=None, user_agent="test"
        )
    assert done.beneficiary_id == child_id
    with rt.transaction(readonly=True) as db:
        space = db.execute(select(models.space).where(models.space.c.patient_id == child_id)).one()
        assert not activation.awaiting_activation(db, beneficiary_id=child_id)
    assert space.account_id == done.account_id


# --- 4. withdrawing an invitation ---------------------------------------------------------------


def test_the_holder_withdraws_a_pending_invitation(rt: Runtime, people: People) -> None:
    make_active(rt, people.holder)
    invitee = people.adults[0]
    make_active(rt, invitee)
    holder = sign_in(rt, people.holder)
    families = rt.enrollment.families
    younger = beneficiary_id(rt, people.younger)
    with rt.transaction() as db:
        families.activate_child(db, session=holder, child_id=younger)
        sent = families.invite_second(
            db,
            session=holder,
            child_id=younger,
            **identity(invitee),  # type: ignore[arg-type]
        )
    session = sign_in(rt, invitee)
    with rt.transaction(readonly=True) as db:
        assert [i.id for i in families.invitations_received(db, session=session)] == [sent.id]
    with rt.transaction() as db, pytest.raises(NotFound):  # only the one who sent it
        families.withdraw(db, session=session, invitation_id=sent.id)
    send_emails(rt)
    with rt.transaction() as db:
        families.withdraw(db, session=holder, invitation_id=sent.id)
    assert send_emails(rt) == ["family_news"]
    assert emails(rt).outbox[-1].to == invitee["email"]
    with rt.transaction(readonly=True) as db:
        assert families.invitations_received(db, session=session) == []
        (mine,) = families.invitations_sent(db, session=holder)
    assert mine.status.value == "cancelled"
    assert events(rt, "enrollment:family:withdraw") == 3  # child, holder, invitee
    with rt.transaction() as db, pytest.raises(FamilyRefused, match=r"answered$"):
        families.withdraw(db, session=holder, invitation_id=sent.id)
    assert events(rt, "enrollment:family:withdraw", "refused") == 3
    with rt.transaction() as db, pytest.raises(NotFound):
        families.answer(db, session=session, invitation_id="no-such", accept=True)
    with rt.transaction() as db, pytest.raises(FamilyRefused, match=r"answered$"):
        families.answer(db, session=session, invitation_id=sent.id, accept=True)
    # A new invitation can be sent once the first is withdrawn.
    with rt.transaction() as db:
        families.invite_second(
            db,
            session=holder,
            child_id=younger,
            **identity(invitee),  # type: ignore[arg-type]
        )
