"""Coming of age, and invitations that ran out: the body of the families' daily job.

- **Finding who turns 18 without opening everyone.** Birth dates stay sealed. The job meets
  each dependant (``holder_id`` set) once, opens their entry, and keeps a blind index of the day
  they turn 18 (``enrollment_dependant.adult_mac``); each run then looks up the macs of the last
  ``_LOOKBACK`` days, so a job that missed a few days catches up. A dependant already adult when
  first met is handled at once. (A birth date corrected by a later registry file is not seen
  again: the row is made once.)
- **What happens.** Every representative's profile ends
  (``representatives.end_representations``, shared with a child's space closing: removed from
  their account, their link ended, an e-mail tells them; audited on both chains here); pending
  invitations for the child are cancelled; the young adult gets a fresh activation code at
  their contact on file (e-mail, the ``coming_of_age`` message). Their space, if any, stays as
  it is, and the activation flow lets them attach their own account to it.
- **Safe to run twice**: ``adult_done_at`` marks who was handled.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final

from sqlalchemy import Connection, insert, select, update

from carnet.audit.service import EventTag
from carnet.core.actor import CARNET
from carnet.enrollment import enrollment_codes, models, relatives, representatives
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.schemas import InvitationStatus
from carnet.notify import service as notify_service
from carnet.notify.errors import InvalidRecipient

AGE: Final = 18
_DOMAIN: Final = "enrollment-adult-on"
_LOOKBACK: Final = 31
_ENLIST_BATCH: Final = 500
_b = models.beneficiary
_d = models.dependant
_inv = models.family_invitation
_cg = models.caregiver


def adult_on(birth: date) -> date:
    """The day someone born on ``birth`` turns 18 (29 February: 1 March)."""
    try:
        return birth.replace(year=birth.year + AGE)
    except ValueError:
        return date(birth.year + AGE, 3, 1)


def run(db: Connection, wiring: Wiring) -> int:
    """Enlist new dependants, then handle everyone who came of age; how many were handled."""
    today = wiring.storage.clock.now().date()
    due = _enlist(db, wiring, today)
    macs = [
        wiring.storage.blind_index(_DOMAIN, (today - timedelta(days=back)).isoformat())
        for back in range(_LOOKBACK)
    ]
    due |= set(
        db.execute(
            select(_d.c.beneficiary_id).where(
                _d.c.adult_mac.in_(macs), _d.c.adult_done_at.is_(None)
            )
        ).scalars()
    )
    for child_id in sorted(due):
        come_of_age(db, wiring, child_id)
    return len(due)


def _enlist(db: Connection, wiring: Wiring, today: date) -> set[str]:
    """Make the rows of dependants met for the first time; those already adult are returned."""
    due: set[str] = set()
    while True:
        ids = list(
            db.execute(
                select(_b.c.id)
                .outerjoin(_d, _d.c.beneficiary_id == _b.c.id)
                .where(_b.c.holder_id.is_not(None), _d.c.beneficiary_id.is_(None))
                .limit(_ENLIST_BATCH)
            ).scalars()
        )
        if not ids:
            return due
        rows = []
        for child_id in ids:
            person = relatives.load(db, wiring, child_id)
            # Erased data: nobody left to tell; the row is still made, so they are not met again.
            day = adult_on(person.entry.birth_date) if person else date.min
            rows.append(
                {
                    "beneficiary_id": child_id,
                    "adult_mac": wiring.storage.blind_index(_DOMAIN, day.isoformat()),
                    "adult_done_at": None,
                }
            )
            if person is not None and day <= today:
                due.add(child_id)
        db.execute(insert(_d), rows)


def come_of_age(db: Connection, wiring: Wiring, child_id: str) -> None:
    """End every representation of ``child_id`` and give them their own way in."""
    now = wiring.storage.clock.now()
    young = relatives.load(db, wiring, child_id, lock=True)
    ended = representatives.end_representations(
        db, wiring, child_id=child_id, reason="majority", template="representation_ended"
    )
    channel = _send_code(db, wiring, young, now) if young is not None else "none"
    db.execute(update(_d).where(_d.c.beneficiary_id == child_id).values(adult_done_at=now))
    relatives.audit(
        db,
        wiring,
        tag=EventTag.ENROLLMENT_FAMILY_MAJORITY,
        actor=CARNET,
        chains=(child_id, *ended),
        entity=f"enrollment-child/{child_id}",
        detail={"representatives": len(ended), "code": channel},
    )


def _send_code(db: Connection, wiring: Wiring, young: relatives.Person, now: datetime) -> str:
    """A fresh activation code to the young adult's e-mail on file; the channel used, or
    ``"none"`` (no usable address: support or a later letter must reach them)."""
    if young.status in relatives.GONE or not young.entry.email:
        return "none"
    lifetime = wiring.settings.code_lifetime
    code = enrollment_codes.replace_code(
        db, wiring.storage, beneficiary_id=young.id, now=now, lifetime=lifetime
    )
    try:
        notify_service.queue_email(
            db,
            wiring.jobs,
            to=young.entry.email,
            template="coming_of_age",
            context={
                "code": code,
                "link": wiring.activation_url,
                "expires_on": (now + lifetime).date().isoformat(),
            },
        )
    except InvalidRecipient:
        return "none"
    return "email"


def expire_invitations(db: Connection, wiring: Wiring) -> int:
    """Mark pending invitations past their day as expired (families and caregivers); how many.
    Readers already treat them so; this keeps the tables and the counts plain."""
    now = wiring.storage.clock.now()
    expired = InvitationStatus.EXPIRED.value
    pending = InvitationStatus.PENDING.value
    done = 0
    for table in (_inv, _cg):
        result = db.execute(
            update(table)
            .where(table.c.status == pending, table.c.expires_at <= now)
            .values(status=expired)
        )
        done += result.rowcount
    return done
