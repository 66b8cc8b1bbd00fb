"""The person's statement that they were informed of the organ-donation rules.

Stored as an ``Observation`` (status final, ``valueBoolean`` true, ``effectiveDateTime`` the day
of the statement, subject and performer the person), at most one per space:
- it is something the person states about themselves at a date, which is what an Observation
  made by the patient is (the same shape as a questionnaire answer or a lifestyle statement);
- it is deliberately NOT a ``Consent``: the person neither consents nor refuses anything here.
  French law presumes consent, and a refusal is recorded only in the Agence de la biomédecine's
  national refusal register; a Consent resource would be read by professionals' software as a
  decision about donation, which Carnet does not hold.
Its code and category are Carnet's own (no LOINC or SNOMED CT code says "informed of the
organ-donation rules"), so lists of measures and other Observations can leave it out.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final

import orjson

from carnet.record.service import Repository, StoredResource
from carnet.wishes.schemas import DonationStatement

SYSTEM: Final = "urn:carnet:volontes"
CODE: Final = "INFORME_DON_ORGANES"
CATEGORY: Final = "volontes"
DISPLAY: Final = "Informé(e) des dispositions relatives au don d’organes"


def _resource(patient_id: str, stated_on: date) -> dict[str, Any]:
    patient = {"reference": f"Patient/{patient_id}"}
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": SYSTEM, "code": CATEGORY}]}],
        "code": {"coding": [{"system": SYSTEM, "code": CODE, "display": DISPLAY}]},
        "subject": patient,
        "performer": [patient],
        "effectiveDateTime": stated_on.isoformat(),
        "valueBoolean": True,
    }


def _found(repo: Repository, patient_id: str) -> StoredResource | None:
    result = repo.search(
        "Observation", [("patient", f"Patient/{patient_id}"), ("code", f"{SYSTEM}|{CODE}")]
    )
    return result.matches[0] if result.matches else None


def donation_statement(repo: Repository, *, patient_id: str) -> DonationStatement | None:
    """The statement on file, or None."""
    stored = _found(repo, patient_id)
    if stored is None:
        return None
    body = orjson.loads(stored.body)
    if body.get("valueBoolean") is not True:
        return None
    return DonationStatement(stored.id, date.fromisoformat(body["effectiveDateTime"][:10]))


def state_informed(repo: Repository, *, patient_id: str, today: date) -> DonationStatement:
    """Record (or date anew) the statement that the person was informed."""
    # Read first: audited in the person's chain, whose locked head makes a concurrent
    # statement wait, then find this one (one statement per space).
    repo.read("Patient", patient_id)
    stored = _found(repo, patient_id)
    resource = _resource(patient_id, today)
    if stored is None:
        stored = repo.create(resource)
    else:
        stored = repo.update("Observation", stored.id, resource | {"id": stored.id}).resource
    return DonationStatement(stored.id, today)


def withdraw_statement(repo: Repository, *, patient_id: str) -> None:
    """Take the statement back (its history stays in the record)."""
    stored = _found(repo, patient_id)
    if stored is not None:
        repo.delete("Observation", stored.id)
