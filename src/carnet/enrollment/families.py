"""Children and their legal representatives (« ayants droit », représentants légaux).

- **Who represents a child.** The holder the registry attaches the child to
  (``enrollment_beneficiary.holder_id``) sees them in their account and activates them from it:
  the child's space opens if needed, becomes ``active``, and the child's profile joins the
  holder's account. The holder may then invite the second legal representative (NIR, birth
  family name, first name, birth date of a registered person whose space is active); once they
  accept, the child's profile joins their account too. Only these two, ever
  (``enrollment_representative``).
- **Invitations** expire after ``invitation_days``; a pending one past its day is treated as
  expired everywhere, and the daily job marks it so. The holder may withdraw one still waiting
  (``withdraw``): it is cancelled and leaves the invitee's page.
- **Coming of age.** The daily job finds the dependants who turned 18 (``majority``): each
  representative's profile ends, they are told, and the young adult gets a fresh activation code
  at their contact on file. Their space stays; activating it attaches their own account. A
  closing space ends its representations too (``closure_steps.end_links``).
- **All or nothing.** Every check runs before the first write and the work runs in a savepoint:
  a refusal (``FamilyRefused``, a reason code) leaves nothing but its audit event, which the
  caller keeps by committing (the portal does).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, insert, select, update

from carnet.audit.service import EventTag
from carnet.core.actor import Actor
from carnet.core.errors import NotFound
from carnet.core.ids import new_id
from carnet.enrollment import (
    child_opposition,
    majority,
    models,
    opening,
    relatives,
    representatives,
)
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.errors import FamilyRefused
from carnet.enrollment.schemas import BeneficiaryStatus, Child, Invitation, InvitationStatus
from carnet.identity.accounts.service import CurrentSession, actor_for
from carnet.jobs.service import JobQueue

FAMILIES_DAILY_JOB = "enrollment:families-daily"
_rep = models.representative
_inv = models.family_invitation
_space = models.space
_b = models.beneficiary
_T = TypeVar("_T")


def adulthood(person: relatives.Person, now_day: Any) -> bool:
    return relatives.age_on(person.entry.birth_date, now_day) >= majority.AGE


class Families:
    """Children, second legal representatives, coming of age (``runtime.enrollment.families``).
    Methods take the caller's transaction and never commit."""

    def __init__(self, wiring: Wiring) -> None:
        self._wiring = wiring

    def register_jobs(self, jobs: JobQueue) -> None:
        """The daily job: coming of age, then expired invitations (families and caregivers)."""
        jobs.register_periodic(FAMILIES_DAILY_JOB, self._daily, every=timedelta(days=1))

    def _daily(self, db: Connection, _payload: Mapping[str, Any]) -> None:
        self.run_daily(db)

    def run_daily(self, db: Connection) -> int:
        """Run the daily work now (the job's body; also the CLI's); how many came of age."""
        done = majority.run(db, self._wiring)
        majority.expire_invitations(db, self._wiring)
        return done

    # --- reading ------------------------------------------------------------------------------

    def children(self, db: Connection, *, session: CurrentSession) -> list[Child]:
        """The children attached to the signed-in holder, and those they represent as second
        representative, with their status (adults and erased ones left out)."""
        me, wiring = relatives.signed_in_person(session), self._wiring
        today = wiring.storage.clock.now().date()
        represented = set(
            db.execute(
                select(_rep.c.child_id).where(
                    _rep.c.representative_id == me, _rep.c.ended_at.is_(None)
                )
            ).scalars()
        )
        people = {p.id: p for p in relatives.children_of(db, wiring, me)}
        for child_id in represented - people.keys():
            if (person := relatives.load(db, wiring, child_id)) is not None:
                people[child_id] = person
        return [
            Child(
                id=p.id,
                given_names=p.entry.given_names,
                family_name=p.entry.used_family_name or p.entry.birth_family_name,
                birth_date=p.entry.birth_date,
                status=p.status,
                represented=p.id in represented,
            )
            for p in sorted(people.values(), key=lambda p: (p.entry.birth_date, p.id))
            if not adulthood(p, today)
        ]

    def invitations_received(self, db: Connection, *, session: CurrentSession) -> list[Invitation]:
        """Invitations to represent a child, waiting for the signed-in person's answer."""
        now = self._wiring.storage.clock.now()
        rows = db.execute(
            select(_inv)
            .where(
                _inv.c.invitee_id == relatives.signed_in_person(session),
                _inv.c.status == InvitationStatus.PENDING.value,
                _inv.c.expires_at > now,
            )
            .order_by(_inv.c.created_at)
        )
        return [self._invitation(db, row, other=row.inviter_id) for row in rows]

    def invitations_sent(self, db: Connection, *, session: CurrentSession) -> list[Invitation]:
        """The signed-in holder's invitations, latest first (expired ones shown as such)."""
        rows = db.execute(
            select(_inv)
            .where(_inv.c.inviter_id == relatives.signed_in_person(session))
            .order_by(_inv.c.created_at.desc())
        )
        return [self._invitation(db, row, other=row.invitee_id) for row in rows]

    def _invitation(self, db: Connection, row: Any, *, other: str) -> Invitation:
        wiring = self._wiring
        status = InvitationStatus(row.status)
        if status is InvitationStatus.PENDING and row.expires_at <= wiring.storage.clock.now():
            status = InvitationStatus.EXPIRED
        person, child = relatives.load(db, wiring, other), relatives.load(db, wiring, row.child_id)
        return Invitation(
            id=row.id,
            status=status,
            other_name=person.display_name if person else "",
            child_name=child.display_name if child else "",
            created_at=row.created_at,
            expires_at=row.expires_at,
        )

    # --- activating a child -------------------------------------------------------------------

    def activate_child(self, db: Connection, *, session: CurrentSession, child_id: str) -> Child:
        """Open (if needed) and activate the space of a child attached to the signed-in holder,
        and add the child's profile to their account. Raises ``FamilyRefused``: ``not-your-child``
        (unknown, or attached to someone else), ``adult``, ``unavailable`` (closed,
        suspended, deceased, erased; an opposed child is opened, the opposition withdrawn),
        ``already-active``."""
        actor, me = actor_for(session), relatives.signed_in_person(session)
        wiring = self._wiring

        def work() -> Child:
            now = wiring.storage.clock.now()
            child = relatives.load(db, wiring, child_id, lock=True)
            if child is None or child.holder_id != me:
                raise FamilyRefused("not-your-child")
            if adulthood(child, now.date()):
                raise FamilyRefused("adult")
            # A child their holder opposed for: the holder changes their mind here.
            opposed = child.status is BeneficiaryStatus.OPPOSED
            if child.status in relatives.GONE and not opposed:
                raise FamilyRefused("unavailable")
            if representatives.representing(db, child_id, me):
                raise FamilyRefused("already-active")
            if child.status not in (BeneficiaryStatus.OPEN, BeneficiaryStatus.ACTIVE):
                opening.open_space(
                    db,
                    wiring,
                    actor=actor,
                    beneficiary_id=child_id,
                    opened_by="request" if opposed else "activation",
                    dmp_merge=not opposed,
                    now=now,
                )
            if opposed:
                child_opposition.withdraw(db, child_id=child_id, now=now)
            representatives.set_active(db, child_id, now)
            representatives.represent(
                db, wiring, child, me, session.account_id, role="holder", now=now
            )
            return Child(
                id=child.id,
                given_names=child.entry.given_names,
                family_name=child.entry.used_family_name or child.entry.birth_family_name,
                birth_date=child.entry.birth_date,
                status=BeneficiaryStatus.ACTIVE,
                represented=True,
            )

        return self._audited(
            db,
            work,
            tag=EventTag.ENROLLMENT_CHILD_ACTIVATE,
            actor=actor,
            chains=(child_id, me),
            entity=f"enrollment-child/{child_id}",
        )

    # --- the second legal representative -----------------------------------------------------

    def invite_second(
        self,
        db: Connection,
        *,
        session: CurrentSession,
        child_id: str,
        nir: str,
        family_name: str,
        given_name: str,
        birth_date: Any,
    ) -> Invitation:
        """Invite the child's second legal representative. Raises ``FamilyRefused``:
        ``not-your-child``, ``not-activated`` (activate the child first), ``no-match`` (unknown
        NIR or details that differ: one answer for both), ``self``, ``invitee-not-active``,
        ``already-representative``, ``duplicate`` (a live invitation for this child exists),
        ``adult``."""
        actor, me, wiring = actor_for(session), relatives.signed_in_person(session), self._wiring
        chains: list[str | None] = [child_id, me]

        def work() -> Invitation:
            now = wiring.storage.clock.now()
            child = relatives.load(db, wiring, child_id, lock=True)
            if child is None or child.holder_id != me:
                raise FamilyRefused("not-your-child")
            if adulthood(child, now.date()):
                raise FamilyRefused("adult")
            if not representatives.representing(db, child_id, me):
                raise FamilyRefused("not-activated")
            invitee = relatives.find_person(
                db,
                wiring,
                nir=nir,
                family_name=family_name,
                given_name=given_name,
                birth_date=birth_date,
            )
            if invitee is None:
                raise FamilyRefused("no-match")
            if invitee.id in (me, child_id):
                raise FamilyRefused("self")
            relatives.require_active(db, wiring, invitee, "invitee-not-active")
            chains.append(invitee.id)
            if representatives.representing(db, child_id, invitee.id) or representatives.has_second(
                db, child_id
            ):
                raise FamilyRefused("already-representative")
            if representatives.live_invitation(db, child_id, now):
                raise FamilyRefused("duplicate")
            invitation_id = new_id()
            expires_at = now + timedelta(days=wiring.settings.invitation_days)
            db.execute(
                insert(_inv).values(
                    id=invitation_id,
                    child_id=child_id,
                    inviter_id=me,
                    invitee_id=invitee.id,
                    status=InvitationStatus.PENDING.value,
                    created_at=now,
                    expires_at=expires_at,
                    answered_at=None,
                )
            )
            relatives.tell(
                db,
                wiring,
                invitee,
                "family_invitation",
                page=relatives.FAMILY_PAGE,
                expires_at=expires_at,
            )
            return Invitation(
                id=invitation_id,
                status=InvitationStatus.PENDING,
                other_name=invitee.display_name,
                child_name=child.display_name,
                created_at=now,
                expires_at=expires_at,
            )

        return self._audited(
            db,
            work,
            tag=EventTag.ENROLLMENT_FAMILY_INVITE,
            actor=actor,
            chains=chains,
            entity=f"enrollment-child/{child_id}",
        )

    def answer(
        self, db: Connection, *, session: CurrentSession, invitation_id: str, accept: bool
    ) -> None:
        """Accept (the child's profile joins the signed-in person's account) or refuse an
        invitation addressed to them. Raises ``NotFound`` (not theirs), ``FamilyRefused``:
        ``expired``, ``answered``, ``adult``, ``unavailable``."""
        actor, me, wiring = actor_for(session), relatives.signed_in_person(session), self._wiring
        row = db.execute(select(_inv).where(_inv.c.id == invitation_id)).first()
        if row is None or row.invitee_id != me:
            raise NotFound("no such invitation")

        def work() -> None:
            now = wiring.storage.clock.now()
            child = relatives.load(db, wiring, row.child_id, lock=True)
            current = db.execute(
                select(_inv.c.status).where(_inv.c.id == invitation_id).with_for_update()
            ).scalar_one()
            if current != InvitationStatus.PENDING.value:
                raise FamilyRefused("answered")
            if row.expires_at <= now:
                raise FamilyRefused("expired")
            if child is None or child.status in relatives.GONE:
                raise FamilyRefused("unavailable")
            if adulthood(child, now.date()):
                raise FamilyRefused("adult")
            status = InvitationStatus.ACCEPTED if accept else InvitationStatus.REFUSED
            db.execute(
                update(_inv)
                .where(_inv.c.id == invitation_id)
                .values(status=status.value, answered_at=now)
            )
            if accept:
                representatives.represent(
                    db, wiring, child, me, session.account_id, role="second", now=now
                )
            inviter = relatives.load(db, wiring, row.inviter_id)
            if inviter is not None:
                relatives.tell(db, wiring, inviter, "family_news", page=relatives.FAMILY_PAGE)

        self._audited(
            db,
            work,
            tag=EventTag.ENROLLMENT_FAMILY_ANSWER,
            actor=actor,
            chains=(row.child_id, row.inviter_id, me),
            entity=f"enrollment-family-invitation/{invitation_id}",
            detail={"answer": "accepted" if accept else "refused"},
        )

    def withdraw(self, db: Connection, *, session: CurrentSession, invitation_id: str) -> None:
        """The holder withdraws an invitation they sent that still waits for its answer: it is
        cancelled (it leaves the invitee's page) and the invitee is told. Raises ``NotFound``
        (not theirs), ``FamilyRefused``: ``answered`` (answered or withdrawn already),
        ``expired``."""
        actor, me, wiring = actor_for(session), relatives.signed_in_person(session), self._wiring
        row = db.execute(select(_inv).where(_inv.c.id == invitation_id)).first()
        if row is None or row.inviter_id != me:
            raise NotFound("no such invitation")

        def work() -> None:
            now = wiring.storage.clock.now()
            current = db.execute(
                select(_inv.c.status).where(_inv.c.id == invitation_id).with_for_update()
            ).scalar_one()
            if current != InvitationStatus.PENDING.value:
                raise FamilyRefused("answered")
            if row.expires_at <= now:
                raise FamilyRefused("expired")
            db.execute(
                update(_inv)
                .where(_inv.c.id == invitation_id)
                .values(status=InvitationStatus.CANCELLED.value, answered_at=now)
            )
            invitee = relatives.load(db, wiring, row.invitee_id)
            if invitee is not None:
                relatives.tell(db, wiring, invitee, "family_news", page=relatives.FAMILY_PAGE)

        self._audited(
            db,
            work,
            tag=EventTag.ENROLLMENT_FAMILY_WITHDRAW,
            actor=actor,
            chains=(row.child_id, me, row.invitee_id),
            entity=f"enrollment-family-invitation/{invitation_id}",
        )

    def _audited(
        self,
        db: Connection,
        work: Callable[[], _T],
        *,
        tag: EventTag,
        actor: Actor,
        chains: Any,
        entity: str,
        detail: dict[str, Any] | None = None,
    ) -> _T:
        return relatives.audited(
            db,
            self._wiring,
            work,
            tag=tag,
            actor=actor,
            chains=chains,
            entity=entity,
            detail=detail,
        )
