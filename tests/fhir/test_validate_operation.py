"""``$validate`` over HTTP: an OperationOutcome either way; data reached only with an id."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient
from tests.factories import observation, patient
from tests.fhir.clients import bearer

from carnet.runtime import Runtime


@pytest.fixture(scope="module")
def writer(rt: Runtime, app_client: TestClient) -> dict[str, str]:
    return bearer(rt, app_client, "system/*.cruds")


def _issues(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return list(body["issue"])


def _parameters(resource: dict[str, Any] | None, mode: str | None = None) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = []
    if resource is not None:
        parameters.append({"name": "resource", "resource": resource})
    if mode is not None:
        parameters.append({"name": "mode", "valueCode": mode})
    return {"resourceType": "Parameters", "parameter": parameters}


def _audit_count(rt: Runtime) -> int:
    with rt.transaction(readonly=True) as db:
        return int(db.execute(text("SELECT count(*) FROM audit_event")).scalar_one())


def test_a_valid_resource_is_all_ok_and_reaches_no_data(
    rt: Runtime, client: TestClient, writer: dict[str, str]
) -> None:
    before = _audit_count(rt)
    issues = _issues(
        client.post("/fhir/Observation/$validate", json=observation("x"), headers=writer)
    )
    assert issues == [{"severity": "information", "code": "informational", "diagnostics": "All OK"}]
    wrapped = client.post(
        "/fhir/Observation/$validate", json=_parameters(observation("x"), "create"), headers=writer
    )
    assert _issues(wrapped)[0]["diagnostics"] == "All OK"
    assert _audit_count(rt) == before  # nothing read, nothing audited


def test_an_invalid_resource_gets_its_issues(client: TestClient, writer: dict[str, str]) -> None:
    invalid = observation("x") | {"status": "maybe", "colour": "red"}
    issues = _issues(client.post("/fhir/Observation/$validate", json=invalid, headers=writer))
    named = " ".join(" ".join(i.get("expression", [])) + i["diagnostics"] for i in issues)
    assert "status" in named
    assert "colour" in named
    assert all(i["severity"] == "error" for i in issues)
    other = _issues(client.post("/fhir/Observation/$validate", json=patient(), headers=writer))
    assert other[0]["expression"] == ["Observation.resourceType"]


def test_with_an_id_the_resource_is_read_through_the_door(
    rt: Runtime, client: TestClient, writer: dict[str, str]
) -> None:
    person = patient()
    client.put(f"/fhir/Patient/{person['id']}", json=person, headers=writer)
    url = f"/fhir/Patient/{person['id']}/$validate"
    assert (
        _issues(client.post(url, json=_parameters(person, "update"), headers=writer))[0][
            "diagnostics"
        ]
        == "All OK"
    )
    with rt.transaction(readonly=True) as db:
        last = db.execute(
            text("SELECT tag FROM audit_event WHERE chain_id = :c ORDER BY seq DESC LIMIT 1"),
            {"c": person["id"]},
        ).scalar_one()
    assert last == "record:resource:read"
    mismatch = _issues(
        client.post(url, json=_parameters({**person, "id": "other"}, "update"), headers=writer)
    )
    assert mismatch[0]["expression"] == ["Patient.id"]
    assert _issues(client.post(url, json=_parameters(None, "delete"), headers=writer))
    missing = client.post(
        "/fhir/Patient/nobody/$validate", json=_parameters(person, "update"), headers=writer
    )
    assert missing.status_code == 404


def test_bad_requests(client: TestClient, writer: dict[str, str]) -> None:
    url = "/fhir/Observation/$validate"
    assert client.post(url, json=_parameters(None, "create"), headers=writer).status_code == 400
    assert (
        client.post(url, json=_parameters(observation("x"), "update"), headers=writer).status_code
        == 400
    )
    assert (
        client.post(url, json=_parameters(observation("x"), "wrong"), headers=writer).status_code
        == 400
    )
    assert client.post("/fhir/Spaceship/$validate", json={}, headers=writer).status_code == 400
    assert client.post(url, json=observation("x")).status_code == 401
    profile = _parameters(observation("x"))
    profile["parameter"].append({"name": "profile", "valueUri": "http://example.org/p"})
    notes = _issues(client.post(url, json=profile, headers=writer))
    assert "not checked" in notes[-1]["diagnostics"]


def test_the_capability_statement_lists_what_this_adds(client: TestClient) -> None:
    statement = client.get("/fhir/metadata").json()
    rest = statement["rest"][0]
    assert {"transaction", "batch"} <= {i["code"] for i in rest["interaction"]}
    observation_entry = next(r for r in rest["resource"] if r["type"] == "Observation")
    assert "patch" in {i["code"] for i in observation_entry["interaction"]}
    assert {
        "name": "validate",
        "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate",
    } in observation_entry["operation"]
    assert observation_entry["conditionalCreate"] is True
    assert observation_entry["conditionalUpdate"] is True
    assert observation_entry["conditionalDelete"] == "single"  # several matches: 412
    assert observation_entry["conditionalRead"] == "full-support"
