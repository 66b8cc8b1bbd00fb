"""Activation tickets: the row that carries an activation between its steps (``activation``
starts one, ``activation_steps`` moves it on), found by the keyed hash of the browser's token,
and the audit of each step."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

import orjson
from sqlalchemy import Connection, insert, select, update

from carnet.audit.service import AuditRecord, EventTag, Outcome
from carnet.core.actor import ANONYMOUS, Actor, ActorKind
from carnet.core.ids import new_id
from carnet.enrollment import models
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.errors import ActivationExpired, ActivationOutOfStep
from carnet.enrollment.registry_apply import open_entry
from carnet.enrollment.schemas import (
    ActivationStep,
    ActivationTicket,
    BeneficiaryStatus,
    CodeChannel,
    RegistryEntry,
)
from carnet.storage.service import join_data_key

TICKET_DOMAIN: Final = "enrollment-activation-ticket"
_a = models.activation
_b = models.beneficiary


# Who may activate: informed or not yet, or whose space opened without them.
ACTIVATABLE: Final = frozenset(
    {
        BeneficiaryStatus.REGISTERED,
        BeneficiaryStatus.NOTIFIED,
        BeneficiaryStatus.LETTER_DUE,
        BeneficiaryStatus.OPEN,
    }
)
_ENDED: Final = frozenset(
    {
        BeneficiaryStatus.DECEASED,
        BeneficiaryStatus.SUSPENDED,
        BeneficiaryStatus.CLOSED,
        BeneficiaryStatus.ERASED,
    }
)


def status_refusal(
    status: str, holder_id: str | None, *, adult: bool = False, has_account: bool = True
) -> str | None:
    """Why this person cannot activate (a ``ActivationRefused`` reason), or None.

    A dependant (``holder_id`` set) who is ``adult`` (18 or over) activates like a holder; and
    when a parent activated their space as a child, it is ``active`` without an account of its
    own (``has_account`` False): the young adult then attaches their account to it."""
    value = BeneficiaryStatus(status)
    if value is BeneficiaryStatus.OPPOSED:
        return "opposed"
    if value in _ENDED:
        return "ended"
    if holder_id is not None and not adult:
        return "dependant"  # a minor, whatever the parent did: from the holder's account
    if value is BeneficiaryStatus.ACTIVE:
        return None if holder_id is not None and not has_account else "active"
    return None if value in ACTIVATABLE else "ended"


def has_account(db: Connection, beneficiary_id: str) -> bool:
    """Whether the person's space (if any) has its own account: a child's space activated by a
    parent has none until the young adult attaches theirs."""
    account_id = db.execute(
        select(models.space.c.account_id).where(models.space.c.patient_id == beneficiary_id)
    ).scalar_one_or_none()
    return account_id is not None


def new_ticket(
    db: Connection,
    wiring: Wiring,
    *,
    beneficiary_id: str,
    method: str,
    code_id: str | None,
    step: ActivationStep,
) -> str:
    """A new activation at ``step`` for a person who proved who they are (audited); the
    browser's token, returned once (only its keyed hash is kept)."""
    storage = wiring.storage
    now = storage.clock.now()
    token = secrets.token_urlsafe(32)
    db.execute(
        insert(_a).values(
            id=new_id(),
            token_mac=storage.blind_index(TICKET_DOMAIN, token),
            beneficiary_id=beneficiary_id,
            method=method,
            code_id=code_id,
            step=step.value,
            otp_attempts=0,
            otp_sent=0,
            created_at=now,
            expires_at=now + timedelta(minutes=wiring.settings.activation_minutes),
        )
    )
    audit(
        db, wiring, EventTag.ENROLLMENT_ACTIVATION_START, Outcome.SUCCESS, beneficiary_id,
        method=method,
    )  # fmt: skip
    return token


@dataclass(frozen=True, slots=True)
class Loaded:
    """A live ticket row, its beneficiary's registry entry and what the steps sealed."""

    row: Any
    entry: RegistryEntry
    carried: dict[str, Any]


def ticket_context(ticket_id: str) -> bytes:
    return f"enrollment/activation/{ticket_id}".encode()


def person_actor(beneficiary_id: str) -> Actor:
    return Actor(kind=ActorKind.PATIENT, id=beneficiary_id)


def audit(
    db: Connection,
    wiring: Wiring,
    tag: EventTag,
    outcome: Outcome,
    beneficiary_id: str | None,
    **detail: str | bool,
) -> None:
    """Audit one activation step: in the person's chain once they are known, else the system's
    (a refusal that names nobody)."""
    wiring.audit.record(
        db,
        AuditRecord(
            tag=tag,
            outcome=outcome,
            actor=person_actor(beneficiary_id) if beneficiary_id else ANONYMOUS,
            patient_id=beneficiary_id,
            entity="enrollment-activation",
            detail=dict(detail),
        ),
    )


def load(
    db: Connection, wiring: Wiring, token: str, *, steps: tuple[ActivationStep, ...] = ()
) -> Loaded:
    """The live ticket of ``token``, locked for the step; ``ActivationExpired`` when there is
    none, ``ActivationOutOfStep`` when it is not at one of ``steps`` (when given)."""
    storage = wiring.storage
    if not token:
        raise ActivationExpired
    row = db.execute(
        select(_a)
        .where(_a.c.token_mac == storage.blind_index(TICKET_DOMAIN, token))
        .with_for_update()
    ).first()
    now = storage.clock.now()
    if row is None or row.finished_at is not None or row.expires_at <= now:
        raise ActivationExpired
    if steps and ActivationStep(row.step) not in steps:
        raise ActivationOutOfStep(row.step)
    joined, key_columns = join_data_key(_b, _b.c.id)
    person = db.execute(
        select(_b.c.id, _b.c.sealed, *key_columns)
        .select_from(joined)
        .where(_b.c.id == row.beneficiary_id)
    ).one()
    entry = open_entry(storage, person)
    if entry is None:
        raise ActivationExpired  # erased meanwhile
    carried: dict[str, Any] = {}
    if row.sealed is not None:
        key = storage.data_key(db, owner_id=row.beneficiary_id)
        carried = orjson.loads(key.open(row.sealed, ticket_context(row.id)))
    return Loaded(row=row, entry=entry, carried=carried)


def save(
    db: Connection, wiring: Wiring, loaded: Loaded, *, carried: dict[str, Any] | None = None,
    **values: Any,
) -> None:  # fmt: skip
    """Update the ticket's columns (``values``) and, when given, its sealed carried values."""
    row = loaded.row
    if carried is not None:
        key = wiring.storage.data_key(db, owner_id=row.beneficiary_id)
        values["sealed"] = key.seal(orjson.dumps(carried), ticket_context(row.id))
    db.execute(update(_a).where(_a.c.id == row.id).values(**values))


def view(loaded: Loaded, *, terms_version: str) -> ActivationTicket:
    """What the pages show of a ticket."""
    row, entry = loaded.row, loaded.entry
    return ActivationTicket(
        id=row.id,
        step=ActivationStep(row.step),
        method=row.method,
        channel=CodeChannel(row.channel) if row.channel else None,
        sent_to=str(loaded.carried.get("masked", "")),
        email=entry.email,
        mobile=entry.mobile,
        terms_version=terms_version,
    )
