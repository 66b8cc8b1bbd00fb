"""What each parameter type and modifier matches, through the repository (R4 search rules).

Every test writes its own resources with values no other test uses (a fresh code system, a
fresh patient), so that searches over the shared test database see only them.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from sqlalchemy import Connection
from tests.factories import observation, patient, system_context

from carnet.core.ids import new_id
from carnet.record.service import Repository
from carnet.runtime import Runtime


@pytest.fixture
def repo(rt: Runtime, db: Connection) -> Repository:
    return rt.record.repository(db=db, ctx=system_context())


@pytest.fixture
def system() -> str:
    return f"urn:test:{secrets.token_hex(6)}"


def ids(repo: Repository, resource_type: str, *pairs: tuple[str, str]) -> set[str]:
    result = repo.search(resource_type, [*pairs, ("_count", "1000")])
    return {stored.id for stored in result.matches}


def put(repo: Repository, resource: dict[str, Any]) -> str:
    resource.setdefault("id", new_id())
    repo.update(resource["resourceType"], resource["id"], resource)
    return str(resource["id"])


def obs(patient_id: str, system: str, name: str, **changes: Any) -> dict[str, Any]:
    resource = observation(patient_id)
    resource["code"] = {"coding": [{"system": system, "code": name, "display": "Poids mesuré"}]}
    resource.update(changes)
    return resource


@pytest.fixture
def person(repo: Repository) -> str:
    return put(repo, patient())


# --- token ----------------------------------------------------------------------------------------
def test_token_forms(repo: Repository, person: str, system: str) -> None:
    a = put(repo, obs(person, system, "a"))
    b = put(repo, obs(person, system, "b"))
    no_system = put(repo, obs(person, system, "x", code={"coding": [{"code": f"{system}-plain"}]}))
    assert ids(repo, "Observation", ("code", f"{system}|a")) == {a}
    assert ids(repo, "Observation", ("code", f"{system}|a,{system}|b")) == {a, b}
    assert ids(repo, "Observation", ("code", f"{system}|")) == {a, b}
    assert ids(repo, "Observation", ("code", f"|{system}-plain")) == {no_system}
    assert ids(repo, "Observation", ("code", f"{system}-plain")) == {no_system}
    assert ids(repo, "Observation", ("code", f"http://elsewhere|{system}-plain")) == set()
    # AND of repeated parameters
    assert ids(repo, "Observation", ("code", f"{system}|"), ("code", f"{system}|b")) == {b}


def test_token_not_includes_resources_without_a_value(
    repo: Repository, person: str, system: str
) -> None:
    a = put(
        repo, obs(person, system, "a", category=[{"coding": [{"system": system, "code": "c1"}]}])
    )
    b = put(
        repo, obs(person, system, "b", category=[{"coding": [{"system": system, "code": "c2"}]}])
    )
    none = put(repo, obs(person, system, "c"))
    found = ids(repo, "Observation", ("patient", person), ("category:not", f"{system}|c1"))
    assert found == {b, none}
    assert a not in found


def test_token_text_and_missing(repo: Repository, person: str, system: str) -> None:
    a = put(repo, obs(person, system, "a"))
    b = put(repo, obs(person, system, "b", code={"text": "Pression artérielle"}))
    assert ids(repo, "Observation", ("patient", person), ("code:text", "poids MES")) == {a}
    assert ids(repo, "Observation", ("patient", person), ("code:text", "pression arterielle")) == {
        b
    }
    concept = obs(person, system, "c", valueCodeableConcept={"text": "positif"})
    del concept["valueQuantity"]
    with_value = put(repo, concept)
    assert ids(repo, "Observation", ("patient", person), ("value-concept:missing", "false")) == {
        with_value
    }
    assert ids(repo, "Observation", ("patient", person), ("value-concept:missing", "true")) == {
        a,
        b,
    }


def test_identifier_of_type(repo: Repository, system: str) -> None:
    practitioner = {
        "resourceType": "Practitioner",
        "identifier": [
            {
                "system": "urn:oid:1.2.250.1.71.4.2.1",
                "value": f"{system}-810",
                "type": {"coding": [{"system": system, "code": "RPPS"}]},
            }
        ],
    }
    found = put(repo, practitioner)
    assert ids(repo, "Practitioner", ("identifier:of-type", f"{system}|RPPS|{system}-810")) == {
        found
    }
    assert (
        ids(repo, "Practitioner", ("identifier:of-type", f"{system}|ADELI|{system}-810")) == set()
    )
    assert ids(repo, "Practitioner", ("identifier", f"{system}-810")) == {found}


# --- string ---------------------------------------------------------------------------------------
def test_string_starts_with_case_and_accent_insensitive(repo: Repository) -> None:
    family = f"Éloïse{secrets.token_hex(3)}"
    first = put(
        repo, {"resourceType": "Practitioner", "name": [{"family": family, "given": ["Zoé"]}]}
    )
    other = put(repo, {"resourceType": "Practitioner", "name": [{"family": f"X{family}"}]})
    assert ids(repo, "Practitioner", ("name", family[:7].lower().replace("é", "e"))) == {first}
    assert ids(repo, "Practitioner", ("name", family.upper())) == {first}
    assert ids(repo, "Practitioner", ("name:exact", family)) == {first}
    assert ids(repo, "Practitioner", ("name:exact", family.lower())) == set()
    assert ids(repo, "Practitioner", ("name:contains", family[3:9])) == {first, other}
    assert ids(repo, "Practitioner", ("name:contains", "_%")) == set()  # LIKE wildcards are escaped


# --- date -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("2024", {"day", "month", "instant", "later"}),
        ("2024-03", {"day", "month", "instant"}),
        ("2024-03-05", {"day", "instant"}),
        ("eq2024-03-05", {"day", "instant"}),
        ("ne2024-03-05", {"month", "year", "open", "later"}),
        ("gt2024-03-05", {"month", "year", "open", "later"}),
        ("ge2024-03-05", {"day", "instant", "month", "year", "open", "later"}),
        ("lt2024-03-05", {"month", "year", "open"}),
        ("le2024-03-05", {"day", "instant", "month", "year", "open"}),
        ("sa2024-03-05", {"later"}),
        ("eb2024-03-05", set()),
        ("sa2023", {"day", "month", "instant", "later"}),
        ("eb2025", {"day", "month", "instant", "later"}),
        ("2024-03-05T10:15:00+02:00", {"instant"}),
        ("2024-03-05T09:15", set()),
        ("gt2050", {"open"}),
        ("ap2024-03-05", {"day", "month", "instant", "year", "open"}),
    ],
)
def test_date_prefixes_partial_dates_and_periods(
    repo: Repository, person: str, system: str, query: str, expected: set[str]
) -> None:
    values = {
        "day": {"effectiveDateTime": "2024-03-05"},
        "month": {"effectiveDateTime": "2024-03"},
        "instant": {"effectiveInstant": "2024-03-05T08:15:00Z"},
        "year": {"effectivePeriod": {"start": "2023-06-01", "end": "2025-06-01"}},
        "open": {"effectivePeriod": {"start": "2023-06-01"}},  # no end: still going
        "later": {"effectiveDateTime": "2024-07-01T00:00:00Z"},
    }
    made = {}
    for name, value in values.items():
        resource = obs(person, system, name)
        del resource["effectiveDateTime"]
        made[put(repo, {**resource, **value})] = name
    found = ids(repo, "Observation", ("code", f"{system}|"), ("date", query))
    assert {made[i] for i in found} == expected


def test_last_updated(repo: Repository, person: str, system: str) -> None:
    made = put(repo, obs(person, system, "a"))
    assert ids(repo, "Observation", ("code", f"{system}|"), ("_lastUpdated", "ge2020")) == {made}
    assert ids(repo, "Observation", ("code", f"{system}|"), ("_lastUpdated", "lt2020")) == set()


# --- number and quantity --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("5.4", {5.4, 5.44}),
        ("5.40", {5.4}),
        ("ne5.4", {5.3, 6.0, 54.0}),
        ("gt5.4", {5.44, 6.0, 54.0}),
        ("ge5.4", {5.4, 5.44, 6.0, 54.0}),
        ("lt5.4", {5.3}),
        ("le5.4", {5.3, 5.4}),
        ("sa5.4", {5.44, 6.0, 54.0}),
        ("eb5.4", {5.3}),
        ("ap5.4", {5.3, 5.4, 5.44}),  # within 10 % of 5.4
        ("5.4|http://unitsofmeasure.org|mg", {5.4}),
        ("5.4||mg", {5.4}),
        ("5.4||milligram", {5.4}),
        ("5.4|http://unitsofmeasure.org|g", {5.44}),
        ("54||mg", {54.0}),
    ],
)
def test_quantity(
    repo: Repository, person: str, system: str, query: str, expected: set[float]
) -> None:
    units = {
        5.3: ("mg", "mg"),
        5.4: ("mg", "milligram"),
        5.44: ("g", "g"),
        6.0: ("mg", "mg"),
        54.0: ("mg", "mg"),
    }
    made = {}
    for value, (code, unit) in units.items():
        quantity = {
            "value": value,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": code,
        }
        made[put(repo, obs(person, system, str(value), valueQuantity=quantity))] = value
    found = ids(repo, "Observation", ("code", f"{system}|"), ("value-quantity", query))
    assert {made[i] for i in found} == expected


def test_number(repo: Repository, person: str) -> None:
    def assessment(probability: float) -> dict[str, Any]:
        return {
            "resourceType": "RiskAssessment",
            "status": "final",
            "subject": {"reference": f"Patient/{person}"},
            "prediction": [{"probabilityDecimal": probability}],
        }

    low, high = put(repo, assessment(0.25)), put(repo, assessment(0.8))
    assert ids(repo, "RiskAssessment", ("patient", person), ("probability", "0.25")) == {low}
    assert ids(repo, "RiskAssessment", ("patient", person), ("probability", "gt0.5")) == {high}
    assert ids(repo, "RiskAssessment", ("patient", person), ("probability", "0.3")) == {low}


# --- reference and uri ----------------------------------------------------------------------------
def test_reference_forms(repo: Repository, person: str, system: str) -> None:
    group = put(repo, {"resourceType": "Group", "type": "person", "actual": True})
    mine = put(repo, obs(person, system, "a"))
    of_group = put(repo, obs(person, system, "b", subject={"reference": f"Group/{group}"}))
    far = put(
        repo, obs(person, system, "c", subject={"reference": "https://elsewhere.example/Patient/9"})
    )
    by_identifier = put(
        repo,
        obs(
            person,
            system,
            "d",
            subject={"type": "Patient", "identifier": {"system": system, "value": "9"}},
        ),
    )
    code = ("code", f"{system}|")
    assert ids(repo, "Observation", code, ("subject", f"Patient/{person}")) == {mine}
    assert ids(repo, "Observation", code, ("subject", person)) == {mine}
    assert ids(repo, "Observation", code, ("subject:Group", group)) == {of_group}
    assert ids(repo, "Observation", code, ("patient", group)) == set()
    assert ids(repo, "Observation", code, ("subject", "https://elsewhere.example/Patient/9")) == {
        far
    }
    assert ids(repo, "Observation", code, ("subject:identifier", f"{system}|9")) == {by_identifier}
    assert ids(repo, "Observation", code, ("patient:identifier", f"{system}|9")) == {by_identifier}
    assert ids(repo, "Observation", code, ("subject:missing", "true")) == set()


def test_uri_and_canonical(repo: Repository) -> None:
    base = f"http://example.org/{secrets.token_hex(4)}"
    questionnaire = put(
        repo, {"resourceType": "Questionnaire", "status": "active", "url": f"{base}/q/1"}
    )
    assert ids(repo, "Questionnaire", ("url", f"{base}/q/1")) == {questionnaire}
    assert ids(repo, "Questionnaire", ("url:below", f"{base}/q")) == {questionnaire}
    assert ids(repo, "Questionnaire", ("url:above", f"{base}/q/1/more")) == {questionnaire}
    assert ids(repo, "Questionnaire", ("url", f"{base}/q")) == set()
    response = put(
        repo,
        {
            "resourceType": "QuestionnaireResponse",
            "status": "completed",
            "questionnaire": f"{base}/q/1|2.0",
        },
    )
    assert ids(repo, "QuestionnaireResponse", ("questionnaire", f"{base}/q/1")) == {response}


# --- composite ------------------------------------------------------------------------------------
def test_composite_pairs_values_of_one_component(
    repo: Repository, person: str, system: str
) -> None:
    def pressure(systolic: float, diastolic: float) -> dict[str, Any]:
        def component(code: str, value: float) -> dict[str, Any]:
            return {
                "code": {"coding": [{"system": system, "code": code}]},
                "valueQuantity": {
                    "value": value,
                    "system": "http://unitsofmeasure.org",
                    "code": "mm[Hg]",
                },
            }

        resource = obs(person, system, "bp")
        del resource["valueQuantity"]
        resource["component"] = [component("sys", systolic), component("dia", diastolic)]
        return resource

    high = put(repo, pressure(150, 80))
    low = put(repo, pressure(110, 95))
    query = "component-code-value-quantity"
    assert ids(repo, "Observation", (query, f"{system}|sys$gt140")) == {high}
    assert ids(repo, "Observation", (query, f"{system}|dia$gt90")) == {low}
    assert ids(repo, "Observation", (query, f"{system}|sys$gt90")) == {high, low}
    assert (
        ids(repo, "Observation", (query, f"{system}|dia$gt140")) == set()
    )  # not across components
    combo = "combo-code-value-quantity"
    weight = put(repo, obs(person, system, "w"))
    assert ids(repo, "Observation", (combo, f"{system}|sys$gt140,{system}|w$gt70")) == {
        high,
        weight,
    }
    assert ids(repo, "Observation", ("code-value-quantity", f"{system}|w$71.5||kg")) == {weight}


def test_composite_concept_and_document_relationship(
    repo: Repository, person: str, system: str
) -> None:
    positive = {"coding": [{"system": system, "code": "pos"}]}
    concept = obs(person, system, "test", valueCodeableConcept=positive)
    del concept["valueQuantity"]
    found = put(repo, concept)
    assert ids(repo, "Observation", ("code-value-concept", f"{system}|test${system}|pos")) == {
        found
    }
    assert ids(repo, "Observation", ("code-value-concept", f"{system}|test${system}|neg")) == set()
    earlier = put(repo, {"resourceType": "DocumentReference", "status": "current", "content": [
        {"attachment": {"contentType": "text/plain", "url": f"{system}/1"}}]})  # fmt: skip
    later = put(repo, {
        "resourceType": "DocumentReference",
        "status": "current",
        "relatesTo": [{"code": "replaces", "target": {"reference": f"DocumentReference/{earlier}"}}],
        "content": [{"attachment": {"contentType": "text/plain", "url": f"{system}/2"}}],
    })  # fmt: skip
    query = ("relationship", f"DocumentReference/{earlier}$replaces")
    assert ids(repo, "DocumentReference", query) == {later}
    assert (
        ids(repo, "DocumentReference", ("relationship", f"DocumentReference/{earlier}$signs"))
        == set()
    )


# --- chains, _has, _list, _id ---------------------------------------------------------------------
def test_chain_has_and_list(repo: Repository, system: str) -> None:
    family = f"Zéphyr{secrets.token_hex(3)}"
    practitioner = put(repo, {"resourceType": "Practitioner", "name": [{"family": family}]})
    women = put(repo, {**patient(), "gender": "female", "generalPractitioner": [
        {"reference": f"Practitioner/{practitioner}"}]})  # fmt: skip
    man = put(repo, {**patient(), "gender": "male"})
    hers = put(repo, obs(women, system, "a"))
    his = put(repo, obs(man, system, "a"))
    code = ("code", f"{system}|a")
    assert ids(repo, "Observation", code, ("subject:Patient.gender", "female")) == {hers}
    assert ids(repo, "Patient", ("general-practitioner.name", family)) == {women}
    assert ids(repo, "Patient", ("_has:Observation:patient:code", f"{system}|a")) == {women, man}
    assert ids(
        repo, "Patient", ("_has:Observation:subject:code", f"{system}|a"), ("gender", "male")
    ) == {man}
    listed = put(repo, {
        "resourceType": "List", "status": "current", "mode": "working",
        "entry": [{"item": {"reference": f"Observation/{his}"}}],
    })  # fmt: skip
    assert ids(repo, "Observation", code, ("_list", listed)) == {his}
    assert ids(repo, "Observation", ("_id", f"{hers},{his}")) == {hers, his}
    assert ids(repo, "Observation", code, ("_id:not", hers)) == {his}
