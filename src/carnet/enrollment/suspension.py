"""Suspending a space (suspected fraud, a serious malfunction: R1111-36) and lifting the
suspension, both operators' acts (the console calls ``Closures.suspend`` and
``Closures.lift_suspension``).

A suspension refuses sign-ins at once (the account is disabled, its sessions end) and keeps the
data as they are; the person is told by e-mail and may object through support. An operator
lifts it (the space is back as it was), or ``retention`` closes the space ``suspension_days``
(6 weeks) later with the reason ``fraud``. Checks first, audited refusals, nothing half-done.
"""

from __future__ import annotations

from sqlalchemy import Connection, update

from carnet.audit.service import EventTag
from carnet.core.actor import Actor
from carnet.core.errors import InvalidInput
from carnet.enrollment import models
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.closure_steps import (
    EventKind,
    actor_text,
    audit,
    load,
    record_event,
    refuse,
    state_of,
    tell,
)
from carnet.enrollment.errors import SpaceErased, SpaceNotFound, SpaceStateConflict
from carnet.enrollment.schemas import BeneficiaryStatus, SpaceState, SuspensionReason

_b = models.beneficiary
_space = models.space
Status = BeneficiaryStatus


def suspend(
    db: Connection, wiring: Wiring, *, actor: Actor, patient_id: str, reason: str
) -> SpaceState:
    """Suspend an open or active space (an operator's act): see the module docstring."""
    tag = EventTag.ENROLLMENT_SPACE_SUSPEND
    try:
        why = SuspensionReason(reason)
    except ValueError:
        raise InvalidInput("unknown suspension reason: fraud or malfunction") from None
    row = load(db, patient_id, lock=True)
    error: Exception | None = None
    if row is None:
        error = SpaceNotFound()
    elif row.status == Status.ERASED:
        error = SpaceErased()
    elif row.status == Status.SUSPENDED:
        error = SpaceStateConflict("suspended", "this space is already suspended")
    elif row.status not in (Status.OPEN, Status.ACTIVE):
        error = SpaceStateConflict("closed", "a closed space cannot be suspended")
    if error is not None:
        raise refuse(db, wiring, tag, actor=actor, patient_id=patient_id, error=error)
    now = wiring.storage.clock.now()
    db.execute(
        update(_b).where(_b.c.id == patient_id).values(status=Status.SUSPENDED.value, status_at=now)
    )
    db.execute(
        update(_space)
        .where(_space.c.patient_id == patient_id)
        .values(suspended_at=now, suspended_by=actor_text(actor), updated_at=now)
    )
    ended = 0
    if row.account_id is not None:
        ended = wiring.accounts.disable_account(db, account_id=row.account_id)
    record_event(
        db, wiring, patient_id=patient_id, kind=EventKind.SUSPENDED, actor=actor, reason=why
    )
    closes_on = (now + wiring.settings.suspension_delay).date().isoformat()
    context = {"closes_on": closes_on, "link": wiring.public_base_url}
    told = tell(db, wiring, row, template="space_suspended", context=context)
    audit(
        db,
        wiring,
        tag,
        actor=actor,
        patient_id=patient_id,
        reason=why.value,
        sessions_ended=ended,
        told=told,
    )
    suspended = load(db, patient_id)
    return state_of(suspended, wiring)


def lift_suspension(db: Connection, wiring: Wiring, *, actor: Actor, patient_id: str) -> SpaceState:
    """End a suspension (the person objected, or it was a mistake): the space is back as it
    was (``active`` with an account, else ``open``) and the person can sign in again."""
    tag = EventTag.ENROLLMENT_SPACE_LIFT
    row = load(db, patient_id, lock=True)
    error: Exception | None = None
    if row is None:
        error = SpaceNotFound()
    elif row.status == Status.ERASED:
        error = SpaceErased()
    elif row.status != Status.SUSPENDED:
        error = SpaceStateConflict(str(row.status), "this space is not suspended")
    if error is not None:
        raise refuse(db, wiring, tag, actor=actor, patient_id=patient_id, error=error)
    now = wiring.storage.clock.now()
    status = Status.ACTIVE if row.account_id is not None else Status.OPEN
    db.execute(update(_b).where(_b.c.id == patient_id).values(status=status.value, status_at=now))
    db.execute(
        update(_space)
        .where(_space.c.patient_id == patient_id)
        .values(suspended_at=None, suspended_by=None, updated_at=now)
    )
    if row.account_id is not None:
        wiring.accounts.enable_account(db, account_id=row.account_id)
    record_event(db, wiring, patient_id=patient_id, kind=EventKind.LIFTED, actor=actor)
    context = {"link": f"{wiring.public_base_url}/connexion"}
    told = tell(db, wiring, row, template="space_restored", context=context)
    audit(db, wiring, tag, actor=actor, patient_id=patient_id, told=told)
    lifted = load(db, patient_id)
    return state_of(lifted, wiring)
