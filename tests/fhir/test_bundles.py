"""``POST /fhir`` with transaction and batch Bundles, end to end over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.bundles import bundle, get, observation_of, post, put, urn
from tests.factories import patient
from tests.fhir.clients import FHIR_JSON, bearer

from carnet.runtime import Runtime


@pytest.fixture(scope="module")
def writer(rt: Runtime, app_client: TestClient) -> dict[str, str]:
    return bearer(rt, app_client, "system/*.cruds")


@pytest.fixture(scope="module")
def observer(rt: Runtime, app_client: TestClient) -> dict[str, str]:
    return bearer(rt, app_client, "system/Observation.cruds")


def _outcome(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return body


def _transaction(person_url: str) -> dict[str, Any]:
    return bundle(
        "transaction",
        post(observation_of(person_url), urn()),
        post(patient(), person_url),
    )


@pytest.mark.parametrize("path", ["/fhir", "/fhir/"])
def test_a_transaction_answers_its_response_bundle(
    client: TestClient, writer: dict[str, str], path: str
) -> None:
    person = urn()
    response = client.post(path, json=_transaction(person), headers=writer, follow_redirects=False)
    assert response.status_code == 200, response.text  # not a redirect: the body would be lost
    assert response.headers["content-type"].startswith(FHIR_JSON)
    answer = response.json()
    assert answer["type"] == "transaction-response"
    obs, created = answer["entry"]
    for entry in (obs, created):
        assert entry["response"]["status"] == "201 Created"
        assert entry["response"]["etag"] == 'W/"1"'
        assert entry["response"]["lastModified"].endswith("Z")
        resource = entry["resource"]
        assert entry["response"]["location"] == (
            f"{resource['resourceType']}/{resource['id']}/_history/1"
        )
        assert entry["fullUrl"].endswith(f"/fhir/{resource['resourceType']}/{resource['id']}")
    assert obs["resource"]["subject"]["reference"] == f"Patient/{created['resource']['id']}"
    read = client.get(f"/fhir/Observation/{obs['resource']['id']}", headers=writer)
    assert read.json()["subject"]["reference"] == f"Patient/{created['resource']['id']}"


@pytest.mark.parametrize(
    ("prefer", "has_resource", "has_outcome"),
    [
        ("return=minimal", False, False),
        ("return=representation", True, False),
        ("return=OperationOutcome", False, True),
    ],
)
def test_prefer_shapes_the_entries(
    client: TestClient, writer: dict[str, str], prefer: str, has_resource: bool, has_outcome: bool
) -> None:
    response = client.post("/fhir", json=_transaction(urn()), headers={**writer, "Prefer": prefer})
    assert response.status_code == 200, response.text
    for entry in response.json()["entry"]:
        assert ("resource" in entry) is has_resource
        assert ("outcome" in entry["response"]) is has_outcome
        assert entry["response"]["location"]


def test_a_batch_answers_each_entry(client: TestClient, writer: dict[str, str]) -> None:
    person = patient()
    value = bundle(
        "batch",
        put(person),
        post({**observation_of(f"Patient/{person['id']}"), "status": "maybe"}),
        get("Patient/nobody-here"),
        get(f"Patient/{person['id']}"),
        {"request": {"method": "HEAD", "url": f"Patient/{person['id']}"}},
    )
    response = client.post("/fhir", json=value, headers=writer)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in answer["entry"]]
    assert statuses == [
        "201 Created",
        "422 Unprocessable Entity",
        "404 Not Found",
        "200 OK",
        "200 OK",
    ]
    invalid = answer["entry"][1]["response"]["outcome"]
    assert invalid["issue"][0]["expression"] == ["Observation.status"]
    assert answer["entry"][3]["resource"]["id"] == person["id"]
    assert "resource" not in answer["entry"][4]  # HEAD
    assert answer["entry"][4]["response"]["etag"] == 'W/"1"'


def test_a_failed_transaction_names_the_entry(client: TestClient, writer: dict[str, str]) -> None:
    dangling = urn()
    value = bundle("transaction", post(patient(), urn()), post(observation_of(dangling), urn()))
    issue = _outcome(client.post("/fhir", json=value, headers=writer), 400)["issue"][0]
    assert issue["diagnostics"].startswith(f"Entry 1 ({value['entry'][1]['fullUrl']})")
    assert issue["expression"] == ["Bundle.entry[1].resource.subject.reference"]
    invalid = bundle("transaction", post({**observation_of("Patient/x"), "status": "maybe"}))
    issue = _outcome(client.post("/fhir", json=invalid, headers=writer), 422)["issue"][0]
    assert issue["expression"] == ["Bundle.entry[0].resource.status"]


def test_bundle_faults_answer_an_operation_outcome(
    rt: Runtime, client: TestClient, writer: dict[str, str]
) -> None:
    limit = rt.settings.fhir.bundle_max_entries
    too_many = bundle("batch", *[get("Patient/x")] * (limit + 1))
    assert (
        "1000"
        in _outcome(client.post("/fhir", json=too_many, headers=writer), 413)["issue"][0][
            "diagnostics"
        ]
    )
    _outcome(client.post("/fhir", json=patient(), headers=writer), 400)
    twice = urn()
    duplicated = bundle("transaction", post(patient(), twice), post(patient(), twice))
    issue = _outcome(client.post("/fhir", json=duplicated, headers=writer), 400)["issue"][0]
    assert issue["expression"] == ["Bundle.entry[1].fullUrl"]
    nested = bundle("transaction", post(bundle("transaction")))
    assert (
        "cannot be an entry"
        in _outcome(client.post("/fhir", json=nested, headers=writer), 400)["issue"][0][
            "diagnostics"
        ]
    )
    _outcome(
        client.post(
            "/fhir",
            content=b"<Bundle/>",
            headers={**writer, "Content-Type": "application/fhir+xml"},
        ),
        415,
    )
    _outcome(client.post("/fhir?_format=xml", json=bundle("batch"), headers=writer), 406)
    _outcome(client.post("/fhir", json=bundle("batch")), 401)


def test_scopes_are_checked_entry_by_entry(
    client: TestClient, writer: dict[str, str], observer: dict[str, str]
) -> None:
    person = patient()
    client.put(f"/fhir/Patient/{person['id']}", json=person, headers=writer)
    mixed = bundle("transaction", post(observation_of(f"Patient/{person['id']}")), put(person))
    issue = _outcome(client.post("/fhir", json=mixed, headers=observer), 403)["issue"][0]
    assert issue["diagnostics"].startswith("Entry 1")
    mixed["type"] = "batch"
    answer = client.post("/fhir", json=mixed, headers=observer).json()
    assert [e["response"]["status"] for e in answer["entry"]] == ["201 Created", "403 Forbidden"]
