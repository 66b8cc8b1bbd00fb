"""Caregivers (proches aidants) on a real database: invitation, limits, acceptance with its PDF
proof in the person's documents, refusal, revocation, expiry."""

from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from tests.enrollment.family_setup import (
    People,
    Row,
    beneficiary_id,
    identity,
    make_active,
    send_emails,
    sign_in,
)
from tests.enrollment.family_setup import people as people  # noqa: PLC0414 - a fixture
from tests.enrollment.family_setup import rt as rt  # noqa: PLC0414 - a fixture
from tests.enrollment.pdf_reader import pages, read_pdf, texts

from carnet.core.clock import FrozenClock
from carnet.core.errors import NotFound
from carnet.enrollment import models
from carnet.enrollment.errors import FamilyRefused
from carnet.enrollment.schemas import InvitationStatus
from carnet.runtime import Runtime


def refused(reason: str) -> object:
    return pytest.raises(FamilyRefused, match=f"refused: {reason}$")


def invite(rt: Runtime, person: Row, caregiver: Row, **changes: object) -> str:
    session = sign_in(rt, person)
    with rt.transaction() as db:
        return rt.enrollment.caregivers.invite(
            db,
            session=session,
            **{**identity(caregiver), **changes},  # type: ignore[arg-type]
        ).id


def answer(rt: Runtime, caregiver: Row, link_id: str, *, accept: bool) -> None:
    session = sign_in(rt, caregiver)
    with rt.transaction() as db:
        rt.enrollment.caregivers.answer(db, session=session, link_id=link_id, accept=accept)


@pytest.fixture
def adults(rt: Runtime, people: People) -> list[Row]:
    chosen = people.adults[:9]
    for row in chosen:
        make_active(rt, row)
    return chosen


def test_accepting_files_a_pdf_proof_in_the_persons_documents(
    rt: Runtime, adults: list[Row]
) -> None:
    person, caregiver = adults[0], adults[1]
    send_emails(rt)
    link = invite(rt, person, caregiver, family_name=caregiver["nom_naissance"].lower())
    assert send_emails(rt) == ["caregiver_invitation"]
    helper = sign_in(rt, caregiver)
    with rt.transaction(readonly=True) as db:
        (waiting,) = rt.enrollment.caregivers.helped(db, session=helper)
    assert waiting.id == link and waiting.status is InvitationStatus.PENDING
    answer(rt, caregiver, link, accept=True)
    assert send_emails(rt) == ["caregiver_news"]
    owner = sign_in(rt, person)
    with rt.transaction(readonly=True) as db:
        document_id = rt.enrollment.caregivers.proof_document(db, session=helper, link_id=link)
        repo = rt.record.repository(db=db, ctx=rt.carnet_context())
        document = json.loads(repo.read("DocumentReference", document_id).body)
        binary_id = document["content"][0]["attachment"]["url"].removeprefix("Binary/")
        binary = json.loads(repo.read("Binary", binary_id).body)
        (mine,) = rt.enrollment.caregivers.my_caregivers(db, session=owner)
    assert document["subject"]["reference"] == f"Patient/{beneficiary_id(rt, person)}"
    pdf = base64.b64decode(binary["data"])
    assert pdf.startswith(b"%PDF-")
    (page,) = pages(read_pdf(pdf))
    shown = " ".join(line.text for line in texts(page))
    assert "Justificatif" in shown and caregiver["nom_naissance"] in shown
    assert mine.status is InvitationStatus.ACCEPTED
    with rt.transaction() as db, refused("answered"):
        rt.enrollment.caregivers.answer(db, session=helper, link_id=link, accept=False)


def test_limits_count_pending_invitations(rt: Runtime, adults: list[Row]) -> None:
    person = adults[0]
    for caregiver in adults[1:4]:
        invite(rt, person, caregiver)
    with refused("too-many-caregivers"):
        invite(rt, person, adults[4])
    # A caregiver helping five people (pending included) takes no sixth.
    caregiver = adults[8]
    for helped in adults[3:8]:
        invite(rt, helped, caregiver)
    with refused("caregiver-full"):
        invite(rt, adults[2], caregiver)
    with rt.transaction(readonly=True) as db:
        count = db.execute(text("SELECT count(*) FROM enrollment_caregiver")).scalar_one()
    assert count == 8  # nothing half-done by the refusals


def test_bad_invitations_are_refused(rt: Runtime, people: People, adults: list[Row]) -> None:
    person, caregiver = adults[0], adults[1]
    with refused("no-match"):
        invite(rt, person, caregiver, given_name="Quelquun")
    with refused("no-match"):
        invite(rt, person, caregiver, nir="199017511111172")
    with refused("self"):
        invite(rt, person, person)
    with refused("invitee-not-active"):
        invite(rt, person, people.adults[10])
    invite(rt, person, caregiver)
    with refused("duplicate"):
        invite(rt, person, caregiver)
    with rt.transaction(readonly=True) as db:
        refusals = db.execute(
            text(
                "SELECT count(*) FROM audit_event WHERE tag = 'enrollment:caregiver:invite' "
                "AND outcome = 'refused'"
            )
        ).scalar_one()
    assert refusals >= 5


def test_an_inactive_inviter_is_refused(rt: Runtime, people: People, adults: list[Row]) -> None:
    session = sign_in(rt, people.holder, create=True)  # an account, but no active space
    with rt.transaction() as db, refused("not-active"):
        rt.enrollment.caregivers.invite(db, session=session, **identity(adults[0]))  # type: ignore[arg-type]


def test_refusal_revocation_and_expiry(rt: Runtime, adults: list[Row]) -> None:
    person = adults[0]
    first = invite(rt, person, adults[1])
    answer(rt, adults[1], first, accept=False)
    second = invite(rt, person, adults[2])
    answer(rt, adults[2], second, accept=True)
    helper, stranger = sign_in(rt, adults[2]), sign_in(rt, adults[5])
    caregivers = rt.enrollment.caregivers
    with rt.transaction() as db:
        caregivers.revoke(db, session=helper, link_id=second)
    with rt.transaction() as db, refused("ended"):
        caregivers.revoke(db, session=helper, link_id=second)
    with rt.transaction() as db, pytest.raises(NotFound):
        caregivers.revoke(db, session=stranger, link_id=second)
    third = invite(rt, person, adults[3])
    clock = rt.accounts.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(timedelta(days=31))
    late = sign_in(rt, adults[3])
    with rt.transaction() as db, refused("expired"):
        caregivers.answer(db, session=late, link_id=third, accept=True)
    with rt.transaction(readonly=True) as db:
        statuses = dict(db.execute(select(models.caregiver.c.id, models.caregiver.c.status)).all())
    assert statuses == {first: "refused", second: "revoked", third: "pending"}
    # Expired invitations no longer count against the limits; the daily job marks them.
    for caregiver in adults[4:7]:
        invite(rt, person, caregiver)
    with rt.transaction() as db:
        rt.enrollment.families.run_daily(db)
        status = db.execute(
            select(models.caregiver.c.status).where(models.caregiver.c.id == third)
        ).scalar_one()
    assert status == "expired"


def test_a_proof_is_only_shown_to_the_two_people(rt: Runtime, adults: list[Row]) -> None:
    link = invite(rt, adults[0], adults[1])
    answer(rt, adults[1], link, accept=True)
    stranger = sign_in(rt, adults[2])
    with rt.transaction(readonly=True) as db, pytest.raises(NotFound):
        rt.enrollment.caregivers.proof_document(db, session=stranger, link_id=link)


def test_two_invitations_at_once_cannot_both_take_the_last_place(
    rt: Runtime, adults: list[Row]
) -> None:
    person = adults[0]
    for caregiver in adults[1:3]:
        invite(rt, person, caregiver)
    session = sign_in(rt, person)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(caregiver: Row) -> None:
        barrier.wait()
        try:
            with rt.transaction() as db:
                rt.enrollment.caregivers.invite(db, session=session, **identity(caregiver))  # type: ignore[arg-type]
            outcomes.append("invited")
        except FamilyRefused as refusal:
            outcomes.append(refusal.reason)
        except OperationalError:
            outcomes.append("busy")  # SQLite's single writer: the other one waited too long

    threads = [threading.Thread(target=attempt, args=(row,)) for row in adults[3:5]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("invited") == 1
    with rt.transaction(readonly=True) as db:
        count = db.execute(text("SELECT count(*) FROM enrollment_caregiver")).scalar_one()
    assert count == 3


def test_a_closing_space_ends_every_link_on_both_sides(rt: Runtime, adults: list[Row]) -> None:
    helped_by = invite(rt, adults[0], adults[1])
    answer(rt, adults[1], helped_by, accept=True)
    helping = invite(rt, adults[2], adults[0])  # still pending: ended too
    person = beneficiary_id(rt, adults[0])
    with rt.transaction() as db:
        ended = rt.enrollment.caregivers.end_all(db, person_id=person, reason="closure")
        statuses = set(db.execute(select(models.caregiver.c.status)).scalars())
    assert ended == 2 and statuses == {"revoked"}
    assert helping != helped_by
