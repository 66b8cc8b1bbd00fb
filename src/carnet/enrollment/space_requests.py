"""Changing one's mind after an opposition: the person (online) or an operator (on the phone)
gives the NIR, the Carte Vitale serial number and the birth date; the space opens at once
(``opening.open_space``, ``opened_by="request"``, no DMP merge: the opposition refused it), the
opposition is marked withdrawn, and a new activation code goes to the contact on file.

Online tries are proved and throttled like oppositions (``opposition_checks``, under their own
purpose); refusals are counted, audited and raised, and nothing else is written.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from sqlalchemy import Connection, update

from carnet.audit.service import EventTag, Outcome
from carnet.core.actor import Actor, ActorKind
from carnet.enrollment import enrollment_codes, models, opening
from carnet.enrollment import opposition_checks as checks
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.code_requests import CODE_TEMPLATE, e164
from carnet.enrollment.errors import IdentityMismatch, NotOpposed
from carnet.enrollment.schemas import BeneficiaryStatus, CodeChannel, SpaceRequestAnswer
from carnet.enrollment.throttle import Throttle
from carnet.notify import service as notify_service
from carnet.notify.errors import InvalidRecipient

_PURPOSE: Final = "space-request"
_TAG: Final = EventTag.ENROLLMENT_OPPOSITION_WITHDRAW
_o = models.opposition


def ask_for_space(
    db: Connection,
    wiring: Wiring,
    *,
    nir: str,
    vitale_serial: str,
    birth_date: date,
    client_address: str | None,
    actor: Actor,
    sms_available: bool,
    child_nir: str | None = None,
) -> SpaceRequestAnswer:
    """Open the space of the person who opposed and proves these details (see the module
    docstring); with ``child_nir``, that of this minor child attached to them (no new code:
    the holder activates the child from their family page). Raises ``InvalidNir``,
    ``TooManyTries``, ``IdentityMismatch`` or ``NotOpposed`` (never opposed, or already
    withdrawn)."""
    now = wiring.storage.clock.now()
    index = checks.nir_index(wiring.storage, checks.checked_nir(nir))
    throttle = Throttle(wiring, _PURPOSE, index=index, client_address=client_address)
    if actor.kind is ActorKind.OPERATOR:
        # The operator checked identity on the call and is accountable: no throttle.
        person = checks.find_person(db, wiring.storage, index)
        if person is None or not checks.identity_matches(person, vitale_serial, birth_date):
            checks.audit(
                db, wiring, _TAG, Outcome.REFUSED, actor=actor, patient_id=None, reason="mismatch"
            )
            raise IdentityMismatch
    else:
        person = checks.prove(
            db,
            wiring,
            throttle,
            now=now,
            vitale_serial=vitale_serial,
            birth_date=birth_date,
            tag=_TAG,
        )
    if child_nir:
        person = _child_of(db, wiring, person, child_nir, actor)
    if person.status is not BeneficiaryStatus.OPPOSED:
        checks.audit(
            db,
            wiring,
            _TAG,
            Outcome.REFUSED,
            actor=actor,
            patient_id=person.id,
            reason="not-opposed",
        )
        raise NotOpposed(person.status.value)
    throttle.forgive(db)
    opening.open_space(
        db,
        wiring,
        actor=actor,
        beneficiary_id=person.id,
        opened_by="request",
        dmp_merge=False,
        now=now,
    )
    # open_space made the person ``open`` and told them; the opposition is history now.
    db.execute(update(_o).where(_o.c.beneficiary_id == person.id).values(withdrawn_at=now))
    sent_to = (
        None
        if person.holder_id is not None
        else _send_new_code(db, wiring, person, now, sms_available=sms_available)
    )
    detail = {"sent_to": sent_to.value if sent_to else "none"}
    checks.audit(
        db,
        wiring,
        _TAG,
        Outcome.SUCCESS,
        actor=actor,
        patient_id=person.id,
        reason="opened",
        detail=detail,
    )
    return SpaceRequestAnswer(beneficiary_id=person.id, sent_to=sent_to)


def _child_of(
    db: Connection, wiring: Wiring, holder: checks.Person, child_nir: str, actor: Actor
) -> checks.Person:
    """The child with NIR ``child_nir`` attached to ``holder``; else ``IdentityMismatch``."""
    index = checks.nir_index(wiring.storage, checks.checked_nir(child_nir))
    child = checks.find_person(db, wiring.storage, index)
    if child is None or child.holder_id != holder.id:
        checks.audit(
            db, wiring, _TAG, Outcome.REFUSED, actor=actor, patient_id=None, reason="mismatch"
        )
        raise IdentityMismatch
    return child


def _send_new_code(
    db: Connection, wiring: Wiring, person: checks.Person, now: datetime, *, sms_available: bool
) -> CodeChannel | None:
    """A new activation code to the contact on file: e-mail, else SMS; None without one."""
    entry = person.entry
    lifetime = wiring.settings.code_lifetime
    if not entry.email and not (entry.mobile and sms_available):
        return None
    code = enrollment_codes.replace_code(
        db, wiring.storage, beneficiary_id=person.id, now=now, lifetime=lifetime
    )
    context = {"code": code, "expires_on": (now + lifetime).date().isoformat()}
    if entry.email:
        try:
            notify_service.queue_email(
                db, wiring.jobs, to=entry.email, template=CODE_TEMPLATE, context=context
            )
        except InvalidRecipient:
            if not (entry.mobile and sms_available):
                return None
        else:
            return CodeChannel.EMAIL
    notify_service.queue_sms(
        db, wiring.jobs, to=e164(entry.mobile), template=CODE_TEMPLATE, context=context
    )
    return CodeChannel.SMS
