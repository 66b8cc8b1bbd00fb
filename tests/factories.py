"""Small builders of FHIR resources and access contexts shared by the tests (no shared state)."""

from __future__ import annotations

from typing import Any

from carnet.access.schemas import AccessContext
from carnet.access.scopes import ScopeSet
from carnet.core.actor import Actor, ActorKind
from carnet.core.ids import new_id


def system_context(scopes: str = "system/*.cruds", client_id: str = "test-system") -> AccessContext:
    return AccessContext(
        actor=Actor(ActorKind.SYSTEM, client_id, label="Test system"), scopes=ScopeSet.parse(scopes)
    )


def patient_context(patient_id: str) -> AccessContext:
    return AccessContext(actor=Actor(ActorKind.PATIENT, patient_id), patient_id=patient_id)


def patient(
    patient_id: str | None = None,
    *,
    family: str = "Lefebvre",
    given: str = "Anaïs",
    birth_date: str = "1984-06-17",
    nir: str = "284067511300126",
) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": patient_id or new_id(),
        "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.10", "value": nir, "use": "official"}],
        "name": [{"use": "official", "family": family, "given": [given]}],
        "gender": "female",
        "birthDate": birth_date,
        "telecom": [{"system": "email", "value": "anais.lefebvre@example.org"}],
        "address": [{"city": "Amiens", "postalCode": "80000", "country": "FR"}],
    }


def observation(patient_id: str, *, code: str = "29463-7", value: float = 71.5) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {
            "coding": [{"system": "http://loinc.org", "code": code, "display": "Body weight"}]
        },
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": "2025-03-04T10:15:00+01:00",
        "valueQuantity": {
            "value": value,
            "unit": "kg",
            "system": "http://unitsofmeasure.org",
            "code": "kg",
        },
    }
