"""Reopening a closed space within its archive period (L1111-13-1: the archive stays the
holder's for ten years and comes back with a new space).

- **Who.** The person proves it online with their NIR, Carte Vitale serial number and birth date
  (``opposition_checks``: compared in constant time, refused tries counted per NIR and per
  address under the purpose ``reopen``, the same refusal whichever detail is wrong); an operator
  reopens on the person's request through ``reopen``.
- **What comes back.** Everything: the data were only archived (the data key is intact). The
  status returns to ``active`` (an account exists) or ``open``, the destruction date is
  cancelled, the account may sign in again, the Patient is active again; audited, and the
  person is told by e-mail.
- **What cannot.** Once erased, nothing: the person is told plainly that the data are gone and
  that a new, empty space can be asked for. A space closed on a death, or for fraud after a
  suspension, reopens only through support (an operator lifts the doubt first).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, select, update

from carnet.audit.service import EventTag, Outcome
from carnet.core.actor import ANONYMOUS, Actor, ActorKind
from carnet.enrollment import closure_steps, models, opposition_checks
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.closure_steps import EventKind, audit, load, refuse, state_of
from carnet.enrollment.errors import (
    ReopenNotAllowed,
    SpaceErased,
    SpaceNotFound,
    SpaceStateConflict,
    TooManyTries,
)
from carnet.enrollment.schemas import BeneficiaryStatus, CloseReason, SpaceState
from carnet.enrollment.throttle import Throttle

_b = models.beneficiary
_space = models.space
Status = BeneficiaryStatus
_TAG = EventTag.ENROLLMENT_SPACE_REOPEN


def reopen_with_card(
    db: Connection,
    wiring: Wiring,
    *,
    nir: str,
    vitale_serial: str,
    birth_date: date,
    client_address: str | None,
) -> SpaceState:
    """Reopen the closed space of whoever proves NIR, Vitale serial and birth date. Raises
    ``InvalidNir`` (before counting anything), ``TooManyTries``, ``SpaceNotFound`` (details do
    not match a person with a space: counted), ``SpaceErased``, ``ReopenNotAllowed`` or
    ``SpaceStateConflict`` (not closed)."""
    index = opposition_checks.nir_index(wiring.storage, opposition_checks.checked_nir(nir))
    throttle = Throttle(wiring, "reopen", index=index, client_address=client_address)
    now = wiring.storage.clock.now()
    until = throttle.locked_until(db, now)
    if until is not None:
        audit(
            db,
            wiring,
            _TAG,
            actor=ANONYMOUS,
            patient_id=None,
            outcome=Outcome.REFUSED,
            refused="locked",
        )
        raise TooManyTries(until)
    status = db.execute(select(_b.c.status).where(_b.c.nir_index == index)).scalar_one_or_none()
    if status == Status.ERASED:
        # The details cannot be checked any more (they were erased with the rest); the
        # attempt is counted, so this says little to someone trying NIRs.
        throttle.fail(db, now)
        raise refuse(db, wiring, _TAG, actor=ANONYMOUS, patient_id=None, error=SpaceErased())
    person = opposition_checks.find_person(db, wiring.storage, index)
    # Dependants (children) and the deceased do not match: their spaces reopen through their
    # representative or through support.
    if not opposition_checks.identity_matches(person, vitale_serial, birth_date):
        locked = throttle.fail(db, now)
        audit(
            db,
            wiring,
            _TAG,
            actor=ANONYMOUS,
            patient_id=None,
            outcome=Outcome.REFUSED,
            refused="mismatch",
            locked=locked is not None,
        )
        raise TooManyTries(locked) if locked is not None else SpaceNotFound()
    assert person is not None
    throttle.forgive(db)
    actor = Actor(kind=ActorKind.PATIENT, id=person.id)
    return reopen(db, wiring, actor=actor, patient_id=person.id)


def reopen(db: Connection, wiring: Wiring, *, actor: Actor, patient_id: str) -> SpaceState:
    """Reopen a closed space (the caller has checked who asks): see the module docstring.
    Raises ``SpaceNotFound``, ``SpaceErased``, ``ReopenNotAllowed`` or ``SpaceStateConflict``."""
    row = load(db, patient_id, lock=True)
    error: Exception | None = None
    if row is None:
        error = SpaceNotFound()
    elif row.status == Status.ERASED:
        error = SpaceErased()
    elif row.status == Status.DECEASED or row.close_reason in (
        CloseReason.DEATH,
        CloseReason.FRAUD,
    ):
        error = ReopenNotAllowed()
    elif row.status != Status.CLOSED:
        error = SpaceStateConflict(str(row.status), "this space is not closed")
    if error is not None:
        raise refuse(db, wiring, _TAG, actor=actor, patient_id=patient_id, error=error)
    now = wiring.storage.clock.now()
    status = Status.ACTIVE if row.account_id is not None else Status.OPEN
    db.execute(update(_b).where(_b.c.id == patient_id).values(status=status.value, status_at=now))
    db.execute(
        update(_space)
        .where(_space.c.patient_id == patient_id)
        .values(
            closed_at=None,
            close_reason=None,
            deletion_requested_at=None,
            erase_after=None,
            suspended_at=None,
            suspended_by=None,
            updated_at=now,
        )
    )
    if row.account_id is not None:
        wiring.accounts.enable_account(db, account_id=row.account_id)
    closure_steps.set_patient_active(db, wiring, patient_id, active=True)
    closure_steps.record_event(
        db, wiring, patient_id=patient_id, kind=EventKind.REOPENED, actor=actor
    )
    link = f"{wiring.public_base_url}/connexion" if row.account_id else wiring.activation_url
    told = closure_steps.tell(db, wiring, row, template="space_reopened", context={"link": link})
    audit(db, wiring, _TAG, actor=actor, patient_id=patient_id, status=status.value, told=told)
    reopened = load(db, patient_id)
    return state_of(reopened, wiring)
