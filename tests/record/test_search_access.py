"""Who sees what through search, what the audit trail keeps, and identifying values."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from sqlalchemy import Connection, text
from tests.factories import observation, patient, patient_context, system_context

from carnet.audit.service import AuditEntry
from carnet.core.ids import new_id
from carnet.record.errors import InvalidSearch, UnsupportedSearch
from carnet.record.service import Repository
from carnet.runtime import Runtime


@pytest.fixture
def repo(rt: Runtime, db: Connection) -> Repository:
    return rt.record.repository(db=db, ctx=system_context())


def put(repo: Repository, resource: dict[str, Any]) -> str:
    resource.setdefault("id", new_id())
    repo.update(resource["resourceType"], resource["id"], resource)
    return str(resource["id"])


def events(rt: Runtime, db: Connection, chain: str) -> list[AuditEntry]:
    found = rt.audit.chain_events(db, chain_id=chain, limit=50)
    return [e for e in found if e.tag == "record:resource:search"]


def test_a_patient_sees_only_their_compartment_totals_included(
    rt: Runtime, db: Connection, repo: Repository
) -> None:
    system = f"urn:test:{secrets.token_hex(6)}"
    alice, bob = put(repo, patient()), put(repo, patient())
    for person in (alice, alice, bob):
        resource = observation(person)
        resource["code"] = {"coding": [{"system": system, "code": "x"}]}
        put(repo, resource)
    as_alice = rt.record.repository(db=db, ctx=patient_context(alice))
    result = as_alice.search("Observation", [("code", f"{system}|x"), ("_total", "accurate")])
    assert result.total == 2
    assert {m.patient_id for m in result.matches} == {alice}
    # Naming the other patient finds nothing either.
    assert as_alice.search("Observation", [("patient", bob)]).total == 0
    # A chain cannot reach beyond what the actor may search.
    chained = as_alice.search(
        "Observation", [("code", f"{system}|x"), ("subject:Patient.gender", "female")]
    )
    assert {m.patient_id for m in chained.matches} <= {alice}
    # Shared resources are outside a patient's search scope.
    assert as_alice.search("Practitioner", [("_total", "accurate")]).total == 0
    assert as_alice.count("Observation", f"code={system}|x") == 2


def test_a_scope_without_the_type_finds_nothing_and_is_audited(
    rt: Runtime, db: Connection, repo: Repository
) -> None:
    put(repo, patient())
    observer = rt.record.repository(db=db, ctx=system_context("system/Observation.rs", "obs-only"))
    result = observer.search("Patient", [("gender", "female"), ("_total", "accurate")])
    assert (result.matches, result.total) == ((), 0)
    last = rt.audit.chain_events(db, chain_id="_system", limit=1)[0]
    assert (last.tag, last.outcome, last.actor_id) == (
        "record:resource:search",
        "refused",
        "obs-only",
    )
    assert last.detail == {"rule": "system-scope-missing"}


def test_one_event_per_search_listing_what_was_returned(
    rt: Runtime, db: Connection, repo: Repository
) -> None:
    person = put(repo, patient())
    made = [put(repo, observation(person)) for _ in range(3)]
    before = len(events(rt, db, person))
    result = repo.search("Observation", [("patient", person), ("_include", "Observation:subject")])
    after = events(rt, db, person)
    assert len(after) == before + 1
    event = after[0]
    assert event.entity == "Observation?patient&_include"  # names, never values
    assert set(event.detail["ids"]) == {f"Observation/{i}" for i in made} | {f"Patient/{person}"}
    assert len(result.matches) == 3


def test_a_search_across_patients_is_in_each_patients_history(
    rt: Runtime, db: Connection, repo: Repository
) -> None:
    system = f"urn:test:{secrets.token_hex(6)}"
    alice, bob = put(repo, patient()), put(repo, patient())
    made = {}
    for person in (alice, bob):
        resource = observation(person)
        resource["code"] = {"coding": [{"system": system, "code": "x"}]}
        made[person] = put(repo, resource)
    repo.search("Observation", [("code", f"{system}|x")])
    for person in (alice, bob):
        latest = events(rt, db, person)[0]
        assert latest.detail["ids"] == [f"Observation/{made[person]}"]


def test_an_invalid_search_is_audited(rt: Runtime, db: Connection, repo: Repository) -> None:
    with pytest.raises(InvalidSearch):
        repo.search("Observation", [("date", "2020-99")])
    last = rt.audit.chain_events(db, chain_id="_system", limit=1)[0]
    assert (last.tag, last.outcome) == ("record:resource:search", "invalid")


def test_identifying_parameters_match_exactly_and_leave_no_trace(
    rt: Runtime, db: Connection, repo: Repository
) -> None:
    family = f"Zylberstein{secrets.token_hex(2)}"
    person = put(repo, patient(family=family, given="Prudence", birth_date="1984-06-17"))
    assert [m.id for m in repo.search("Patient", [("family", family.upper())]).matches] == [person]
    assert repo.search("Patient", [("family", family[:-1])]).matches == ()  # not a prefix search
    found = repo.search("Patient", [("name", "prudence"), ("birthdate", "1984-06")]).matches
    assert [m.id for m in found] == [person]
    assert [m.id for m in repo.search("Patient", [("identifier", "284067511300126"),
                                                  ("_id", person)]).matches] == [person]  # fmt: skip
    for name, value in (
        ("family:contains", "zyl"),
        ("birthdate", "ge1984"),
        ("name:missing", "true"),
    ):
        with pytest.raises(UnsupportedSearch):
            repo.search("Patient", [(name, value)])
    result = repo.search("Patient", [("family", family), ("_count", "1")])
    assert result.identifying
    assert result.self_cursor is not None
    assert family not in result.self_cursor
    # Neither the index nor the audit trail holds the searched value in clear.
    dump = " ".join(
        repr(row)
        for table in (
            "record_index_blind",
            "record_index_string",
            "record_index_token",
            "audit_event",
        )
        for row in db.execute(text(f"SELECT * FROM {table}"))
    ).lower()
    assert family.lower() not in dump
    assert "prudence" not in dump
