"""The FHIR REST surface, end to end over HTTP: interactions, headers, errors as OperationOutcome."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.factories import observation, patient

from carnet.core.actor import CARNET
from carnet.runtime import Runtime

FHIR = "application/fhir+json"


def _token(rt: Runtime, client: TestClient, scopes: str) -> str:
    with rt.transaction() as db:
        registered = rt.authz.register_system_client(
            db, name=f"Test {scopes}", scopes=scopes, jwks=None, actor=CARNET
        )
    basic = base64.b64encode(f"{registered.client_id}:{registered.client_secret}".encode()).decode()
    response = client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "scope": scopes},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.fixture(scope="module")
def writer(rt: Runtime, app_client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(rt, app_client, 'system/*.cruds')}"}


@pytest.fixture(scope="module")
def observer(rt: Runtime, app_client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(rt, app_client, 'system/Observation.rs')}"}


def _put_patient(client: TestClient, auth: dict[str, str]) -> dict[str, Any]:
    person = patient()
    response = client.put(
        f"/fhir/Patient/{person['id']}", json=person, headers={**auth, "Content-Type": FHIR}
    )
    assert response.status_code == 201, response.text
    return person


def _outcome(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR)
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return body


def test_metadata_tells_the_truth(client: TestClient) -> None:
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    statement = response.json()
    assert statement["fhirVersion"] == "4.0.1"
    types = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert {"Patient", "Observation", "Binary", "DocumentReference"} <= set(types)
    codes = {i["code"] for i in types["Observation"]["interaction"]}
    assert {"read", "vread", "update", "delete", "history-instance", "create"} <= codes
    assert "search-type" in codes  # the parameters: tests/fhir/test_search_capability.py


def test_smart_configuration_is_public(client: TestClient) -> None:
    for path in ("/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration"):
        config = client.get(path).json()
        assert config["token_endpoint"].endswith("/oauth2/token")
        assert "private_key_jwt" in config["token_endpoint_auth_methods_supported"]


def test_create_read_update_history_delete(client: TestClient, writer: dict[str, str]) -> None:
    person = _put_patient(client, writer)
    created = client.post("/fhir/Observation", json=observation(person["id"]), headers=writer)
    assert created.status_code == 201, created.text
    obs_id = created.json()["id"]
    assert created.headers["location"].endswith(f"/fhir/Observation/{obs_id}/_history/1")
    assert created.headers["etag"] == 'W/"1"'
    read = client.get(f"/fhir/Observation/{obs_id}", headers=writer)
    assert read.status_code == 200
    assert read.headers["content-type"].startswith(FHIR)
    assert read.headers["last-modified"].endswith("GMT")
    assert read.headers["cache-control"] == "no-store"
    not_modified = client.get(
        f"/fhir/Observation/{obs_id}", headers={**writer, "If-None-Match": 'W/"1"'}
    )
    assert not_modified.status_code == 304
    body = read.json() | {"status": "amended"}
    updated = client.put(
        f"/fhir/Observation/{obs_id}", json=body, headers={**writer, "If-Match": 'W/"1"'}
    )
    assert updated.status_code == 200
    assert updated.json()["meta"]["versionId"] == "2"
    stale = client.put(
        f"/fhir/Observation/{obs_id}", json=body, headers={**writer, "If-Match": 'W/"1"'}
    )
    _outcome(stale, 412)
    history = client.get(f"/fhir/Observation/{obs_id}/_history", headers=writer).json()
    assert history["type"] == "history"
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]
    assert (
        client.get(f"/fhir/Observation/{obs_id}/_history/1", headers=writer).json()["status"]
        == "final"
    )
    assert client.delete(f"/fhir/Observation/{obs_id}", headers=writer).status_code == 204
    _outcome(client.get(f"/fhir/Observation/{obs_id}", headers=writer), 410)


@pytest.mark.parametrize(
    "query",
    ["_summary=true", "_summary=text", "_summary=data", "_elements=status,code", "_summary=false"],
)
def test_read_honours_summary_and_elements_as_search_does(
    client: TestClient, writer: dict[str, str], query: str
) -> None:
    person = _put_patient(client, writer)
    narrative = {
        "status": "generated",
        "div": '<div xmlns="http://www.w3.org/1999/xhtml">71,5 kg</div>',
    }
    resource = observation(person["id"]) | {"text": narrative}
    created = client.post("/fhir/Observation", json=resource, headers=writer)
    obs_id = created.json()["id"]
    searched = client.get(f"/fhir/Observation?_id={obs_id}&{query}", headers=writer).json()
    (expected,) = [entry["resource"] for entry in searched["entry"]]
    for url in (f"/fhir/Observation/{obs_id}", f"/fhir/Observation/{obs_id}/_history/1"):
        read = client.get(f"{url}?{query}", headers=writer)
        assert read.status_code == 200, read.text
        assert read.json() == expected
        assert read.headers["etag"] == 'W/"1"'
    subsetted = query != "_summary=false"
    tags = [tag["code"] for tag in expected["meta"].get("tag", [])]
    assert ("SUBSETTED" in tags) == subsetted
    assert ("valueQuantity" in expected) == (
        query not in ("_summary=text", "_elements=status,code")
    )
    assert ("text" in expected) == (query in ("_summary=text", "_summary=false"))


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("_summary=count", "_summary"),
        ("_summary=maybe", "_summary"),
        ("_summary=true&_summary=data", "_summary"),
        ("_elements=value.unit", "_elements"),
    ],
)
def test_read_refuses_a_bad_subset(
    client: TestClient, writer: dict[str, str], query: str, parameter: str
) -> None:
    person = _put_patient(client, writer)
    body = _outcome(client.get(f"/fhir/Patient/{person['id']}?{query}", headers=writer), 400)
    assert body["issue"][0]["expression"] == [parameter]


def test_prefer_return_minimal(client: TestClient, writer: dict[str, str]) -> None:
    person = _put_patient(client, writer)
    response = client.post(
        "/fhir/Observation",
        json=observation(person["id"]),
        headers={**writer, "Prefer": "return=minimal"},
    )
    assert response.status_code == 201
    assert response.content == b""
    assert response.headers["location"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer not-a-token"}, 401),
        ({"Authorization": "Basic abc"}, 401),
    ],
)
def test_missing_or_forged_tokens(client: TestClient, headers: dict[str, str], status: int) -> None:
    response = client.get("/fhir/Patient/abc", headers=headers)
    _outcome(response, status)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_expired_token_is_refused(rt: Runtime, client: TestClient, writer: dict[str, str]) -> None:
    token = writer["Authorization"].split()[1]
    header, payload, signature = token.split(".")
    claims = base64.urlsafe_b64decode(payload + "==")
    forged = (
        base64.urlsafe_b64encode(claims.replace(b'"exp":', b'"exp":1,"x":')).rstrip(b"=").decode()
    )
    _outcome(
        client.get(
            "/fhir/Patient/abc", headers={"Authorization": f"Bearer {header}.{forged}.{signature}"}
        ),
        401,
    )


def test_wrong_scope_is_forbidden(
    client: TestClient, writer: dict[str, str], observer: dict[str, str]
) -> None:
    person = _put_patient(client, writer)
    _outcome(client.get(f"/fhir/Patient/{person['id']}", headers=observer), 403)
    _outcome(
        client.post("/fhir/Observation", json=observation(person["id"]), headers=observer), 403
    )


def test_bad_input_gets_an_operation_outcome_naming_the_fault(
    client: TestClient, writer: dict[str, str]
) -> None:
    person = _put_patient(client, writer)
    url = "/fhir/Observation"
    malformed = client.post(
        url, content=b'{"resourceType": "Observation",', headers={**writer, "Content-Type": FHIR}
    )
    assert "JSON" in _outcome(malformed, 400)["issue"][0]["diagnostics"]
    other_type = client.post(url, json=person, headers=writer)
    assert _outcome(other_type, 400)["issue"][0]["expression"] == ["Observation.resourceType"]
    _outcome(client.get("/fhir/Spaceship/1", headers=writer), 400)
    mismatch = client.put(f"/fhir/Patient/{person['id']}x", json=person, headers=writer)
    assert _outcome(mismatch, 400)["issue"][0]["expression"] == ["Patient.id"]
    invalid = client.post(
        url, json=observation(person["id"]) | {"status": 12, "colour": "red"}, headers=writer
    )
    issues = _outcome(invalid, 422)["issue"]
    named = " ".join(" ".join(i.get("expression", [])) + i["diagnostics"] for i in issues)
    assert "status" in named
    assert "colour" in named
    choice = client.post(url, json=observation(person["id"]) | {"valueString": "x"}, headers=writer)
    _outcome(choice, 422)
    _outcome(
        client.post(
            url,
            content=b"<Observation/>",
            headers={**writer, "Content-Type": "application/fhir+xml"},
        ),
        415,
    )
    _outcome(
        client.get(
            f"/fhir/Patient/{person['id']}", headers={**writer, "Accept": "application/fhir+xml"}
        ),
        406,
    )
    _outcome(client.put("/fhir/Observation/x", json={}, headers={**writer, "If-Match": "3"}), 400)
    _outcome(client.get("/fhir/Patient/bad id!", headers=writer), 400)
    _outcome(client.patch("/fhir/Patient/abc", json={}, headers=writer), 415)  # JSON Patch only
    _outcome(client.get("/fhir/Patient/abc/_history/zero", headers=writer), 400)


def test_body_over_the_limit_is_refused_before_it_is_read(
    rt: Runtime, client: TestClient, writer: dict[str, str]
) -> None:
    limit = rt.settings.fhir.max_body_bytes

    def stream() -> Any:
        # Chunked upload, no Content-Length: the server must stop counting at the limit.
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    response = client.post(
        "/fhir/Observation", content=stream(), headers={**writer, "Content-Type": FHIR}
    )
    _outcome(response, 413)
    declared = client.post(
        "/fhir/Observation",
        content=b"{}",
        headers={**writer, "Content-Type": FHIR, "Content-Length": str(limit + 1)},
    )
    _outcome(declared, 413)


def test_unknown_routes_answer_operation_outcome(
    client: TestClient, writer: dict[str, str]
) -> None:
    _outcome(client.get("/fhir/Patient/abc/_history/1/extra", headers=writer), 404)


def test_every_response_carries_security_headers(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "Bienvenue" in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert response.headers["x-request-id"]
