"""The vaccination record's public functions: record, correct, delete, list, and the schedule.

Every function takes the Repository of the person acting (first, then keyword arguments) and
never commits. The Repository decides and audits each read and write; this module adds the
vaccination rules: a known vaccine and dose type, a day neither in the future nor before birth,
bounded free texts, and a professional's validation that only a professional may give (the
patient's side may neither set it nor change or delete what a professional validated).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import orjson

from carnet.core.actor import ActorKind
from carnet.record.errors import ResourceDeleted, ResourceNotFound
from carnet.record.service import Repository, StoredResource
from carnet.vaccination import resources
from carnet.vaccination.errors import (
    InvalidVaccination,
    Reason,
    VaccinationLocked,
    VaccinationNotFound,
    ValidationRefused,
)
from carnet.vaccination.planner import schedule_status
from carnet.vaccination.referential import Vaccine, referential
from carnet.vaccination.schemas import (
    DoseType,
    ScheduleStatus,
    Vaccination,
    VaccinationInput,
)

MAX_LENGTHS = {"lot_number": 40, "performer": 200, "comment": 2000}
_PAGE = "500"


@dataclass(frozen=True, slots=True)
class Person:
    """What the schedule needs of the space's holder."""

    birth_date: date | None
    sex: str


def vaccines() -> list[Vaccine]:
    """The referential's vaccines, by French name (the portal's list)."""
    return sorted(referential().vaccines.values(), key=lambda v: v.label.fr.casefold())


def person(repo: Repository, *, patient_id: str) -> Person:
    """The holder's birth date and sex, from their Patient resource."""
    body = orjson.loads(repo.read("Patient", patient_id).body)
    try:
        birth = date.fromisoformat(str(body.get("birthDate", "")))
    except ValueError:
        birth = None  # a partial birth date (year only): no before-birth check, no schedule
    return Person(birth_date=birth, sex=str(body.get("gender", "unknown")))


def check(entry: VaccinationInput, *, birth_date: date | None, today: date) -> None:
    """Raise ``InvalidVaccination`` for the first problem of ``entry`` (all are listed in
    ``problems``)."""
    problems: list[tuple[Reason, str]] = []
    if referential().vaccine(entry.vaccine) is None:
        problems.append(("unknown-vaccine", "vaccine"))
    if entry.dose_type not in {t.value for t in DoseType}:
        problems.append(("unknown-dose-type", "dose_type"))
    if entry.occurred_on > today:
        problems.append(("future-date", "occurred_on"))
    elif birth_date is not None and entry.occurred_on < birth_date:
        problems.append(("before-birth", "occurred_on"))
    for name, limit in MAX_LENGTHS.items():
        if len(getattr(entry, name)) > limit:
            problems.append(("too-long", name))
    if problems:
        reason, field = problems[0]
        error = InvalidVaccination(reason, field=field)
        error.problems = tuple(problems)
        raise error


def _may_validate(repo: Repository, validated: bool) -> None:
    if validated and repo.ctx.actor.kind is not ActorKind.PROFESSIONAL:
        raise ValidationRefused


def record_vaccination(
    repo: Repository,
    *,
    patient_id: str,
    entry: VaccinationInput,
    today: date,
    validated: bool = False,
) -> Vaccination:
    """Record a vaccination in ``patient_id``'s carnet. ``validated`` only from a professional
    (``ValidationRefused`` otherwise); ``InvalidVaccination`` for bad input; nothing stored on
    either."""
    _may_validate(repo, validated)
    holder = person(repo, patient_id=patient_id)
    check(entry, birth_date=holder.birth_date, today=today)
    resource = resources.immunization(entry, patient_id=patient_id, validated=validated)
    return resources.vaccination(repo.create(resource))


def _stored(repo: Repository, *, patient_id: str, vaccination_id: str) -> StoredResource:
    try:
        stored = repo.read("Immunization", vaccination_id)
    except (ResourceNotFound, ResourceDeleted):
        raise VaccinationNotFound from None
    if stored.patient_id != patient_id:
        raise VaccinationNotFound
    return stored


def get_vaccination(repo: Repository, *, patient_id: str, vaccination_id: str) -> Vaccination:
    """One vaccination of ``patient_id``'s carnet (``VaccinationNotFound`` otherwise)."""
    stored = _stored(repo, patient_id=patient_id, vaccination_id=vaccination_id)
    return resources.vaccination(stored)


def _changeable(repo: Repository, current: Vaccination) -> None:
    if current.validated and repo.ctx.actor.kind is not ActorKind.PROFESSIONAL:
        raise VaccinationLocked


def update_vaccination(
    repo: Repository,
    *,
    patient_id: str,
    vaccination_id: str,
    entry: VaccinationInput,
    today: date,
    validated: bool = False,
) -> Vaccination:
    """Correct a vaccination (a new version of its Immunization). The patient's side may not
    correct one a professional validated (``VaccinationLocked``)."""
    _may_validate(repo, validated)
    current = get_vaccination(repo, patient_id=patient_id, vaccination_id=vaccination_id)
    _changeable(repo, current)
    holder = person(repo, patient_id=patient_id)
    check(entry, birth_date=holder.birth_date, today=today)
    resource = resources.immunization(
        entry, patient_id=patient_id, validated=validated, resource_id=vaccination_id
    )
    outcome = repo.update("Immunization", vaccination_id, resource, if_match=current.version)
    return resources.vaccination(outcome.resource)


def delete_vaccination(repo: Repository, *, patient_id: str, vaccination_id: str) -> None:
    """Delete a vaccination (its history stays); not one a professional validated, from the
    patient's side."""
    current = get_vaccination(repo, patient_id=patient_id, vaccination_id=vaccination_id)
    _changeable(repo, current)
    repo.delete("Immunization", vaccination_id)


def list_vaccinations(repo: Repository, *, patient_id: str) -> list[Vaccination]:
    """The carnet, most recent first."""
    found: list[Vaccination] = []
    params = [("patient", f"Patient/{patient_id}"), ("_count", _PAGE)]
    page = repo.search("Immunization", params)
    while True:
        found.extend(resources.vaccination(s) for s in page.matches if s.patient_id == patient_id)
        if page.next_cursor is None:
            break
        page = repo.search("Immunization", (), cursor=page.next_cursor)
    return sorted(found, key=lambda v: (v.occurred_on, v.id), reverse=True)


def schedule_for(repo: Repository, *, patient_id: str, today: date) -> ScheduleStatus | None:
    """Where ``patient_id`` stands with the French schedule (None without a full birth date)."""
    holder = person(repo, patient_id=patient_id)
    if holder.birth_date is None:
        return None
    return schedule_status(
        birth_date=holder.birth_date,
        sex=holder.sex,
        vaccinations=list_vaccinations(repo, patient_id=patient_id),
        today=today,
    )
