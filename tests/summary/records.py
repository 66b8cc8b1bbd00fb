"""A holder's medical profile written through the record, as the profile's pages would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from carnet.access.schemas import AccessContext
from carnet.core.actor import Actor, ActorKind
from carnet.record.service import Repository
from carnet.runtime import Runtime


def holder_context(patient_id: str) -> AccessContext:
    """The holder acting in their own space."""
    return AccessContext(actor=Actor(ActorKind.PATIENT, patient_id), patient_id=patient_id)


@contextmanager
def space(rt: Runtime, patient_id: str) -> Iterator[Repository]:
    """The holder's own repository, in a transaction that commits (every holder is new: tests
    do not see each other's data)."""
    with rt.transaction() as db:
        yield rt.record.repository(db=db, ctx=holder_context(patient_id))


def _subject(patient_id: str) -> dict[str, str]:
    return {"reference": f"Patient/{patient_id}"}


def loinc(code: str, text: str) -> dict[str, Any]:
    return {"coding": [{"system": "http://loinc.org", "code": code}], "text": text}


def category(code: str) -> list[dict[str, Any]]:
    system = "http://terminology.hl7.org/CodeSystem/observation-category"
    return [{"coding": [{"system": system, "code": code}]}]


def immunization(
    patient_id: str, text: str = "Vaccin DTP", day: str = "2020-05-03"
) -> dict[str, Any]:
    return {
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": {"text": text},
        "patient": _subject(patient_id),
        "occurrenceDateTime": day,
        "lotNumber": "AB12",
        "performer": [
            {"actor": {"reference": "Practitioner/unknown-doctor", "display": "Dr Roux"}}
        ],
    }


def allergy(patient_id: str, text: str = "Pénicilline") -> dict[str, Any]:
    return {
        "resourceType": "AllergyIntolerance",
        "code": {"text": text},
        "patient": _subject(patient_id),
    }


def condition(patient_id: str, text: str, *, disability: bool = False) -> dict[str, Any]:
    system = "http://terminology.hl7.org/CodeSystem/condition-category"
    categories = [{"coding": [{"system": system, "code": "problem-list-item"}]}]
    if disability:
        categories.append({"coding": [{"system": "urn:carnet:profil", "code": "disability"}]})
    return {
        "resourceType": "Condition",
        "category": categories,
        "code": {"text": text},
        "subject": _subject(patient_id),
        "onsetDateTime": "2019",
    }


def medication(patient_id: str, text: str = "Lévothyrox 75 µg") -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "status": "active",
        "medicationCodeableConcept": {"text": text},
        "subject": _subject(patient_id),
        "dosage": [{"text": "1 comprimé le matin"}],
        "effectivePeriod": {"start": "2021-01"},
    }


def weight(patient_id: str, kg: float, day: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": category("vital-signs"),
        "code": loinc("29463-7", "Poids"),
        "subject": _subject(patient_id),
        "effectiveDateTime": day,
        "valueQuantity": {
            "value": kg,
            "unit": "kg",
            "system": "http://unitsofmeasure.org",
            "code": "kg",
        },
    }


def blood_group(patient_id: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": loinc("882-1", "Groupe sanguin"),
        "subject": _subject(patient_id),
        "valueCodeableConcept": {"text": "A+"},
    }


def not_concerned(patient_id: str, code: str) -> dict[str, Any]:
    return {
        "resourceType": "List",
        "status": "current",
        "mode": "working",
        "code": {"coding": [{"system": "urn:carnet:profil-medical:rubrique", "code": code}]},
        "subject": _subject(patient_id),
        "emptyReason": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/list-empty-reason",
                    "code": "nilknown",
                }
            ]
        },
    }
