"""The synthetic people of the federated sign-in tests, as Carnet knows them and as the test
provider asserts them (no real person: an RPPS of the 999… test range)."""

from __future__ import annotations

from datetime import date
from typing import Any

from carnet.identity import service as identity_service
from carnet.identity.schemas import (
    BirthDate,
    BirthPlace,
    IdentityStatus,
    PatientIdentity,
    ReferenceTraits,
    Sex,
)
from carnet.runtime import Runtime

RPPS = identity_service.luhn_complete("9990123456")
BAD_RPPS = RPPS[:-1] + str((int(RPPS[-1]) + 1) % 10)
NIR = identity_service.build_nir("female", date(1987, 3, 14), "75115", 42)
BAD_NIR = NIR[:-2] + f"{(int(NIR[-2:]) % 97) + 1:02d}"


def patient_traits(family: str, given: tuple[str, ...]) -> ReferenceTraits:
    return ReferenceTraits(
        birth_family_name=family,
        birth_given_names=given,
        sex=Sex.FEMALE,
        birth_date=BirthDate(1987, 3, 14),
        birthplace=BirthPlace("75115"),
    )


def pivot(family: str, given: tuple[str, ...], **changes: str) -> dict[str, Any]:
    """FranceConnect's identity pivot for those traits (upper-case birth name, as it sends)."""
    claims: dict[str, Any] = {
        "given_name": " ".join(given),
        "given_name_array": list(given),
        "family_name": family.upper(),
        "birthdate": "1987-03-14",
        "gender": "female",
        "birthplace": "75115",
        "birthcountry": "99100",
    }
    claims.update(changes)
    return claims


def psc_claims(national_id: str) -> dict[str, Any]:
    return {
        "SubjectNameID": national_id,
        "given_name": "Gabriel",
        "family_name": "TESTEUR",
        "SubjectRole": ["10^1.2.250.1.213.1.1.5.5"],
        "otherIds": [{"identifiant": national_id, "origine": "RPPS", "qualite": 1}],
    }


def franceconnect_accounts(family: str, given: tuple[str, ...]) -> dict[str, Any]:
    person = pivot(family, given)
    return {
        "patient": {"acr": "eidas2", "claims": person},
        "patient-eidas3": {"acr": "eidas3", "claims": person},
        "patient-eidas1": {"acr": "eidas1", "claims": person},
        "patient-tampered": {"acr": "eidas2", "claims": person, "tamper": True},
        "patient-bad-ins": {"acr": "eidas2", "claims": {**person, "carnet_test_ins": BAD_NIR}},
        "stranger": {"acr": "eidas2", "claims": pivot("Inconnue", ("Paule",))},
        "patient-other-birthplace": {
            "acr": "eidas2",
            "claims": pivot(family, given, birthplace="69123"),
        },
    }


def psc_accounts() -> dict[str, Any]:
    return {
        "doctor": {"acr": "eidas1", "claims": psc_claims("8" + RPPS)},
        "doctor-bad-luhn": {"acr": "eidas1", "claims": psc_claims("8" + BAD_RPPS)},
        "doctor-unknown": {
            "acr": "eidas1",
            "claims": psc_claims("8" + identity_service.luhn_complete("9990654321")),
        },
    }


def store_people(rt: Runtime, family: str, given: tuple[str, ...]) -> str:
    """The patient and the doctor in the record (the doctor idempotently); the patient's id."""
    identity = PatientIdentity(patient_traits(family, given), status=IdentityStatus.VALI)
    professional = identity_service.Professional(
        id=identity_service.ProfessionalId(identity_service.ProfessionalIdKind.RPPS, RPPS),
        family_name="Testeur",
        given_name="Gabriel",
        professions=("10",),
    )
    practitioner = identity_service.practitioner_resource(professional)
    with rt.carnet_repository() as repo:
        stored = repo.create(identity_service.patient_resource(identity))
        repo.update("Practitioner", practitioner["id"], practitioner)
    return stored.id
