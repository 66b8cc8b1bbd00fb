"""Children informed through their holder, opposed for by them (online for all, by phone for one),
opened by the job when nobody opposed, and given a space later when the holder asks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from tests.enrollment.test_opposition import (
    ADDRESS,
    OPERATOR,
    Row,
    code_of,
    emails,
    events,
    oppose,
    proof_lines,
    rows,
    rt,
    status_of,
)

from carnet.core.clock import FrozenClock
from carnet.enrollment import models
from carnet.enrollment import service as enrollment_service
from carnet.enrollment.errors import (
    ActivationCodeRefused,
    IdentityMismatch,
    OppositionWindowClosed,
    UnknownChild,
)
from carnet.enrollment.schemas import OppositionChannel, OppositionReceipt
from carnet.runtime import Runtime

__all__ = ["rows", "rt"]  # the fixtures, shared with test_opposition
Status = enrollment_service.BeneficiaryStatus
WINDOW = timedelta(weeks=6)


def family(rows: list[Row], *, email: bool = True) -> tuple[Row, list[Row]]:
    """A pilot holder with two children or more (with or without an e-mail address)."""
    for holder in rows:
        if holder["nir_ouvrant_droit"] or holder["departement"] not in {"31", "44", "80"}:
            continue
        children = [r for r in rows if r["nir_ouvrant_droit"] == holder["nir"]]
        if len(children) >= 2 and bool(holder["email"]) is email:
            return holder, children
    raise AssertionError("the registry has no such family")


def child_by_phone(rt: Runtime, holder: Row, child: Row) -> OppositionReceipt:
    with rt.transaction() as db:
        return rt.enrollment.opposition.oppose_by_phone(
            db,
            actor=OPERATOR,
            nir=holder["nir"],
            vitale_serial=holder["numero_serie_vitale"],
            birth_date=date.fromisoformat(holder["date_naissance"]),
            child_nir=child["nir"],
        )


def clock(rt: Runtime) -> FrozenClock:
    assert isinstance(rt.clock, FrozenClock)
    return rt.clock


def test_children_are_informed_with_their_holder_without_a_message_of_their_own(
    rt: Runtime, rows: list[Row]
) -> None:
    for email, status in ((True, Status.NOTIFIED), (False, Status.LETTER_DUE)):
        holder, children = family(rows, email=email)
        assert status_of(rt, holder) is status
        assert {status_of(rt, child) for child in children} == {status}
    holder, children = family(rows)
    [notice] = [m for m in emails(rt).outbox if m.to == holder["email"]]
    assert "enfants mineurs" in notice.text
    assert not any(child["prenoms"].split()[0] in notice.text for child in children)
    ids = [status_id(rt, child) for child in children]
    with rt.transaction(readonly=True) as db:
        notices = db.execute(
            select(models.notice.c.id).where(models.notice.c.beneficiary_id.in_(ids))
        ).all()
        codes = db.execute(
            select(models.activation_code.c.id).where(
                models.activation_code.c.beneficiary_id.in_(ids)
            )
        ).all()
    assert notices == [] and codes == []


def status_id(rt: Runtime, row: Row) -> str:
    with rt.transaction(readonly=True) as db:
        found = enrollment_service.find_beneficiary(db, storage=rt.storage, nir=row["nir"])
    assert found is not None
    return found.id


def test_a_holder_opposes_online_for_themselves_and_their_children(
    rt: Runtime, rows: list[Row]
) -> None:
    holder, children = family(rows)
    receipt = oppose(rt, holder, code_of(rt, holder), for_children="yes")
    assert status_of(rt, holder) is Status.OPPOSED
    assert len(receipt.children) == len(children)
    assert {status_of(rt, child) for child in children} == {Status.OPPOSED}
    assert len({receipt.reference, *(c.reference for c in receipt.children)}) == 1 + len(children)
    first = receipt.children[0]
    with rt.transaction() as db:
        pdf = rt.enrollment.opposition.proof_pdf(db, actor=OPERATOR, receipt=first.reference)
    text = "\n".join(proof_lines(pdf))
    child = next(c for c in children if status_id(rt, c) == first.beneficiary_id)
    assert child["prenoms"].split()[0] in text
    assert holder["nom_naissance"].upper() in text and "Opposition faite par" in text
    recorded = events(rt, "enrollment:opposition:record")
    chains = {chain for _, _, chain, detail in recorded if detail["reason"] != "recorded"}
    assert {first.beneficiary_id, status_id(rt, holder)} <= chains


def test_a_holder_opposes_online_for_one_child_only(rt: Runtime, rows: list[Row]) -> None:
    holder, (first, second, *_) = family(rows)
    code = code_of(rt, holder)
    receipt = oppose(rt, holder, code, child_nir=first["nir"])
    assert receipt.beneficiary_id == status_id(rt, first)
    assert receipt.channel is OppositionChannel.ONLINE
    assert status_of(rt, first) is Status.OPPOSED
    assert status_of(rt, second) is Status.NOTIFIED
    assert status_of(rt, holder) is Status.NOTIFIED  # the holder did not oppose for themselves
    # Their code is still theirs: they may oppose for themselves later, or activate.
    assert oppose(rt, holder, code).beneficiary_id == status_id(rt, holder)
    assert status_of(rt, holder) is Status.OPPOSED
    # A NIR that is not one of their children's, a wrong code: refused, nothing written.
    other_holder, (stranger, *_) = family(rows, email=False)
    with pytest.raises(UnknownChild) as unknown:
        oppose(rt, holder, code, child_nir=stranger["nir"])
    assert unknown.value.rule == "unknown"
    with pytest.raises(UnknownChild) as malformed:
        oppose(rt, holder, code, child_nir=stranger["nir"][:-1] + "0")
    assert malformed.value.rule in {"key", "format"}
    with pytest.raises(ActivationCodeRefused):
        oppose(rt, holder, "AAAA-BBBB-CCCC", child_nir=second["nir"])
    assert status_of(rt, second) is Status.NOTIFIED
    assert status_of(rt, stranger) is Status.LETTER_DUE
    assert other_holder != holder


def test_phone_opposition_for_one_child_only(rt: Runtime, rows: list[Row]) -> None:
    holder, (first, second, *_) = family(rows)
    receipt = child_by_phone(rt, holder, first)
    assert (receipt.channel, receipt.operator) == (OppositionChannel.PHONE, "operator:operator-7")
    assert receipt.beneficiary_id == status_id(rt, first)
    assert status_of(rt, first) is Status.OPPOSED
    assert status_of(rt, second) is Status.NOTIFIED
    assert status_of(rt, holder) is Status.NOTIFIED
    assert child_by_phone(rt, holder, first).repeated
    # A child who is not theirs, and a child named after the window: refused.
    other_holder, (stranger, *_) = family(rows, email=False)
    with pytest.raises(IdentityMismatch):
        child_by_phone(rt, holder, stranger)
    assert status_of(rt, stranger) is Status.LETTER_DUE
    clock(rt).advance(WINDOW + timedelta(days=1))
    with pytest.raises(OppositionWindowClosed):
        child_by_phone(rt, holder, second)
    assert other_holder != holder


def test_the_job_opens_the_children_nobody_opposed_for(rt: Runtime, rows: list[Row]) -> None:
    holder, (first, second, *_) = family(rows)
    child_by_phone(rt, holder, first)
    clock(rt).advance(WINDOW)
    assert rt.enrollment.opening.open_due(rt.transaction).opened == 0  # the window runs
    clock(rt).advance(timedelta(days=1))
    with rt.transaction(readonly=True) as db:
        due = rt.enrollment.opening.due(db)
    report = rt.enrollment.opening.open_due(rt.transaction, batch=4)
    assert report.opened == due
    assert status_of(rt, second) is Status.OPEN
    assert status_of(rt, holder) is Status.OPEN
    assert status_of(rt, first) is Status.OPPOSED
    # Children of holders still waiting for their letter wait with them.
    _, posted_children = family(rows, email=False)
    assert {status_of(rt, child) for child in posted_children} == {Status.LETTER_DUE}


def test_the_holder_asks_for_a_space_for_the_opposed_child(rt: Runtime, rows: list[Row]) -> None:
    holder, (first, *_) = family(rows)
    child_by_phone(rt, holder, first)
    with rt.transaction() as db:
        answer = rt.enrollment.opposition.ask_for_space(
            db,
            nir=holder["nir"],
            vitale_serial=holder["numero_serie_vitale"],
            birth_date=date.fromisoformat(holder["date_naissance"]),
            client_address=ADDRESS,
            child_nir=first["nir"],
        )
    assert answer.beneficiary_id == status_id(rt, first)
    assert answer.sent_to is None  # the holder activates the child from their family page
    assert status_of(rt, first) is Status.OPEN
    assert status_of(rt, holder) is Status.NOTIFIED
    with rt.transaction(readonly=True) as db:
        opposition = db.execute(
            select(models.opposition.c.withdrawn_at).where(
                models.opposition.c.beneficiary_id == answer.beneficiary_id
            )
        ).one()
        space = db.execute(
            select(models.space.c.opened_by, models.space.c.dmp_merge).where(
                models.space.c.patient_id == answer.beneficiary_id
            )
        ).one()
    assert opposition.withdrawn_at is not None
    assert tuple(space) == ("request", "refused")
