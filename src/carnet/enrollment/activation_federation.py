"""FranceConnect as the other way to activate: a person whose identity matches a registered
holder whose space is not active yet, or a dependant of 18 or over (whose space a parent may
have activated without an account of its own), gets the terms and first-choices steps, then an
account bound to that sign-in (passwordless: ``Accounts.account_for_person``). Who may activate
is decided as on the code path (``activation_tickets.status_refusal``).

Who is matched: the federation area matches the sign-in's INS traits against Patients. An open
space has one (``opening`` writes it); a space not open yet (the opposition window runs) has
none, so ``candidates`` offers the registry's holder found by the NIR the provider hands as an
INS matricule, as an identity built the way the opening will build the Patient. The registry is
sealed and indexed by NIR only: without an INS claim such a person cannot be matched by traits
(they activate with their code instead).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from carnet.audit.service import EventTag, Outcome
from carnet.enrollment import majority, models, spaces
from carnet.enrollment.activation_tickets import audit, has_account, new_ticket, status_refusal
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.errors import ActivationRefused
from carnet.enrollment.registry_apply import NIR_DOMAIN, open_entry
from carnet.enrollment.schemas import ActivationStep, BeneficiaryStatus
from carnet.identity import service as identity_service
from carnet.identity.errors import InvalidIdentity
from carnet.storage.service import join_data_key

_a = models.activation
_b = models.beneficiary
_METHOD = "franceconnect"


def awaiting_activation(db: Connection, wiring: Wiring, *, beneficiary_id: str) -> bool:
    """Whether this person is on file and may still activate their space: a holder, or a
    dependant of 18 or over."""
    return _refusal(db, wiring, beneficiary_id) is None


def _person(db: Connection, **where: str) -> Any:
    """The beneficiary's row (status, holder, sealed entry and its key) by ``id`` or
    ``nir_index``; None when nobody is on file."""
    joined, key_columns = join_data_key(_b, _b.c.id)
    column, value = next(iter(where.items()))
    return db.execute(
        select(_b.c.id, _b.c.sealed, _b.c.status, _b.c.holder_id, *key_columns)
        .select_from(joined)
        .where(_b.c[column] == value)
    ).first()


def _refusal(db: Connection, wiring: Wiring, beneficiary_id: str, row: Any = None) -> str | None:
    """Why this person cannot activate (``status_refusal``, their age and account read as the
    code path reads them), or None; ``"mismatch"`` when nobody is on file."""
    row = row if row is not None else _person(db, id=beneficiary_id)
    if row is None:
        return "mismatch"
    adult = False
    if row.holder_id is not None:
        entry = open_entry(wiring.storage, row)
        today = wiring.storage.clock.now().date()
        adult = entry is not None and majority.adult_on(entry.birth_date) <= today
    return status_refusal(
        row.status, row.holder_id, adult=adult, has_account=has_account(db, row.id)
    )


def candidates(
    db: Connection, wiring: Wiring, *, matricule: str
) -> list[tuple[str, identity_service.PatientIdentity]]:
    """The holder whose NIR is ``matricule``, awaiting activation and without a space yet, with
    the identity their Patient will carry; empty otherwise."""
    index = wiring.storage.blind_index(NIR_DOMAIN, "".join(matricule.split()).upper())
    row = _person(db, nir_index=index)
    if row is None or _refusal(db, wiring, row.id, row) is not None:
        return []
    if row.status in {BeneficiaryStatus.OPEN.value, BeneficiaryStatus.ACTIVE.value}:
        return []  # its Patient exists: the record's search finds it
    entry = open_entry(wiring.storage, row)
    if entry is None:
        return []
    try:
        identity = identity_service.patient_identity(spaces.patient_resource(row.id, entry))
    except InvalidIdentity:
        return []
    return [(row.id, identity)]


def start_federated(db: Connection, wiring: Wiring, *, beneficiary_id: str) -> str:
    """A ticket at the terms step for a person FranceConnect identified (no code, no password:
    the account is bound to that sign-in); its token. Raises ``ActivationRefused`` when their
    space cannot be activated."""
    refusal = _refusal(db, wiring, beneficiary_id)
    if refusal is not None:
        known = None if refusal == "mismatch" else beneficiary_id
        audit(
            db, wiring, EventTag.ENROLLMENT_ACTIVATION_START, Outcome.REFUSED, known,
            reason=refusal, method=_METHOD,
        )  # fmt: skip
        raise ActivationRefused(refusal)
    return new_ticket(
        db, wiring, beneficiary_id=beneficiary_id, method=_METHOD, code_id=None,
        step=ActivationStep.TERMS,
    )  # fmt: skip
