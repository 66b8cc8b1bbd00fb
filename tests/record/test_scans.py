"""Scans through the repository: $everything, type and system history, and export steps.

Paging is by keyset: pages neither skip nor repeat while writes go on between them. Access is
applied to every row (refused rows are skipped silently); every page is audited.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import Connection, text
from tests.factories import observation, patient, patient_context, system_context

from carnet.record.errors import (
    ExportNotFound,
    InvalidCursor,
    ResourceDeleted,
    ResourceNotFound,
)
from carnet.record.service import ExportPolicy, ExportRequest, Repository
from carnet.runtime import Runtime


def _repo(rt: Runtime, db: Connection, ctx: Any = None) -> Repository:
    return rt.record.repository(db=db, ctx=ctx or system_context())


def _practitioner(practitioner_id: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Practitioner", "name": [{"family": "Martin"}]}
    if practitioner_id:
        resource["id"] = practitioner_id
    return resource


def _group(repo: Repository, *members: str) -> str:
    """A person Group of ``members``."""
    entries = [{"entity": {"reference": f"Patient/{m}"}} for m in members]
    group = {"resourceType": "Group", "type": "person", "actual": True, "member": entries}
    return repo.create(group).id


def _encounter(patient_id: str, practitioner_id: str, organization_id: str) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": f"Patient/{patient_id}"},
        "participant": [{"individual": {"reference": f"Practitioner/{practitioner_id}"}}],
        "serviceProvider": {"reference": f"Organization/{organization_id}"},
    }


def _world(repo: Repository) -> dict[str, Any]:
    """Two patients; the first with observations, an encounter and the shared resources it
    references; an unreferenced practitioner; the second patient's own observation."""
    first, second = patient(), patient()
    repo.update("Patient", first["id"], first)
    repo.update("Patient", second["id"], second)
    doctor = repo.create(_practitioner())
    stranger = repo.create(_practitioner())
    clinic = repo.create({"resourceType": "Organization", "name": "Centre de santé"})
    observations = [repo.create(observation(first["id"], value=60 + i)) for i in range(5)]
    encounter = repo.create(_encounter(first["id"], doctor.id, clinic.id))
    other = repo.create(observation(second["id"]))
    return {
        "patient": first["id"],
        "other_patient": second["id"],
        "own": {("Patient", first["id"])}
        | {("Observation", o.id) for o in observations}
        | {("Encounter", encounter.id)},
        "shared": {("Practitioner", doctor.id), ("Organization", clinic.id)},
        "stranger": ("Practitioner", stranger.id),
        "other": ("Observation", other.id),
        "observations": observations,
    }


def _all_pages(repo: Repository, patient_id: str, **kwargs: Any) -> list[Any]:
    entries, cursor = [], None
    for _ in range(100):
        page = repo.everything(patient_id, cursor=cursor, **kwargs)
        entries += page.entries
        cursor = page.next_cursor
        if cursor is None:
            return entries
    raise AssertionError("paging did not end")


def _refs(entries: list[Any]) -> list[tuple[str, str]]:
    return [(e.resource.resource_type, e.resource.id) for e in entries]


def test_everything_is_the_compartment_and_what_it_references(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    world = _world(repo)
    page = repo.everything(world["patient"], count=100)
    assert page.next_cursor is None
    refs = _refs(list(page.entries))
    assert set(refs) == world["own"] | world["shared"]
    assert len(refs) == len(set(refs))
    assert world["stranger"] not in refs
    assert world["other"] not in refs
    included = {(e.resource.resource_type, e.resource.id) for e in page.entries if e.included}
    assert included == world["shared"]
    # The compartment first, then what it references, each in a stable order.
    assert all(e.included for e in page.entries[len(world["own"]) :])
    stored = {e.resource.id: e.resource.body for e in page.entries}
    for resource_type, resource_id in world["own"] | world["shared"]:
        assert stored[resource_id] == repo.read(resource_type, resource_id).body


def test_everything_pages_neither_skip_nor_repeat_while_writes_go_on(
    rt: Runtime, db: Connection
) -> None:
    repo = _repo(rt, db)
    world = _world(repo)
    seen: list[tuple[str, str]] = []
    page = repo.everything(world["patient"], count=2)
    seen += _refs(list(page.entries))
    # Between pages: a new resource, an update, a deletion.
    added = repo.create(observation(world["patient"], value=99))
    first_obs = world["observations"][0]
    repo.update("Observation", first_obs.id, orjson.loads(first_obs.body) | {"status": "amended"})
    deleted = world["observations"][-1]
    repo.delete("Observation", deleted.id)
    cursor = page.next_cursor
    while cursor is not None:
        page = repo.everything(world["patient"], count=2, cursor=cursor)
        seen += _refs(list(page.entries))
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)), "a resource was repeated"
    expected = world["own"] | world["shared"]
    missing = expected - set(seen) - {("Observation", deleted.id)}
    assert not missing, "a resource was skipped"
    assert set(seen) <= expected | {("Observation", added.id)}


def test_everything_filters_by_type_and_since(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    world = _world(repo)
    only = repo.everything(world["patient"], count=100, types={"Observation", "Practitioner"})
    refs = set(_refs(list(only.entries)))
    observations = {("Observation", o.id) for o in world["observations"]}
    doctor = {r for r in world["shared"] if r[0] == "Practitioner"}
    assert refs == observations | doctor
    mark = rt.clock.now()
    later = repo.create(observation(world["patient"], value=101))
    recent = repo.everything(world["patient"], count=100, since=mark)
    assert _refs(list(recent.entries)) == [("Observation", later.id)]
    paged = _all_pages(repo, world["patient"], count=1, types={"Observation", "Organization"})
    assert set(_refs(paged)) == observations | {("Observation", later.id)} | {
        r for r in world["shared"] if r[0] == "Organization"
    }


def test_everything_follows_access(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    world = _world(repo)
    own = _repo(rt, db, patient_context(world["patient"])).everything(world["patient"], count=50)
    # A patient sees their compartment (the directory is not theirs to read yet).
    assert set(_refs(list(own.entries))) == world["own"]
    with pytest.raises(ResourceNotFound):
        _repo(rt, db, patient_context(world["other_patient"])).everything(
            world["patient"], count=50
        )
    # References are followed only from what the client may read: no Encounter, no doctor.
    narrow = _repo(rt, db, system_context("system/Patient.rs system/Practitioner.rs"))
    refs = set(_refs(list(narrow.everything(world["patient"], count=50).entries)))
    assert refs == {("Patient", world["patient"])}
    wider = _repo(
        rt, db, system_context("system/Patient.rs system/Encounter.rs system/Practitioner.rs")
    )
    refs = set(_refs(list(wider.everything(world["patient"], count=50).entries)))
    doctor = {r for r in world["shared"] if r[0] == "Practitioner"}
    assert refs == {r for r in world["own"] if r[0] != "Observation"} | doctor
    with pytest.raises(ResourceNotFound):
        _repo(rt, db, system_context("system/Observation.rs")).everything(
            world["patient"], count=50
        )
    events = rt.audit.chain_events(db, chain_id=world["patient"], limit=3)
    assert [(e.tag, e.outcome) for e in events[:2]] == [
        ("record:patient:everything", "refused"),
        ("record:patient:everything", "success"),
    ]


def test_everything_refuses_like_absence_and_is_audited(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    world = _world(repo)
    page = repo.everything(world["patient"], count=3)
    event = rt.audit.chain_events(db, chain_id=world["patient"], limit=1)[0]
    assert event.tag == "record:patient:everything"
    assert event.detail["count"] == 3
    assert event.detail["returned"] == [
        f"{e.resource.reference}/_history/{e.resource.version}" for e in page.entries
    ]
    with pytest.raises(ResourceNotFound):
        repo.everything(patient()["id"], count=10)
    with pytest.raises(InvalidCursor):
        repo.everything(world["patient"], count=10, cursor="3.Observation.1")
    repo.delete("Patient", world["patient"])
    with pytest.raises(ResourceDeleted):
        repo.everything(world["patient"], count=10)


def _history(repo: Repository, **kwargs: Any) -> list[Any]:
    entries, cursor = [], None
    while True:
        page = (
            repo.history_type(kwargs.pop("resource_type"), cursor=cursor, **kwargs)
            if "resource_type" in kwargs
            else repo.history_system(cursor=cursor, **kwargs)
        )
        entries += page.entries
        cursor = page.next_cursor
        if cursor is None:
            return entries


def test_type_history_is_newest_first_with_deletions(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    mark = rt.clock.now() - timedelta(microseconds=1)
    world = _world(repo)
    first = world["observations"][0]
    repo.update("Observation", first.id, orjson.loads(first.body) | {"status": "amended"})
    repo.delete("Observation", world["observations"][1].id)
    page = repo.history_type("Observation", count=100, since=mark)
    versions = [(e.id, e.version, e.method) for e in page.entries]
    assert versions[0] == (world["observations"][1].id, 2, "DELETE")
    assert versions[1] == (first.id, 2, "PUT")
    assert (first.id, 1, "POST") in versions
    assert len(versions) == 6 + 2  # six observations created, one update, one deletion
    times = [e.last_updated for e in page.entries]
    assert times == sorted(times, reverse=True)
    assert page.entries[0].body is None
    assert {e.resource_type for e in page.entries} == {"Observation"}


def test_history_pages_are_stable_under_concurrent_writes(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    mark = rt.clock.now() - timedelta(microseconds=1)
    world = _world(repo)
    before = {(e.id, e.version) for e in repo.history_system(count=1000, since=mark).entries}
    seen: list[tuple[str, int]] = []
    page = repo.history_system(count=3, since=mark)
    while True:
        seen += [(e.id, e.version) for e in page.entries]
        # Writes between pages: new versions land before the first page, never in later ones.
        repo.create(observation(world["patient"]))
        obs = world["observations"][2]
        current = repo.read("Observation", obs.id)
        repo.update("Observation", obs.id, orjson.loads(current.body) | {"status": "amended"})
        if page.next_cursor is None:
            break
        page = repo.history_system(count=3, since=mark, cursor=page.next_cursor)
    assert len(seen) == len(set(seen))
    assert set(seen) == before


def test_system_history_follows_access_and_audits_per_patient(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    mark = rt.clock.now() - timedelta(microseconds=1)
    world = _world(repo)
    everything = _history(repo, count=4, since=mark)
    types = {e.resource_type for e in everything}
    assert {"Patient", "Observation", "Encounter", "Practitioner", "Organization"} <= types
    mine = _history(_repo(rt, db, patient_context(world["patient"])), count=4, since=mark)
    assert {(e.resource_type, e.id) for e in mine} == world["own"]
    scoped = _history(_repo(rt, db, system_context("system/Practitioner.rs")), count=4, since=mark)
    assert {e.resource_type for e in scoped} == {"Practitioner"}
    assert len(scoped) == 2
    nothing = _repo(rt, db, system_context("system/Practitioner.rs")).history_type(
        "Observation", count=10, since=mark
    )
    assert nothing.entries == ()
    assert nothing.next_cursor is None
    # The first listing's pages wrote the other patient's versions in their own chain.
    events = rt.audit.chain_events(db, chain_id=world["other_patient"], limit=2)
    assert {e.tag for e in events} == {"record:resource:history-system"}
    assert {r for e in events for r in e.detail["returned"]} == {
        f"Observation/{world['other'][1]}/_history/1",
        f"Patient/{world['other_patient']}/_history/1",
    }
    with pytest.raises(InvalidCursor):
        repo.history_system(count=3, cursor="yesterday")


def test_export_steps_cut_files_and_snapshot_at_kick_off(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    world = _world(repo)
    policy = ExportPolicy(file_resources=2)
    request = ExportRequest(
        level="group",
        request_url="http://testserver/fhir/Group/g/$export",
        group_id=_group(repo, world["patient"]),
    )
    export_id = repo.start_export(request, policy)
    changed = world["observations"][0]
    repo.update("Observation", changed.id, orjson.loads(changed.body) | {"status": "amended"})
    repo.create(observation(world["patient"], value=12))  # after the kick-off: left out
    steps = 0
    while repo.run_export_step(export_id, policy):
        steps += 1
    status = repo.export_status(export_id)
    assert status.state == "completed"
    counts = {}
    for f in status.files:
        counts[f.resource_type] = counts.get(f.resource_type, 0) + f.count
        assert f.count <= 2
    assert counts == {"Encounter": 1, "Observation": 5, "Patient": 1}
    lines: dict[str, bytes] = {}
    for f in status.files:
        download = repo.export_download(export_id, f.id)
        for index in range(download.parts):
            for line in repo.export_part(download, index):
                body = orjson.loads(line)
                lines[body["id"]] = line
    # The version as of the kick-off, not the update made since.
    assert orjson.loads(lines[changed.id])["status"] == "final"
    assert lines[world["patient"]].rstrip(b"\n") == repo.read("Patient", world["patient"]).body
    row = db.execute(text("SELECT key_owner FROM record_export WHERE id = :i"), {"i": export_id})
    assert row.scalar_one() == world["patient"]  # one patient: sealed under their own key


def test_a_patient_exports_their_own_record_only(rt: Runtime, db: Connection) -> None:
    world = _world(_repo(rt, db))
    own = _repo(rt, db, patient_context(world["patient"]))
    request = ExportRequest(level="patient", request_url="http://testserver/fhir/Patient/$export")
    export_id = own.start_export(request, ExportPolicy())
    while own.run_export_step(export_id, ExportPolicy()):
        pass
    status = own.export_status(export_id)
    exported = set()
    for f in status.files:
        download = own.export_download(export_id, f.id)
        for index in range(download.parts):
            exported |= {
                (orjson.loads(line)["resourceType"], orjson.loads(line)["id"])
                for line in own.export_part(download, index)
            }
    assert exported == world["own"]
    with pytest.raises(ExportNotFound):  # nobody else sees it, not even a system client
        _repo(rt, db).export_status(export_id)
    events = rt.audit.chain_events(db, chain_id=world["patient"], limit=20)
    tags = {e.tag for e in events}
    assert {"record:export:start", "record:export:complete", "record:export:download"} <= tags


def test_deleting_a_running_export_stops_it_and_drops_its_parts(
    rt: Runtime, db: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from carnet.record import export_steps

    monkeypatch.setattr(export_steps, "STEP_ROWS", 2)  # many small steps
    repo = _repo(rt, db)
    world = _world(repo)
    request = ExportRequest(level="group", request_url="x", group_id=_group(repo, world["patient"]))
    export_id = repo.start_export(request, ExportPolicy())
    assert repo.run_export_step(export_id, ExportPolicy())  # more to do
    status = repo.export_status(export_id)
    assert status.state == "in-progress"
    assert status.written == 2
    parts = db.execute(
        text("SELECT count(*) FROM storage_blob WHERE owner_id = :p"), {"p": world["patient"]}
    ).scalar_one()
    assert parts == 2  # one part for each type the step met (an Encounter, an Observation)
    repo.delete_export(export_id)
    assert not repo.run_export_step(export_id, ExportPolicy())  # the next step finds nothing
    with pytest.raises(ExportNotFound):
        repo.export_status(export_id)
    left = db.execute(
        text("SELECT count(*) FROM storage_blob WHERE owner_id = :p"), {"p": world["patient"]}
    ).scalar_one()
    assert left == 0
    events = rt.audit.chain_events(db, chain_id=world["patient"], limit=5)
    assert events[0].tag == "record:export:delete"


def test_a_group_is_shared_and_its_export_reads_it_through_the_door(
    rt: Runtime, db: Connection
) -> None:
    repo = _repo(rt, db)
    world = _world(repo)
    group_id = _group(repo, world["patient"], world["other_patient"])
    stored = repo.read("Group", group_id)
    assert stored.patient_id is None  # in no compartment: sealed under the system's key
    mine = _refs(_all_pages(repo, world["patient"], count=50))
    assert ("Group", group_id) not in mine
    with pytest.raises(ResourceNotFound):  # a member reading their record does not see it
        _repo(rt, db, patient_context(world["patient"])).read("Group", group_id)
    # The members come from the Group as the actor may read it, and that read is audited.
    request = ExportRequest(level="group", request_url="x", group_id=group_id)
    export_id = repo.start_export(request, ExportPolicy())
    while repo.run_export_step(export_id, ExportPolicy()):
        pass
    exported = set()
    for f in repo.export_status(export_id).files:
        download = repo.export_download(export_id, f.id)
        for index in range(download.parts):
            exported |= {orjson.loads(line)["id"] for line in repo.export_part(download, index)}
    assert {world["patient"], world["other_patient"], world["other"][1]} <= exported
    assert group_id not in exported
    reads = rt.audit.chain_events(db, chain_id="_system", limit=20)
    assert any(e.entity == f"Group/{group_id}/_history/1" for e in reads)
    # A Group the actor may not read is absent: no export starts.
    observations_only = _repo(rt, db, system_context("system/Observation.rs"))
    with pytest.raises(ResourceNotFound):
        observations_only.start_export(request, ExportPolicy())
    with pytest.raises(ResourceNotFound):
        repo.start_export(
            ExportRequest(level="group", request_url="x", group_id="nope"), ExportPolicy()
        )
