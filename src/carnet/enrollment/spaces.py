"""A person's space: its row (``enrollment_space``), its legal defaults and first choices, and
the Patient resource its record starts with.

- **One id.** The space's ``patient_id`` is the beneficiary's id: the Patient's id and the
  owner of the data key the registry import made, so the space reuses that key (crypto-shredding
  the person erases their registry entry and their record together).
- **Legal defaults.** Documents visible to authorised professionals; the SAMU regulator and
  break-the-glass access allowed unless the person objects (L1111-17 I); masked documents stay
  masked in an emergency unless the person allows it.
- **The Patient.** Built from the sealed registry entry with identity's own builder: the INS
  (NIR or NIA) with the insurer's traits, plus the postal address and the contacts on file. The
  record indexes identifying values as keyed hashes (blind index), never in clear.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, insert, select, update

from carnet.access import service as access_service
from carnet.audit.service import AuditRecord, AuditTrail, EventTag, Outcome
from carnet.core.actor import CARNET, Actor
from carnet.core.errors import InvalidInput
from carnet.enrollment import models
from carnet.enrollment.errors import NoSpace
from carnet.enrollment.schemas import (
    BeneficiaryStatus,
    Confidentiality,
    DmpMergeOutcome,
    OpenedBy,
    RegistryEntry,
    Space,
)
from carnet.identity import service as identity_service

_space = models.space
_beneficiary = models.beneficiary

OPENED_TEMPLATE: Final = "space_opened"
"""The e-mail telling a person their space is open (a link; nothing about them)."""
_ZONE: Final = ZoneInfo("Europe/Paris")  # windows end on French calendar days
_SYSTEM_SCOPES: Final = "system/*.cruds"
Detail = Mapping[str, str | int | bool | list[str]]

DEFAULT_CHOICES: Final[dict[str, Any]] = {
    "default_confidentiality": "visible",
    "samu_access": True,
    "break_glass_access": True,
    "emergency_masked_access": False,
}
"""The legal defaults a space opens with (see the module docstring)."""

_CONFIDENTIALITY: Final = ("visible", "masked")
_SEX: Final = {"M": identity_service.Sex.MALE, "F": identity_service.Sex.FEMALE}


def today_of(now: datetime) -> date:
    """The calendar day in France at ``now`` (windows end on French days)."""
    return now.astimezone(_ZONE).date()


def carnet_context() -> access_service.AccessContext:
    """Carnet itself writing a space's Patient (the person has no account yet)."""
    return access_service.AccessContext(
        actor=CARNET, scopes=access_service.ScopeSet.parse(_SYSTEM_SCOPES)
    )


SET_OPEN = (
    update(_beneficiary)
    .where(_beneficiary.c.id == bindparam("b_id"), _beneficiary.c.status == bindparam("v_from"))
    .values(status=BeneficiaryStatus.OPEN.value, status_at=bindparam("v_at"))
)
"""A person becomes ``open`` only from the status the opening read under its row lock
(executemany: ``b_id``, ``v_from``, ``v_at``): a concurrent change wins."""


def open_detail(opened_by: str, outcome: str) -> dict[str, str | int | bool | list[str]]:
    return {"opened_by": opened_by, "dmp_merge": outcome}


def open_record(actor: Actor, patient_id: str, outcome: Outcome, detail: Detail) -> AuditRecord:
    """The audit event of an opening (or its refusal), in the person's chain."""
    return AuditRecord(
        tag=EventTag.ENROLLMENT_SPACE_OPEN,
        outcome=outcome,
        actor=actor,
        patient_id=patient_id,
        entity=f"enrollment-space/{patient_id}",
        detail=dict(detail),
    )


def space_row(
    patient_id: str, *, opened_by: OpenedBy, dmp_merge: DmpMergeOutcome, now: datetime
) -> dict[str, Any]:
    """The ``enrollment_space`` row of a space opening now, with the legal defaults."""
    return {
        "patient_id": patient_id,
        "opened_at": now,
        "opened_by": opened_by,
        "dmp_merge": dmp_merge,
        **DEFAULT_CHOICES,
        "updated_at": now,
    }


def insert_spaces(db: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert space rows (one statement for a batch). A space that exists already makes it
    fail: callers lock the beneficiary and check first."""
    if rows:
        db.execute(insert(_space), rows)


def get_space(db: Connection, *, patient_id: str, lock: bool = False) -> Space | None:
    """The space of ``patient_id`` (the beneficiary's id), or None."""
    query = select(_space).where(_space.c.patient_id == patient_id)
    if lock:
        query = query.with_for_update()
    row = db.execute(query).first()
    return None if row is None else Space(**row._asdict())


def choose(
    db: Connection,
    audit: AuditTrail,
    *,
    actor: Actor,
    patient_id: str,
    default_confidentiality: Confidentiality,
    samu_access: bool,
    break_glass_access: bool,
    emergency_masked_access: bool,
    now: datetime,
) -> Space:
    """Record the person's choices (first choices at activation, later the settings page),
    audited in their chain with what changed (names of settings, never anything else). Raises
    ``InvalidInput`` for an unknown confidentiality, ``NoSpace`` without a space."""
    if default_confidentiality not in _CONFIDENTIALITY:
        raise InvalidInput("default confidentiality: visible or masked")
    current = get_space(db, patient_id=patient_id, lock=True)
    if current is None:
        audit.record(db, _choice_record(actor, patient_id, Outcome.NOT_FOUND, []))
        raise NoSpace
    wanted = {
        "default_confidentiality": default_confidentiality,
        "samu_access": bool(samu_access),
        "break_glass_access": bool(break_glass_access),
        "emergency_masked_access": bool(emergency_masked_access),
    }
    changed = sorted(name for name, value in wanted.items() if getattr(current, name) != value)
    db.execute(
        update(_space).where(_space.c.patient_id == patient_id).values(**wanted, updated_at=now)
    )
    audit.record(db, _choice_record(actor, patient_id, Outcome.SUCCESS, changed, wanted))
    space = get_space(db, patient_id=patient_id)
    assert space is not None
    return space


def _choice_record(
    actor: Actor,
    patient_id: str,
    outcome: Outcome,
    changed: list[str],
    values: dict[str, Any] | None = None,
) -> AuditRecord:
    # The settings are the person's own choices about access, not health data: the trail keeps
    # them so that "who allowed emergency access, when" can be answered.
    detail: dict[str, str | int | bool | list[str]] = {"changed": changed}
    if values is not None:
        detail.update(values)
    return AuditRecord(
        tag=EventTag.ENROLLMENT_SPACE_CHOOSE,
        outcome=outcome,
        actor=actor,
        patient_id=patient_id,
        entity=f"enrollment-space/{patient_id}",
        detail=detail,
    )


def patient_resource(patient_id: str, entry: RegistryEntry) -> dict[str, Any]:
    """The space's Patient (FR Core, valid R4) from the person's registry entry: the INS and
    reference traits through identity's builder, then the address and contacts on file.

    The insurer's registry is the national reference the INS teleservice answers from, so the
    identity is recorded as qualified and its INS travels with it. Raises an identity error for
    traits the identity area refuses (the registry's checks make that unexpected)."""
    used = entry.used_family_name
    traits = identity_service.ReferenceTraits(
        birth_family_name=entry.birth_family_name,
        birth_given_names=tuple(entry.given_names.split()),
        sex=_SEX[entry.sex],
        birth_date=identity_service.BirthDate(
            entry.birth_date.year, entry.birth_date.month, entry.birth_date.day
        ),
        birthplace=identity_service.BirthPlace(entry.birth_place) if entry.birth_place else None,
        used_family_name=used if used and used != entry.birth_family_name else None,
    )
    kind = identity_service.InsKind.NIA if entry.identifier_kind == "NIA" else None
    identity = identity_service.PatientIdentity(
        traits=traits,
        status=identity_service.IdentityStatus.QUAL,
        ins=identity_service.Ins(entry.nir, kind or identity_service.InsKind.NIR),
    )
    resource = identity_service.patient_resource(identity, resource_id=patient_id)
    telecom = []
    if entry.email:
        telecom.append({"system": "email", "value": entry.email, "use": "home"})
    if entry.mobile:
        telecom.append({"system": "phone", "value": entry.mobile, "use": "mobile"})
    if telecom:
        resource["telecom"] = telecom
    if entry.address:
        resource["address"] = [
            {
                "use": "home",
                "type": "postal",
                "line": [entry.address],
                "postalCode": entry.postal_code,
                "city": entry.city,
                "country": "FR",
            }
        ]
    return resource
