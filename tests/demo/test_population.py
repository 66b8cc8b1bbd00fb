"""The demo population: deterministic, valid FHIR R4, valid identifiers, private, consistent."""

from __future__ import annotations

import base64
import hashlib
import importlib
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import jsonschema_rs
import orjson
import pytest

from carnet.demo import names
from carnet.demo.context import REFERENCE_DATE
from carnet.demo.population import (
    MAX_RESOURCES,
    DemoDirectory,
    DemoPatient,
    generate_directory,
    generate_patients,
)
from carnet.identity import service as identity_service

SEED = 20260
COUNT = 150
# Document types used by the generator, all from the JDV_J07 list (LOINC codes).
JDV_J07_TYPES = {"11488-4", "59283-2", "11502-2", "57833-6", "11490-0", "15507-7", "60591-5"}
# Elements FHIR R4 requires (min 1) on what the generator makes, choices written with [x].
REQUIRED = {
    "Patient": (),
    "Organization": (),
    "Practitioner": (),
    "PractitionerRole": (),
    "Condition": ("subject",),
    "AllergyIntolerance": ("patient",),
    "Encounter": ("status", "class"),
    "Observation": ("status", "code"),
    "MedicationStatement": ("status", "medication[x]", "subject"),
    "MedicationRequest": ("status", "intent", "medication[x]", "subject"),
    "Immunization": ("status", "vaccineCode", "patient", "occurrence[x]"),
    "DocumentReference": ("status", "content"),
    "Binary": ("contentType",),
}
CHOICES = ("value", "effective", "onset", "abatement", "medication", "occurrence", "asNeeded")


@pytest.fixture(scope="module")
def directory() -> DemoDirectory:
    return generate_directory(seed=SEED)


@pytest.fixture(scope="module")
def patients(directory: DemoDirectory) -> list[DemoPatient]:
    return list(generate_patients(COUNT, seed=SEED, directory=directory))


def _dump(items: Any) -> bytes:
    return orjson.dumps(items, option=orjson.OPT_SORT_KEYS)


def _walk(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair of a JSON value, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _references(resource: dict[str, Any]) -> list[str]:
    return [item for key, item in _walk(resource) if key == "reference"]


def _searchable(resource: dict[str, Any]) -> str:
    """A resource as text, without the (encrypted, never indexed) bytes of a Binary."""
    return _dump({k: v for k, v in resource.items() if k != "data"}).decode()


# --- Determinism ------------------------------------------------------------------------------
def test_the_same_seed_gives_the_same_data(directory: DemoDirectory) -> None:
    again = generate_directory(seed=SEED)
    assert _dump(again.resources()) == _dump(directory.resources())
    first = list(generate_patients(12, seed=SEED, directory=directory))
    second = list(generate_patients(12, seed=SEED, directory=again))
    assert _dump([(p.patient, p.resources, p.label) for p in first]) == _dump(
        [(p.patient, p.resources, p.label) for p in second]
    )


def test_patient_i_does_not_depend_on_count_or_start(
    directory: DemoDirectory, patients: list[DemoPatient]
) -> None:
    window = list(generate_patients(5, seed=SEED, directory=directory, start=40))
    assert _dump([p.resources for p in window]) == _dump([p.resources for p in patients[40:45]])
    assert [p.patient["id"] for p in window] == [p.patient["id"] for p in patients[40:45]]


def test_leaving_documents_out_changes_nothing_else(
    directory: DemoDirectory, patients: list[DemoPatient]
) -> None:
    documentless = list(generate_patients(20, seed=SEED, directory=directory, documents=False))
    for lean, full in zip(documentless, patients, strict=False):
        kept = [
            r for r in full.resources if r["resourceType"] not in {"DocumentReference", "Binary"}
        ]
        assert _dump(lean.resources) == _dump(kept)


def test_another_seed_gives_other_people(directory: DemoDirectory) -> None:
    other_directory = generate_directory(seed=SEED + 1)
    other = next(generate_patients(1, seed=SEED + 1, directory=other_directory))
    mine = next(generate_patients(1, seed=SEED, directory=directory))
    assert other.patient["id"] != mine.patient["id"]
    assert other_directory.practitioners[0]["id"] != directory.practitioners[0]["id"]


def test_negative_arguments_are_refused(directory: DemoDirectory) -> None:
    with pytest.raises(ValueError, match="negative"):
        list(generate_patients(-1, seed=SEED, directory=directory))


# --- FHIR R4 validity -------------------------------------------------------------------------
def _official_schema() -> dict[str, Any]:
    try:
        module = importlib.import_module("carnet.record.definitions")
    except ModuleNotFoundError:
        pytest.skip("carnet.record.definitions is not there yet: no official R4 schema to check")
    schema = getattr(module.get_definitions(), "schema", None)
    if not isinstance(schema, dict):
        pytest.skip("carnet.record.definitions exposes no R4 JSON schema as `schema`")
    return schema


def test_every_resource_validates_against_the_r4_schema(
    directory: DemoDirectory, patients: list[DemoPatient]
) -> None:
    validator = jsonschema_rs.validator_for(_official_schema())
    for resource in directory.resources() + tuple(
        r for p in patients for r in (p.patient, *p.resources)
    ):
        errors = [error.message[:200] for error in validator.iter_errors(resource)]
        assert not errors, (resource["resourceType"], errors[:3])


def test_every_resource_passes_the_record_validator(
    directory: DemoDirectory, patients: list[DemoPatient]
) -> None:
    try:
        validation = importlib.import_module("carnet.record.validation")
        definitions = importlib.import_module("carnet.record.definitions").get_definitions()
    except ModuleNotFoundError:
        pytest.skip("carnet.record.validation is not there yet")
    validator = validation.ResourceValidator(definitions)
    for resource in directory.resources() + tuple(
        r for p in patients for r in (p.patient, *p.resources)
    ):
        issues = validator.validate(resource)
        assert not issues, (resource["resourceType"], [str(issue) for issue in issues[:3]])


def test_required_elements_and_single_choices(
    directory: DemoDirectory, patients: list[DemoPatient]
) -> None:
    for resource in directory.resources() + tuple(
        r for p in patients for r in (p.patient, *p.resources)
    ):
        for element in REQUIRED[resource["resourceType"]]:
            if element.endswith("[x]"):
                stem = element[:-3]
                assert any(key.startswith(stem) for key in resource), (resource, element)
            else:
                assert element in resource, (resource["resourceType"], element)
        for node in [resource, *resource.get("component", [])]:
            for stem in CHOICES:
                variants = [k for k in node if re.fullmatch(stem + "[A-Z][A-Za-z]*", k)]
                assert len(variants) <= 1, (resource["resourceType"], variants)


# --- Identifiers ------------------------------------------------------------------------------
def test_patients_carry_a_valid_test_ins(patients: list[DemoPatient]) -> None:
    for demo in patients:
        (ins,) = demo.patient["identifier"]
        assert ins["system"] == "urn:oid:1.2.250.1.213.1.4.10"
        assert ins["use"] == "official"
        assert ins["type"]["coding"][0]["code"] == "INS-NIR-TEST"
        nir = ins["value"]
        assert identity_service.is_valid_nir(nir)
        birth = date.fromisoformat(demo.patient["birthDate"])
        assert nir[0] == ("2" if demo.patient["gender"] == "female" else "1")
        assert nir[1:5] == f"{birth.year % 100:02d}{birth.month:02d}"
    assert len({p.patient["identifier"][0]["value"] for p in patients}) == len(patients)


def test_directory_identifiers_are_valid(directory: DemoDirectory) -> None:
    for practitioner in directory.practitioners:
        national, rpps = practitioner["identifier"]
        assert national["system"] == "urn:oid:1.2.250.1.71.4.2.1"
        assert national["type"]["coding"][0]["code"] == "IDNPS"
        assert identity_service.is_valid_rpps(rpps["value"])
        assert national["value"] == "8" + rpps["value"]
        assert not rpps["value"].startswith("10")  # never a real RPPS number
        profession = practitioner["qualification"][0]["code"]["coding"][0]
        assert profession["system"] == identity_service.SYSTEM_TRE_G15
        assert profession["code"] in identity_service.PROFESSIONS_TRE_G15
    for organization in directory.organizations:
        national, finess = organization["identifier"]
        assert identity_service.is_valid_finess(finess["value"])
        assert national["system"] == "urn:oid:1.2.250.1.71.4.2.2"
        assert national["value"] == "1" + finess["value"]
    kinds = {o["type"][0]["text"] for o in directory.organizations}
    assert len(kinds) == 4
    departments = {o["address"][0]["postalCode"][:2] for o in directory.organizations}
    assert {"31", "44", "80"} <= departments


def test_directory_has_the_professions_a_record_needs(directory: DemoDirectory) -> None:
    specialties = {
        s["coding"][0]["code"]
        for role in directory.practitioner_roles
        for s in role.get("specialty", [])
    }
    assert {"SM54", "SM40", "SM04", "SM03"} <= specialties
    professions = {role["code"][0]["coding"][0]["code"] for role in directory.practitioner_roles}
    assert {"10", "21", "60", "50", "70"} <= professions


# --- Privacy of the demo itself ----------------------------------------------------------------
def test_no_other_resource_is_dated_on_the_birth_date(patients: list[DemoPatient]) -> None:
    for demo in patients:
        birth = demo.patient["birthDate"]
        for resource in demo.resources:
            assert birth not in _searchable(resource), (resource["resourceType"], birth)


def test_every_date_lies_between_birth_and_the_reference_date(patients: list[DemoPatient]) -> None:
    day = re.compile(r"\d{4}-\d{2}-\d{2}")
    for demo in patients:
        birth = date.fromisoformat(demo.patient["birthDate"])
        for resource in demo.resources:
            for key, value in _walk(resource):
                if key in {"expirationDate", "reference", "value", "url", "id", "data"}:
                    continue
                if isinstance(value, str) and day.match(value):
                    moment = date.fromisoformat(value[:10])
                    assert birth < moment <= REFERENCE_DATE, (resource["resourceType"], key)
                    if "T" in value:  # the UTC day is the local day too
                        utc = datetime.fromisoformat(value).astimezone().date()
                        assert abs((utc - moment).days) <= 1


def test_patient_names_appear_in_no_other_resource(patients: list[DemoPatient]) -> None:
    for demo in patients:
        tokens = {
            token
            for name in demo.patient["name"]
            for part in [name["family"], *name["given"]]
            for token in part.replace("-", " ").split()
            if len(token) > 2
        }
        words = re.compile(r"\b(" + "|".join(map(re.escape, tokens)) + r")\b", re.IGNORECASE)
        for resource in demo.resources:
            assert not words.search(_searchable(resource)), resource["resourceType"]


def _words(resource: dict[str, Any]) -> set[str]:
    """The words of a resource's texts (not of its ids, references, hashes or bytes)."""
    skipped = {"id", "reference", "data", "hash", "url", "masterIdentifier"}
    found: set[str] = set()

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key not in skipped:
                    visit(item)
        elif isinstance(value, list):
            for item in value:
                visit(item)
        elif isinstance(value, str):
            found.update(re.findall(r"[^\W\d_]+", value.casefold()))

    visit(resource)
    return found


def test_no_patient_name_can_appear_outside_patients(
    directory: DemoDirectory, patients: list[DemoPatient]
) -> None:
    tokens = {token for token in names.all_patient_name_tokens() if len(token) > 2}
    for resource in directory.resources() + tuple(r for p in patients for r in p.resources):
        assert not _words(resource) & tokens, resource["resourceType"]


def test_contacts_are_fictitious(patients: list[DemoPatient]) -> None:
    for demo in patients:
        for telecom in demo.patient["telecom"]:
            if telecom["system"] == "phone":
                assert telecom["value"].startswith("+33 6 39 98 ")
            else:
                assert telecom["value"].endswith(("@example.org", "@example.net"))


# --- Structure and consistency ----------------------------------------------------------------
def test_references_resolve_and_point_backwards(
    directory: DemoDirectory, patients: list[DemoPatient]
) -> None:
    shared = {f"{r['resourceType']}/{r['id']}" for r in directory.resources()}
    for role in directory.practitioner_roles:
        assert set(_references(role)) <= shared
    for demo in patients:
        seen = {f"Patient/{demo.patient['id']}"}
        assert set(_references(demo.patient)) <= shared
        for resource in demo.resources:
            for target in _references(resource):
                assert target in seen or target in shared, (resource["resourceType"], target)
            seen.add(f"{resource['resourceType']}/{resource['id']}")
    ids = [r["id"] for p in patients for r in (p.patient, *p.resources)]
    assert len(ids) == len(set(ids))


def test_records_have_a_readable_size(patients: list[DemoPatient]) -> None:
    sizes = [len(p.resources) for p in patients]
    assert min(sizes) >= 5
    assert max(sizes) <= MAX_RESOURCES
    ages = [REFERENCE_DATE.year - int(p.patient["birthDate"][:4]) for p in patients]
    assert sum(age < 18 for age in ages) >= COUNT // 10
    assert sum(age >= 65 for age in ages) >= COUNT // 10
    assert all(re.fullmatch(r"\S.* \S+, née? en \d{4}", p.label) for p in patients)


def test_documents_match_their_pdf(patients: list[DemoPatient]) -> None:
    documents = 0
    for demo in patients:
        binaries = {r["id"]: r for r in demo.resources if r["resourceType"] == "Binary"}
        for resource in demo.resources:
            if resource["resourceType"] != "DocumentReference":
                continue
            documents += 1
            attachment = resource["content"][0]["attachment"]
            binary = binaries[attachment["url"].removeprefix("Binary/")]
            assert binary["securityContext"]["reference"] == f"DocumentReference/{resource['id']}"
            pdf = base64.b64decode(binary["data"])
            assert pdf.startswith(b"%PDF-")
            assert attachment["size"] == len(pdf) < 60_000
            digest = hashlib.sha1(pdf).digest()  # Attachment.hash is SHA-1 by definition
            assert attachment["hash"] == base64.b64encode(digest).decode()
            assert resource["type"]["coding"][0]["code"] in JDV_J07_TYPES
            assert resource["securityLabel"][0]["coding"][0]["code"] == "N"
    assert documents >= COUNT


def test_measurements_are_consistent(patients: list[DemoPatient]) -> None:
    for demo in patients:
        by_encounter: dict[str, dict[str, float]] = {}
        diabetic = any(
            r["resourceType"] == "Condition" and r["code"]["coding"][0]["code"] == "44054006"
            for r in demo.resources
        )
        for resource in demo.resources:
            if resource["resourceType"] != "Observation":
                continue
            code = resource["code"]["coding"][0]["code"]
            if code == "4548-4":
                assert diabetic
            if "referenceRange" in resource:
                assert resource["category"][0]["coding"][0]["code"] == "laboratory"
            if "valueQuantity" in resource and "encounter" in resource:
                values = by_encounter.setdefault(resource["encounter"]["reference"], {})
                values[code] = resource["valueQuantity"]["value"]
        for values in by_encounter.values():
            if {"29463-7", "8302-2", "39156-5"} <= values.keys():
                bmi = values["29463-7"] / (values["8302-2"] / 100) ** 2
                assert abs(bmi - values["39156-5"]) < 0.1
            if "29463-7" in values:
                assert 1.5 < values["29463-7"] < 200


def _age(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _fits_schedule(atc: str, birth: date, day: date) -> bool:
    age, months = _age(birth, day), (day - birth).days / 30.44
    rules = {
        "J07CA09": 1.8 <= months <= 13 and birth.year >= 2013,
        "J07AL02": (1.8 <= months <= 13 and birth.year >= 2013) or age >= 65,
        "J07AH07": 4.5 <= months <= 15 and 2013 <= birth.year <= 2024,
        "J07AH09": 2.8 <= months <= 14 and birth.year >= 2025,
        "J07AH08": (5.5 <= months <= 14 and birth.year >= 2025)
        or (11 <= age < 15 and day.year >= 2025),
        "J07BD52": 11.8 <= months <= 19 and birth.year >= 2013,
        "J07BH01": 1.8 <= months <= 4,
        "J07CA02": 6 <= age < 7 or 11 <= age < 14 or 25 <= age < 26,
        "J07CA01": any(n <= age < n + 1 for n in (45, 65, 75, 85)),
        "J07BM03": 11 <= age < 16 and day.year >= 2019,
        "J07BB02": age >= 65 and day.month >= 10,
        "J07BK03": age >= 65 and day.year >= 2024,
    }
    return rules.get(atc, False)


def test_immunizations_follow_the_french_schedule(patients: list[DemoPatient]) -> None:
    seen = set()
    for demo in patients:
        birth = date.fromisoformat(demo.patient["birthDate"])
        for resource in demo.resources:
            if resource["resourceType"] != "Immunization":
                continue
            coding = resource["vaccineCode"]["coding"][0]
            assert coding["system"] == "http://www.whocc.no/atc"
            day = date.fromisoformat(resource["occurrenceDateTime"][:10])
            assert _fits_schedule(coding["code"], birth, day), (coding["code"], birth, day)
            assert resource["status"] == "completed"
            assert resource["lotNumber"]
            assert resource["protocolApplied"][0]["doseNumberPositiveInt"] >= 1
            if coding["code"] == "J07BM03":
                assert day.year >= 2021 or demo.patient["gender"] == "female"
            seen.add(coding["code"])
    assert {"J07CA09", "J07BD52", "J07BB02", "J07CA02"} <= seen


def test_another_reference_date_moves_everything(directory: DemoDirectory) -> None:
    earlier = date(2024, 3, 1)
    for demo in generate_patients(
        10, seed=SEED, directory=directory, reference_date=earlier, documents=False
    ):
        for resource in demo.resources:
            for key, value in _walk(resource):
                if key.endswith(("DateTime", "Date", "start", "end")) and key != "expirationDate":
                    assert isinstance(value, str)
                    assert value[:10] <= earlier.isoformat(), (resource["resourceType"], key)


def test_infants_are_measured_in_their_first_week_not_on_their_birth_day(
    directory: DemoDirectory,
) -> None:
    infants = 0
    for demo in generate_patients(400, seed=SEED, directory=directory, documents=False):
        birth = date.fromisoformat(demo.patient["birthDate"])
        if (REFERENCE_DATE - birth).days >= 365:
            continue
        infants += 1
        first_weight = min(
            date.fromisoformat(r["effectiveDateTime"][:10])
            for r in demo.resources
            if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "29463-7"
        )
        assert 2 <= (first_weight - birth).days <= 7
    assert infants > 0
