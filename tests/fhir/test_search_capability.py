"""The CapabilityStatement tells the truth about search: every parameter it advertises works,
and every official parameter of every listed type is advertised or said not to be, with why."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection
from starlette.testclient import TestClient
from tests.factories import system_context
from tests.fhir.clients import bearer

from carnet.record.definitions import get_definitions
from carnet.runtime import Runtime

ISSUE_TYPES = (
    "Patient",
    "RelatedPerson",
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Encounter",
    "EpisodeOfCare",
    "Condition",
    "AllergyIntolerance",
    "FamilyMemberHistory",
    "Procedure",
    "Observation",
    "DiagnosticReport",
    "Specimen",
    "ImagingStudy",
    "Immunization",
    "Medication",
    "MedicationRequest",
    "MedicationStatement",
    "MedicationDispense",
    "DocumentReference",
    "Binary",
    "List",
    "Composition",
    "CarePlan",
    "CareTeam",
    "Goal",
    "ServiceRequest",
    "Device",
    "Communication",
    "CommunicationRequest",
    "Appointment",
    "Questionnaire",
    "QuestionnaireResponse",
    "Consent",
    "Provenance",
    "AuditEvent",
    "Coverage",
    "ExplanationOfBenefit",
)
_SAMPLES = {
    "token": "x",
    "string": "x",
    "date": "2020",
    "number": "1",
    "quantity": "1",
    "uri": "http://example.org/x",
}


@pytest.fixture(scope="module")
def statement(app_client: TestClient) -> dict[str, Any]:
    response = app_client.get("/fhir/metadata")
    assert response.status_code == 200
    return dict(response.json())


def _resources(statement: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["type"]: r for r in statement["rest"][0]["resource"]}


def _sample(resource_type: str, entry: dict[str, Any]) -> str:
    kind = entry["type"]
    if kind in _SAMPLES:
        return _SAMPLES[kind]
    definitions = get_definitions()
    param = definitions.search_param(resource_type, entry["name"])
    assert param is not None
    if kind == "reference":
        targets = param.resolve_types or param.targets
        return f"{targets[0]}/x" if targets else "http://example.org/x"
    assert kind == "composite", entry
    first, second = (definitions.search_param(resource_type, p.param) for p in param.components)
    assert first is not None
    assert second is not None
    head = "DocumentReference/x" if first.type == "reference" else "x"
    return f"{head}${_SAMPLES[second.type]}"


def test_every_official_parameter_is_advertised_or_refused_with_a_reason(
    statement: dict[str, Any],
) -> None:
    resources = _resources(statement)
    assert set(ISSUE_TYPES) <= set(resources)
    definitions = get_definitions()
    for resource_type, resource in resources.items():
        assert "search-type" in {i["code"] for i in resource["interaction"]}
        advertised = {p["name"] for p in resource.get("searchParam", [])}
        for param in definitions.search_params(resource_type):
            if param.code in advertised:
                continue
            assert f"Not offered: {param.code} (" in resource["documentation"], (
                resource_type,
                param.code,
            )
    patient = resources["Patient"]
    family = next(p for p in patient["searchParam"] if p["name"] == "family")
    assert "exact match only" in family["documentation"]
    assert ":of-type" not in family["documentation"]
    identifier = next(p for p in patient["searchParam"] if p["name"] == "identifier")
    assert ":of-type" in identifier["documentation"]
    observation = {p["name"]: p for p in resources["Observation"]["searchParam"]}
    assert ":text" in observation["code"]["documentation"]
    assert ":text" not in observation["status"]["documentation"]  # a plain code: no text
    assert "near" in resources["Location"]["documentation"]
    assert "Observation:subject" in resources["Observation"]["searchInclude"]
    assert "Observation:subject" in resources["Patient"]["searchRevInclude"]
    common = {p["name"] for p in statement["rest"][0]["searchParam"]}
    assert {"_id", "_lastUpdated", "_tag", "_security", "_profile", "_list", "_has"} <= common


def test_every_advertised_parameter_works(
    statement: dict[str, Any], rt: Runtime, db: Connection
) -> None:
    repo = rt.record.repository(db=db, ctx=system_context())
    tried = 0
    for resource_type, resource in _resources(statement).items():
        for entry in resource.get("searchParam", []):
            result = repo.search(resource_type, [(entry["name"], _sample(resource_type, entry))])
            assert result.resource_type == resource_type
            tried += 1
        for include in resource.get("searchInclude", [])[:3]:
            repo.search(resource_type, [("_include", include)])
    assert tried > 2500


def test_advertised_parameters_work_over_http(
    statement: dict[str, Any], client: TestClient, rt: Runtime
) -> None:
    headers = bearer(rt, client, "system/*.rs")
    resources = _resources(statement)
    for resource_type in ISSUE_TYPES:
        for entry in resources[resource_type]["searchParam"]:
            sample = _sample(resource_type, entry)
            response = client.get(
                f"/fhir/{resource_type}", params={entry["name"]: sample}, headers=headers
            )
            assert response.status_code == 200, (resource_type, entry["name"], response.text)
