"""Pages, cursors, sorting, totals, includes, _summary and _elements."""

from __future__ import annotations

import secrets
from typing import Any

import orjson
import pytest
from sqlalchemy import Connection
from tests.factories import observation, patient, patient_context, system_context

from carnet.core.ids import new_id
from carnet.record.errors import InvalidCursor
from carnet.record.service import Repository, SearchResult
from carnet.runtime import Runtime


@pytest.fixture
def repo(rt: Runtime, db: Connection) -> Repository:
    return rt.record.repository(db=db, ctx=system_context())


def put(repo: Repository, resource: dict[str, Any]) -> str:
    resource.setdefault("id", new_id())
    repo.update(resource["resourceType"], resource["id"], resource)
    return str(resource["id"])


def obs(person: str, system: str, value: float | None, date: str) -> dict[str, Any]:
    resource = observation(person, value=value or 0)
    resource["code"] = {"coding": [{"system": system, "code": "x"}]}
    resource["effectiveDateTime"] = date
    if value is None:
        del resource["valueQuantity"]
    return resource


def every_page(
    repo: Repository, resource_type: str, params: list[tuple[str, str]]
) -> list[SearchResult]:
    pages = [repo.search(resource_type, params)]
    while pages[-1].next_cursor is not None:
        pages.append(repo.search(resource_type, [], cursor=pages[-1].next_cursor))
    return pages


@pytest.fixture
def series(repo: Repository) -> tuple[str, str, list[str]]:
    """A patient and 12 Observations of a fresh code system."""
    person = put(repo, patient())
    system = f"urn:test:{secrets.token_hex(6)}"
    made = [put(repo, obs(person, system, float(i % 5), f"2024-01-{i + 1:02d}")) for i in range(12)]
    return person, system, made


def test_pages_cover_every_match_once(repo: Repository, series: tuple[str, str, list[str]]) -> None:
    _, system, made = series
    pages = every_page(repo, "Observation", [("code", f"{system}|"), ("_count", "5")])
    assert [len(p.matches) for p in pages] == [5, 5, 2]
    seen = [m.id for p in pages for m in p.matches]
    assert seen == made  # without _sort: the order of writing
    assert pages[0].total is None  # not asked, and not known for free
    assert pages[-1].next_cursor is None


def test_pages_neither_skip_nor_repeat_while_writes_go_on(
    repo: Repository, series: tuple[str, str, list[str]]
) -> None:
    person, system, made = series
    first = repo.search(
        "Observation", [("code", f"{system}|"), ("_count", "4"), ("_sort", "-date")]
    )
    shown = [m.id for m in first.matches]
    # Between pages: a new match, a deleted match not yet shown, an updated one not yet shown.
    put(repo, obs(person, system, 9.0, "2024-01-06T12:00:00Z"))
    repo.delete("Observation", made[2])
    changed = {**obs(person, system, 4.0, "2024-01-04"), "id": made[3], "status": "amended"}
    repo.update("Observation", made[3], changed)
    cursor = first.next_cursor
    while cursor is not None:
        page = repo.search("Observation", [], cursor=cursor)
        shown += [m.id for m in page.matches]
        cursor = page.next_cursor
    assert len(shown) == len(set(shown))  # nothing repeated
    assert set(shown) == set(made) - {made[2]}  # nothing skipped; the later one is not part of it


def test_sort_on_several_keys_with_missing_values_last(repo: Repository) -> None:
    person = put(repo, patient())
    system = f"urn:test:{secrets.token_hex(6)}"
    rows = [(2.0, "2024-01-01"), (1.0, "2024-01-03"), (2.0, "2024-01-02"), (None, "2024-01-05"),
            (1.0, "2024-01-01")]  # fmt: skip
    made = {put(repo, obs(person, system, value, date)): (value, date) for value, date in rows}
    result = repo.search("Observation", [("code", f"{system}|"), ("_sort", "value-quantity,-date")])
    assert [made[m.id] for m in result.matches] == [
        (1.0, "2024-01-03"),
        (1.0, "2024-01-01"),
        (2.0, "2024-01-02"),
        (2.0, "2024-01-01"),
        (None, "2024-01-05"),
    ]
    pages = every_page(
        repo,
        "Observation",
        [("code", f"{system}|"), ("_sort", "-value-quantity,date"), ("_count", "2")],
    )
    ordered = [made[m.id] for p in pages for m in p.matches]
    assert ordered == [
        (2.0, "2024-01-01"),
        (2.0, "2024-01-02"),
        (1.0, "2024-01-01"),
        (1.0, "2024-01-03"),
        (None, "2024-01-05"),
    ]


def test_totals(repo: Repository, series: tuple[str, str, list[str]]) -> None:
    _, system, _ = series
    code = ("code", f"{system}|")
    assert repo.search("Observation", [code, ("_total", "accurate"), ("_count", "2")]).total == 12
    counted = repo.search("Observation", [code, ("_summary", "count")])
    assert (counted.total, counted.matches, counted.count_only) == (12, (), True)
    assert repo.search("Observation", [code, ("_count", "0")]).total == 12
    assert repo.search("Observation", [code]).total == 12  # one page: known for free
    assert repo.count("Observation", f"code={system}|") == 12
    assert len(repo.match("Observation", [code], limit=2)) == 2


def test_summary_and_elements(repo: Repository, series: tuple[str, str, list[str]]) -> None:
    _, system, _ = series
    code = ("code", f"{system}|")
    summary = orjson.loads(repo.search("Observation", [code, ("_summary", "true")]).matches[0].body)
    assert {"code", "status", "subject", "effectiveDateTime", "valueQuantity"} <= set(summary)
    assert summary["meta"]["tag"][-1]["code"] == "SUBSETTED"
    elements = orjson.loads(
        repo.search("Observation", [code, ("_elements", "subject")]).matches[0].body
    )
    assert set(elements) == {
        "resourceType",
        "id",
        "meta",
        "subject",
        "status",
        "code",
    }  # + mandatory
    value = orjson.loads(repo.search("Observation", [code, ("_elements", "value")]).matches[0].body)
    assert "valueQuantity" in value
    full = orjson.loads(repo.search("Observation", [code]).matches[0].body)
    assert "SUBSETTED" not in str(full["meta"])


def test_includes_and_iterate(repo: Repository) -> None:
    practitioner = put(repo, {"resourceType": "Practitioner", "name": [{"family": "Durand"}]})
    organization = put(repo, {"resourceType": "Organization", "name": "Cabinet"})
    role = put(repo, {
        "resourceType": "PractitionerRole",
        "practitioner": {"reference": f"Practitioner/{practitioner}"},
        "organization": {"reference": f"Organization/{organization}"},
    })  # fmt: skip
    person = put(
        repo, {**patient(), "generalPractitioner": [{"reference": f"PractitionerRole/{role}"}]}
    )
    found = repo.search("Patient", [
        ("_id", person), ("_include", "Patient:general-practitioner"),
        ("_include:iterate", "PractitionerRole:practitioner"),
        ("_revinclude", "Observation:subject"),
    ])  # fmt: skip
    assert [m.id for m in found.matches] == [person]
    assert {s.reference for s in found.included} == {
        f"PractitionerRole/{role}",
        f"Practitioner/{practitioner}",
    }
    plain = repo.search("Patient", [("_id", person), ("_include", "Patient:general-practitioner")])
    assert {s.reference for s in plain.included} == {f"PractitionerRole/{role}"}
    typed = repo.search(
        "Patient", [("_id", person), ("_include", "Patient:general-practitioner:Practitioner")]
    )
    assert typed.included == ()


def test_included_resources_are_decided_one_by_one(
    rt: Runtime, db: Connection, repo: Repository
) -> None:
    person = put(repo, patient())
    other = put(repo, patient())
    mine = put(
        repo, {**observation(person), "hasMember": [{"reference": f"Observation/{new_id()}"}]}
    )
    theirs = put(repo, observation(other))
    mine_body = {
        **observation(person),
        "id": mine,
        "derivedFrom": [{"reference": f"Observation/{theirs}"}],
    }
    repo.update("Observation", mine, mine_body)
    as_patient = rt.record.repository(db=db, ctx=patient_context(person))
    found = as_patient.search("Observation", [("_include", "Observation:derived-from")])
    assert [m.id for m in found.matches] == [mine]
    assert found.included == ()  # the other patient's Observation is silently left out
    as_system = repo.search(
        "Observation", [("_id", mine), ("_include", "Observation:derived-from")]
    )
    assert [s.id for s in as_system.included] == [theirs]


def test_cursors_are_sealed_and_bound(rt: Runtime, db: Connection, repo: Repository) -> None:
    person = put(repo, patient())
    for _ in range(3):
        put(repo, observation(person))
    first = repo.search("Observation", [("patient", person), ("_count", "1")])
    assert first.next_cursor is not None
    assert person not in first.next_cursor
    tampered = first.next_cursor[:-4] + (
        "AAAA" if not first.next_cursor.endswith("AAAA") else "BBBB"
    )
    with pytest.raises(InvalidCursor):
        repo.search("Observation", [], cursor=tampered)
    with pytest.raises(InvalidCursor):
        repo.search("Condition", [], cursor=first.next_cursor)  # another type
    stranger = rt.record.repository(db=db, ctx=system_context(client_id="another-client"))
    with pytest.raises(InvalidCursor):
        stranger.search("Observation", [], cursor=first.next_cursor)


def test_sort_on_last_updated_pages_through_instants(
    repo: Repository, series: tuple[str, str, list[str]]
) -> None:
    _, system, made = series
    pages = every_page(
        repo, "Observation", [("code", f"{system}|"), ("_sort", "-_lastUpdated"), ("_count", "5")]
    )
    seen = [m.id for p in pages for m in p.matches]
    assert seen == list(reversed(made))  # written one after the other


def test_searches_of_one_shape_share_their_statement(
    repo: Repository, series: tuple[str, str, list[str]]
) -> None:
    from carnet.record.search import run

    person, _system, _ = series
    repo.search("Observation", [("patient", person), ("date", "ge2024-01-05")])
    size = len(run.STATEMENTS._entries)
    found = repo.search("Observation", [("patient", person), ("date", "ge2024-01-10")])
    assert len(run.STATEMENTS._entries) == size  # other values, the same statement
    assert len(found.matches) == 3
    other = repo.search("Observation", [("patient", person), ("date", "lt2024-01-03")])
    assert len(other.matches) == 2
