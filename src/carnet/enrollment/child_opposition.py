"""Opposition for a minor child (R1111-28): the holder's notice informed the children attached
to them (``campaigns``), so the holder opposes for them, online ("for me and my children", or
one child named by NIR) or by phone (the operator names one child by NIR, after checking the
holder's identity).

- **Whose window.** A child informed with their holder has no notice of their own: their window
  is their holder's (every notice of the holder counts, as for opening); a child attached later
  has a notice of their own too, whose window counts as well. A child already in a space, or
  dead, cannot be opposed any more (their space can be closed instead).
- **What it writes.** For each child: status ``opposed``, their own ``enrollment_opposition``
  row and public receipt (the proof names the child, and the holder as the one who opposed for
  them: ``holder_id``), their codes used up, and one audit event on the child's chain and one on
  the holder's. Nobody is e-mailed: the holder's confirmation or the operator's proof says it.
- **Changing one's mind.** The holder activates the child from their family page
  (``families.activate_child`` opens the space without a DMP merge and ``withdraw`` ends the
  opposition), or asks for it on the "ask for a space" page with the child's NIR.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, exists, func, insert, select, update

from carnet.audit.service import EventTag, Outcome
from carnet.core.actor import Actor
from carnet.core.ids import new_id
from carnet.enrollment import models
from carnet.enrollment import opposition_checks as checks
from carnet.enrollment.campaigns import Wiring, minors_of
from carnet.enrollment.errors import IdentityMismatch, OppositionWindowClosed
from carnet.enrollment.schemas import (
    BeneficiaryStatus,
    OppositionChannel,
    OppositionReceipt,
    RegistryEntry,
)

_PARIS: Final = ZoneInfo("Europe/Paris")
_RECORD: Final = EventTag.ENROLLMENT_OPPOSITION_RECORD
_b = models.beneficiary
_o = models.opposition


def minor_children(db: Connection, holder_id: str) -> list[Any]:
    """The minor children attached to ``holder_id`` (id, status), locked, in id order."""
    return list(
        db.execute(
            select(_b.c.id, _b.c.status)
            .where(minors_of([holder_id]))
            .order_by(_b.c.id)
            .with_for_update()
        )
    )


def child_window_open(
    db: Connection, *, holder_id: str, child_id: str, status: str, now: datetime
) -> bool:
    """Whether the child may still be opposed: not yet in a space (nor dead), and their
    holder's windows not all passed in Paris."""
    if BeneficiaryStatus(status) not in checks.WAITING:
        return False
    space = models.space
    if db.execute(select(exists().where(space.c.patient_id == child_id))).scalar_one():
        return False
    notice = models.notice
    # The holder's notices, and the child's own when they were attached after the holder's.
    ends = db.execute(
        select(func.max(notice.c.opposition_ends)).where(
            notice.c.beneficiary_id.in_([holder_id, child_id])
        )
    ).scalar_one_or_none()
    return ends is None or now.astimezone(_PARIS).date() <= ends


def oppose_children(
    db: Connection,
    wiring: Wiring,
    *,
    holder_id: str,
    channel: OppositionChannel,
    actor: Actor,
    now: datetime,
    only: str | None = None,
) -> tuple[OppositionReceipt, ...]:
    """Record the opposition of the holder's minor children (or of the child ``only``) whose
    window is open; those already opposed give their receipt again (``repeated``), the others
    (in a space, dead) are left as they are. The receipts, in id order."""
    receipts: list[OppositionReceipt] = []
    for child in minor_children(db, holder_id):
        if only is not None and child.id != only:
            continue
        if child.status == BeneficiaryStatus.OPPOSED.value:
            found = db.execute(
                select(_o).where(_o.c.beneficiary_id == child.id, _o.c.withdrawn_at.is_(None))
            ).first()
            if found is not None:
                receipts.append(checks.receipt_from(found, repeated=True))
            continue
        if not child_window_open(
            db, holder_id=holder_id, child_id=child.id, status=child.status, now=now
        ):
            continue
        receipts.append(
            _record(db, wiring, holder_id, child.id, channel=channel, actor=actor, now=now)
        )
    return tuple(receipts)


def _record(
    db: Connection,
    wiring: Wiring,
    holder_id: str,
    child_id: str,
    *,
    channel: OppositionChannel,
    actor: Actor,
    now: datetime,
) -> OppositionReceipt:
    row = {
        "id": new_id(),
        "beneficiary_id": child_id,
        "channel": channel.value,
        "operator": f"{actor.kind.value}:{actor.id}"[:160]
        if channel is OppositionChannel.PHONE
        else None,
        "opposed_at": now,
        "reference": checks.new_reference(),
        "dmp_merge_refused": True,
        "withdrawn_at": None,
    }
    db.execute(insert(_o).values(**row))
    db.execute(
        update(_b)
        .where(_b.c.id == child_id)
        .values(status=BeneficiaryStatus.OPPOSED.value, status_at=now)
    )
    codes = models.activation_code
    db.execute(
        update(codes)
        .where(codes.c.beneficiary_id == child_id, codes.c.used_at.is_(None))
        .values(used_at=now)
    )
    entity = f"enrollment-opposition/{row['reference']}"
    # On the child's chain (their history) and on the holder's (who acted for them).
    for patient_id, reason in ((child_id, "recorded-for-child"), (holder_id, "recorded-child")):
        checks.audit(
            db,
            wiring,
            _RECORD,
            Outcome.SUCCESS,
            actor=actor,
            patient_id=patient_id,
            reason=reason,
            entity=entity,
            detail={"channel": channel.value},
        )
    return checks.receipt_from(row)


def withdraw(db: Connection, *, child_id: str, now: datetime) -> None:
    """The child's opposition is history: their holder had their space opened after all."""
    db.execute(
        update(_o)
        .where(_o.c.beneficiary_id == child_id, _o.c.withdrawn_at.is_(None))
        .values(withdrawn_at=now)
    )


def oppose_one(
    db: Connection,
    wiring: Wiring,
    *,
    actor: Actor,
    holder: checks.Person,
    child_nir: str,
    channel: OppositionChannel,
    now: datetime,
) -> OppositionReceipt:
    """The opposition of the child with NIR ``child_nir`` alone, for the ``holder`` whose
    identity was proven (online with their code, or checked by an operator on the phone).
    Raises ``InvalidNir``, ``IdentityMismatch`` (no such child attached to this holder) or
    ``OppositionWindowClosed`` (window over, in a space, adult)."""
    index = checks.nir_index(wiring.storage, checks.checked_nir(child_nir))
    child = checks.find_person(db, wiring.storage, index)
    if child is None or child.holder_id != holder.id:
        checks.audit(
            db, wiring, _RECORD, Outcome.REFUSED, actor=actor, patient_id=None, reason="mismatch"
        )
        raise IdentityMismatch
    receipts = oppose_children(
        db, wiring, holder_id=holder.id, channel=channel, actor=actor, now=now, only=child.id
    )
    if not receipts:
        checks.audit(
            db,
            wiring,
            _RECORD,
            Outcome.REFUSED,
            actor=actor,
            patient_id=child.id,
            reason="window-closed",
        )
        raise OppositionWindowClosed
    return receipts[0]


def holder_entry(db: Connection, wiring: Wiring, beneficiary_id: str) -> RegistryEntry | None:
    """The registry entry of the holder of ``beneficiary_id`` (None for a holder)."""
    holder_id = db.execute(
        select(_b.c.holder_id).where(_b.c.id == beneficiary_id)
    ).scalar_one_or_none()
    return None if holder_id is None else checks.entry_of(db, wiring.storage, holder_id)


def opposed_by(db: Connection, wiring: Wiring, beneficiary_id: str) -> str:
    """For a child's proof: the name of the holder who opposed for them; ``""`` for a holder."""
    holder = holder_entry(db, wiring, beneficiary_id)
    if holder is None:
        return ""
    family_name = holder.used_family_name or holder.birth_family_name
    return f"{holder.given_names} {family_name.upper()}"
