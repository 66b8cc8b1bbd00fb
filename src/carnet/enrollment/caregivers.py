"""Caregivers (« proches aidants »): a person with an active space gives another person with an
active space the right to help them. This module keeps the links and their limits; what a
caregiver may see and do is the access area's business.

- **Finding the caregiver**: INS (the NIR) + first given name + family name + birth date, all
  matching a registered person (``relatives.find_person``: one refusal for unknown and
  mismatching details), whose space is active.
- **Limits**: at most ``MAX_CAREGIVERS`` (3) caregivers per person and ``MAX_PERSONS`` (5)
  persons per caregiver. Pending invitations that have not expired count as well as accepted
  links, on both sides: otherwise a person could send ten invitations, and a caregiver accept
  them all past the limit. Both people's rows are locked (in id order) before counting, so two
  requests at once cannot both take the last place.
- **Life cycle**: invitation (expires after ``invitation_days``) → accepted or refused by the
  caregiver; an accepted link is revoked by either side. On acceptance a PDF proof
  (``delegation_proof``) is filed in the person's documents: a Binary and a DocumentReference
  written through the record's Repository as Carnet; either side downloads it
  (``proof_pdf``) while the link lasts.
- Every step is audited on both chains (refusals too) and the other side is told by e-mail.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta
from typing import Any, Final

import orjson
from sqlalchemy import Connection, func, insert, or_, select, update

from carnet.access import service as access_service
from carnet.audit.service import EventTag
from carnet.core.actor import CARNET
from carnet.core.errors import NotFound
from carnet.core.ids import new_id
from carnet.enrollment import delegation_proof, models, relatives
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.errors import FamilyRefused
from carnet.enrollment.schemas import Invitation, InvitationStatus
from carnet.identity.accounts.service import CurrentSession, actor_for

MAX_CAREGIVERS: Final = 3
MAX_PERSONS: Final = 5
_cg = models.caregiver
_PENDING, _ACCEPTED = InvitationStatus.PENDING.value, InvitationStatus.ACCEPTED.value
_LOINC: Final = "http://loinc.org"
_WRITE: Final = "system/*.cruds"
_READ: Final = "system/DocumentReference.r system/Binary.r"


def _live(now: datetime) -> Any:
    """Links that count against the limits: accepted, or pending and not expired."""
    return or_(_cg.c.status == _ACCEPTED, (_cg.c.status == _PENDING) & (_cg.c.expires_at > now))


class Caregivers:
    """Caregiving links (``runtime.enrollment.caregivers``); never commits."""

    def __init__(self, wiring: Wiring) -> None:
        self._wiring = wiring

    # --- reading ------------------------------------------------------------------------------

    def my_caregivers(self, db: Connection, *, session: CurrentSession) -> list[Invitation]:
        """The signed-in person's caregivers: accepted and pending links (expired shown so)."""
        return self._list(
            db, _cg.c.person_id == relatives.signed_in_person(session), other="caregiver_id"
        )

    def helped(self, db: Connection, *, session: CurrentSession) -> list[Invitation]:
        """The people the signed-in person helps, and invitations waiting for their answer."""
        return self._list(
            db, _cg.c.caregiver_id == relatives.signed_in_person(session), other="person_id"
        )

    def _list(self, db: Connection, where: Any, *, other: str) -> list[Invitation]:
        wiring = self._wiring
        now = wiring.storage.clock.now()
        rows = db.execute(
            select(_cg)
            .where(where, _cg.c.status.in_((_PENDING, _ACCEPTED)))
            .order_by(_cg.c.created_at)
        )
        found = []
        for row in rows:
            status = InvitationStatus(row.status)
            if status is InvitationStatus.PENDING and row.expires_at <= now:
                status = InvitationStatus.EXPIRED
            person = relatives.load(db, wiring, getattr(row, other))
            found.append(
                Invitation(
                    id=row.id,
                    status=status,
                    other_name=person.display_name if person else "",
                    child_name="",
                    created_at=row.created_at,
                    expires_at=row.expires_at,
                )
            )
        return found

    # --- inviting -----------------------------------------------------------------------------

    def invite(
        self,
        db: Connection,
        *,
        session: CurrentSession,
        nir: str,
        family_name: str,
        given_name: str,
        birth_date: Any,
    ) -> Invitation:
        """Invite a caregiver. Raises ``FamilyRefused``: ``not-active`` (the inviter's own
        space), ``no-match``, ``self``, ``invitee-not-active``, ``duplicate``,
        ``too-many-caregivers`` (3 already, pending included), ``caregiver-full`` (they help 5
        people already, pending included)."""
        actor, me, wiring = actor_for(session), relatives.signed_in_person(session), self._wiring
        chains: list[str | None] = [me]

        def work() -> Invitation:
            now = wiring.storage.clock.now()
            person = relatives.load(db, wiring, me)
            if person is None:
                raise FamilyRefused("not-active")
            relatives.require_active(db, wiring, person, "not-active")
            caregiver = relatives.find_person(
                db,
                wiring,
                nir=nir,
                family_name=family_name,
                given_name=given_name,
                birth_date=birth_date,
            )
            if caregiver is None:
                raise FamilyRefused("no-match")
            if caregiver.id == me:
                raise FamilyRefused("self")
            chains.append(caregiver.id)
            relatives.lock_people(db, wiring, me, caregiver.id)
            relatives.require_active(db, wiring, caregiver, "invitee-not-active")
            _check_limits(db, me, caregiver.id, now)
            link_id = new_id()
            expires_at = now + timedelta(days=wiring.settings.invitation_days)
            db.execute(
                insert(_cg).values(
                    id=link_id,
                    person_id=me,
                    caregiver_id=caregiver.id,
                    status=_PENDING,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
            relatives.tell(
                db,
                wiring,
                caregiver,
                "caregiver_invitation",
                page=relatives.CAREGIVERS_PAGE,
                expires_at=expires_at,
            )
            return Invitation(
                id=link_id,
                status=InvitationStatus.PENDING,
                other_name=caregiver.display_name,
                child_name="",
                created_at=now,
                expires_at=expires_at,
            )

        return relatives.audited(
            db,
            wiring,
            work,
            tag=EventTag.ENROLLMENT_CAREGIVER_INVITE,
            actor=actor,
            chains=chains,
            entity="enrollment-caregiver",
        )

    # --- answering, revoking ------------------------------------------------------------------

    def answer(
        self, db: Connection, *, session: CurrentSession, link_id: str, accept: bool
    ) -> None:
        """The caregiver accepts (the proof is filed in the person's documents) or refuses.
        Raises ``NotFound`` (not addressed to them), ``FamilyRefused``: ``answered``,
        ``expired``, ``unavailable`` (a space no longer active)."""
        actor, me, wiring = actor_for(session), relatives.signed_in_person(session), self._wiring
        row = db.execute(select(_cg).where(_cg.c.id == link_id)).first()
        if row is None or row.caregiver_id != me:
            raise NotFound("no such invitation")

        def work() -> None:
            now = wiring.storage.clock.now()
            people = relatives.lock_people(db, wiring, row.person_id, me)
            current = db.execute(select(_cg.c.status).where(_cg.c.id == link_id)).scalar_one()
            if current != _PENDING:
                raise FamilyRefused("answered")
            if row.expires_at <= now:
                raise FamilyRefused("expired")
            person, caregiver = people.get(row.person_id), people.get(me)
            if person is None or caregiver is None:
                raise FamilyRefused("unavailable")
            document_id = None
            if accept:
                relatives.require_active(db, wiring, person, "unavailable")
                relatives.require_active(db, wiring, caregiver, "unavailable")
                document_id = self._file_proof(db, row, person, caregiver, now)
            db.execute(
                update(_cg)
                .where(_cg.c.id == link_id)
                .values(
                    status=_ACCEPTED if accept else InvitationStatus.REFUSED.value,
                    answered_at=now,
                    document_id=document_id,
                )
            )
            relatives.tell(db, wiring, person, "caregiver_news", page=relatives.CAREGIVERS_PAGE)

        relatives.audited(
            db,
            wiring,
            work,
            tag=EventTag.ENROLLMENT_CAREGIVER_ANSWER,
            actor=actor,
            chains=(row.person_id, me),
            entity=f"enrollment-caregiver/{link_id}",
            detail={"answer": "accepted" if accept else "refused"},
        )

    def revoke(self, db: Connection, *, session: CurrentSession, link_id: str) -> None:
        """End a link (accepted, or a pending invitation) from either side. Raises ``NotFound``
        (not one of theirs), ``FamilyRefused("ended")`` (already over)."""
        actor, me, wiring = actor_for(session), relatives.signed_in_person(session), self._wiring
        row = db.execute(select(_cg).where(_cg.c.id == link_id)).first()
        if row is None or me not in (row.person_id, row.caregiver_id):
            raise NotFound("no such caregiver")
        side = "person" if me == row.person_id else "caregiver"

        def work() -> None:
            now = wiring.storage.clock.now()
            ended = db.execute(
                update(_cg)
                .where(_cg.c.id == link_id, _cg.c.status.in_((_PENDING, _ACCEPTED)))
                .values(status=InvitationStatus.REVOKED.value, ended_at=now, ended_by=side)
            ).rowcount
            if not ended:
                raise FamilyRefused("ended")
            other = relatives.load(
                db, wiring, row.caregiver_id if side == "person" else row.person_id
            )
            if other is not None:
                relatives.tell(db, wiring, other, "caregiver_news", page=relatives.CAREGIVERS_PAGE)

        relatives.audited(
            db,
            wiring,
            work,
            tag=EventTag.ENROLLMENT_CAREGIVER_REVOKE,
            actor=actor,
            chains=(row.person_id, row.caregiver_id),
            entity=f"enrollment-caregiver/{link_id}",
            detail={"by": side},
        )

    def end_all(self, db: Connection, *, person_id: str, reason: str) -> int:
        """End every live link of ``person_id``, on both sides (their space closes, they die):
        for closure and death, run as Carnet; how many ended. Audited on both chains."""
        now = self._wiring.storage.clock.now()
        rows = db.execute(
            select(_cg.c.id, _cg.c.person_id, _cg.c.caregiver_id).where(
                or_(_cg.c.person_id == person_id, _cg.c.caregiver_id == person_id), _live(now)
            )
        ).all()
        for row in rows:
            db.execute(
                update(_cg)
                .where(_cg.c.id == row.id)
                .values(status=InvitationStatus.REVOKED.value, ended_at=now, ended_by="carnet")
            )
            relatives.audit(
                db,
                self._wiring,
                tag=EventTag.ENROLLMENT_CAREGIVER_REVOKE,
                actor=CARNET,
                chains=(row.person_id, row.caregiver_id),
                entity=f"enrollment-caregiver/{row.id}",
                detail={"by": "carnet", "reason": reason},
            )
        return len(rows)

    def proof_document(self, db: Connection, *, session: CurrentSession, link_id: str) -> str:
        """The DocumentReference id of an accepted link's proof (for either side's page)."""
        me = relatives.signed_in_person(session)
        row = db.execute(select(_cg).where(_cg.c.id == link_id)).first()
        if row is None or me not in (row.person_id, row.caregiver_id) or not row.document_id:
            raise NotFound("no such proof")
        return str(row.document_id)

    def proof_pdf(self, db: Connection, *, session: CurrentSession, link_id: str) -> bytes:
        """The PDF proof of an accepted link, for either of its two people: read back from the
        helped person's record through the Repository (DocumentReference, then its Binary).
        Audited on both chains. Raises ``NotFound`` for anyone else, an unknown link, or one
        not accepted (pending, refused, revoked)."""
        me = relatives.signed_in_person(session)
        row = db.execute(select(_cg).where(_cg.c.id == link_id)).first()
        if (
            row is None
            or me not in (row.person_id, row.caregiver_id)
            or row.status != _ACCEPTED
            or not row.document_id
        ):
            raise NotFound("no such proof")
        repo = self._wiring.record.repository(db=db, ctx=_proof_context(_READ))
        document = orjson.loads(repo.read("DocumentReference", str(row.document_id)).body)
        url = str(document["content"][0]["attachment"]["url"])
        binary = orjson.loads(repo.read("Binary", url.removeprefix("Binary/")).body)
        relatives.audit(
            db,
            self._wiring,
            tag=EventTag.ENROLLMENT_CAREGIVER_PROOF,
            actor=actor_for(session),
            chains=(row.person_id, row.caregiver_id),
            entity=f"enrollment-caregiver/{link_id}",
            detail={"by": "person" if me == row.person_id else "caregiver"},
        )
        return base64.b64decode(binary["data"])

    def _file_proof(
        self,
        db: Connection,
        row: Any,
        person: relatives.Person,
        caregiver: relatives.Person,
        now: datetime,
    ) -> str:
        """Write the proof's Binary and DocumentReference into the person's record; the
        DocumentReference's id."""
        pdf = delegation_proof.render_proof(
            delegation_proof.ProofInput(
                person_name=person.display_name,
                person_birth=person.entry.birth_date,
                caregiver_name=caregiver.display_name,
                caregiver_birth=caregiver.entry.birth_date,
                invited_on=row.created_at.date(),
                accepted_on=now.date(),
                reference=row.id,
            )
        )
        repo = self._wiring.record.repository(db=db, ctx=_proof_context(_WRITE))
        binary = repo.create(
            {
                "resourceType": "Binary",
                "contentType": "application/pdf",
                "securityContext": {"reference": f"Patient/{person.id}"},
                "data": base64.b64encode(pdf).decode("ascii"),
            }
        )
        document = repo.create(_document(person.id, binary.id, pdf, now))
        return str(document.id)


def _proof_context(scopes: str) -> access_service.AccessContext:
    """Carnet files and reads the proof: the caregiver has no access of their own to the
    helped person's record here, and this service checked who asks."""
    return access_service.AccessContext(actor=CARNET, scopes=access_service.ScopeSet.parse(scopes))


def _document(patient_id: str, binary_id: str, pdf: bytes, now: datetime) -> dict[str, Any]:
    when = now.isoformat(timespec="seconds")
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        # LOINC 64298-3 "Power of attorney" is the nearest standard type for a delegation.
        "type": {"coding": [{"system": _LOINC, "code": "64298-3", "display": "Power of attorney"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "date": when,
        "description": delegation_proof.TITLE,
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "language": "fr-FR",
                    "url": f"Binary/{binary_id}",
                    "size": len(pdf),
                    "hash": base64.b64encode(hashlib.sha1(pdf).digest()).decode("ascii"),  # noqa: S324 - FHIR's attachment hash is SHA-1
                    "title": delegation_proof.TITLE,
                    "creation": when,
                }
            }
        ],
    }


def _check_limits(db: Connection, person_id: str, caregiver_id: str, now: datetime) -> None:
    """Refuse a duplicate or a link past either limit (pending invitations count: see the
    module docstring). The caller holds both people's row locks."""
    live = _live(now)
    duplicate = db.execute(
        select(_cg.c.id).where(
            _cg.c.person_id == person_id, _cg.c.caregiver_id == caregiver_id, live
        )
    ).first()
    if duplicate is not None:
        raise FamilyRefused("duplicate")
    caregivers = db.execute(
        select(func.count()).select_from(_cg).where(_cg.c.person_id == person_id, live)
    ).scalar_one()
    if caregivers >= MAX_CAREGIVERS:
        raise FamilyRefused("too-many-caregivers")
    persons = db.execute(
        select(func.count()).select_from(_cg).where(_cg.c.caregiver_id == caregiver_id, live)
    ).scalar_one()
    if persons >= MAX_PERSONS:
        raise FamilyRefused("caregiver-full")
