"""A new activation code on request (« code provisoire » lost or expired): the person gives
their NIR, their Carte Vitale serial number and their birth date, and picks e-mail or SMS.

- The NIR finds the beneficiary through its blind index; the serial and the birth date are
  compared with their sealed values (constant time). On a match, the previous code stops working
  and the new one goes to the contact on file (never to one given in the request).
- **No enumeration.** Whether the details match, do not, name nobody, or the NIR is locked, the
  answer is the same ``CodeRequestAnswer``; only the audit trail knows which it was.
- **Rate limited.** Mismatches are counted per NIR and per client address
  (``throttle.Throttle``, purpose ``regenerate``); a locked NIR or address gets the same answer
  and nothing is sent, right details included.
"""

from __future__ import annotations

import hmac
from datetime import date
from typing import Any, Final

from sqlalchemy import Connection, select

from carnet.audit.service import AuditRecord, EventTag, Outcome
from carnet.core.actor import ANONYMOUS
from carnet.enrollment import enrollment_codes, models
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.majority import adult_on
from carnet.enrollment.registry_apply import NIR_DOMAIN, open_entry
from carnet.enrollment.schemas import (
    BeneficiaryStatus,
    CodeChannel,
    CodeRequestAnswer,
    RegistryEntry,
)
from carnet.enrollment.throttle import Throttle
from carnet.notify import service as notify_service
from carnet.storage.service import join_data_key

CODE_TEMPLATE = "activation_code"
_THROTTLE_PURPOSE = "regenerate"
_b = models.beneficiary
_space = models.space
_ACTIVE = BeneficiaryStatus.ACTIVE.value
# Overseas mobiles are 06 numbers too, under their own country codes (ARCEP plan). Mayotte's
# 0639 block is left out: it shares that block with the range kept for fiction (06 39 98).
_OVERSEAS: Final = {
    "0690": "+590",
    "0691": "+590",
    "0692": "+262",
    "0693": "+262",
    "0694": "+594",
    "0696": "+596",
    "0697": "+596",
}
# People who may ask: those whose space is not activated yet, opened automatically included
# (their letter's code may have expired by then). Opposed, active, suspended, closed or erased
# spaces have their own paths (asking for a space, signing in, support, reopening). Dependants
# may ask from 18 (``_may_ask``).
_WAITING = (
    BeneficiaryStatus.REGISTERED.value,
    BeneficiaryStatus.NOTIFIED.value,
    BeneficiaryStatus.LETTER_DUE.value,
    BeneficiaryStatus.OPEN.value,
)


def e164(mobile: str) -> str:
    """A registry mobile (``06…``/``07…``, as ``validation`` stores it) in E.164 form."""
    return _OVERSEAS.get(mobile[:4], "+33") + mobile[1:]


def regenerate(
    db: Connection,
    wiring: Wiring,
    *,
    nir: str,
    vitale_serial: str,
    birth_date: date,
    channel: CodeChannel,
    sms_available: bool,
    client_address: str | None = None,
) -> CodeRequestAnswer:
    """Send a new code when the details match (see the module docstring); never raises on
    wrong details, and answers the same in every case."""
    answer = CodeRequestAnswer(channel=channel)
    now = wiring.storage.clock.now()
    index = wiring.storage.blind_index(NIR_DOMAIN, "".join(nir.split()).upper())
    throttle = Throttle(wiring, _THROTTLE_PURPOSE, index=index, client_address=client_address)
    if throttle.locked_until(db, now) is not None:
        _audit(db, wiring, Outcome.REFUSED, None, reason="locked", channel=channel)
        return answer
    found = _match(db, wiring, index, vitale_serial, birth_date)
    if found is None:
        locked = throttle.fail(db, now) is not None
        _audit(db, wiring, Outcome.REFUSED, None, reason="mismatch", channel=channel, locked=locked)
        return answer
    beneficiary_id, entry = found
    throttle.forgive(db)
    recipient = _recipient(entry, channel, sms_available=sms_available)
    if recipient is None:
        _audit(db, wiring, Outcome.REFUSED, beneficiary_id, reason="no-contact", channel=channel)
        return answer
    lifetime = wiring.settings.code_lifetime
    code = enrollment_codes.replace_code(
        db, wiring.storage, beneficiary_id=beneficiary_id, now=now, lifetime=lifetime
    )
    context = {"code": code, "expires_on": (now + lifetime).date().isoformat()}
    if channel is CodeChannel.EMAIL:
        notify_service.queue_email(
            db, wiring.jobs, to=recipient, template=CODE_TEMPLATE, context=context
        )
    else:
        notify_service.queue_sms(
            db, wiring.jobs, to=recipient, template=CODE_TEMPLATE, context=context
        )
    _audit(db, wiring, Outcome.SUCCESS, beneficiary_id, reason="sent", channel=channel)
    return answer


def _match(
    db: Connection, wiring: Wiring, index: str, vitale_serial: str, birth_date: date
) -> tuple[str, RegistryEntry] | None:
    joined, key_columns = join_data_key(_b, _b.c.id)
    row = db.execute(
        select(_b.c.id, _b.c.sealed, _b.c.status, _b.c.holder_id, *key_columns)
        .select_from(joined)
        .where(_b.c.nir_index == index, _b.c.status.in_((*_WAITING, _ACTIVE)))
    ).first()
    if row is None:
        return None
    entry = open_entry(wiring.storage, row)
    if entry is None or not _may_ask(db, wiring, row, entry):
        return None
    given = "".join(ch for ch in vitale_serial if ch.isdigit())
    # Both compared whatever the first says, in constant time: timing tells nothing either.
    serial_ok = hmac.compare_digest(given.encode(), entry.vitale_serial.encode())
    birth_ok = hmac.compare_digest(
        birth_date.isoformat().encode(), entry.birth_date.isoformat().encode()
    )
    return (row.id, entry) if serial_ok and birth_ok and entry.vitale_serial else None


def _may_ask(db: Connection, wiring: Wiring, row: Any, entry: RegistryEntry) -> bool:
    """Holders waiting for activation; dependants only from 18 (a minor is activated from the
    holder's account), and then also when a parent activated their space, which is ``active``
    with no account of its own until the young adult attaches theirs."""
    if row.holder_id is None:
        return bool(row.status != _ACTIVE)
    if adult_on(entry.birth_date) > wiring.storage.clock.now().date():
        return False
    if row.status != _ACTIVE:
        return True
    account_id = db.execute(
        select(_space.c.account_id).where(_space.c.patient_id == row.id)
    ).scalar_one_or_none()
    return account_id is None


def _recipient(entry: RegistryEntry, channel: CodeChannel, *, sms_available: bool) -> str | None:
    if channel is CodeChannel.EMAIL:
        return entry.email or None
    return e164(entry.mobile) if entry.mobile and sms_available else None


def _audit(
    db: Connection,
    wiring: Wiring,
    outcome: Outcome,
    beneficiary_id: str | None,
    *,
    reason: str,
    channel: CodeChannel,
    locked: bool = False,
) -> None:
    # A match joins the person's own chain (their space's history will show it); a refusal
    # names nobody, so it joins the system chain.
    wiring.audit.record(
        db,
        AuditRecord(
            tag=EventTag.ENROLLMENT_CODE_REGENERATE,
            outcome=outcome,
            actor=ANONYMOUS,
            patient_id=beneficiary_id,
            entity="enrollment-activation-code",
            detail={"reason": reason, "channel": channel.value, "locked": locked},
        ),
    )
