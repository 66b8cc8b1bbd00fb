"""History over HTTP (instance, type, system): history Bundles, newest first, paged, with _since."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient
from tests.factories import observation, patient
from tests.fhir.clients import bearer

from carnet.runtime import Runtime

FHIR = "application/fhir+json"


@pytest.fixture(scope="module")
def writer(rt: Runtime, app_client: TestClient) -> dict[str, str]:
    return bearer(rt, app_client, "system/*.cruds")


def _since_now(rt: Runtime) -> str:
    moment = rt.clock.now().astimezone(UTC) - timedelta(milliseconds=1)
    return quote(moment.isoformat(timespec="microseconds").replace("+00:00", "Z"))


def _put_patient(client: TestClient, auth: dict[str, str]) -> dict[str, Any]:
    person = patient()
    response = client.put(
        f"/fhir/Patient/{person['id']}", json=person, headers={**auth, "Content-Type": FHIR}
    )
    assert response.status_code == 201, response.text
    return person


def _all(client: TestClient, url: str, auth: dict[str, str]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url is not None:
        response = client.get(next_url, headers=auth)
        assert response.status_code == 200, response.text
        bundle = response.json()
        assert bundle["type"] == "history"
        entries += bundle.get("entry", [])
        next_url = {link["relation"]: link["url"] for link in bundle["link"]}.get("next")
    return entries


def test_type_history_lists_versions_and_deletions(
    rt: Runtime, client: TestClient, writer: dict[str, str]
) -> None:
    since = _since_now(rt)
    person = _put_patient(client, writer)
    created = client.post("/fhir/Observation", json=observation(person["id"]), headers=writer)
    obs = created.json()
    updated = client.put(
        f"/fhir/Observation/{obs['id']}", json=obs | {"status": "amended"}, headers=writer
    )
    assert updated.status_code == 200
    assert client.delete(f"/fhir/Observation/{obs['id']}", headers=writer).status_code == 204
    entries = _all(client, f"/fhir/Observation/_history?_since={since}&_count=2", writer)
    mine = [e for e in entries if e["fullUrl"].endswith(obs["id"])]
    assert [e["request"]["method"] for e in mine] == ["DELETE", "PUT", "POST"]
    assert [e["response"]["etag"] for e in mine] == ['W/"3"', 'W/"2"', 'W/"1"']
    assert "resource" not in mine[0]
    assert mine[1]["resource"]["status"] == "amended"
    assert mine[2]["request"]["url"] == "Observation"
    assert {e["fullUrl"].split("/")[-2] for e in entries} == {"Observation"}


def test_system_history_pages_across_types(
    rt: Runtime, client: TestClient, writer: dict[str, str]
) -> None:
    since = _since_now(rt)
    person = _put_patient(client, writer)
    for _ in range(3):
        client.post("/fhir/Observation", json=observation(person["id"]), headers=writer)
    first = client.get(f"/fhir/_history?_since={since}&_count=2", headers=writer).json()
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert links["self"].startswith("http://testserver/fhir/_history?")
    assert "_since=" in links["next"]
    entries = _all(client, f"/fhir/_history?_since={since}&_count=2", writer)
    kinds = [e["fullUrl"].split("/")[-2] for e in entries]
    assert kinds.count("Observation") == 3
    assert kinds[-1] == "Patient"  # the oldest last
    stamps = [e["response"]["lastModified"] for e in entries]
    assert stamps == sorted(stamps, reverse=True)
    future = quote((datetime.now(UTC) + timedelta(days=1)).isoformat())
    assert client.get(f"/fhir/_history?_since={future}", headers=writer).json()["entry"] == []


def test_history_refuses_bad_input_and_missing_scopes(
    rt: Runtime, client: TestClient, writer: dict[str, str]
) -> None:
    for url in (
        "/fhir/_history?_count=0",
        "/fhir/_history?_since=2025-13-01T00:00:00Z",
        "/fhir/_history?_at=2025-01-01T00:00:00Z",
        "/fhir/Observation/_history?_cursor=abc",
        "/fhir/Unicorn/_history",
    ):
        response = client.get(url, headers=writer)
        assert response.status_code == 400, (url, response.text)
    assert client.get("/fhir/_history").status_code == 401
    patients_only = bearer(rt, client, "system/Patient.rs")
    assert client.get("/fhir/Observation/_history", headers=patients_only).status_code == 403
    writes_only = bearer(rt, client, "system/*.cud")
    assert client.get("/fhir/_history", headers=writes_only).status_code == 403
    page = client.get("/fhir/_history?_count=5", headers=patients_only).json()
    assert {e["fullUrl"].split("/")[-2] for e in page["entry"]} <= {"Patient"}


def test_history_accepts_the_formatting_parameters(
    client: TestClient, writer: dict[str, str]
) -> None:
    """``_pretty`` and ``_format`` are accepted as on search (and ignored: the JSON is the
    same)."""
    person = _put_patient(client, writer)
    for url in (
        f"/fhir/Patient/{person['id']}/_history",
        "/fhir/Patient/_history?_count=1",
        "/fhir/_history?_count=1",
    ):
        separator = "&" if "?" in url else "?"
        for extra in ("_pretty=true", "_pretty=false", "_format=json&_pretty=true"):
            response = client.get(f"{url}{separator}{extra}", headers=writer)
            assert response.status_code == 200, (url, extra, response.text)
            assert response.json()["type"] == "history"


def test_instance_history_pages_and_honours_since(
    rt: Runtime, client: TestClient, writer: dict[str, str]
) -> None:
    person = _put_patient(client, writer)
    url = f"/fhir/Patient/{person['id']}"
    for family in ("Un", "Deux"):
        renamed = person | {"name": [{"family": family}]}
        assert client.put(url, json=renamed, headers=writer).status_code == 200
    since = _since_now(rt)  # versions 4 and 5 come after this instant, 1 to 3 before
    for family in ("Trois", "Quatre"):
        renamed = person | {"name": [{"family": family}]}
        assert client.put(url, json=renamed, headers=writer).status_code == 200
    first = client.get(f"{url}/_history?_count=2", headers=writer).json()
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert links["self"] == f"http://testserver{url}/_history?_count=2"
    assert "total" not in first  # a page does not know how many versions there are
    # A version written between pages neither shifts nor repeats what follows.
    client.put(url, json=person | {"name": [{"family": "Cinq"}]}, headers=writer)
    entries = _all(client, f"{url}/_history?_count=2", writer)
    assert [e["response"]["etag"] for e in entries] == [f'W/"{v}"' for v in range(6, 0, -1)]
    rest = _all(client, links["next"].removeprefix("http://testserver"), writer)
    assert [e["response"]["etag"] for e in rest] == ['W/"3"', 'W/"2"', 'W/"1"']
    recent = _all(client, f"{url}/_history?_since={since}", writer)
    assert [e["response"]["etag"] for e in recent] == ['W/"6"', 'W/"5"', 'W/"4"']
    for bad in ("_at=2025-01-01T00:00:00Z", "_since=2025-01-01", "_cursor=abc", "_count=0"):
        response = client.get(f"{url}/_history?{bad}", headers=writer)
        assert response.status_code == 400, (bad, response.text)
        assert response.json()["resourceType"] == "OperationOutcome"
