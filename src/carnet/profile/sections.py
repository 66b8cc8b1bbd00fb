"""Where each section lives in FHIR: resource types, search criteria, builder, reader, links.

``KINDS`` is the one table the service works from, so adding a section is adding a row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from carnet.profile import codes
from carnet.profile.care import build_hospital, build_treatment, read_hospital, read_treatment
from carnet.profile.clinical import (
    Links,
    Resource,
    build_allergy,
    build_disability,
    build_disease,
    build_family,
    read_allergy,
    read_disability,
    read_disease,
    read_family,
)
from carnet.profile.fields import TEXT_MAX, Entry
from carnet.profile.habits import (
    build_blood_group,
    build_lifestyle,
    lifestyle_of,
    read_blood_group,
    read_lifestyle,
)
from carnet.profile.schemas import LifestyleSection, ProfileItem, Section

Builder = Callable[[Entry, str, Links], Resource]
Reader = Callable[[Resource], ProfileItem]
DOCUMENT: Final = "document"
"""A link field whose target is a document (a DocumentReference), not a profile item."""


def _build_lifestyle(entry: Entry, patient_id: str, _links: Links) -> Resource:
    section = LifestyleSection(entry.choice("section", list(LifestyleSection), required=True))
    text = entry.text("value", required=True, limit=TEXT_MAX)
    return build_lifestyle(section, text, patient_id=patient_id, today=entry.today)


def _is_lifestyle(body: Resource) -> bool:
    return lifestyle_of(body) is not None


def _always(_body: Resource) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Kind:
    types: tuple[str, ...]
    criteria: tuple[tuple[str, str], ...]
    """Search parameters telling this section's resources from others of the same type."""
    build: Builder
    read: Reader
    links: dict[str, Section | str]
    """Link fields of the form: the section (or ``DOCUMENT``) their target belongs to."""
    single_key: str = ""
    """Set for sections holding one item per value of this field (blood group: one in all)."""
    keeps: Callable[[Resource], bool] = _always


_TAG: Final = f"{codes.TAG_SYSTEM}|{codes.TAG_CODE}"

KINDS: Final[dict[Section, Kind]] = {
    Section.DISEASES: Kind(
        ("Condition",),
        (("category", f"{codes.CONDITION_CATEGORY}|problem-list-item"),),
        build_disease,
        read_disease,
        {},
    ),
    Section.TREATMENTS: Kind(
        ("MedicationStatement",), (), build_treatment, read_treatment, {"disease": Section.DISEASES}
    ),
    Section.HOSPITALIZATIONS: Kind(
        ("Encounter", "Procedure"),
        (),
        build_hospital,
        read_hospital,
        {"disease": Section.DISEASES, "document": DOCUMENT},
    ),
    Section.DISABILITIES: Kind(
        ("Condition",),
        (("category", f"{codes.CATEGORY_SYSTEM}|disability"),),
        build_disability,
        read_disability,
        {},
    ),
    Section.ALLERGIES: Kind(
        ("AllergyIntolerance",),
        (),
        build_allergy,
        read_allergy,
        {"treatment": Section.TREATMENTS},
    ),
    Section.FAMILY_HISTORY: Kind(("FamilyMemberHistory",), (), build_family, read_family, {}),
    Section.LIFESTYLES: Kind(
        ("Observation",),
        (("category", f"{codes.OBSERVATION_CATEGORY}|social-history"),),
        _build_lifestyle,
        read_lifestyle,
        {},
        single_key="section",
        keeps=_is_lifestyle,
    ),
    Section.BLOOD_GROUP: Kind(
        ("Observation",),
        (("code", f"{codes.LOINC}|{codes.BLOOD_GROUP_LOINC}"),),
        build_blood_group,
        read_blood_group,
        {},
        single_key="*",
    ),
}


def criteria(kind: Kind, patient_id: str) -> list[tuple[str, str]]:
    """The search of a section's resources of one type in the person's compartment."""
    return [("patient", f"Patient/{patient_id}"), ("_tag", _TAG), *kind.criteria]


def strip_reference(body: dict[str, Any], reference: str) -> bool:
    """Remove every link to ``reference`` from ``body``; True when something was removed."""
    changed = False
    for key in ("reasonReference", "report"):
        kept = [r for r in body.get(key) or [] if r.get("reference") != reference]
        if key in body and len(kept) != len(body[key]):
            changed = True
            if kept:
                body[key] = kept
            else:
                del body[key]
    extensions = body.get("extension") or []
    kept_ext = [
        e
        for e in extensions
        if not (
            e.get("url") == codes.LINK_EXTENSION
            and (e.get("valueReference") or {}).get("reference") == reference
        )
    ]
    if len(kept_ext) != len(extensions):
        changed = True
        if kept_ext:
            body["extension"] = kept_ext
        else:
            del body["extension"]
    return changed
