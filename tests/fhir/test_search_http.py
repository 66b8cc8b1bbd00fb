"""Search over HTTP: GET and POST _search, the searchset Bundle, links, errors, lenient handling."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from starlette.testclient import TestClient
from tests.factories import observation, patient
from tests.fhir.clients import bearer

from carnet.runtime import Runtime

FHIR = "application/fhir+json"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


@pytest.fixture(scope="module")
def writer(rt: Runtime, app_client: TestClient) -> dict[str, str]:
    return bearer(rt, app_client, "system/*.cruds")


@pytest.fixture(scope="module")
def observer(rt: Runtime, app_client: TestClient) -> dict[str, str]:
    return bearer(rt, app_client, "system/Observation.rs")


@pytest.fixture
def seeded(client: TestClient, writer: dict[str, str]) -> dict[str, Any]:
    family = f"Quillard{secrets.token_hex(3)}"
    person = patient(family=family)
    assert (
        client.put(f"/fhir/Patient/{person['id']}", json=person, headers=writer).status_code == 201
    )
    made = []
    for value in (60, 70, 80):
        response = client.post(
            "/fhir/Observation", json=observation(person["id"], value=value), headers=writer
        )
        assert response.status_code == 201
        made.append(response.json()["id"])
    return {"patient": person["id"], "family": family, "observations": made}


def outcome(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR)
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return body


def test_searchset_with_pages(
    client: TestClient, writer: dict[str, str], seeded: dict[str, Any]
) -> None:
    first = client.get(f"/fhir/Observation?patient={seeded['patient']}&_count=2", headers=writer)
    assert first.status_code == 200
    assert first.headers["content-type"].startswith(FHIR)
    bundle = first.json()
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "searchset")
    links = {link["relation"]: link["url"] for link in bundle["link"]}
    assert links["self"].endswith(f"/fhir/Observation?patient={seeded['patient']}&_count=2")
    next_query = parse_qs(urlparse(links["next"]).query)
    assert set(next_query) == {"_cursor"}  # the cursor carries the search
    assert [e["search"]["mode"] for e in bundle["entry"]] == ["match", "match"]
    assert bundle["entry"][0]["fullUrl"].startswith("http://testserver/fhir/Observation/")
    second = client.get(links["next"], headers=writer).json()
    ids = [e["resource"]["id"] for e in bundle["entry"] + second["entry"]]
    assert ids == seeded["observations"]
    assert "next" not in {link["relation"] for link in second["link"]}


def test_post_search_merges_body_and_query(
    client: TestClient, writer: dict[str, str], seeded: dict[str, Any]
) -> None:
    response = client.post(
        f"/fhir/Observation/_search?patient={seeded['patient']}",
        data={"value-quantity": "gt65", "_total": "accurate"},
        headers=writer,
    )
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 2
    wrong_type = client.post(
        "/fhir/Observation/_search", content=b"{}", headers={**writer, "Content-Type": FHIR}
    )
    outcome(wrong_type, 415)
    # Parameters in the query string alone: an empty body needs no content type.
    bare = client.post(f"/fhir/Observation/_search?patient={seeded['patient']}", headers=writer)
    assert bare.status_code == 200, bare.text
    assert len(bare.json()["entry"]) == 3


def test_an_unencoded_plus_in_a_date_is_its_zone(
    client: TestClient, writer: dict[str, str], seeded: dict[str, Any]
) -> None:
    # The "+" of +01:00 left unencoded reaches the server as a space.
    when = "2025-03-04T10:15:00+01:00"
    for written in (when, when.replace("+", "%2B")):
        response = client.get(
            f"/fhir/Observation?patient={seeded['patient']}&date={written}", headers=writer
        )
        assert response.status_code == 200, response.text
        assert len(response.json()["entry"]) == 3
    elsewhere = client.get(
        f"/fhir/Observation?patient={seeded['patient']}&date=2025-03-04T10:15:00-01:00",
        headers=writer,
    )
    assert "entry" not in elsewhere.json()


def test_identifying_values_never_travel_in_links(
    client: TestClient, writer: dict[str, str], seeded: dict[str, Any]
) -> None:
    response = client.get(
        f"/fhir/Patient?family={seeded['family']}&_include=Patient:organization", headers=writer
    )
    bundle = response.json()
    assert bundle["total"] == 1
    assert bundle["entry"][0]["resource"]["id"] == seeded["patient"]
    for link in bundle["link"]:
        assert seeded["family"].lower() not in link["url"].lower()
        assert "_cursor=" in link["url"]
    again = client.get(bundle["link"][0]["url"], headers=writer).json()
    assert again["entry"][0]["resource"]["id"] == seeded["patient"]


def test_includes_have_their_mode(
    client: TestClient, writer: dict[str, str], seeded: dict[str, Any]
) -> None:
    response = client.get(
        f"/fhir/Observation?patient={seeded['patient']}&_include=Observation:subject",
        headers=writer,
    )
    modes = [(e["resource"]["resourceType"], e["search"]["mode"]) for e in response.json()["entry"]]
    assert modes[-1] == ("Patient", "include")
    assert modes.count(("Observation", "match")) == 3


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("date=2020-02-31", "date"),
        ("date=zz2020", "date"),
        ("value-quantity=gtabc", "value-quantity"),
        ("value-quantity=1e400", "value-quantity"),  # overflows a float to infinity
        ("value-quantity=lt-1e400|http://unitsofmeasure.org|kg", "value-quantity"),
        ("value-quantity=ap1.7e308", "value-quantity"),  # its 10 % margin overflows
        ("code-value-quantity=http://loinc.org|29463-7$gt1e400", "code-value-quantity"),
        ("status:text=final", "status:text"),  # a plain code has no text
        ("code:exact=1", "code:exact"),
        ("code.name=x", "code.name"),
        ("_count=100000", "_count"),
        ("_count=-3", "_count"),
        ("_sort=code", "_sort"),
        ("nope=1", "nope"),
        ("subject=Organization/1", "subject"),
        ("_has:Observation:code:status=final", "_has:Observation:code:status"),
    ],
)
def test_bad_searches_name_the_fault(
    client: TestClient, writer: dict[str, str], query: str, parameter: str
) -> None:
    body = outcome(client.get(f"/fhir/Observation?{query}", headers=writer), 400)
    assert body["issue"][0]["expression"] == [parameter]


def test_bad_cursor(client: TestClient, writer: dict[str, str]) -> None:
    outcome(client.get("/fhir/Observation?_cursor=not-a-cursor", headers=writer), 400)
    outcome(client.get(f"/fhir/Observation?_cursor={'A' * 64}", headers=writer), 400)


def test_lenient_handling_reports_what_it_ignored(
    client: TestClient, writer: dict[str, str], seeded: dict[str, Any]
) -> None:
    strict = client.get(f"/fhir/Observation?patient={seeded['patient']}&nope=1", headers=writer)
    outcome(strict, 400)
    lenient = client.get(
        f"/fhir/Observation?patient={seeded['patient']}&nope=1",
        headers={**writer, "Prefer": "handling=lenient"},
    )
    entries = lenient.json()["entry"]
    assert [e["search"]["mode"] for e in entries].count("match") == 3
    assert entries[-1]["search"]["mode"] == "outcome"
    assert "nope" in entries[-1]["resource"]["issue"][0]["diagnostics"]


def test_identifying_refusals_are_not_lenient(client: TestClient, writer: dict[str, str]) -> None:
    response = client.get(
        "/fhir/Patient?family:contains=quil", headers={**writer, "Prefer": "handling=lenient"}
    )
    body = outcome(response, 400)
    assert "quil" not in body["issue"][0]["diagnostics"]


def test_scopes(client: TestClient, observer: dict[str, str], seeded: dict[str, Any]) -> None:
    outcome(client.get("/fhir/Patient?gender=female", headers=observer), 403)
    allowed = client.get(f"/fhir/Observation?patient={seeded['patient']}", headers=observer)
    assert allowed.status_code == 200
    outcome(client.get("/fhir/Observation"), 401)


def test_summary_count(client: TestClient, writer: dict[str, str], seeded: dict[str, Any]) -> None:
    bundle = client.get(
        f"/fhir/Observation?patient={seeded['patient']}&_summary=count", headers=writer
    ).json()
    assert bundle["total"] == 3
    assert "entry" not in bundle


def test_of_type_on_identifying_identifiers(client: TestClient, writer: dict[str, str]) -> None:
    """A Patient's identifiers are indexed only as keyed hashes; ``:of-type`` matches the
    (type system, type code, value) triple the same way, and never echoes it in a link."""
    person = patient()
    record_number = f"MRN{secrets.token_hex(5)}"
    person["identifier"].append(
        {
            "type": {"coding": [{"system": V2_0203, "code": "MR"}]},
            "system": "urn:oid:1.2.250.1.71.4.2.7",
            "value": record_number,
        }
    )
    assert (
        client.put(f"/fhir/Patient/{person['id']}", json=person, headers=writer).status_code == 201
    )

    def found(value: str) -> set[str]:
        response = client.get("/fhir/Patient", params={"identifier:of-type": value}, headers=writer)
        assert response.status_code == 200, response.text
        bundle = response.json()
        assert all(record_number not in link["url"] for link in bundle["link"])
        return {entry["resource"]["id"] for entry in bundle.get("entry", [])}

    assert found(f"{V2_0203}|MR|{record_number}") == {person["id"]}
    assert found(f"|MR|{record_number}") == {person["id"]}  # any type system
    assert found(f"{V2_0203}|MR|{record_number},{V2_0203}|PPN|x") == {person["id"]}
    assert found(f"{V2_0203}|PPN|{record_number}") == set()
    assert found(f"http://example.org/types|MR|{record_number}") == set()
    assert found(f"{V2_0203}|MR|{record_number.lower()}") == set()  # values are exact
    # The identifier's own value, and an untyped identifier, match as before.
    assert found(f"{V2_0203}|MR|{person['identifier'][0]['value']}") == set()
    plain = client.get("/fhir/Patient", params={"identifier": record_number}, headers=writer)
    assert [e["resource"]["id"] for e in plain.json()["entry"]] == [person["id"]]


@pytest.mark.parametrize(
    "query",
    ["identifier:of-type=MR|123", "identifier:of-type=%7CMR%7C%20", "identifier:text=MR"],
)
def test_of_type_on_identifying_identifiers_refuses_the_rest(
    client: TestClient, writer: dict[str, str], query: str
) -> None:
    body = outcome(client.get(f"/fhir/Patient?{query}", headers=writer), 400)
    assert body["issue"][0]["expression"] == [query.partition("=")[0]]
