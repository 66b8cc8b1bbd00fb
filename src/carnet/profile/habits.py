"""Lifestyle and blood group: Observations the person declares.

One social-history Observation per lifestyle section (LOINC where a code says exactly that:
tobacco 72166-2, alcohol 11331-6; Carnet's own system otherwise), its answer as text. The blood
group is one Observation, LOINC 882-1 (ABO and Rh group), valued from MES's BloodGroupEnum.
"""

from __future__ import annotations

from datetime import date

from carnet.profile import codes
from carnet.profile.clinical import Links, Resource, base
from carnet.profile.fields import TEXT_MAX, Entry
from carnet.profile.schemas import BloodGroup, LifestyleSection, ProfileItem, Section


def build_lifestyle(
    section: LifestyleSection, text: str, *, patient_id: str, today: date
) -> Resource:
    system, code, display = codes.LIFESTYLES[section]
    resource = base("Observation", patient_id)
    resource |= {
        "status": "final",
        "category": [{"coding": [codes.coding(codes.OBSERVATION_CATEGORY, "social-history")]}],
        "code": {"coding": [codes.coding(system, code, display)], "text": display},
        "effectiveDateTime": today.isoformat(),
        "valueString": text,
    }
    return resource


def lifestyle_of(body: Resource) -> LifestyleSection | None:
    """Which lifestyle section an Observation answers (None: not a lifestyle one)."""
    concept = body.get("code") or {}
    for section, (system, code, _display) in codes.LIFESTYLES.items():
        if codes.first_code(concept, system) == code:
            return section
    return None


def read_lifestyle(body: Resource) -> ProfileItem:
    section = lifestyle_of(body)
    assert section is not None
    text = str(body.get("valueString") or "")
    return ProfileItem(
        id=body["id"],
        section=Section.LIFESTYLES,
        resource_type="Observation",
        label=codes.LIFESTYLES[section][2],
        detail=text,
        values={"section": section.value, "value": text},
    )


def lifestyle_texts(entry: Entry) -> dict[LifestyleSection, str]:
    """The six answers of the lifestyle form (empty: nothing to say)."""
    return {section: entry.text(section.value, limit=TEXT_MAX) for section in LifestyleSection}


def build_blood_group(entry: Entry, patient_id: str, _links: Links) -> Resource:
    group = BloodGroup(entry.choice("group", list(BloodGroup), required=True))
    resource = base("Observation", patient_id)
    resource |= {
        "status": "final",
        "category": [{"coding": [codes.coding(codes.OBSERVATION_CATEGORY, "laboratory")]}],
        "code": {
            "coding": [codes.coding(codes.LOINC, codes.BLOOD_GROUP_LOINC, "ABO and Rh group")],
            "text": "Groupe sanguin",
        },
        "effectiveDateTime": entry.today.isoformat(),
        "valueCodeableConcept": {
            "coding": [codes.coding(codes.BLOOD_GROUP_SYSTEM, group, group.symbol)],
            "text": group.symbol,
        },
    }
    return resource


def read_blood_group(body: Resource) -> ProfileItem:
    code = codes.first_code(body.get("valueCodeableConcept"), codes.BLOOD_GROUP_SYSTEM)
    group = BloodGroup(code) if code in BloodGroup.__members__ else None
    return ProfileItem(
        id=body["id"],
        section=Section.BLOOD_GROUP,
        resource_type="Observation",
        label=group.symbol if group else "",
        values={"group": code},
    )
