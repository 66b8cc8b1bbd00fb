"""FranceConnect as the other way to activate: a person whose identity matches a registered
holder whose space is not active yet gets the terms and first-choices steps, then an account
bound to that sign-in (passwordless: ``Accounts.account_for_person``).

Who is matched: the federation area matches the sign-in's INS traits against Patients. An open
space has one (``opening`` writes it); a space not open yet (the opposition window runs) has
none, so ``candidates`` offers the registry's holder found by the NIR the provider hands as an
INS matricule, as an identity built the way the opening will build the Patient. The registry is
sealed and indexed by NIR only: without an INS claim such a person cannot be matched by traits
(they activate with their code instead).
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from carnet.audit.service import EventTag, Outcome
from carnet.enrollment import models, spaces
from carnet.enrollment.activation_tickets import audit, new_ticket, status_refusal
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


def awaiting_activation(db: Connection, *, beneficiary_id: str) -> bool:
    """Whether this person is on file, a holder, and may still activate their space."""
    row = db.execute(select(_b.c.status, _b.c.holder_id).where(_b.c.id == beneficiary_id)).first()
    return row is not None and status_refusal(row.status, row.holder_id) is None


def candidates(
    db: Connection, wiring: Wiring, *, matricule: str
) -> list[tuple[str, identity_service.PatientIdentity]]:
    """The holder whose NIR is ``matricule``, awaiting activation and without a space yet, with
    the identity their Patient will carry; empty otherwise."""
    index = wiring.storage.blind_index(NIR_DOMAIN, "".join(matricule.split()).upper())
    joined, key_columns = join_data_key(_b, _b.c.id)
    row = db.execute(
        select(_b.c.id, _b.c.sealed, _b.c.status, _b.c.holder_id, *key_columns)
        .select_from(joined)
        .where(_b.c.nir_index == index)
    ).first()
    if row is None or status_refusal(row.status, row.holder_id) is not None:
        return []
    if row.status == BeneficiaryStatus.OPEN.value:
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
    row = db.execute(select(_b.c.status, _b.c.holder_id).where(_b.c.id == beneficiary_id)).first()
    refusal = "mismatch" if row is None else status_refusal(row.status, row.holder_id)
    if refusal is not None:
        known = None if row is None else beneficiary_id
        audit(
            db, wiring, EventTag.ENROLLMENT_ACTIVATION_START, Outcome.REFUSED, known,
            reason=refusal, method=_METHOD,
        )  # fmt: skip
        raise ActivationRefused(refusal)
    return new_ticket(
        db, wiring, beneficiary_id=beneficiary_id, method=_METHOD, code_id=None,
        step=ActivationStep.TERMS,
    )  # fmt: skip
