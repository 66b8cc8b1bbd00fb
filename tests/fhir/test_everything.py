"""Patient/$everything over HTTP: the searchset Bundle, its pages, its errors, and the corpus."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.conftest import TIER
from tests.corpus import iter_synthea, load_through_repository, resolve_urn_uuids
from tests.factories import observation, patient
from tests.fhir.clients import bearer

from carnet.runtime import Runtime

FHIR = "application/fhir+json"


@pytest.fixture(scope="module")
def writer(rt: Runtime, app_client: TestClient) -> dict[str, str]:
    return bearer(rt, app_client, "system/*.cruds")


def _put(client: TestClient, auth: dict[str, str], resource: dict[str, Any]) -> dict[str, Any]:
    if "id" in resource:
        url = f"/fhir/{resource['resourceType']}/{resource['id']}"
        response = client.put(url, json=resource, headers={**auth, "Content-Type": FHIR})
    else:
        response = client.post(
            f"/fhir/{resource['resourceType']}",
            json=resource,
            headers={**auth, "Content-Type": FHIR},
        )
    assert response.status_code in {200, 201}, response.text
    body: dict[str, Any] = response.json()
    return body


def _pages(client: TestClient, url: str, auth: dict[str, str]) -> list[dict[str, Any]]:
    bundles = []
    next_url: str | None = url
    while next_url is not None:
        response = client.get(next_url, headers=auth)
        assert response.status_code == 200, response.text
        bundle = response.json()
        bundles.append(bundle)
        links = {link["relation"]: link["url"] for link in bundle["link"]}
        next_url = links.get("next")
        assert len(bundles) < 500
    return bundles


def _entries(bundles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for bundle in bundles for entry in bundle.get("entry", [])]


def test_everything_is_a_paged_searchset(client: TestClient, writer: dict[str, str]) -> None:
    person = _put(client, writer, patient())
    doctor = _put(client, writer, {"resourceType": "Practitioner", "name": [{"family": "Roux"}]})
    obs = [_put(client, writer, observation(person["id"], value=50 + i)) for i in range(4)]
    referring = observation(person["id"]) | {
        "performer": [{"reference": f"Practitioner/{doctor['id']}"}]
    }
    obs.append(_put(client, writer, referring))
    other = _put(client, writer, patient())
    _put(client, writer, observation(other["id"]))
    url = f"/fhir/Patient/{person['id']}/$everything?_count=2"
    bundles = _pages(client, url, writer)
    assert len(bundles) == 4  # 7 resources, 2 a page
    first = bundles[0]
    assert first["resourceType"] == "Bundle"
    assert first["type"] == "searchset"
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert links["self"].startswith("http://testserver/fhir/Patient/")
    assert "_count=2" in links["next"]
    assert "_cursor=" in links["next"]
    entries = _entries(bundles)
    refs = [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in entries]
    expected = {f"Patient/{person['id']}", f"Practitioner/{doctor['id']}"} | {
        f"Observation/{o['id']}" for o in obs
    }
    assert sorted(refs) == sorted(expected)
    modes = {e["fullUrl"].rsplit("/", 2)[-2]: e["search"]["mode"] for e in entries}
    assert modes["Practitioner"] == "include"
    assert modes["Observation"] == "match"
    assert entries[0]["fullUrl"].startswith("http://testserver/fhir/")
    assert client.get(f"/fhir/Patient/{person['id']}/$everything", headers=writer).json()[
        "link"
    ] == [{"relation": "self", "url": f"http://testserver/fhir/Patient/{person['id']}/$everything"}]


def test_everything_filters_and_errors(
    rt: Runtime, client: TestClient, writer: dict[str, str]
) -> None:
    person = _put(client, writer, patient())
    _put(client, writer, observation(person["id"]))
    base = f"/fhir/Patient/{person['id']}/$everything"
    only = client.get(f"{base}?_type=Patient", headers=writer).json()
    assert [e["resource"]["resourceType"] for e in only["entry"]] == ["Patient"]
    pretty = client.get(f"{base}?_type=Patient&_pretty=true&_format=json", headers=writer)
    assert pretty.status_code == 200, pretty.text  # accepted and ignored, as on search
    assert pretty.json()["entry"] == only["entry"]
    since = client.get(f"{base}?_since=2999-01-01T00:00:00Z", headers=writer).json()
    assert since.get("entry", []) == []
    for query in (
        "_count=0",
        "_count=abc",
        "_since=yesterday",
        "_since=2025-01-01",
        "_type=Unicorn",
        "start=2020-01-01",
        "_cursor=%25%25",
        "_cursor=9.Observation.1",
    ):
        response = client.get(f"{base}?{query}", headers=writer)
        assert response.status_code == 400, (query, response.text)
        assert response.json()["resourceType"] == "OperationOutcome"
    assert (
        client.get(f"/fhir/Patient/{patient()['id']}/$everything", headers=writer).status_code
        == 404
    )
    assert client.get(base).status_code == 401
    observer = bearer(rt, client, "system/Observation.rs")
    assert client.get(base, headers=observer).status_code == 403
    # A system client has no patient of its own: it must name one.
    assert client.get("/fhir/Patient/$everything", headers=writer).status_code == 400


def _bundle_references(resources: list[dict[str, Any]]) -> set[str]:
    text = repr(resources)
    return set(re.findall(r"'reference': '([A-Z][A-Za-z]+/[A-Za-z0-9\-.]+)'", text))


@pytest.mark.corpus
def test_synthea_everything_returns_exactly_the_bundle(
    rt: Runtime, client: TestClient, writer: dict[str, str]
) -> None:
    """Every bundle loads, then each patient's $everything (every page) is exactly the bundle:
    its compartment, and the practitioners and organizations it references; no one else's."""
    limit = None if TIER == "sqlite" else 15
    loaded = []
    for _path, bundle in iter_synthea(limit):
        with rt.carnet_repository() as repo:
            written = load_through_repository(repo, bundle)
        resources = resolve_urn_uuids(bundle)
        patient_id = next(r["id"] for r in resources if r["resourceType"] == "Patient")
        loaded.append((patient_id, set(written), _bundle_references(resources)))
    assert loaded
    patients = {patient_id for patient_id, _, _ in loaded}
    followed = 0
    for patient_id, written, references in loaded:
        bundles = _pages(client, f"/fhir/Patient/{patient_id}/$everything?_count=500", writer)
        entries = _entries(bundles)
        got = [(e["resource"]["resourceType"], e["resource"]["id"]) for e in entries]
        assert len(got) == len(set(got)), "a resource came twice"
        shared = {(t, i) for t, i in written if t in {"Practitioner", "Organization"}}
        own = written - shared
        assert {
            x for x, e in zip(got, entries, strict=True) if e["search"]["mode"] == "match"
        } == own
        included = {
            x for x, e in zip(got, entries, strict=True) if e["search"]["mode"] == "include"
        }
        assert included == {x for x in shared if f"{x[0]}/{x[1]}" in references}
        followed += len(included)
        for entry in entries:
            for other in patients - {patient_id}:
                assert other not in entry["fullUrl"]
    assert followed, "no shared resource was referenced: the include pass went untested"


def test_capability_statement_declares_scans_and_operations(client: TestClient) -> None:
    statement = client.get("/fhir/metadata").json()
    bulk = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/"
    rest = statement["rest"][0]
    assert {"code": "history-system"} in rest["interaction"]
    assert {"name": "export", "definition": f"{bulk}export"} in rest["operation"]
    types = {r["type"]: r for r in rest["resource"]}
    assert {"code": "history-type"} in types["Observation"]["interaction"]
    patient_ops = types["Patient"]["operation"]
    everything = "http://hl7.org/fhir/OperationDefinition/Patient-everything"
    assert {"name": "everything", "definition": everything} in patient_ops
    assert {"name": "export", "definition": f"{bulk}patient-export"} in patient_ops
    assert {"name": "export", "definition": f"{bulk}group-export"} in types["Group"]["operation"]
    observation_ops = {op["name"] for op in types["Observation"].get("operation", [])}
    assert not observation_ops & {"everything", "export"}
