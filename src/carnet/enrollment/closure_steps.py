"""Closing a space, and what every closure step shares (``closure.Closures`` is the public
face; ``suspension``, ``reopening`` and ``retention`` build on these).

- **Closing** (R1111-36, L1111-13-1): by the holder (password again, or a fresh sign-in for a
  FranceConnect account), on a death the registry reports, or when a suspension was not lifted
  in time. The space's status becomes ``closed``; the archive is kept ``retention_years`` (10)
  and then destroyed by ``retention`` (crypto-shredding); with a deletion request it is
  destroyed ``deletion_days`` after the request (within the three months the rules allow,
  leaving time for a change of mind). Its caregiving and family links end (``end_links``:
  what happens to the children a closing holder represents is there). The account is
  disabled (every session ends), the Patient is marked inactive through the record's
  Repository, the step is audited on the person's chain and the person is told by e-mail (no
  health data; nobody is written to about a death).
- **Nothing half-done.** Every check runs before the first write; a refusal is audited and then
  raised (the entry point commits a refusal's audit event and nothing else).
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, insert, select, update

from carnet.access import service as access_service
from carnet.audit.service import AuditRecord, EventTag, Outcome
from carnet.core.actor import CARNET, Actor
from carnet.core.ids import new_id
from carnet.enrollment import models, relatives, representatives
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.caregivers import Caregivers
from carnet.enrollment.errors import SpaceErased, SpaceNotFound, SpaceStateConflict
from carnet.enrollment.registry_apply import open_entry
from carnet.enrollment.schemas import (
    BeneficiaryStatus,
    CloseReason,
    SpaceEvent,
    SpaceState,
)
from carnet.notify import service as notify_service
from carnet.record.errors import ResourceNotFound
from carnet.storage.service import join_data_key

_b = models.beneficiary
_space = models.space
_event = models.space_event
Status = BeneficiaryStatus
_PATIENT_SCOPES = access_service.ScopeSet.parse("system/Patient.ru")


class EventKind(StrEnum):
    """Rows of ``enrollment_space_event``: a space's closure history."""

    CLOSED = "closed"
    REOPENED = "reopened"
    SUSPENDED = "suspended"
    LIFTED = "lifted"
    DELETION = "deletion"
    """A deletion request made after the space was closed."""
    ERASED = "erased"
    DEATH = "death"
    """Reported by a registry import; pending (``done_at`` NULL) until the space is closed."""


# --- reading ------------------------------------------------------------------------------------


def load(db: Connection, patient_id: str, *, lock: bool = False) -> Any:
    """The space's row with its beneficiary's status (``status``), or None. With ``lock``, both
    rows are held until the transaction ends (two operators, or an operator and the jobs)."""
    query = (
        select(_space, _b.c.status)
        .join(_b, _b.c.id == _space.c.patient_id)
        .where(_space.c.patient_id == patient_id)
    )
    if lock:
        query = query.with_for_update()
    return db.execute(query).first()


def history(db: Connection, patient_id: str, *, limit: int = 50) -> list[SpaceEvent]:
    """The space's closure history, newest first."""
    rows = db.execute(
        select(_event.c.kind, _event.c.reason, _event.c.actor, _event.c.at, _event.c.done_at)
        .where(_event.c.patient_id == patient_id)
        .order_by(_event.c.at.desc(), _event.c.id)
        .limit(limit)
    )
    return [SpaceEvent(r.kind, r.reason, r.actor, r.at, r.done_at) for r in rows]


def state_of(row: Any, wiring: Wiring) -> SpaceState:
    """The space as callers see it, from a row of ``load``."""
    suspended_at = row.suspended_at if row.status == Status.SUSPENDED else None
    return SpaceState(
        patient_id=row.patient_id,
        status=Status(row.status),
        has_account=row.account_id is not None,
        closed_at=row.closed_at,
        close_reason=CloseReason(row.close_reason) if row.close_reason else None,
        deletion_requested_at=row.deletion_requested_at,
        erase_after=row.erase_after,
        suspended_at=suspended_at,
        closes_at=suspended_at + wiring.settings.suspension_delay if suspended_at else None,
    )


def add_years(moment: datetime, years: int) -> datetime:
    """``moment`` ``years`` later on the calendar (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def actor_text(actor: Actor) -> str:
    return f"{actor.kind.value}:{actor.id}"[:160]


# --- what every step does -----------------------------------------------------------------------


def record_event(
    db: Connection,
    wiring: Wiring,
    *,
    patient_id: str,
    kind: EventKind,
    actor: Actor,
    reason: str | None = None,
) -> None:
    now = wiring.storage.clock.now()
    db.execute(
        insert(_event).values(
            id=new_id(),
            patient_id=patient_id,
            kind=kind.value,
            reason=reason,
            actor=actor_text(actor),
            at=now,
            done_at=now,
        )
    )


def audit(
    db: Connection,
    wiring: Wiring,
    tag: EventTag,
    *,
    actor: Actor,
    patient_id: str | None,
    outcome: Outcome = Outcome.SUCCESS,
    **detail: str | int | bool,
) -> None:
    """On the person's chain (it is their space's history); ``patient_id=None`` for refusals
    that name nobody and for erasures (the system chain)."""
    wiring.audit.record(
        db,
        AuditRecord(
            tag=tag,
            outcome=outcome,
            actor=actor,
            patient_id=patient_id,
            entity=f"enrollment-space/{patient_id}" if patient_id else "enrollment-space/-",
            detail=detail,
        ),
    )


def refuse(
    db: Connection,
    wiring: Wiring,
    tag: EventTag,
    *,
    actor: Actor,
    patient_id: str | None,
    error: Exception,
) -> Exception:
    """Audit a refusal and hand back ``error`` for the caller to raise. A space that does not
    exist has no chain of its own: that refusal goes on the system chain."""
    outcome = Outcome.NOT_FOUND if isinstance(error, SpaceNotFound) else Outcome.CONFLICT
    if isinstance(error, SpaceErased):
        outcome = Outcome.GONE
    if isinstance(error, SpaceNotFound):
        patient_id = None
    state = getattr(error, "state", type(error).__name__)
    audit(db, wiring, tag, actor=actor, patient_id=patient_id, outcome=outcome, refused=state)
    return error


def set_patient_active(db: Connection, wiring: Wiring, patient_id: str, *, active: bool) -> None:
    """Mark the space's Patient (in)active through the record's Repository (audited there)."""
    repository = wiring.record.repository(
        db=db, ctx=access_service.AccessContext(actor=CARNET, scopes=_PATIENT_SCOPES)
    )
    # A space opened before its Patient was written has nothing to mark.
    with contextlib.suppress(ResourceNotFound):
        repository.patch("Patient", patient_id, [{"op": "add", "path": "/active", "value": active}])


def tell(
    db: Connection, wiring: Wiring, row: Any, *, template: str, context: dict[str, str]
) -> bool:
    """E-mail the person: to their account's address, else to the registry's; False when
    there is none (a person informed by post is told nothing more by e-mail)."""
    found = None
    if row.account_id is not None:
        found = wiring.accounts.account_contact(db, account_id=row.account_id)
    if found is None:
        found = _registry_email(db, wiring, row.patient_id)
    if found is None:
        return False
    address, language = found
    notify_service.queue_email(
        db, wiring.jobs, to=address, template=template, context=context, language=language
    )
    return True


def _registry_email(db: Connection, wiring: Wiring, patient_id: str) -> tuple[str, str] | None:
    joined, key_columns = join_data_key(_b, _b.c.id)
    row = db.execute(
        select(_b.c.id, _b.c.sealed, *key_columns).select_from(joined).where(_b.c.id == patient_id)
    ).first()
    entry = None if row is None else open_entry(wiring.storage, row)
    return (entry.email, "fr") if entry is not None and entry.email else None


def close_space(
    db: Connection,
    wiring: Wiring,
    row: Any,
    *,
    actor: Actor,
    reason: CloseReason,
    deletion_requested: bool = False,
) -> SpaceState:
    """Close the (checked, locked) space of ``row``: see the module docstring."""
    now = wiring.storage.clock.now()
    settings = wiring.settings
    if deletion_requested:
        erase_after = now + timedelta(days=settings.deletion_days)
    else:
        erase_after = add_years(now, settings.retention_years)
    patient_id = row.patient_id
    db.execute(
        update(_b).where(_b.c.id == patient_id).values(status=Status.CLOSED.value, status_at=now)
    )
    db.execute(
        update(_space)
        .where(_space.c.patient_id == patient_id)
        .values(
            closed_at=now,
            close_reason=reason.value,
            deletion_requested_at=now if deletion_requested else None,
            erase_after=erase_after,
            updated_at=now,
        )
    )
    ended = 0
    if row.account_id is not None:
        ended = wiring.accounts.disable_account(db, account_id=row.account_id)
    set_patient_active(db, wiring, patient_id, active=False)
    links = end_links(db, wiring, patient_id, reason=reason)
    record_event(
        db, wiring, patient_id=patient_id, kind=EventKind.CLOSED, actor=actor, reason=reason
    )
    told = False
    if reason is not CloseReason.DEATH:  # nobody is written to about a death
        fraud = reason is CloseReason.FRAUD  # reopened through support only
        told = tell(
            db,
            wiring,
            row,
            template="space_closed_fraud" if fraud else "space_closed",
            context={
                "erase_on": erase_after.date().isoformat(),
                "link": wiring.public_base_url if fraud else reopen_url(wiring),
            },
        )
    audit(
        db,
        wiring,
        EventTag.ENROLLMENT_SPACE_CLOSE,
        actor=actor,
        patient_id=patient_id,
        reason=reason.value,
        deletion_requested=deletion_requested,
        sessions_ended=ended,
        links_ended=links,
        told=told,
    )
    closed = load(db, patient_id)
    assert closed is not None
    return state_of(closed, wiring)


def end_links(db: Connection, wiring: Wiring, patient_id: str, *, reason: CloseReason) -> int:
    """End what ties a closed space to others; how many links ended (each audited).

    - Caregiving links on both sides: a closed space can neither help nor be helped.
    - A child's space: every representative's profile for the child ends (as at 18). Nobody
      is e-mailed: the only message about it speaks of coming of age, and nobody is written to
      about a death.
    - A representative's own space (holder or second): their account is disabled, so their
      representations end and their waiting family invitations are cancelled. The children's
      spaces stay open: the rules (mes-rules §1, children; closing) say nothing of them, and
      a child's space is the child's, not a part of the parent's; the other representative,
      if any, keeps acting and is told (not after a death). After a reopening the holder adds
      the children's profiles again from « Ma famille »."""
    ended = Caregivers(wiring).end_all(db, person_id=patient_id, reason="closure")
    representatives_ended = representatives.end_representations(
        db, wiring, child_id=patient_id, reason="child-closed", template=None
    )
    if representatives_ended:
        relatives.audit(
            db,
            wiring,
            tag=EventTag.ENROLLMENT_FAMILY_END,
            actor=CARNET,
            chains=(patient_id, *representatives_ended),
            entity=f"enrollment-child/{patient_id}",
            detail={"reason": "child-closed", "representatives": len(representatives_ended)},
        )
    ended += len(representatives_ended)
    return ended + representatives.end_as_representative(
        db, wiring, person_id=patient_id, reason="own-closed", tell=reason is not CloseReason.DEATH
    )


def reopen_url(wiring: Wiring) -> str:
    return f"{wiring.public_base_url}/reouverture"


# --- the steps ----------------------------------------------------------------------------------


def close(
    db: Connection,
    wiring: Wiring,
    *,
    actor: Actor,
    patient_id: str,
    deletion_requested: bool,
) -> SpaceState:
    """Close an open, active or suspended space at its holder's request (the caller has
    checked who asks). Raises ``SpaceNotFound``, ``SpaceErased`` or ``SpaceStateConflict``
    (already closed)."""
    tag = EventTag.ENROLLMENT_SPACE_CLOSE
    row = load(db, patient_id, lock=True)
    error = _closable(row)
    if error is not None:
        raise refuse(db, wiring, tag, actor=actor, patient_id=patient_id, error=error)
    return close_space(
        db,
        wiring,
        row,
        actor=actor,
        reason=CloseReason.HOLDER,
        deletion_requested=deletion_requested,
    )


def _closable(row: Any | None) -> Exception | None:
    if row is None:
        return SpaceNotFound()
    if row.status == Status.ERASED:
        return SpaceErased()
    if row.status not in (Status.OPEN, Status.ACTIVE, Status.SUSPENDED):
        return SpaceStateConflict("closed", "this space is already closed")
    return None


def request_deletion(
    db: Connection, wiring: Wiring, *, actor: Actor, patient_id: str
) -> SpaceState:
    """A deletion request for a space already closed (made through support): its archive is
    destroyed ``deletion_days`` from now, unless it was due sooner. Raises ``SpaceNotFound``,
    ``SpaceErased`` or ``SpaceStateConflict`` (not closed: close it with the request)."""
    tag = EventTag.ENROLLMENT_SPACE_CLOSE
    row = load(db, patient_id, lock=True)
    error: Exception | None = None
    if row is None:
        error = SpaceNotFound()
    elif row.status == Status.ERASED:
        error = SpaceErased()
    elif row.closed_at is None:
        error = SpaceStateConflict(str(row.status), "this space is not closed")
    if error is not None:
        raise refuse(db, wiring, tag, actor=actor, patient_id=patient_id, error=error)
    now = wiring.storage.clock.now()
    erase_after = min(row.erase_after, now + timedelta(days=wiring.settings.deletion_days))
    db.execute(
        update(_space)
        .where(_space.c.patient_id == patient_id)
        .values(
            deletion_requested_at=row.deletion_requested_at or now,
            erase_after=erase_after,
            updated_at=now,
        )
    )
    record_event(db, wiring, patient_id=patient_id, kind=EventKind.DELETION, actor=actor)
    audit(db, wiring, tag, actor=actor, patient_id=patient_id, deletion_requested=True)
    return replace(state_of(row, wiring), deletion_requested_at=now, erase_after=erase_after)
