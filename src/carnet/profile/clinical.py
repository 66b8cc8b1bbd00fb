"""Diseases, disabilities, allergies and family history, to FHIR and back.

Diseases and disabilities are Conditions told apart by category (HL7 ``problem-list-item``, or
Carnet's ``disability``); allergies are AllergyIntolerances; family history is
FamilyMemberHistory with a v3-RoleCode relationship and an onset age in years.
"""

from __future__ import annotations

from typing import Any

from carnet.profile import codes
from carnet.profile.dates import date_fields
from carnet.profile.fields import TEXT_MAX, Entry
from carnet.profile.schemas import (
    DisabilityRate,
    DisabilityType,
    Link,
    PartialDate,
    ProfileItem,
    Section,
)

Resource = dict[str, Any]
Links = dict[str, str]


def base(resource_type: str, patient_id: str, *, subject: str = "subject") -> Resource:
    """A resource of the profile: tagged, in the person's compartment."""
    return {
        "resourceType": resource_type,
        "meta": {"tag": [codes.coding(codes.TAG_SYSTEM, codes.TAG_CODE)]},
        subject: {"reference": f"Patient/{patient_id}"},
    }


def note(resource: Resource, text: str) -> None:
    if text:
        resource["note"] = [{"text": text}]


def note_of(body: Resource) -> str:
    notes = body.get("note") or []
    return str(notes[0].get("text") or "") if notes else ""


def link_extension(resource: Resource, reference: str) -> None:
    if reference:
        resource.setdefault("extension", []).append(
            {"url": codes.LINK_EXTENSION, "valueReference": {"reference": reference}}
        )


def linked(body: Resource) -> list[str]:
    """References held in Carnet's link extension."""
    return [
        str((e.get("valueReference") or {}).get("reference") or "")
        for e in body.get("extension") or []
        if e.get("url") == codes.LINK_EXTENSION
    ]


# --- diseases ---------------------------------------------------------------------------------


def build_disease(entry: Entry, patient_id: str, _links: Links) -> Resource:
    name = entry.text("name", required=True)
    system = entry.choice("code_system", codes.DISEASE_CODE_SYSTEMS)
    code = entry.text("code", limit=20) if system else ""
    status = entry.choice("status", codes.DISEASE_STATUSES) or "active"
    onset = entry.date("onset")
    concept: Resource = {"text": name}
    if system and code:
        concept["coding"] = [codes.coding(codes.DISEASE_CODE_SYSTEMS[system], code)]
    resource = base("Condition", patient_id)
    resource |= {
        "clinicalStatus": {"coding": [codes.coding(codes.CONDITION_CLINICAL, status)]},
        "category": [{"coding": [codes.coding(codes.CONDITION_CATEGORY, "problem-list-item")]}],
        "code": concept,
    }
    if onset is not None:
        resource["onsetDateTime"] = onset.fhir
    note(resource, entry.text("comment", limit=TEXT_MAX))
    return resource


def read_disease(body: Resource) -> ProfileItem:
    concept = body.get("code") or {}
    system = next(
        (k for k, v in codes.DISEASE_CODE_SYSTEMS.items() if codes.first_code(concept, v)), ""
    )
    status = codes.first_code(body.get("clinicalStatus"), codes.CONDITION_CLINICAL)
    onset = PartialDate.from_fhir(body.get("onsetDateTime"))
    values = {
        "name": str(concept.get("text") or ""),
        "code_system": system,
        "code": codes.first_code(concept, codes.DISEASE_CODE_SYSTEMS[system]) if system else "",
        "status": status,
        "comment": note_of(body),
    } | date_fields(onset, "onset")
    return ProfileItem(
        id=body["id"],
        section=Section.DISEASES,
        resource_type="Condition",
        label=values["name"],
        detail=values["code"],
        start=onset,
        values=values,
    )


# --- disabilities -------------------------------------------------------------------------------


def build_disability(entry: Entry, patient_id: str, _links: Links) -> Resource:
    kind = DisabilityType(entry.choice("type", list(DisabilityType), required=True))
    rate = DisabilityRate(entry.choice("rate", list(DisabilityRate)) or DisabilityRate.UNKNOWN)
    description = entry.text("description")
    start = entry.date("onset")
    resource = base("Condition", patient_id)
    resource |= {
        "clinicalStatus": {"coding": [codes.coding(codes.CONDITION_CLINICAL, "active")]},
        "category": [{"coding": [codes.coding(codes.CATEGORY_SYSTEM, "disability", "Handicap")]}],
        "code": {
            "coding": [
                codes.coding(codes.DISABILITY_TYPE_SYSTEM, kind, codes.DISABILITY_TYPES[kind])
            ],
            "text": description or codes.DISABILITY_TYPES[kind],
        },
        "severity": {
            "coding": [
                codes.coding(codes.DISABILITY_RATE_SYSTEM, rate, codes.DISABILITY_RATES[rate])
            ]
        },
    }
    if start is not None:
        resource["onsetDateTime"] = start.fhir
    return resource


def read_disability(body: Resource) -> ProfileItem:
    concept = body.get("code") or {}
    kind = codes.first_code(concept, codes.DISABILITY_TYPE_SYSTEM)
    rate = codes.first_code(body.get("severity"), codes.DISABILITY_RATE_SYSTEM)
    label = codes.DISABILITY_TYPES.get(DisabilityType(kind), kind) if kind else ""
    text = str(concept.get("text") or "")
    onset = PartialDate.from_fhir(body.get("onsetDateTime"))
    values = {
        "type": kind,
        "rate": rate,
        "description": "" if text == label else text,
    } | date_fields(onset, "onset")
    return ProfileItem(
        id=body["id"],
        section=Section.DISABILITIES,
        resource_type="Condition",
        label=label,
        detail=values["description"],
        start=onset,
        values=values,
    )


# --- allergies ----------------------------------------------------------------------------------


def build_allergy(entry: Entry, patient_id: str, links: Links) -> Resource:
    substance = entry.text("substance", required=True)
    category = entry.choice("category", codes.ALLERGY_CATEGORIES)
    criticality = entry.choice("criticality", codes.CRITICALITIES)
    reaction = entry.text("reaction")
    onset = entry.date("onset")
    resource = base("AllergyIntolerance", patient_id, subject="patient")
    resource |= {
        "clinicalStatus": {"coding": [codes.coding(codes.ALLERGY_CLINICAL, "active")]},
        "code": {"text": substance},
    }
    if category:
        resource["category"] = [category]
    if criticality:
        resource["criticality"] = criticality
    if reaction:
        resource["reaction"] = [{"manifestation": [{"text": reaction}]}]
    if onset is not None:
        resource["onsetDateTime"] = onset.fhir
    # FHIR has no element linking an allergy to a treatment: Carnet's link extension.
    link_extension(resource, links.get("treatment", ""))
    return resource


def read_allergy(body: Resource) -> ProfileItem:
    reactions = body.get("reaction") or []
    manifestations = reactions[0].get("manifestation") or [] if reactions else []
    reaction = str(manifestations[0].get("text") or "") if manifestations else ""
    onset = PartialDate.from_fhir(body.get("onsetDateTime"))
    treatment = next((r for r in linked(body) if r.startswith("MedicationStatement/")), "")
    values = {
        "substance": str((body.get("code") or {}).get("text") or ""),
        "category": str((body.get("category") or [""])[0]),
        "criticality": str(body.get("criticality") or ""),
        "reaction": reaction,
        "treatment": treatment.partition("/")[2],
    } | date_fields(onset, "onset")
    return ProfileItem(
        id=body["id"],
        section=Section.ALLERGIES,
        resource_type="AllergyIntolerance",
        label=values["substance"],
        detail=reaction,
        start=onset,
        links=(Link("treatment", treatment),) if treatment else (),
        values=values,
    )


# --- family history -----------------------------------------------------------------------------


def build_family(entry: Entry, patient_id: str, _links: Links) -> Resource:
    relation = entry.choice("relationship", codes.FAMILY_RELATIONSHIPS, required=True)
    condition_text = entry.text("condition", required=True)
    age = entry.number("onset_age", low=0, high=130)
    role, display = codes.FAMILY_RELATIONSHIPS[relation]
    condition: Resource = {"code": {"text": condition_text}}
    if age is not None:
        condition["onsetAge"] = {
            "value": age,
            "unit": "ans",
            "system": codes.UCUM,
            "code": "a",
        }
    resource = base("FamilyMemberHistory", patient_id, subject="patient")
    resource |= {
        "status": "completed",
        "relationship": {"coding": [codes.coding(codes.ROLE_CODE, role, display)]},
        "condition": [condition],
    }
    return resource


def read_family(body: Resource) -> ProfileItem:
    role = codes.first_code(body.get("relationship"), codes.ROLE_CODE)
    relation = next((k for k, (r, _d) in codes.FAMILY_RELATIONSHIPS.items() if r == role), "")
    conditions = body.get("condition") or [{}]
    age = (conditions[0].get("onsetAge") or {}).get("value")
    values = {
        "relationship": relation,
        "condition": str((conditions[0].get("code") or {}).get("text") or ""),
        "onset_age": "" if age is None else str(int(age)),
    }
    return ProfileItem(
        id=body["id"],
        section=Section.FAMILY_HISTORY,
        resource_type="FamilyMemberHistory",
        label=values["condition"],
        detail=codes.FAMILY_RELATIONSHIPS[relation][1] if relation else "",
        values=values,
    )
