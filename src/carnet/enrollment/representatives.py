"""The rows of ``enrollment_representative`` (who acts for which child) and of the family
invitations, as ``families`` reads and writes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from carnet.audit.service import EventTag
from carnet.core.actor import CARNET
from carnet.enrollment import models, relatives
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.schemas import BeneficiaryStatus, InvitationStatus

_rep = models.representative
_inv = models.family_invitation
_space = models.space
_b = models.beneficiary


def representing(db: Connection, child_id: str, person_id: str) -> bool:
    return (
        db.execute(
            select(_rep.c.child_id).where(
                _rep.c.child_id == child_id,
                _rep.c.representative_id == person_id,
                _rep.c.ended_at.is_(None),
            )
        ).first()
        is not None
    )


def has_second(db: Connection, child_id: str) -> bool:
    row = db.execute(
        select(_rep.c.child_id).where(
            _rep.c.child_id == child_id, _rep.c.role == "second", _rep.c.ended_at.is_(None)
        )
    ).first()
    return row is not None


def live_invitation(db: Connection, child_id: str, now: Any) -> bool:
    row = db.execute(
        select(_inv.c.id).where(
            _inv.c.child_id == child_id,
            _inv.c.status == InvitationStatus.PENDING.value,
            _inv.c.expires_at > now,
        )
    ).first()
    return row is not None


def set_active(db: Connection, child_id: str, now: Any) -> None:
    db.execute(
        update(_b)
        .where(_b.c.id == child_id, _b.c.status != BeneficiaryStatus.ACTIVE.value)
        .values(status=BeneficiaryStatus.ACTIVE.value, status_at=now)
    )
    db.execute(
        update(_space)
        .where(_space.c.patient_id == child_id, _space.c.activated_at.is_(None))
        .values(activated_at=now, updated_at=now)
    )


def represent(
    db: Connection,
    wiring: Wiring,
    child: relatives.Person,
    person_id: str,
    account_id: str,
    *,
    role: str,
    now: Any,
) -> None:
    """``person_id`` now acts for ``child`` through ``account_id``'s profiles. A link that
    ended (their space closed, then reopened) is taken up again: one row per pair."""
    values = {"role": role, "account_id": account_id, "since": now}
    revived = db.execute(
        update(_rep)
        .where(
            _rep.c.child_id == child.id,
            _rep.c.representative_id == person_id,
            _rep.c.ended_at.is_not(None),
        )
        .values(**values, ended_at=None, end_reason=None)
    ).rowcount
    if not revived:
        db.execute(
            insert(_rep).values(
                child_id=child.id,
                representative_id=person_id,
                **values,
                ended_at=None,
                end_reason=None,
            )
        )
    wiring.accounts.add_child_profile(
        db, account_id=account_id, patient_id=child.id, label=child.first_name
    )


def end_representations(
    db: Connection, wiring: Wiring, *, child_id: str, reason: str, template: str | None
) -> list[str]:
    """End every live representation of ``child_id`` (coming of age, the child's space
    closing): the child's profile leaves each representative's account, the link ends with
    ``reason``, pending invitations for the child are cancelled, and each representative is
    e-mailed ``template`` (None: nobody is written to, e.g. after a death). The
    representatives' ids, for the caller's audit chains."""
    now = wiring.storage.clock.now()
    links = db.execute(
        select(_rep.c.representative_id, _rep.c.account_id).where(
            _rep.c.child_id == child_id, _rep.c.ended_at.is_(None)
        )
    ).all()
    for link in links:
        wiring.accounts.remove_child_profile(db, account_id=link.account_id, patient_id=child_id)
        representative = relatives.load(db, wiring, link.representative_id)
        if template is not None and representative is not None:
            relatives.tell(db, wiring, representative, template, page=relatives.FAMILY_PAGE)
    db.execute(
        update(_rep)
        .where(_rep.c.child_id == child_id, _rep.c.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    _cancel_invitations(db, _inv.c.child_id == child_id, now)
    return [str(link.representative_id) for link in links]


def end_as_representative(
    db: Connection, wiring: Wiring, *, person_id: str, reason: str, tell: bool = True
) -> int:
    """``person_id`` stops acting for any child (their own space closed, their account is
    disabled): their child profiles are removed, their links end with ``reason``, the family
    invitations they sent or received and that still wait are cancelled, and the other
    representative of each child, if any, is told (unless ``tell`` is False: nobody is written
    to about a death). The children's spaces stay as they are.
    Audited on the chains of each child and of both representatives; how many links ended."""
    now = wiring.storage.clock.now()
    links = db.execute(
        select(_rep.c.child_id, _rep.c.account_id).where(
            _rep.c.representative_id == person_id, _rep.c.ended_at.is_(None)
        )
    ).all()
    for link in links:
        wiring.accounts.remove_child_profile(
            db, account_id=link.account_id, patient_id=link.child_id
        )
        others = db.execute(
            select(_rep.c.representative_id).where(
                _rep.c.child_id == link.child_id,
                _rep.c.representative_id != person_id,
                _rep.c.ended_at.is_(None),
            )
        ).scalars()
        chains: list[str] = [link.child_id, person_id]
        for other_id in others:
            chains.append(other_id)
            if tell and (other := relatives.load(db, wiring, other_id)) is not None:
                relatives.tell(db, wiring, other, "family_news", page=relatives.FAMILY_PAGE)
        relatives.audit(
            db,
            wiring,
            tag=EventTag.ENROLLMENT_FAMILY_END,
            actor=CARNET,
            chains=tuple(chains),
            entity=f"enrollment-child/{link.child_id}",
            detail={"reason": reason, "others_told": len(chains) - 2},
        )
    db.execute(
        update(_rep)
        .where(_rep.c.representative_id == person_id, _rep.c.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    mine = or_(_inv.c.inviter_id == person_id, _inv.c.invitee_id == person_id)
    _cancel_invitations(db, mine, now)
    return len(links)


def _cancel_invitations(db: Connection, where: Any, now: Any) -> None:
    db.execute(
        update(_inv)
        .where(where, _inv.c.status == InvitationStatus.PENDING.value)
        .values(status=InvitationStatus.CANCELLED.value, answered_at=now)
    )
