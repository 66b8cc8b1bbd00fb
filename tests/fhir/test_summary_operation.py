"""Patient/[id]/$summary over HTTP: the International Patient Summary document Bundle, its
errors, and what a narrow token gets."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.factories import patient
from tests.fhir.clients import bearer
from tests.summary import records
from tests.summary.bundle_checks import sections_by_code, unresolved

from carnet.runtime import Runtime

FHIR = "application/fhir+json"


@pytest.fixture(scope="module")
def reader(rt: Runtime, app_client: TestClient) -> dict[str, str]:
    return bearer(rt, app_client, "system/*.rs")


def _seed(rt: Runtime) -> tuple[str, str, str]:
    """A patient with a problem (whose text tries markup), a vaccination by a known doctor and
    one by an unknown one, a weight, treatments declared "not concerned"; and another patient
    with an allergy."""
    person, other = patient(), patient()
    with rt.carnet_repository() as repo:
        repo.update("Patient", person["id"], person)
        repo.update("Patient", other["id"], other)
        doctor = repo.create({"resourceType": "Practitioner", "name": [{"family": "Roux"}]})
        pid = person["id"]
        repo.create(records.condition(pid, "Asthme <script>alert(1)</script>"))
        known = records.immunization(pid, "Vaccin ROR")
        known["performer"] = [{"actor": {"reference": f"Practitioner/{doctor.id}"}}]
        repo.create(known)
        repo.create(records.immunization(pid, "Vaccin DTP"))  # its performer does not exist
        repo.create(records.weight(pid, 70.5, "2025-01-02"))
        repo.create(records.not_concerned(pid, "TREATMENTS"))
        repo.create(records.allergy(other["id"], "Arachide"))
    return pid, other["id"], doctor.id


def test_summary_is_a_self_contained_document(
    rt: Runtime, client: TestClient, reader: dict[str, str]
) -> None:
    pid, other, doctor = _seed(rt)
    response = client.get(f"/fhir/Patient/{pid}/$summary", headers=reader)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(FHIR)
    bundle: dict[str, Any] = response.json()
    assert bundle["type"] == "document"
    assert bundle["identifier"]["value"].startswith("urn:uuid:")
    assert bundle["timestamp"].endswith("Z")
    composition = bundle["entry"][0]["resource"]
    assert composition["resourceType"] == "Composition"
    assert composition["type"]["coding"][0]["code"] == "60591-5"
    assert composition["subject"]["reference"] == f"http://testserver/fhir/Patient/{pid}"
    assert unresolved(bundle) == []
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    assert by_url[composition["author"][0]["reference"]]["resourceType"] == "Device"
    sections = sections_by_code(bundle)
    assert set(sections) == {"11450-4", "48765-2", "10160-0", "11369-6", "8716-3"}
    problems = sections["11450-4"]
    assert "&lt;script&gt;" in problems["text"]["div"]
    assert "<script>" not in problems["text"]["div"]
    assert problems["text"]["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
    allergies, treatments = sections["48765-2"], sections["10160-0"]
    assert "entry" not in allergies and "entry" not in treatments
    assert allergies["emptyReason"]["coding"][0]["code"] == "unavailable"
    assert treatments["emptyReason"]["coding"][0]["code"] == "nilknown"
    assert len(sections["11369-6"]["entry"]) == 2
    types = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert types.count("Practitioner") == 1  # the known doctor came along; the unknown did not
    assert f"http://testserver/fhir/Practitioner/{doctor}" in by_url
    assert not any(other in url for url in by_url)
    assert "Arachide" not in response.text
    rt.record.prepare(bundle)  # a valid R4 Bundle, entries included


def test_post_without_parameters_and_errors(
    rt: Runtime, client: TestClient, reader: dict[str, str]
) -> None:
    pid, _other, _doctor = _seed(rt)
    url = f"/fhir/Patient/{pid}/$summary"
    assert client.post(url, headers=reader).status_code == 200
    empty = {"resourceType": "Parameters"}
    assert client.post(url, json=empty, headers={**reader, "Content-Type": FHIR}).status_code == 200
    asked = {
        "resourceType": "Parameters",
        "parameter": [{"name": "identifier", "valueString": "x"}],
    }
    refused = client.post(url, json=asked, headers={**reader, "Content-Type": FHIR})
    assert refused.status_code == 400
    assert refused.json()["resourceType"] == "OperationOutcome"
    assert client.get(f"{url}?profile=x", headers=reader).status_code == 400
    missing = client.get(f"/fhir/Patient/{patient()['id']}/$summary", headers=reader)
    assert missing.status_code == 404
    assert missing.json()["resourceType"] == "OperationOutcome"
    assert client.get(url).status_code == 401
    observer = bearer(rt, client, "system/Observation.rs")
    assert client.get(url, headers=observer).status_code == 403


def test_a_narrow_token_gets_only_what_it_may_read(rt: Runtime, client: TestClient) -> None:
    pid, _other, _doctor = _seed(rt)
    narrow = bearer(rt, client, "system/Patient.rs system/Observation.rs")
    bundle = client.get(f"/fhir/Patient/{pid}/$summary", headers=narrow).json()
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert types == {"Composition", "Patient", "Device", "Observation"}
    sections = sections_by_code(bundle)
    assert "emptyReason" in sections["11450-4"]  # its Condition is beyond the token
    assert "11369-6" not in sections
    assert unresolved(bundle) == []


def test_capability_statement_declares_summary(client: TestClient) -> None:
    statement = client.get("/fhir/metadata").json()
    types = {r["type"]: r for r in statement["rest"][0]["resource"]}
    summary = {
        "name": "summary",
        "definition": "http://hl7.org/fhir/uv/ips/OperationDefinition/summary",
    }
    assert summary in types["Patient"]["operation"]
