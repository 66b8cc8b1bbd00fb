"""Children and their legal representatives on a real database: activation from the holder's
account, the second representative's invitation, coming of age."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, text
from tests.enrollment.family_setup import (
    People,
    beneficiary_id,
    emails,
    identity,
    make_active,
    send_emails,
    sign_in,
)
from tests.enrollment.family_setup import people as people  # noqa: PLC0414 - a fixture
from tests.enrollment.family_setup import rt as rt  # noqa: PLC0414 - a fixture

from carnet.core.clock import FrozenClock
from carnet.core.errors import NotFound
from carnet.enrollment import models
from carnet.enrollment.errors import FamilyRefused
from carnet.enrollment.schemas import BeneficiaryStatus, InvitationStatus
from carnet.runtime import Runtime


def refused(reason: str) -> object:
    return pytest.raises(FamilyRefused, match=f"refused: {reason}$")


def events(rt: Runtime, tag: str, outcome: str | None = None) -> int:
    query = "SELECT count(*) FROM audit_event WHERE tag = :tag"
    if outcome:
        query += " AND outcome = :outcome"
    with rt.transaction(readonly=True) as db:
        return int(db.execute(text(query), {"tag": tag, "outcome": outcome}).scalar_one())


def clock(rt: Runtime) -> FrozenClock:
    value = rt.accounts.clock
    assert isinstance(value, FrozenClock)
    return value


def test_children_are_listed_then_activated_into_the_holders_profiles(
    rt: Runtime, people: People
) -> None:
    make_active(rt, people.holder)
    session = sign_in(rt, people.holder)
    families = rt.enrollment.families
    with rt.transaction(readonly=True) as db:
        children = families.children(db, session=session)
    assert [c.given_names for c in children] == ["Clément", "Julia Mia"]
    assert [c.represented for c in children] == [False, False]
    younger = beneficiary_id(rt, people.younger)
    with rt.transaction() as db:
        child = families.activate_child(db, session=session, child_id=younger)
    assert child.status is BeneficiaryStatus.ACTIVE and child.represented
    with rt.transaction(readonly=True) as db:
        status = db.execute(
            select(models.beneficiary.c.status).where(models.beneficiary.c.id == younger)
        ).scalar_one()
        space = db.execute(select(models.space).where(models.space.c.patient_id == younger)).one()
    assert status == "active" and space.activated_at is not None
    profiles = sign_in(rt, people.holder).profiles
    assert [(p.patient_id, p.relation, p.label) for p in profiles[1:]] == [
        (younger, "child", "Julia")
    ]
    assert events(rt, "enrollment:child:activate", "success") == 2  # the child's and the holder's
    with rt.transaction() as db, refused("already-active"):
        families.activate_child(db, session=session, child_id=younger)
    assert events(rt, "enrollment:child:activate", "refused") == 2


def test_a_child_of_another_holder_or_an_unknown_id_is_refused(rt: Runtime, people: People) -> None:
    make_active(rt, people.holder)
    session = sign_in(rt, people.holder)
    for child_id in (beneficiary_id(rt, people.other_child), "no-such-child"):
        with rt.transaction() as db, refused("not-your-child"):
            rt.enrollment.families.activate_child(db, session=session, child_id=child_id)
    assert sign_in(rt, people.holder).profiles[1:] == ()


def test_an_opposed_child_is_opened_by_the_holder_without_dmp_merge(
    rt: Runtime, people: People
) -> None:
    make_active(rt, people.holder)
    session = sign_in(rt, people.holder)
    younger = beneficiary_id(rt, people.younger)
    with rt.transaction() as db:
        db.execute(
            models.beneficiary.update()
            .where(models.beneficiary.c.id == younger)
            .values(status="opposed")
        )
    with rt.transaction() as db:
        child = rt.enrollment.families.activate_child(db, session=session, child_id=younger)
    assert child.status.value == "active"
    with rt.transaction(readonly=True) as db:
        space = db.execute(select(models.space).where(models.space.c.patient_id == younger)).one()
    assert (space.opened_by, space.dmp_merge) == ("request", "refused")


def invite_second(
    rt: Runtime, people: People, invitee: dict[str, str], **changes: object
) -> object:
    session, younger = sign_in(rt, people.holder), beneficiary_id(rt, people.younger)
    details = {**identity(invitee), **changes}
    with rt.transaction() as db:
        return rt.enrollment.families.invite_second(
            db,
            session=session,
            child_id=younger,
            **details,  # type: ignore[arg-type]
        )


@pytest.fixture
def activated(rt: Runtime, people: People) -> People:
    """The holder active, their younger child activated, a second parent active."""
    make_active(rt, people.holder)
    make_active(rt, people.adults[0])
    session, younger = sign_in(rt, people.holder), beneficiary_id(rt, people.younger)
    with rt.transaction() as db:
        rt.enrollment.families.activate_child(db, session=session, child_id=younger)
    return people


def test_the_second_representative_accepts_and_gets_the_profile(
    rt: Runtime, activated: People
) -> None:
    second = activated.adults[0]
    send_emails(rt)
    invitation = invite_second(rt, activated, second, family_name=second["nom_naissance"].upper())
    assert send_emails(rt) == ["family_invitation"]
    message = emails(rt).outbox[-1]
    for secret in ("Julia", activated.holder["nom_naissance"], activated.younger["nir"]):
        assert secret not in message.text and secret not in (message.html or "")
    families = rt.enrollment.families
    session, holder = sign_in(rt, second), sign_in(rt, activated.holder)
    with rt.transaction(readonly=True) as db:
        received = families.invitations_received(db, session=session)
        sent = families.invitations_sent(db, session=holder)
    assert [i.id for i in received] == [invitation.id]  # type: ignore[attr-defined]
    assert received[0].child_name.startswith("Julia") and sent[0].status == "pending"
    with rt.transaction() as db:
        families.answer(db, session=session, invitation_id=received[0].id, accept=True)
    assert send_emails(rt) == ["family_news"]
    profiles = sign_in(rt, second).profiles
    assert [p.patient_id for p in profiles[1:]] == [beneficiary_id(rt, activated.younger)]
    with rt.transaction(readonly=True) as db:
        assert families.children(db, session=session)[0].represented
    with rt.transaction() as db, refused("answered"):
        families.answer(db, session=session, invitation_id=received[0].id, accept=False)
    # A third person cannot be invited: the child has two representatives.
    make_active(rt, activated.adults[1])
    with refused("already-representative"):
        invite_second(rt, activated, activated.adults[1])
    assert events(rt, "enrollment:family:answer", "success") == 3  # child, inviter, invitee


def test_bad_invitations_are_refused(rt: Runtime, activated: People) -> None:
    second = activated.adults[0]
    with refused("no-match"):
        invite_second(rt, activated, second, birth_date=date(1990, 1, 1))
    with refused("no-match"):
        invite_second(rt, activated, second, given_name="Personne")
    with refused("no-match"):
        invite_second(rt, activated, second, nir="199017511111172")
    with refused("self"):
        invite_second(rt, activated, activated.holder)
    with refused("invitee-not-active"):
        invite_second(rt, activated, activated.adults[2])
    invite_second(rt, activated, second)
    with refused("duplicate"):
        invite_second(rt, activated, second)
    # The older child is not activated: no invitation for them yet.
    holder, older = sign_in(rt, activated.holder), beneficiary_id(rt, activated.older)
    with rt.transaction() as db, refused("not-activated"):
        rt.enrollment.families.invite_second(
            db,
            session=holder,
            child_id=older,
            **identity(second),  # type: ignore[arg-type]
        )
    assert events(rt, "enrollment:family:invite", "refused") >= 7


def test_an_expired_invitation_cannot_be_accepted_and_is_marked_by_the_daily_job(
    rt: Runtime, activated: People
) -> None:
    second = activated.adults[0]
    invite_second(rt, activated, second)
    clock(rt).advance(timedelta(days=31))
    session, holder = sign_in(rt, second), sign_in(rt, activated.holder)
    families = rt.enrollment.families
    with rt.transaction(readonly=True) as db:
        assert families.invitations_received(db, session=session) == []
        (sent,) = families.invitations_sent(db, session=holder)
    assert sent.status is InvitationStatus.EXPIRED
    with rt.transaction() as db, refused("expired"):
        families.answer(db, session=session, invitation_id=sent.id, accept=True)
    with rt.transaction() as db:
        families.run_daily(db)
        status = db.execute(select(models.family_invitation.c.status)).scalar_one()
    assert status == "expired"
    with rt.transaction() as db, pytest.raises(NotFound):
        families.answer(db, session=holder, invitation_id=sent.id, accept=True)


def test_coming_of_age_ends_the_profiles_and_sends_a_code(rt: Runtime, people: People) -> None:
    make_active(rt, people.holder)
    older, holder = beneficiary_id(rt, people.older), sign_in(rt, people.holder)
    families = rt.enrollment.families
    with rt.transaction() as db:
        families.activate_child(db, session=holder, child_id=older)
        assert families.run_daily(db) == 0  # 17: nobody yet
    send_emails(rt)
    clock(rt).advance(timedelta(days=54))  # 2027-01-19: Clément turns 18
    with rt.transaction() as db:
        assert families.run_daily(db) == 1
        assert families.run_daily(db) == 0  # safe twice
    assert sorted(send_emails(rt)) == ["coming_of_age", "representation_ended"]
    assert sign_in(rt, people.holder).profiles[1:] == ()
    with rt.transaction(readonly=True) as db:
        status = db.execute(
            select(models.beneficiary.c.status).where(models.beneficiary.c.id == older)
        ).scalar_one()
        assert [c.given_names for c in families.children(db, session=holder)] == ["Julia Mia"]
    assert status == "active"  # the space stays
    assert events(rt, "enrollment:family:majority") == 2
    with rt.transaction() as db, refused("adult"):
        families.activate_child(db, session=holder, child_id=older)


def test_the_daily_job_is_registered(rt: Runtime) -> None:
    assert "enrollment:families-daily" in rt.jobs.kinds
