"""Where each section's content is in the record: which resource types, searched how.

Every search is confined to the person's compartment (``patient=``), asks only the types a
section needs, and at most ``limit`` resources, newest first: a summary reads a bounded amount
whatever the size of the record. Measures and lifestyle keep the latest value per code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from carnet.summary import describe
from carnet.summary.describe import Resource
from carnet.summary.schemas import Section

ITEM_LIMIT = 200
"""The most items a section lists (the most recent ones)."""
LATEST_WINDOW = 1000
"""Measures: the latest per code among this many most recent."""
DISABILITY_CATEGORIES = ("disability", "DISABILITY", "handicap", "HANDICAP")
"""Condition categories that mark a disability (the medical profile's Handicaps)."""
BLOOD_GROUP_CODE = "882-1"
WISHES_SYSTEM = "urn:carnet:volontes"
ORGAN_DONATION_CODE = "INFORME_DON_ORGANES"
"""The person's statement that they were informed of the organ-donation rules (an Observation
of the wishes area)."""
LIST_EMPTY_NILKNOWN = "nilknown"

Params = tuple[tuple[str, str], ...]


def is_disability(resource: Resource) -> bool:
    return any(
        code in DISABILITY_CATEGORIES
        for category in resource.get("category") or []
        for code in describe.codes(category)
    )


@dataclass(frozen=True, slots=True)
class Source:
    """One search feeding a section, and how each resource found becomes a line."""

    resource_type: str
    params: Params
    describe: Callable[[Resource], str]
    keep: Callable[[Resource], bool] = lambda _r: True
    latest_per_code: bool = False
    limit: int = ITEM_LIMIT


def _newest(sort: str, *params: tuple[str, str]) -> Params:
    return (*params, ("_sort", f"-{sort}"))


SOURCES: dict[Section, tuple[Source, ...]] = {
    Section.VACCINES: (Source("Immunization", _newest("date"), describe.immunization),),
    Section.ALLERGIES: (Source("AllergyIntolerance", _newest("date"), describe.allergy),),
    Section.DISEASES: (
        Source(
            "Condition",
            _newest("recorded-date", ("category", "problem-list-item")),
            describe.condition,
            keep=lambda r: not is_disability(r),
        ),
    ),
    Section.TREATMENTS: (Source("MedicationStatement", _newest("effective"), describe.medication),),
    Section.MEASURES: (
        Source(
            "Observation",
            _newest("date", ("category", "vital-signs")),
            describe.observation,
            latest_per_code=True,
            limit=LATEST_WINDOW,
        ),
    ),
    Section.HOSPITALIZATIONS: (
        Source("Encounter", _newest("date", ("class", "IMP,ACUTE,NONAC")), describe.encounter),
        Source("Procedure", _newest("date"), describe.procedure),
    ),
    Section.FAMILY_HISTORY: (
        Source("FamilyMemberHistory", _newest("date"), describe.family_history),
    ),
    Section.LIFESTYLES: (
        Source(
            "Observation",
            _newest("date", ("category", "social-history")),
            describe.observation,
            latest_per_code=True,
            limit=LATEST_WINDOW,
        ),
    ),
    Section.ENTOURAGE_CONTACT: (
        Source("RelatedPerson", _newest("_lastUpdated"), describe.related_person),
    ),
    Section.WISHES: (
        Source("Consent", _newest("date"), describe.consent),
        Source("DocumentReference", _newest("date", ("category", "DIR_ANT")), describe.document),
        Source(
            "Observation",
            _newest("date", ("code", f"{WISHES_SYSTEM}|{ORGAN_DONATION_CODE}")),
            describe.observation,
            limit=1,
        ),
    ),
    Section.HEALTH_PROFESSIONALS: (),  # the care teams and the Patient's practitioners
    Section.ADMINISTRATIVE_DOCUMENTS: (
        Source("DocumentReference", _newest("date", ("category", "DOC_ADM")), describe.document),
    ),
    Section.DISABILITIES: (
        Source(
            "Condition",
            _newest("recorded-date", ("category", ",".join(DISABILITY_CATEGORIES))),
            describe.condition,
        ),
    ),
    Section.BLOOD_GROUP: (
        Source(
            "Observation",
            _newest("date", ("code", BLOOD_GROUP_CODE)),
            describe.observation,
            limit=1,
        ),
    ),
}

UNCONCERNED_CODES: dict[Section, frozenset[str]] = {
    Section.ALLERGIES: frozenset({"ALLERGIES", "48765-2"}),
    Section.TREATMENTS: frozenset({"TREATMENTS", "10160-0"}),
    Section.FAMILY_HISTORY: frozenset({"FAMILY_HISTORY", "FAMILY_HISTORIES", "10157-6"}),
    Section.HOSPITALIZATIONS: frozenset({"HOSPITALIZATIONS", "46240-8"}),
    Section.DISEASES: frozenset({"DISEASES", "11450-4"}),
    Section.DISABILITIES: frozenset({"DISABILITIES"}),
}
"""The codes of a ``List`` (``emptyReason`` nilknown) by which the person declared a section
"not concerned": the MES section name, or the section's LOINC code."""
