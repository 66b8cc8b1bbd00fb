"""What a person proves to oppose, or to ask for a space after opposing: their NIR (found
through its blind index), their Carte Vitale serial number and birth date (compared with the
sealed registry entry, in constant time) and, online, their activation code.

- **Which detail is wrong is not said.** A NIR nobody holds, a wrong serial and a wrong birth
  date give the same refusal; the code's own refusals (wrong, used, expired) are told apart only
  once the three details matched, so they reveal nothing to a stranger.
- **Refused tries are counted** per NIR and per client address by ``throttle.Throttle``, under
  purposes of their own (opposing, asking for a space, reopening).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, exists, func, select

from carnet.audit.service import AuditRecord, EventTag, Outcome
from carnet.core.actor import ANONYMOUS, Actor
from carnet.core.errors import NotFound
from carnet.enrollment import enrollment_codes, models
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.errors import IdentityMismatch, InvalidNir, TooManyTries
from carnet.enrollment.registry_apply import NIR_DOMAIN, open_entry
from carnet.enrollment.schemas import (
    BeneficiaryStatus,
    OppositionChannel,
    OppositionReceipt,
    RegistryEntry,
)
from carnet.enrollment.throttle import Throttle
from carnet.identity import service as identity_service
from carnet.storage.service import Storage, join_data_key

_PARIS = ZoneInfo("Europe/Paris")
# Before a space exists: the statuses an opposition can come from.
WAITING = (
    BeneficiaryStatus.REGISTERED,
    BeneficiaryStatus.NOTIFIED,
    BeneficiaryStatus.LETTER_DUE,
)
# Sex, year, month, then the place (Corsica: 2A/2B), the order and the key.
_NIR_SHAPE = re.compile(r"[0-9]{5}(?:[0-9]{2}|2[AB])[0-9]{8}")
_b = models.beneficiary
_t = models.throttle
_code = models.activation_code


def checked_nir(nir: str) -> str:
    """``nir`` without spaces, upper case, once its shape and key are right; raises
    ``InvalidNir`` before anything is looked up or counted."""
    value = "".join(nir.split()).upper()
    if _NIR_SHAPE.fullmatch(value) is None:
        raise InvalidNir("format")
    if identity_service.nir_key(value[:13]) != value[13:]:
        raise InvalidNir("key")
    if not identity_service.is_valid_nir(value):
        raise InvalidNir("format")
    return value


def nir_index(storage: Storage, nir: str) -> str:
    return storage.blind_index(NIR_DOMAIN, nir)


@dataclass(frozen=True, slots=True)
class Person:
    """A beneficiary found by NIR, with their opened registry entry."""

    id: str
    status: BeneficiaryStatus
    holder_id: str | None
    entry: RegistryEntry

    def __repr__(self) -> str:
        return f"Person(id={self.id}, status={self.status.value}, <hidden>)"


def find_person(db: Connection, storage: Storage, index: str) -> Person | None:
    """The beneficiary whose NIR has the blind index ``index``, locked for the caller's
    transaction (two tries at once decide one after the other); None when nobody holds it or
    their data was erased."""
    joined, key_columns = join_data_key(_b, _b.c.id)
    row = db.execute(
        select(_b.c.id, _b.c.status, _b.c.holder_id, _b.c.sealed, *key_columns)
        .select_from(joined)
        .where(_b.c.nir_index == index)
        .with_for_update(of=_b)
    ).first()
    if row is None:
        return None
    entry = open_entry(storage, row)
    if entry is None:
        return None
    return Person(row.id, BeneficiaryStatus(row.status), row.holder_id, entry)


def identity_matches(person: Person | None, vitale_serial: str, birth_date: date) -> bool:
    """Whether ``person`` exists, lives, is a holder, and has this serial and birth date. Both
    compared whatever the first says, in constant time: timing tells nothing either."""
    if person is None:
        return False
    entry = person.entry
    given = "".join(ch for ch in vitale_serial if ch.isdigit())
    serial_ok = hmac.compare_digest(given.encode(), entry.vitale_serial.encode())
    birth_ok = hmac.compare_digest(
        birth_date.isoformat().encode(), entry.birth_date.isoformat().encode()
    )
    alive = person.status is not BeneficiaryStatus.DECEASED and entry.death_date is None
    # Dependants (children) are informed, and oppose, through their holder.
    return serial_ok and birth_ok and bool(entry.vitale_serial) and alive and not person.holder_id


def use_code(
    db: Connection, wiring: Wiring, *, beneficiary_id: str, code: str, now: datetime
) -> str | None:
    """Use up ``code`` if it is the person's live code (None); otherwise why not: ``"wrong"``
    (an attempt is counted against the live code), ``"used"`` (used, replaced or burnt) or
    ``"expired"``."""
    storage = wiring.storage
    mac = enrollment_codes.code_mac(storage, beneficiary_id, code)
    row = db.execute(
        select(_code.c.used_at, _code.c.expires_at).where(
            _code.c.beneficiary_id == beneficiary_id, _code.c.code_mac == mac
        )
    ).first()
    if row is not None and row.used_at is not None:
        return "used"
    if row is not None and row.expires_at <= now:
        return "expired"
    used = enrollment_codes.consume_code(
        db,
        storage,
        beneficiary_id=beneficiary_id,
        code=code,
        now=now,
        max_attempts=wiring.settings.code_attempts,
    )
    return None if used else "wrong"


def is_latest_code(db: Connection, storage: Storage, *, beneficiary_id: str, code: str) -> bool:
    """Whether ``code`` is the person's latest code, live or not (the one an opposition used
    up or retired): a second opposition with it gets the first one's receipt."""
    row = db.execute(
        select(_code.c.code_mac)
        .where(_code.c.beneficiary_id == beneficiary_id)
        .order_by(_code.c.created_at.desc())
        .limit(1)
    ).first()
    mac = enrollment_codes.code_mac(storage, beneficiary_id, code)
    return row is not None and hmac.compare_digest(mac, row.code_mac)


def prove(
    db: Connection,
    wiring: Wiring,
    throttle: Throttle,
    *,
    now: datetime,
    vitale_serial: str,
    birth_date: date,
    tag: EventTag,
) -> Person:
    """The person named by the throttle's NIR, once it is not locked and the details match;
    otherwise the refusal is counted, audited (naming nobody) and raised: ``TooManyTries``
    (locked, or this try locked it) or ``IdentityMismatch``."""
    locked = throttle.locked_until(db, now)
    if locked is not None:
        audit(db, wiring, tag, Outcome.REFUSED, actor=ANONYMOUS, patient_id=None, reason="locked")
        raise TooManyTries(locked)
    person = find_person(db, wiring.storage, throttle.index)
    if person is None or not identity_matches(person, vitale_serial, birth_date):
        locked = throttle.fail(db, now)
        detail = {"locked": locked is not None}
        audit(
            db,
            wiring,
            tag,
            Outcome.REFUSED,
            actor=ANONYMOUS,
            patient_id=None,
            reason="mismatch",
            detail=detail,
        )
        if locked is not None:
            raise TooManyTries(locked)
        raise IdentityMismatch
    return person


def audit(
    db: Connection,
    wiring: Wiring,
    tag: EventTag,
    outcome: Outcome,
    *,
    actor: Actor,
    patient_id: str | None,
    reason: str,
    entity: str = "enrollment-opposition",
    detail: Mapping[str, str | bool] | None = None,
) -> None:
    """One audit event of opposition or of a space asked for. A refusal that names nobody
    joins the system chain; the rest, the person's own (their space's history shows it)."""
    wiring.audit.record(
        db,
        AuditRecord(
            tag=tag,
            outcome=outcome,
            actor=actor,
            patient_id=patient_id,
            entity=entity,
            detail={"reason": reason, **(detail or {})},
        ),
    )


def window_open(
    db: Connection, *, beneficiary_id: str, status: BeneficiaryStatus, now: datetime
) -> bool:
    """Whether the person may still oppose: not yet in a space (nor dead), and their latest
    notice's ``opposition_ends`` not passed in Paris (someone never informed may refuse in
    advance)."""
    if status not in WAITING:
        return False
    space = models.space
    if db.execute(select(exists().where(space.c.patient_id == beneficiary_id))).scalar_one():
        return False
    notice = models.notice
    # Every notice's window counts (a letter printed late carries a later one), as for opening.
    ends = db.execute(
        select(func.max(notice.c.opposition_ends)).where(notice.c.beneficiary_id == beneficiary_id)
    ).scalar_one_or_none()
    return ends is None or now.astimezone(_PARIS).date() <= ends


def entry_of(db: Connection, storage: Storage, beneficiary_id: str) -> RegistryEntry:
    """The registry entry of ``beneficiary_id``; ``NotFound`` once their data was erased."""
    joined, key_columns = join_data_key(_b, _b.c.id)
    row = db.execute(
        select(_b.c.id, _b.c.sealed, *key_columns)
        .select_from(joined)
        .where(_b.c.id == beneficiary_id)
    ).one()
    entry = open_entry(storage, row)
    if entry is None:
        raise NotFound("no opposition in force under this reference")
    return entry


def new_reference() -> str:
    """A public receipt reference, ``OPP-XXXX-XXXX-XXXX``: random (about 59 bits), from the
    activation codes' alphabet without look-alikes, read aloud on the phone without doubt."""
    return f"OPP-{enrollment_codes.new_code()}"


def receipt_from(row: Any, *, repeated: bool = False) -> OppositionReceipt:
    """The receipt of an ``enrollment_opposition`` row (a Row or its mapping)."""
    values = row if isinstance(row, dict) else dict(row._asdict())
    return OppositionReceipt(
        reference=values["reference"],
        beneficiary_id=values["beneficiary_id"],
        channel=OppositionChannel(values["channel"]),
        opposed_at=values["opposed_at"],
        operator=values["operator"],
        dmp_merge_refused=bool(values["dmp_merge_refused"]),
        repeated=repeated,
    )
