"""HTTP conditionals and preferences: ETag and Last-Modified, If-None-Match, If-Modified-Since,
Prefer: return=, _format; and conditional create, update, patch and delete."""

from __future__ import annotations

import secrets
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient
from tests.factories import observation, patient
from tests.fhir.clients import FHIR_JSON, JSON_PATCH, bearer

from carnet.runtime import Runtime


@pytest.fixture(scope="module")
def writer(rt: Runtime, app_client: TestClient) -> dict[str, str]:
    return bearer(rt, app_client, "system/*.cruds")


def _nir() -> str:
    return str(10**14 + secrets.randbelow(9 * 10**14))


def _person(client: TestClient, writer: dict[str, str], **extra: Any) -> dict[str, Any]:
    person = patient(nir=_nir()) | extra
    response = client.put(f"/fhir/Patient/{person['id']}", json=person, headers=writer)
    assert response.status_code == 201, response.text
    return person


def test_every_resource_response_carries_etag_and_last_modified(
    client: TestClient, writer: dict[str, str]
) -> None:
    person = _person(client, writer)
    url = f"/fhir/Patient/{person['id']}"
    responses = [
        client.get(url, headers=writer),
        client.get(f"{url}/_history/1", headers=writer),
        client.put(url, json=person, headers=writer),
        client.post("/fhir/Observation", json=observation(person["id"]), headers=writer),
    ]
    for response in responses:
        assert response.status_code in {200, 201}, response.text
        assert response.headers["etag"].startswith('W/"')
        assert parsedate_to_datetime(response.headers["last-modified"]).tzinfo is not None


@pytest.mark.parametrize(
    ("if_none_match", "status"),
    [
        ('W/"1"', 304),
        ('"1"', 304),
        ('W/"2", W/"1"', 304),
        ("*", 304),
        ('W/"2"', 200),
    ],
)
def test_if_none_match(
    client: TestClient, writer: dict[str, str], if_none_match: str, status: int
) -> None:
    url = f"/fhir/Patient/{_person(client, writer)['id']}"
    response = client.get(url, headers={**writer, "If-None-Match": if_none_match})
    assert response.status_code == status
    assert response.headers["etag"] == 'W/"1"'
    if status == 304:
        assert response.content == b""
    vread = client.get(f"{url}/_history/1", headers={**writer, "If-None-Match": if_none_match})
    assert vread.status_code == status


def test_if_modified_since(client: TestClient, writer: dict[str, str]) -> None:
    url = f"/fhir/Patient/{_person(client, writer)['id']}"
    modified = parsedate_to_datetime(client.get(url, headers=writer).headers["last-modified"])

    def status(moment: Any) -> int:
        since = format_datetime(moment, usegmt=True) if not isinstance(moment, str) else moment
        return client.get(url, headers={**writer, "If-Modified-Since": since}).status_code

    assert status(modified) == 304
    assert status(modified + timedelta(hours=1)) == 304
    assert status(modified - timedelta(seconds=1)) == 200
    assert status("not a date") == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110).
    both = {
        **writer,
        "If-None-Match": 'W/"5"',
        "If-Modified-Since": format_datetime(modified, usegmt=True),
    }
    assert client.get(url, headers=both).status_code == 200


@pytest.mark.parametrize(
    ("prefer", "body_type"),
    [
        (None, "Observation"),
        ("return=representation", "Observation"),
        ("return=OperationOutcome", "OperationOutcome"),
        ("return=minimal", None),
    ],
)
def test_prefer_on_create_update_and_patch(
    client: TestClient, writer: dict[str, str], prefer: str | None, body_type: str | None
) -> None:
    person = _person(client, writer)
    headers = {**writer, **({"Prefer": prefer} if prefer else {})}
    created = client.post("/fhir/Observation", json=observation(person["id"]), headers=headers)
    location = created.headers["location"]
    obs_id = location.split("/Observation/")[1].split("/")[0]
    body = observation(person["id"]) | {"id": obs_id}
    updated = client.put(f"/fhir/Observation/{obs_id}", json=body, headers=headers)
    patched = client.patch(
        f"/fhir/Observation/{obs_id}",
        content=orjson.dumps([{"op": "replace", "path": "/status", "value": "amended"}]),
        headers={**headers, "Content-Type": JSON_PATCH},
    )
    for response, status in ((created, 201), (updated, 200), (patched, 200)):
        assert response.status_code == status, response.text
        assert response.headers["etag"]
        if body_type is None:
            assert response.content == b""
        else:
            assert response.json()["resourceType"] == body_type


@pytest.mark.parametrize(
    ("fmt", "status"),
    [
        ("json", 200),
        ("application/json", 200),
        ("application/fhir+json", 200),
        ("application/fhir json", 200),  # an unencoded "+" arrives as a space
        ("application/fhir+json;fhirVersion=4.0", 200),
        ("xml", 406),
        ("application/fhir+xml", 406),
        ("text/html", 406),
    ],
)
def test_format(client: TestClient, writer: dict[str, str], fmt: str, status: int) -> None:
    url = f"/fhir/Patient/{_person(client, writer)['id']}"
    response = client.get(url, params={"_format": fmt}, headers=writer)
    assert response.status_code == status
    assert response.headers["content-type"].startswith(FHIR_JSON)
    # _format overrides Accept.
    overridden = client.get(
        url, params={"_format": fmt}, headers={**writer, "Accept": "application/fhir+xml"}
    )
    assert overridden.status_code == status


def _search_ready(client: TestClient, writer: dict[str, str]) -> None:
    probe = client.post(
        "/fhir/Patient", json=patient(), headers={**writer, "If-None-Exist": "identifier=x|y"}
    )
    if probe.status_code == 400 and "not available" in probe.text:
        pytest.skip("no search engine yet: conditional interactions answer 400")


def test_conditional_create(client: TestClient, writer: dict[str, str]) -> None:
    _search_ready(client, writer)
    person = _person(client, writer)
    nir = person["identifier"][0]
    criteria = f"identifier={nir['system']}|{nir['value']}"
    again = client.post(
        "/fhir/Patient", json=patient(), headers={**writer, "If-None-Exist": criteria}
    )
    assert again.status_code == 200, again.text
    assert again.json()["id"] == person["id"]
    other = _nir()
    new = client.post(
        "/fhir/Patient",
        json=patient(nir=other),
        headers={**writer, "If-None-Exist": f"identifier={nir['system']}|{other}"},
    )
    assert new.status_code == 201


def test_conditional_update_patch_and_delete(client: TestClient, writer: dict[str, str]) -> None:
    _search_ready(client, writer)
    person = _person(client, writer)
    nir = person["identifier"][0]
    criteria = {"identifier": f"{nir['system']}|{nir['value']}"}
    updated = client.put(
        "/fhir/Patient", params=criteria, json={**person, "gender": "male"}, headers=writer
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["meta"]["versionId"] == "2"
    patched = client.patch(
        "/fhir/Patient",
        params=criteria,
        content=orjson.dumps([{"op": "replace", "path": "/gender", "value": "other"}]),
        headers={**writer, "Content-Type": JSON_PATCH},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["gender"] == "other"
    mismatch = client.put(
        "/fhir/Patient", params=criteria, json={**person, "id": "someone-else"}, headers=writer
    )
    assert mismatch.status_code == 400
    deleted = client.delete("/fhir/Patient", params=criteria, headers=writer)
    assert deleted.status_code == 204
    assert client.get(f"/fhir/Patient/{person['id']}", headers=writer).status_code == 410
    assert client.delete("/fhir/Patient", params=criteria, headers=writer).status_code == 204
    assert client.delete("/fhir/Patient", headers=writer).status_code == 400  # no criteria


def test_several_matches_are_a_precondition_failure(
    client: TestClient, writer: dict[str, str]
) -> None:
    _search_ready(client, writer)
    family = f"Homonyme{secrets.token_hex(4)}"
    for _ in range(2):
        _person(client, writer, name=[{"family": family, "given": ["Jean"]}])
    criteria = {"family": family}
    assert client.delete("/fhir/Patient", params=criteria, headers=writer).status_code == 412
    assert (
        client.put("/fhir/Patient", params=criteria, json=patient(), headers=writer).status_code
        == 412
    )
    assert (
        client.post(
            "/fhir/Patient", json=patient(), headers={**writer, "If-None-Exist": f"family={family}"}
        ).status_code
        == 412
    )
