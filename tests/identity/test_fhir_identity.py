"""Identities as FHIR R4: Patient (FR Core, INS), Practitioner, PractitionerRole, Organization.

Every resource built here is checked with the record's own validator: the record refuses
whatever it would refuse.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carnet.identity import errors
from carnet.identity import service as identity_service
from carnet.record.definitions import get_definitions
from carnet.record.validation import ResourceValidator

validator = ResourceValidator(get_definitions())
S = identity_service
NIR = "284067511300167"


def valid(resource: dict) -> dict:
    assert validator.validate(resource) == []
    return resource


def identity(status: str = "QUAL", **trait_overrides: object) -> S.PatientIdentity:
    values: dict[str, object] = {
        "birth_family_name": "LEFEBVRE",
        "birth_given_names": ("ANAÏS", "MARIE"),
        "sex": S.Sex.FEMALE,
        "birth_date": S.BirthDate(1984, 6, 17),
        "birthplace": S.BirthPlace("75113"),
        "used_family_name": "MARTIN",
        "used_given_name": "Anne",
    }
    values.update(trait_overrides)
    return S.PatientIdentity(
        S.ReferenceTraits(**values),  # type: ignore[arg-type]
        S.IdentityStatus(status),
        S.parse_ins(NIR, S.OID_INS_NIR_TEST) if status in {"QUAL", "RECUP"} else None,
        S.CollectionMethod.INSI,
    )


def test_a_qualified_identity_is_an_fr_core_ins_patient() -> None:
    patient = valid(S.patient_resource(identity(), resource_id="p1"))
    assert patient["meta"]["profile"] == [
        "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins"
    ]
    assert patient["identifier"] == [
        {
            "use": "official",
            "type": {
                "coding": [
                    {
                        "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
                        "code": "INS-NIR-TEST",
                    }
                ]
            },
            "system": "urn:oid:1.2.250.1.213.1.4.10",
            "value": NIR,
        }
    ]
    official, usual = patient["name"]
    assert official["family"] == "LEFEBVRE"
    assert official["given"] == ["ANAÏS"]
    assert official["extension"][0]["valueString"] == "ANAÏS MARIE"
    assert usual == {"use": "usual", "family": "MARTIN", "given": ["Anne"]}
    reliability = patient["extension"][0]
    assert reliability["url"].endswith("fr-core-identity-reliability")
    codes = {part["url"]: part["valueCoding"]["code"] for part in reliability["extension"]}
    assert codes == {"identityStatus": "QUAL", "methodCollection": "INSI"}
    birthplace = patient["extension"][1]["valueAddress"]["extension"][0]["valueCoding"]
    assert birthplace["code"] == "75113"
    assert patient["birthDate"] == "1984-06-17"
    assert patient["gender"] == "female"


@pytest.mark.parametrize("status", ["PROV", "RECUP", "VALI", "QUAL"])
def test_every_status_round_trips(status: str) -> None:
    ident = identity(status)
    patient = valid(S.patient_resource(ident, resource_id="p1"))
    back = S.patient_identity(patient)
    assert back.traits == ident.traits
    assert back.status == ident.status
    assert back.method == ident.method
    # The matricule travels with a qualified identity only.
    assert back.ins == ident.shareable_ins
    assert ("identifier" in patient) is (status == "QUAL")


def test_partial_dates_and_births_abroad_round_trip() -> None:
    ident = identity(birth_date=S.BirthDate(1961), birthplace=S.BirthPlace("99352"))
    patient = valid(S.patient_resource(ident))
    assert patient["birthDate"] == "1961"
    assert "system" not in patient["extension"][1]["valueAddress"]["extension"][0]["valueCoding"]
    assert S.patient_identity(patient).traits == ident.traits


def test_a_nia_is_a_temporary_identifier() -> None:
    ident = S.PatientIdentity(
        identity().traits, S.IdentityStatus.QUAL, S.parse_ins(NIR, S.OID_INS_NIA)
    )
    patient = valid(S.patient_resource(ident))
    assert patient["identifier"][0]["use"] == "temp"
    assert patient["identifier"][0]["type"]["coding"][0]["code"] == "INS-NIA"
    assert S.patient_identity(patient).ins == ident.ins


def test_an_unqualified_patient_carrying_a_matricule_is_refused() -> None:
    patient = S.patient_resource(identity("QUAL"))
    status = patient["extension"][0]["extension"][-1]
    status["valueCoding"]["code"] = "RECUP"
    with pytest.raises(errors.UnsharedMatricule) as caught:
        S.patient_identity(patient)
    assert caught.value.field == "Patient.identifier"
    assert NIR not in caught.value.message


def test_a_wrong_key_in_a_patient_is_refused() -> None:
    patient = S.patient_resource(identity())
    patient["identifier"][0]["value"] = NIR[:-2] + "01"
    with pytest.raises(errors.InvalidMatricule):
        S.patient_identity(patient)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p.pop("birthDate"), "Patient.birthDate"),
        (lambda p: p.update(gender="other"), "Patient.gender"),
        (lambda p: p.update(name=[]), "Patient.name[official].family"),
        (lambda p: p["name"][0].update(given=[]), "Patient.name[official].given"),
        (lambda p: p.update(birthDate="1984-02-30"), "Patient.birthDate"),
        (
            lambda p: p["extension"][0]["extension"][-1]["valueCoding"].update(code="DOUT"),
            "Patient.extension[identityReliability].identityStatus",
        ),
        (
            lambda p: p["identifier"][0]["type"]["coding"][0].update(code="INS-NIA"),
            "Patient.identifier[0].type",
        ),
    ],
)
def test_malformed_patients_name_the_element(mutate, field: str) -> None:
    patient = copy.deepcopy(S.patient_resource(identity()))
    mutate(patient)
    with pytest.raises(errors.InvalidIdentity) as caught:
        S.patient_identity(patient)
    assert caught.value.field == field


def test_a_patient_without_reliability_is_provisional() -> None:
    patient = S.patient_resource(identity("PROV"))
    patient.pop("extension")
    back = S.patient_identity(patient)
    assert back.status is S.IdentityStatus.PROV
    assert back.traits.birthplace is None


# --- Directory ----------------------------------------------------------------------------------
RPPS = S.ProfessionalId(S.ProfessionalIdKind.RPPS, "10001045367")
SPECIALTY = S.SavoirFaire("S", "SM49", "Santé publique et médecine sociale")


def test_a_practitioner() -> None:
    professional = S.Professional(RPPS, "GUIGNARD", "ERIC", ("10",), (SPECIALTY,), "M", "DR")
    practitioner = valid(S.practitioner_resource(professional))
    assert practitioner["id"] == S.practitioner_id(RPPS)
    values = {i["type"]["coding"][0]["code"]: i["value"] for i in practitioner["identifier"]}
    assert values == {"IDNPS": "810001045367", "RPPS": "10001045367"}
    assert practitioner["name"] == [
        {"use": "official", "family": "GUIGNARD", "given": ["ERIC"], "prefix": ["Dr"]}
    ]
    assert practitioner["gender"] == "male"
    assert S.professional_id_of(practitioner) == RPPS
    assert S.professions_of(practitioner) == (S.Coded("10", "Médecin"),)
    specialty = practitioner["qualification"][1]["code"]["coding"]
    assert [c["code"] for c in specialty] == ["S", "SM49"]


def test_an_adeli_practitioner_is_known_by_its_national_id() -> None:
    adeli = S.ProfessionalId(S.ProfessionalIdKind.ADELI, "759124159")
    practitioner = valid(S.practitioner_resource(S.Professional(adeli, "X", professions=("91",))))
    assert [i["value"] for i in practitioner["identifier"]] == ["0759124159"]
    assert S.professional_id_of(practitioner) == adeli


def test_pro_sante_connect_finds_the_practitioner_by_its_national_id() -> None:
    # SubjectNameID = "8" + RPPS: the same id the directory import gives the Practitioner.
    assert S.practitioner_id(S.ProfessionalId.parse_national("810001045367")) == S.practitioner_id(
        RPPS
    )
    with pytest.raises(errors.InvalidProfessional):
        S.ProfessionalId.parse_national("ANS12345")


def test_a_role_and_an_organisation() -> None:
    structure = S.StructureIds(finess_site="010000024", finess_legal="010780054")
    activity = S.Activity(
        RPPS,
        "10",
        structure,
        (S.PracticeMode.SALARIED,),
        function=S.Coded("FON-05", "Chef de service"),
        savoir_faire=(SPECIALTY,),
    )
    role = valid(S.practitioner_role_resource(activity))
    assert role["practitioner"] == {"reference": f"Practitioner/{S.practitioner_id(RPPS)}"}
    assert role["organization"] == {"reference": f"Organization/{S.organization_id(structure)}"}
    assert [c["coding"][0]["code"] for c in role["code"]] == ["10", "S", "FON-05"]
    assert S.professions_of(role) == (S.Coded("10", "Médecin"),)
    organisation = S.Organisation(
        structure,
        "CENTRE HOSPITALIER",
        "CH DU LAC",
        S.Coded("SA01", "Hôpital public"),
        S.PostalAddress(("12 RUE DU LAC",), "01000", "BOURG", "01053"),
        ("0102030405",),
        email="contact@ch.example",
    )
    org = valid(S.organization_resource(organisation))
    values = {i["type"]["coding"][0]["code"]: i["value"] for i in org["identifier"]}
    assert values == {"IDNST": "1010000024", "FINEG": "010000024", "FINEJ": "010780054"}
    assert org["alias"] == ["CH DU LAC"]
    assert org["address"][0]["extension"][0]["valueCoding"]["code"] == "01053"


def test_a_role_without_a_structure_is_valid() -> None:
    valid(S.practitioner_role_resource(S.Activity(RPPS, "10", modes=(S.PracticeMode.LIBERAL,))))


@pytest.mark.parametrize(
    ("ids", "key", "national"),
    [
        (
            S.StructureIds(finess_site="010000024", siret="73282932000074"),
            "finess:010000024",
            "1010000024",
        ),
        (
            S.StructureIds(siret="73282932000074", technical_id="R123"),
            "siret:73282932000074",
            "373282932000074",
        ),
        (S.StructureIds(technical_id="R123"), "tech:R123", "4R123"),
        (S.StructureIds(finess_legal="010780054"), "finess-ej:010780054", None),
    ],
)
def test_structure_keys_prefer_finess_then_siret(ids, key: str, national: str | None) -> None:
    assert ids.key == key
    assert ids.national_id == national


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"finess_site": "010000025"}, "finessSite"),
        ({"siret": "73282932000075"}, "siret"),
        ({"siren": "732829321", "technical_id": "R1"}, "siren"),
        ({"technical_id": "R-1"}, "technicalId"),
        ({}, "structure"),
    ],
)
def test_bad_structure_identifiers(values: dict[str, str], field: str) -> None:
    with pytest.raises(errors.InvalidOrganisation) as caught:
        S.StructureIds(**values)
    assert caught.value.field == field


def test_unknown_profession_or_savoir_faire_type() -> None:
    with pytest.raises(errors.InvalidProfessional):
        S.Activity(RPPS, "11")
    with pytest.raises(errors.InvalidProfessional):
        S.SavoirFaire("X", "SM49")


@given(st.integers(min_value=0, max_value=10**10 - 1))
def test_rpps_luhn_property(body: int) -> None:
    rpps = S.luhn_complete(f"{body:010d}")
    assert S.ProfessionalId(S.ProfessionalIdKind.RPPS, rpps).national_id == "8" + rpps
    wrong = rpps[:-1] + str((int(rpps[-1]) + 1) % 10)
    with pytest.raises(errors.InvalidProfessional):
        S.ProfessionalId(S.ProfessionalIdKind.RPPS, wrong)


def test_ids_are_stable_and_distinct() -> None:
    other = S.ProfessionalId(S.ProfessionalIdKind.RPPS, "10104335319")
    assert S.practitioner_id(RPPS) == S.practitioner_id(RPPS)
    assert S.practitioner_id(RPPS) != S.practitioner_id(other)
    assert "10001045367" not in S.practitioner_id(RPPS)
