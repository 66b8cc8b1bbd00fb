"""What ``families`` and ``caregivers`` share: reading a beneficiary with their sealed entry,
finding a person by the identity someone typed, telling people, auditing on both chains.

- **No enumeration.** ``find_person`` answers None alike for an unknown NIR and for details
  that do not match (compared in constant time): the caller refuses both with one message.
- **Private.** E-mails carry a link to sign in and, for invitations, a day; never a name, an
  identifier or anything about health. Audit details carry ids and reason codes, not values.
"""

from __future__ import annotations

import hmac
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, select

from carnet.audit.service import AuditRecord, EventTag, Outcome
from carnet.core.actor import Actor
from carnet.enrollment import models
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.errors import FamilyRefused
from carnet.enrollment.registry_apply import NIR_DOMAIN, open_entry
from carnet.enrollment.schemas import BeneficiaryStatus, RegistryEntry
from carnet.identity.accounts.service import CurrentSession
from carnet.notify import service as notify_service
from carnet.notify.errors import InvalidRecipient
from carnet.storage.service import join_data_key

_b = models.beneficiary
_space = models.space
# Statuses in which a person can take no part in a family or a caregiving link.
GONE = frozenset(
    {
        BeneficiaryStatus.DECEASED,
        BeneficiaryStatus.OPPOSED,
        BeneficiaryStatus.SUSPENDED,
        BeneficiaryStatus.CLOSED,
        BeneficiaryStatus.ERASED,
    }
)
FAMILY_PAGE = "/famille"
CAREGIVERS_PAGE = "/proches-aidants"
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Person:
    """A beneficiary read with their entry (their data key still exists)."""

    id: str
    status: BeneficiaryStatus
    holder_id: str | None
    entry: RegistryEntry

    @property
    def first_name(self) -> str:
        return self.entry.given_names.split(" ")[0] if self.entry.given_names else ""

    @property
    def display_name(self) -> str:
        """First given name and family name in use, for the other side's page."""
        family = self.entry.used_family_name or self.entry.birth_family_name
        return f"{self.first_name} {family}".strip()


def _person(wiring: Wiring, row: Any) -> Person | None:
    entry = open_entry(wiring.storage, row)
    if entry is None:
        return None
    return Person(
        id=row.id, status=BeneficiaryStatus(row.status), holder_id=row.holder_id, entry=entry
    )


def _select() -> Any:
    joined, key_columns = join_data_key(_b, _b.c.id)
    return select(_b.c.id, _b.c.status, _b.c.holder_id, _b.c.sealed, *key_columns).select_from(
        joined
    )


def load(db: Connection, wiring: Wiring, person_id: str, *, lock: bool = False) -> Person | None:
    """The beneficiary ``person_id`` with their entry; None if unknown or erased. ``lock``
    takes their row for the transaction: limits and duplicates are then checked one at a
    time per person (PostgreSQL; SQLite has one writer anyway)."""
    query = _select().where(_b.c.id == person_id)
    if lock:
        query = query.with_for_update(of=_b)
    row = db.execute(query).first()
    return None if row is None else _person(wiring, row)


def lock_people(db: Connection, wiring: Wiring, *ids: str) -> dict[str, Person]:
    """Load and lock several people in id order (a fixed order: two requests never wait on
    each other in a cycle)."""
    found = {}
    for person_id in sorted(set(ids)):
        person = load(db, wiring, person_id, lock=True)
        if person is not None:
            found[person_id] = person
    return found


def children_of(db: Connection, wiring: Wiring, holder_id: str) -> list[Person]:
    rows = db.execute(_select().where(_b.c.holder_id == holder_id).order_by(_b.c.id))
    return [person for row in rows if (person := _person(wiring, row)) is not None]


def _fold(text: str) -> str:
    """A name as compared: no accents, case, hyphens, apostrophes or repeated spaces."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).casefold()
    for mark in "-'’.":
        plain = plain.replace(mark, " ")
    return " ".join(plain.split())


def _same(given: str, stored: str) -> bool:
    return hmac.compare_digest(_fold(given).encode(), _fold(stored).encode())


def find_person(
    db: Connection,
    wiring: Wiring,
    *,
    nir: str,
    family_name: str,
    given_name: str,
    birth_date: date,
) -> Person | None:
    """The beneficiary whose NIR, birth family name (or name in use), first given name (or
    all of them) and birth date are these; None when the NIR is unknown or anything differs."""
    index = wiring.storage.blind_index(NIR_DOMAIN, "".join(nir.split()).upper())
    row = db.execute(_select().where(_b.c.nir_index == index)).first()
    person = None if row is None else _person(wiring, row)
    if person is None:
        return None
    entry = person.entry
    names = [entry.birth_family_name, entry.used_family_name or entry.birth_family_name]
    # Every comparison runs whatever the others say: timing tells nothing about which failed.
    family_ok = [_same(family_name, name) for name in names]
    given_ok = [_same(given_name, person.first_name), _same(given_name, entry.given_names)]
    birth_ok = hmac.compare_digest(
        birth_date.isoformat().encode(), entry.birth_date.isoformat().encode()
    )
    return person if any(family_ok) and any(given_ok) and birth_ok else None


def age_on(birth: date, day: date) -> int:
    """Full years between ``birth`` and ``day`` (a 29 February birthday counts from 1 March)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def account_of(db: Connection, wiring: Wiring, person_id: str) -> str | None:
    """The account of a person whose space is activated, or None."""
    account_id = db.execute(
        select(_space.c.account_id).where(_space.c.patient_id == person_id)
    ).scalar_one_or_none()
    if account_id is not None:
        return str(account_id)
    return wiring.accounts.account_for_person(
        db, person_kind="patient", person_id=person_id, create=False
    )


def require_active(db: Connection, wiring: Wiring, person: Person, reason: str) -> str:
    """The account of ``person`` if their space is active; else ``FamilyRefused(reason)``."""
    account_id = account_of(db, wiring, person.id)
    if person.status is not BeneficiaryStatus.ACTIVE or account_id is None:
        raise FamilyRefused(reason)
    return account_id


def tell(
    db: Connection,
    wiring: Wiring,
    person: Person,
    template: str,
    *,
    page: str,
    expires_at: datetime | None = None,
) -> None:
    """E-mail ``person`` at their contact on file: sign in and look at ``page``. Nothing is
    sent without a usable address (the news waits in their account)."""
    if not person.entry.email:
        return
    context: dict[str, Any] = {"link": wiring.public_base_url + page}
    if expires_at is not None:
        context["expires_on"] = expires_at.date().isoformat()
    try:
        notify_service.queue_email(
            db, wiring.jobs, to=person.entry.email, template=template, context=context
        )
    except InvalidRecipient:
        return  # an address the relay cannot take: the account page still shows it


def audit(
    db: Connection,
    wiring: Wiring,
    *,
    tag: EventTag,
    actor: Actor,
    chains: tuple[str | None, ...],
    entity: str,
    detail: dict[str, Any],
    outcome: Outcome = Outcome.SUCCESS,
) -> None:
    """One event on each person's chain (both sides of a link see it in their history)."""
    for patient_id in dict.fromkeys(chains):
        wiring.audit.record(
            db,
            AuditRecord(
                tag=tag,
                outcome=outcome,
                actor=actor,
                patient_id=patient_id,
                entity=entity,
                detail=detail,
            ),
        )


def signed_in_person(session: CurrentSession) -> str:
    """The signed-in person (themselves, whichever profile they act as)."""
    if session.kind != "patient" or session.person_id is None:
        raise FamilyRefused("not-a-patient")
    return session.person_id


def audited(
    db: Connection,
    wiring: Wiring,
    work: Callable[[], _T],
    *,
    tag: EventTag,
    actor: Actor,
    chains: Any,
    entity: str,
    detail: dict[str, Any] | None = None,
) -> _T:
    """Run ``work`` in a savepoint and audit its outcome on every chain in ``chains`` (read
    after the work, which may add the other side): a refusal rolls the savepoint back, is
    audited, and is raised again."""
    try:
        with db.begin_nested():
            result = work()
    except FamilyRefused as refused:
        audit(
            db,
            wiring,
            tag=tag,
            actor=actor,
            chains=tuple(chains),
            entity=entity,
            detail={**(detail or {}), "reason": refused.reason},
            outcome=Outcome.REFUSED,
        )
        raise
    audit(
        db, wiring, tag=tag, actor=actor, chains=tuple(chains), entity=entity, detail=detail or {}
    )
    return result
