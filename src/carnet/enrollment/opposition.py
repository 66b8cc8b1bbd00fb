"""Opposition to the opening of a space, and changing one's mind (R1111-28).

- **Who, how.** Online, the person gives the activation code of their notice (e-mail or letter)
  with their NIR, Carte Vitale serial number and birth date (``opposition_checks``: all must
  match; refused tries are counted per NIR and per client address, then locked). By phone, an
  operator checks identity on the call and records it with the same three details (no code);
  the operator's identity goes into the row and the audit trail.
- **When.** While the window is open: the person's latest notice's ``opposition_ends`` (the
  send date + ``opposition_days``) has not passed, in Paris, and no space was opened. After
  that, ``OppositionWindowClosed``: the space can be closed instead.
- **What it does.** Status ``opposed``; one ``enrollment_opposition`` row (channel, operator,
  when, a random public receipt reference, and ``dmp_merge_refused``: opposing refuses the
  merge of an old DMP too); every activation code of the person used up; an audit event; a
  confirmation e-mail (no health data, no identifier: the reference, the day, a link). Opposing
  twice changes nothing and gives the same receipt.
- **The proof.** A PDF (``opposition_proof``) for the operator to send (``proof_pdf``), or for
  the person's browser through a short-lived ticket bound to that browser (``proof_ticket``,
  ``proof_by_ticket``): never the NIR in a URL.
- **Changing one's mind.** ``ask_for_space``: the same three details; the space opens
  (``opening.open_space``, no DMP merge), the status becomes ``open`` and a new activation code
  goes to the contact on file.
- Refusals raise errors (``errors``, ``opposition_checks.InvalidNir``) after counting and
  auditing them; entry points commit on a ClientError, so the count holds, and nothing else was
  written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hmac
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select, update

from carnet.audit.service import EventTag, Outcome
from carnet.core.actor import ANONYMOUS, Actor, ActorKind
from carnet.core.errors import InvalidInput, NotFound
from carnet.core.ids import new_id
from carnet.enrollment import child_opposition, models, space_requests
from carnet.enrollment import opposition_checks as checks
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.errors import (
    ActivationCodeRefused,
    IdentityMismatch,
    InvalidNir,
    OppositionWindowClosed,
    TooManyTries,
    UnknownChild,
)
from carnet.enrollment.opposition_proof import ProofInput, mask_nir, render_proof
from carnet.enrollment.schemas import (
    BeneficiaryStatus,
    OppositionChannel,
    OppositionReceipt,
    SpaceRequestAnswer,
)
from carnet.enrollment.throttle import Throttle
from carnet.notify import service as notify_service
from carnet.notify.errors import InvalidRecipient

CONFIRMATION_TEMPLATE: Final = "space_opposition"
CHANGE_PATH: Final = "/opposition/demander-un-profil"
PROOF_TICKET_LIFETIME: Final = timedelta(minutes=15)
_PARIS: Final = ZoneInfo("Europe/Paris")
_TICKET_DOMAIN: Final = "enrollment-opposition-proof"
_OPPOSE: Final = "oppose"
_o = models.opposition
_b = models.beneficiary


class Oppositions:
    """Opposition online and by phone, its proof, and asking for a space afterwards
    (``runtime.enrollment.opposition``). Methods take the caller's transaction, never commit."""

    def __init__(self, wiring: Wiring) -> None:
        self._wiring = wiring

    def today(self) -> date:
        """Today in France by this process's clock (what birth dates are checked against)."""
        return self._wiring.storage.clock.now().astimezone(_PARIS).date()

    def oppose_online(
        self,
        db: Connection,
        *,
        nir: str,
        code: str,
        vitale_serial: str,
        birth_date: date,
        client_address: str | None,
        for_children: bool = False,
        child_nir: str | None = None,
    ) -> OppositionReceipt:
        """Record the opposition of whoever proves code, NIR, Vitale serial and birth date;
        with ``for_children``, that of the minor children attached to them too
        (``child_opposition``: their receipts in ``children``); with ``child_nir``, that of
        this one child attached to them instead (their receipt; the holder's code stays theirs).

        Raises ``InvalidNir``, ``TooManyTries`` (locked: wait, or call), ``IdentityMismatch``,
        ``ActivationCodeRefused`` (wrong, used or expired) or ``OppositionWindowClosed``."""
        wiring, now = self._wiring, self._wiring.storage.clock.now()
        checked = checks.checked_nir(nir)
        index = checks.nir_index(wiring.storage, checked)
        throttle = Throttle(wiring, _OPPOSE, index=index, client_address=client_address)
        person = checks.prove(
            db,
            wiring,
            throttle,
            now=now,
            vitale_serial=vitale_serial,
            birth_date=birth_date,
            tag=_RECORD,
        )
        if child_nir:
            # The code proves the holder has the notice; it is not used up: it stays theirs.
            if not checks.is_latest_code(db, wiring.storage, beneficiary_id=person.id, code=code):
                self._refuse_code(db, throttle, now, person.id, "wrong")
            throttle.forgive(db)
            try:
                return child_opposition.oppose_one(
                    db,
                    wiring,
                    actor=ANONYMOUS,
                    holder=person,
                    child_nir=child_nir,
                    channel=OppositionChannel.ONLINE,
                    now=now,
                )
            except InvalidNir as error:
                raise UnknownChild(error.rule) from None
            except IdentityMismatch:
                raise UnknownChild("unknown") from None
        if person.status is BeneficiaryStatus.OPPOSED:
            # Asked twice: the same code (used up by the first time) gives the same receipt.
            if checks.is_latest_code(db, wiring.storage, beneficiary_id=person.id, code=code):
                throttle.forgive(db)
                repeated = self._repeat(db, ANONYMOUS, person.id)
                return self._with_children(
                    db, repeated, person, for_children, actor=ANONYMOUS, now=now
                )
            self._refuse_code(db, throttle, now, person.id, "wrong")
        self._require_window(db, ANONYMOUS, person, now)
        reason = checks.use_code(db, wiring, beneficiary_id=person.id, code=code, now=now)
        if reason is not None:
            self._refuse_code(db, throttle, now, person.id, reason)
        throttle.forgive(db)
        receipt = self._record(db, person, OppositionChannel.ONLINE, ANONYMOUS, now)
        return self._with_children(db, receipt, person, for_children, actor=ANONYMOUS, now=now)

    def oppose_by_phone(
        self,
        db: Connection,
        *,
        actor: Actor,
        nir: str,
        vitale_serial: str,
        birth_date: date,
        child_nir: str | None = None,
    ) -> OppositionReceipt:
        """Record, for an operator (``actor``) who checked the caller's identity on the phone,
        the opposition of the person with this NIR, Vitale serial and birth date; with
        ``child_nir``, that of this minor child attached to them instead (the holder's details
        are checked, the child's receipt returned). No code, no throttle (the operator is
        accountable: audited with their identity).

        Raises ``InvalidNir``, ``IdentityMismatch`` or ``OppositionWindowClosed``; a second
        call returns the first receipt (``repeated``)."""
        if actor.kind is not ActorKind.OPERATOR:
            raise InvalidInput("only an operator records an opposition by phone")
        wiring, now = self._wiring, self._wiring.storage.clock.now()
        index = checks.nir_index(wiring.storage, checks.checked_nir(nir))
        person = checks.find_person(db, wiring.storage, index)
        if person is None or not checks.identity_matches(person, vitale_serial, birth_date):
            checks.audit(
                db,
                self._wiring,
                _RECORD,
                Outcome.REFUSED,
                actor=actor,
                patient_id=None,
                reason="mismatch",
            )
            raise IdentityMismatch
        if child_nir:
            return child_opposition.oppose_one(
                db,
                wiring,
                actor=actor,
                holder=person,
                child_nir=child_nir,
                channel=OppositionChannel.PHONE,
                now=now,
            )
        if person.status is BeneficiaryStatus.OPPOSED:
            return self._repeat(db, actor, person.id)
        self._require_window(db, actor, person, now)
        return self._record(db, person, OppositionChannel.PHONE, actor, now)

    def receipt(self, db: Connection, *, reference: str) -> OppositionReceipt:
        """The opposition in force under ``reference``; raises ``NotFound``."""
        row = db.execute(select(_o).where(_o.c.reference == reference.strip().upper()[:24])).first()
        if row is None or row.withdrawn_at is not None:
            raise NotFound("no opposition in force under this reference")
        return checks.receipt_from(row)

    def receipt_for(self, db: Connection, *, beneficiary_id: str) -> OppositionReceipt | None:
        """The opposition in force of ``beneficiary_id`` (the console shows it), or None."""
        row = db.execute(
            select(_o).where(_o.c.beneficiary_id == beneficiary_id, _o.c.withdrawn_at.is_(None))
        ).first()
        return None if row is None else checks.receipt_from(row)

    def proof_pdf(self, db: Connection, *, actor: Actor, receipt: OppositionReceipt | str) -> bytes:
        """The PDF proof of the opposition ``receipt`` (or its reference), audited with
        ``actor`` (the operator who sends it, or the person). Raises ``NotFound`` when no
        opposition is in force under it (unknown, or withdrawn since)."""
        reference = receipt if isinstance(receipt, str) else receipt.reference
        found = self.receipt(db, reference=reference)
        entry = checks.entry_of(db, self._wiring.storage, found.beneficiary_id)
        pdf = render_proof(
            ProofInput(
                opposed_by=child_opposition.opposed_by(db, self._wiring, found.beneficiary_id),
                given_names=entry.given_names,
                family_name=entry.used_family_name or entry.birth_family_name,
                masked_nir=mask_nir(entry.nir),
                opposed_at=found.opposed_at,
                channel="phone" if found.channel is OppositionChannel.PHONE else "online",
                reference=found.reference,
                dmp_merge_refused=found.dmp_merge_refused,
                issued_on=self._wiring.storage.clock.now().astimezone(_PARIS).date(),
                change_url=self._wiring.public_base_url + CHANGE_PATH,
            )
        )
        checks.audit(
            db,
            self._wiring,
            _PROOF,
            Outcome.SUCCESS,
            actor=actor,
            patient_id=found.beneficiary_id,
            reason="issued",
            entity=f"enrollment-opposition/{found.reference}",
        )
        return pdf

    def holder_nir_of(self, db: Connection, *, beneficiary_id: str) -> str | None:
        """For a dependant, their holder's NIR (a child's phone opposition is recorded with the
        holder's details, ``oppose_by_phone(child_nir=...)``); None for a holder."""
        holder = child_opposition.holder_entry(db, self._wiring, beneficiary_id)
        return None if holder is None else holder.nir

    def proof_ticket(self, receipt: OppositionReceipt, *, binding: str) -> str:
        """A ticket to download ``receipt``'s proof, valid ``PROOF_TICKET_LIFETIME`` and only
        with the same ``binding`` (the browser's CSRF nonce): a ticket copied elsewhere, or
        the reference alone, opens nothing."""
        expires = int((self._wiring.storage.clock.now() + PROOF_TICKET_LIFETIME).timestamp())
        return f"{expires}.{self._ticket_mac(receipt.reference, binding, expires)}"

    def proof_by_ticket(
        self, db: Connection, *, reference: str, ticket: str, binding: str
    ) -> bytes:
        """The proof of ``reference`` for the browser holding ``ticket`` (``proof_ticket``);
        raises ``NotFound`` for a wrong, expired or foreign ticket."""
        expires_text, _, mac = ticket.partition(".")
        now = self._wiring.storage.clock.now()
        valid = (
            expires_text.isdigit()
            and int(expires_text) > now.timestamp()
            and hmac.compare_digest(mac, self._ticket_mac(reference, binding, int(expires_text)))
        )
        if not valid or not binding:
            raise NotFound("this download link has expired")
        return self.proof_pdf(db, actor=ANONYMOUS, receipt=reference)

    def ask_for_space(
        self,
        db: Connection,
        *,
        nir: str,
        vitale_serial: str,
        birth_date: date,
        client_address: str | None = None,
        actor: Actor = ANONYMOUS,
        sms_available: bool = False,
        child_nir: str | None = None,
    ) -> SpaceRequestAnswer:
        """A person who opposed asks for their space after all (``space_requests``): it opens
        (no DMP merge), the status becomes ``open`` and a new activation code goes to the
        contact on file (e-mail, else SMS when ``sms_available``). Online (``actor``
        anonymous) tries are throttled like oppositions; an operator's (phone) are not. With
        ``child_nir`` (the holder's details given), the space of that opposed minor child.

        Raises ``InvalidNir``, ``TooManyTries``, ``IdentityMismatch`` or ``NotOpposed``."""
        return space_requests.ask_for_space(
            db,
            self._wiring,
            nir=nir,
            vitale_serial=vitale_serial,
            birth_date=birth_date,
            client_address=client_address,
            actor=actor,
            sms_available=sms_available,
            child_nir=child_nir,
        )

    # --- steps -----------------------------------------------------------------------------

    def _refuse_code(
        self, db: Connection, throttle: Throttle, now: datetime, person_id: str, reason: str
    ) -> None:
        locked = throttle.fail(db, now)
        checks.audit(
            db,
            self._wiring,
            _RECORD,
            Outcome.REFUSED,
            actor=ANONYMOUS,
            patient_id=person_id,
            reason=f"code-{reason}",
            detail={"locked": locked is not None},
        )
        if locked is not None:
            raise TooManyTries(locked)
        raise ActivationCodeRefused(reason)

    def _require_window(
        self, db: Connection, actor: Actor, person: checks.Person, now: datetime
    ) -> None:
        if not checks.window_open(db, beneficiary_id=person.id, status=person.status, now=now):
            checks.audit(
                db,
                self._wiring,
                _RECORD,
                Outcome.REFUSED,
                actor=actor,
                patient_id=person.id,
                reason="window-closed",
            )
            raise OppositionWindowClosed

    def _record(
        self,
        db: Connection,
        person: checks.Person,
        channel: OppositionChannel,
        actor: Actor,
        now: datetime,
    ) -> OppositionReceipt:
        row = {
            "id": new_id(),
            "beneficiary_id": person.id,
            "channel": channel.value,
            "operator": f"{actor.kind.value}:{actor.id}"[:160]
            if channel.value == "phone"
            else None,
            "opposed_at": now,
            "reference": checks.new_reference(),
            "dmp_merge_refused": True,
            "withdrawn_at": None,
        }
        db.execute(insert(_o).values(**row))
        db.execute(
            update(_b)
            .where(_b.c.id == person.id)
            .values(status=BeneficiaryStatus.OPPOSED.value, status_at=now)
        )
        # Every code of the person stops working: nothing is left to activate.
        codes = models.activation_code
        db.execute(
            update(codes)
            .where(codes.c.beneficiary_id == person.id, codes.c.used_at.is_(None))
            .values(used_at=now)
        )
        receipt = checks.receipt_from(row)
        self._confirm(db, person, receipt)
        checks.audit(
            db,
            self._wiring,
            _RECORD,
            Outcome.SUCCESS,
            actor=actor,
            patient_id=person.id,
            reason="recorded",
            entity=f"enrollment-opposition/{receipt.reference}",
            detail={"channel": channel.value},
        )
        return receipt

    def _with_children(
        self,
        db: Connection,
        receipt: OppositionReceipt,
        holder: checks.Person,
        for_children: bool,
        *,
        actor: Actor,
        now: datetime,
    ) -> OppositionReceipt:
        if not for_children:
            return receipt
        children = child_opposition.oppose_children(
            db,
            self._wiring,
            holder_id=holder.id,
            channel=OppositionChannel.ONLINE,
            actor=actor,
            now=now,
        )
        return dataclasses.replace(receipt, children=children)

    def _repeat(self, db: Connection, actor: Actor, person_id: str) -> OppositionReceipt:
        row = db.execute(select(_o).where(_o.c.beneficiary_id == person_id)).one()
        checks.audit(
            db,
            self._wiring,
            _RECORD,
            Outcome.SUCCESS,
            actor=actor,
            patient_id=person_id,
            reason="repeated",
        )
        return checks.receipt_from(row, repeated=True)

    def _confirm(self, db: Connection, person: checks.Person, receipt: OppositionReceipt) -> None:
        if not person.entry.email:
            return  # the proof is the confirmation: on screen, or sent by the operator
        context = {
            "reference": receipt.reference,
            "opposed_on": receipt.opposed_at.astimezone(_PARIS).date().isoformat(),
            "link": self._wiring.public_base_url + CHANGE_PATH,
        }
        # An address the relay cannot take: no e-mail, the proof still stands.
        with contextlib.suppress(InvalidRecipient):
            notify_service.queue_email(
                db,
                self._wiring.jobs,
                to=person.entry.email,
                template=CONFIRMATION_TEMPLATE,
                context=context,
            )

    def _ticket_mac(self, reference: str, binding: str, expires: int) -> str:
        return self._wiring.storage.blind_index(
            _TICKET_DOMAIN, f"{reference.strip().upper()}|{binding}|{expires}"
        )


_RECORD: Final = EventTag.ENROLLMENT_OPPOSITION_RECORD
_PROOF: Final = EventTag.ENROLLMENT_OPPOSITION_PROOF
