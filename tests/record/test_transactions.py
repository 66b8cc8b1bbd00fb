"""Bundles through the repository: transactions all or nothing, batches entry by entry.

Links between entries resolved, FHIR's processing order, every kind of bad input refused with
the entry named, and the audit: one event per chain for a transaction, only the failure when it
rolls back.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

import orjson
import pytest
from sqlalchemy import Connection, text
from tests.bundles import bundle, delete, get, observation_of, patch, post, put, urn
from tests.factories import observation, patient, system_context

from carnet.core.db import metadata
from carnet.core.errors import ClientError, PayloadTooLarge
from carnet.record.errors import (
    EntryFailed,
    InvalidBundle,
    InvalidResource,
    MultipleMatches,
    ResourceNotFound,
    VersionMismatch,
    WriteRefused,
)
from carnet.record.service import BundlePlan, BundleResult, Repository
from carnet.runtime import Runtime


def _repo(rt: Runtime, db: Connection, ctx: Any = None) -> Repository:
    return rt.record.repository(db=db, ctx=ctx or system_context())


def _plan(rt: Runtime, value: dict[str, Any], limit: int = 1000) -> BundlePlan:
    return rt.record.prepare_bundle(value, max_entries=limit, base_url="http://testserver/fhir")


def _run(rt: Runtime, db: Connection, value: dict[str, Any], ctx: Any = None) -> BundleResult:
    return _repo(rt, db, ctx).bundle(_plan(rt, value))


def _body(repo: Repository, reference: str) -> dict[str, Any]:
    resource_type, resource_id = reference.split("/")
    return dict(orjson.loads(repo.read(resource_type, resource_id).body))


def _counts(db: Connection) -> dict[str, int]:
    """Rows of every table but the audit trail's (records, versions, indexes, keys, blobs)."""
    names = [t.name for t in metadata.sorted_tables if not t.name.startswith("audit_")]
    return {name: db.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one() for name in names}


def _events(db: Connection, chain: str) -> list[Any]:
    return list(
        db.execute(
            text(
                "SELECT tag, outcome, entity, detail FROM audit_event WHERE chain_id = :c "
                "ORDER BY seq"
            ),
            {"c": chain},
        )
    )


def _failure(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    issue = excinfo.value.issues[0]
    return issue.diagnostics, issue.expression or ""


def test_a_transaction_resolves_links_and_stores_everything(rt: Runtime, db: Connection) -> None:
    person, obs, clinic = urn(), urn(), urn()
    value = bundle(
        "transaction",
        post(observation_of(person), obs),
        post(patient() | {"managingOrganization": {"reference": clinic}}, person),
        post({"resourceType": "Organization", "name": "Cabinet"}, clinic),
        post(
            {
                "resourceType": "Provenance",
                "target": [{"reference": obs}],
                "recorded": "2025-01-01T00:00:00Z",
                "agent": [{"who": {"reference": clinic}}],
                "text": {
                    "status": "generated",
                    "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><a href="{obs}">x</a></div>',
                },
            }
        ),
    )
    result = _run(rt, db, value)
    assert result.kind == "transaction"
    assert [e.action for e in result.entries] == ["created"] * 4
    stored = [e.resource for e in result.entries]
    assert all(s is not None for s in stored)
    obs_ref, patient_ref, clinic_ref, provenance_ref = (s.reference for s in stored if s)
    repo = _repo(rt, db)
    assert _body(repo, obs_ref)["subject"]["reference"] == patient_ref
    assert _body(repo, patient_ref)["managingOrganization"]["reference"] == clinic_ref
    provenance = _body(repo, provenance_ref)
    assert provenance["target"][0]["reference"] == obs_ref
    assert f'href="{obs_ref}"' in provenance["text"]["div"]
    # The observation sits in the new patient's compartment.
    assert stored[0] is not None and stored[0].patient_id == patient_ref.split("/")[1]
    assert "urn:uuid" not in repo.read("Observation", obs_ref.split("/")[1]).body.decode()


def test_a_post_gets_a_new_id_and_a_put_keeps_its_own(rt: Runtime, db: Connection) -> None:
    sent = patient()
    kept = patient()
    result = _run(rt, db, bundle("transaction", post(dict(sent)), put(kept)))
    created, updated = result.entries
    assert created.resource is not None and created.resource.id != sent["id"]
    assert updated.resource is not None and updated.resource.id == kept["id"]
    assert updated.action == "created"  # an update that creates


def test_processing_order_is_delete_post_put_then_get(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    person = patient()
    repo.update("Patient", person["id"], person)
    doomed = repo.create(observation(person["id"]))
    reread = {**observation(person["id"], value=99.0), "id": doomed.id}
    value = bundle(
        "transaction",
        get(f"Patient/{person['id']}/_history"),
        put({**person, "gender": "male"}),
        post(observation(person["id"]), urn()),
        delete(f"Observation/{doomed.id}"),
    )
    result = _run(rt, db, value)
    read, updated, created, deleted = result.entries
    assert (read.action, updated.action, created.action, deleted.action) == (
        "read",
        "updated",
        "created",
        "deleted",
    )
    # The history was read last: it already has the update's version.
    assert read.history is not None and [h.version for h in read.history] == [2, 1]
    assert deleted.version == 2
    with pytest.raises(ClientError):
        repo.read("Observation", doomed.id)
    del reread


def test_a_failing_entry_leaves_no_trace_but_its_audit_event(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    person = patient()
    repo.update("Patient", person["id"], person)
    before = _counts(db)
    events_before = len(_events(db, person["id"]))
    png = base64.b64encode(b"\x89PNG fake").decode()
    value = bundle(
        "transaction",
        post(observation_of(f"Patient/{person['id']}"), urn()),
        post(
            {
                "resourceType": "Binary",
                "contentType": "image/png",
                "securityContext": {"reference": f"Patient/{person['id']}"},
                "data": png,
            }
        ),
        post(patient(), urn()),
        # Processed after the creations, and fails: everything above is undone.
        put({**person, "gender": "male"}, if_match='W/"7"'),
    )
    with pytest.raises(EntryFailed) as excinfo:
        _run(rt, db, value)
    assert isinstance(excinfo.value.cause, VersionMismatch)
    assert excinfo.value.index == 3
    assert _failure(excinfo)[1] == "Bundle.entry[3]"
    assert _counts(db) == before  # resources, versions, index rows, keys, blobs
    events = _events(db, person["id"])[events_before:]
    assert len(events) == 1
    assert events[0].outcome == "conflict"
    assert orjson.loads(events[0].detail)["entry"] == 3


def test_a_refused_entry_is_audited_in_its_patients_chain(rt: Runtime, db: Connection) -> None:
    person = patient()
    _repo(rt, db).update("Patient", person["id"], person)
    reader = system_context("system/Patient.cruds system/Observation.rs")
    value = bundle(
        "transaction",
        put({**person, "gender": "male"}),
        post(observation_of(f"Patient/{person['id']}"), urn()),
    )
    with pytest.raises(EntryFailed) as excinfo:
        _run(rt, db, value, reader)
    assert isinstance(excinfo.value.cause, WriteRefused)
    assert excinfo.value.index == 1
    last = _events(db, person["id"])[-1]
    assert (last.tag, last.outcome) == ("record:resource:create", "refused")
    detail = orjson.loads(last.detail)
    assert detail["rule"] == "system-scope-missing"
    assert detail["entry"] == 1
    assert _repo(rt, db).read("Patient", person["id"]).version == 1  # the PUT was undone


def test_a_transaction_is_one_audit_event_per_chain(rt: Runtime, db: Connection) -> None:
    person = urn()
    value = bundle(
        "transaction",
        post(patient(), person),
        *[post(observation_of(person, value=60 + i), urn()) for i in range(5)],
        post({"resourceType": "Practitioner", "name": [{"family": "Martin"}]}, urn()),
    )
    result = _run(rt, db, value)
    created = [e.resource for e in result.entries if e.resource is not None]
    owner = created[0].id
    events = _events(db, owner)
    assert [(e.tag, e.outcome) for e in events] == [("record:bundle:transaction", "success")]
    listed = events[0].entity.split()
    assert len(listed) == 6
    assert f"Patient/{owner}/_history/1" in listed
    assert orjson.loads(events[0].detail) == {"entries": 7, "create": 6}
    system = _events(db, "_system")[-1]
    assert system.entity == f"Practitioner/{created[-1].id}/_history/1"


@pytest.mark.parametrize(
    ("entry", "fault"),
    [
        ({"resource": {"resourceType": "Patient"}}, "needs a request"),
        ({"request": {"method": "TRACE", "url": "Patient"}}, "request.method"),
        ({"request": {"method": "POST", "url": "ValueSet/$expand"}}, "Operations"),
        ({"request": {"method": "GET", "url": "Spaceship/1"}}, "resource type"),
        ({"request": {"method": "POST", "url": "Patient"}}, "needs a resource"),
        (
            {
                "resource": {"resourceType": "Observation"},
                "request": {"method": "POST", "url": "Patient"},
            },
            "type differs",
        ),
        (
            {
                "resource": {"resourceType": "Bundle", "type": "transaction"},
                "request": {"method": "POST", "url": "Bundle"},
            },
            "cannot be an entry",
        ),
        (
            {"resource": patient("abc"), "request": {"method": "PUT", "url": "Patient/xyz"}},
            "id differs",
        ),
        ({"request": {"method": "DELETE", "url": "Patient"}}, "cannot take this request.url"),
        (post(observation_of("urn:uuid:0e4e7b3c-0000-4000-8000-000000000000")), "names no entry"),
    ],
)
def test_bad_entries_fail_the_transaction_naming_them(
    rt: Runtime, db: Connection, entry: dict[str, Any], fault: str
) -> None:
    before = _counts(db)
    value = bundle("transaction", post(patient(), urn()), entry)
    with pytest.raises(EntryFailed) as excinfo:
        _run(rt, db, value)
    diagnostics, expression = _failure(excinfo)
    assert fault in diagnostics
    assert diagnostics.startswith("Entry 1")
    assert expression.startswith("Bundle.entry[1]")
    assert _counts(db) == before
    last = _events(db, "_system")[-1]
    assert last.tag in {"record:bundle:transaction", "record:resource:read"}


def test_an_invalid_resource_names_its_element(rt: Runtime, db: Connection) -> None:
    value = bundle("transaction", post({**observation_of("Patient/x"), "status": "maybe"}))
    with pytest.raises(EntryFailed) as excinfo:
        _run(rt, db, value)
    assert isinstance(excinfo.value.cause, InvalidResource)
    assert _failure(excinfo)[1] == "Bundle.entry[0].resource.status"


def test_bundle_level_faults(rt: Runtime, db: Connection) -> None:
    twice = urn()
    with pytest.raises(InvalidBundle, match="repeats the fullUrl"):
        _run(rt, db, bundle("transaction", post(patient(), twice), post(patient(), twice)))
    with pytest.raises(InvalidBundle, match="transaction or batch"):
        _run(rt, db, bundle("collection", post(patient())))
    with pytest.raises(PayloadTooLarge):
        _repo(rt, db).bundle(_plan(rt, bundle("batch", *[post(patient())] * 3), limit=2))
    person = patient()
    with pytest.raises(EntryFailed, match="change the same resource"):
        _run(rt, db, bundle("transaction", put(person), put({**person, "gender": "male"})))


def test_relative_references_follow_absolute_full_urls(rt: Runtime, db: Connection) -> None:
    base = "http://elsewhere.example/fhir"
    value = bundle(
        "transaction",
        post(observation_of("Patient/a2"), urn()),
        post(patient("a2"), f"{base}/Patient/a2"),
        post(
            {
                "resourceType": "DocumentReference",
                "status": "current",
                "subject": {"reference": f"{base}/Patient/a2"},
                "content": [{"attachment": {"url": f"{base}/Binary/b1"}}],
            },
            urn(),
        ),
        post({"resourceType": "Binary", "contentType": "text/plain"}, f"{base}/Binary/b1"),
    )
    result = _run(rt, db, value)
    obs, person, document, binary = (e.resource for e in result.entries)
    assert obs is not None and person is not None and document is not None and binary is not None
    assert person.id != "a2"
    repo = _repo(rt, db)
    assert _body(repo, obs.reference)["subject"]["reference"] == person.reference
    stored = _body(repo, document.reference)
    assert stored["subject"]["reference"] == person.reference
    assert stored["content"][0]["attachment"]["url"] == binary.reference


def test_identifiers_that_spell_a_full_url_are_kept(rt: Runtime, db: Connection) -> None:
    own = urn()
    composition = {
        "resourceType": "Basic",
        "code": {"text": "note"},
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": own}],
    }
    result = _run(rt, db, bundle("transaction", post(composition, own)))
    stored = result.entries[0].resource
    assert stored is not None
    assert _body(_repo(rt, db), stored.reference)["identifier"][0]["value"] == own


def test_patch_and_reads_inside_a_transaction(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    person = patient()
    repo.update("Patient", person["id"], person)
    value = bundle(
        "transaction",
        get(f"Patient/{person['id']}/_history/2"),
        patch(f"Patient/{person['id']}", [{"op": "replace", "path": "/gender", "value": "other"}]),
    )
    read, patched = _run(rt, db, value).entries
    assert patched.action == "updated"
    assert read.resource is not None and orjson.loads(read.resource.body)["gender"] == "other"


def test_a_batch_runs_each_entry_on_its_own(rt: Runtime, db: Connection) -> None:
    person = patient()
    linked = urn()
    value = bundle(
        "batch",
        put(person),
        post({**observation_of(f"Patient/{person['id']}"), "status": "maybe"}),
        post(observation_of(linked)),
        get("Patient/does-not-exist"),
        post(observation_of(f"Patient/{person['id']}")),
        post(patient(), linked),
    )
    result = _run(rt, db, value)
    assert result.kind == "batch"
    actions = [e.action for e in result.entries]
    assert actions == ["created", "failed", "failed", "failed", "created", "created"]
    invalid, unlinked, missing = (result.entries[i].error for i in (1, 2, 3))
    assert isinstance(invalid, InvalidResource)
    assert isinstance(unlinked, InvalidBundle) and "independent" in unlinked.message
    assert isinstance(missing, ResourceNotFound)
    # Each entry was audited on its own, as a single interaction would be.
    tags = [e.tag for e in _events(db, person["id"])]
    assert sorted(tags) == ["record:resource:create", "record:resource:update"]


def _someone(nir: str | None = None) -> dict[str, Any]:
    return patient(nir=nir or str(10**14 + secrets.randbelow(9 * 10**14)))


def _criteria(person: dict[str, Any]) -> str:
    identifier = person["identifier"][0]
    return f"identifier={identifier['system']}|{identifier['value']}"


def test_conditional_create_links_to_what_it_found(rt: Runtime, db: Connection) -> None:
    known = _someone()
    _repo(rt, db).update("Patient", known["id"], known)
    person, fresh = urn(), _someone()
    value = bundle(
        "transaction",
        post(_someone(known["identifier"][0]["value"]), person, if_none_exist=_criteria(known)),
        post(observation_of(person), urn()),
        post(fresh, urn(), if_none_exist=_criteria(fresh)),
    )
    matched, obs, created = _run(rt, db, value).entries
    assert matched.action == "matched"
    assert matched.resource is not None and matched.resource.id == known["id"]
    assert created.action == "created"
    # The observation links to the patient found, not to a new one.
    assert obs.resource is not None and obs.resource.patient_id == known["id"]
    assert _body(_repo(rt, db), obs.resource.reference)["subject"]["reference"] == (
        f"Patient/{known['id']}"
    )
    assert _repo(rt, db).read("Patient", known["id"]).version == 1


def test_conditional_update_patch_and_delete(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    known, other, absent = _someone(), _someone(), _someone()
    repo.update("Patient", known["id"], known)
    repo.update("Patient", other["id"], other)
    value = bundle(
        "transaction",
        put({**known, "gender": "male"}, url=f"Patient?{_criteria(known)}"),
        put({k: v for k, v in absent.items() if k != "id"}, url=f"Patient?{_criteria(absent)}"),
        patch(f"Patient?{_criteria(other)}", [{"op": "add", "path": "/active", "value": True}]),
        delete(f"Patient?{_criteria(_someone())}"),
    )
    updated, created, patched, nothing = _run(rt, db, value).entries
    assert (updated.action, created.action, patched.action, nothing.action) == (
        "updated",
        "created",
        "updated",
        "deleted",
    )
    assert updated.resource is not None and updated.resource.id == known["id"]
    assert nothing.version is None
    deleted = _run(rt, db, bundle("transaction", delete(f"Patient?{_criteria(other)}")))
    assert deleted.entries[0].version == 3
    with pytest.raises(EntryFailed) as excinfo:
        _run(
            rt,
            db,
            bundle(
                "transaction", put({**known, "id": "elsewhere"}, url=f"Patient?{_criteria(known)}")
            ),
        )
    assert "differs from the one the criteria found" in _failure(excinfo)[0]


def test_conditional_references_are_resolved_by_search(rt: Runtime, db: Connection) -> None:
    known = _someone()
    _repo(rt, db).update("Patient", known["id"], known)
    value = bundle("transaction", post(observation_of(f"Patient?{_criteria(known)}"), urn()))
    obs = _run(rt, db, value).entries[0].resource
    assert obs is not None and obs.patient_id == known["id"]
    assert _body(_repo(rt, db), obs.reference)["subject"]["reference"] == f"Patient/{known['id']}"
    nobody = bundle("transaction", post(observation_of(f"Patient?{_criteria(_someone())}")))
    with pytest.raises(EntryFailed, match="matches no resource"):
        _run(rt, db, nobody)
    in_batch = _run(rt, db, bundle("batch", post(observation_of(f"Patient?{_criteria(known)}"))))
    assert isinstance(in_batch.entries[0].error, InvalidBundle)


def test_several_matches_and_circular_criteria_fail(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    twin = _someone()
    repo.update("Patient", twin["id"], twin)
    repo.update("Patient", "twin-" + twin["id"][:20], {**twin, "id": "twin-" + twin["id"][:20]})
    with pytest.raises(EntryFailed) as excinfo:
        _run(rt, db, bundle("transaction", post(_someone(), if_none_exist=_criteria(twin))))
    assert isinstance(excinfo.value.cause, MultipleMatches)
    first, second = urn(), urn()
    circular = bundle(
        "transaction",
        post(_someone(), first, if_none_exist=f"link={second}"),
        post(_someone(), second, if_none_exist=f"link={first}"),
    )
    with pytest.raises(EntryFailed, match="depend on each other"):
        _run(rt, db, circular)


def test_an_empty_transaction_does_nothing(rt: Runtime, db: Connection) -> None:
    before = _counts(db)
    assert _run(rt, db, bundle("transaction")).entries == ()
    assert _counts(db) == before


def test_a_failed_transaction_leaves_no_trace_in_process_caches(rt: Runtime) -> None:
    """Work undone with a savepoint must not run its after-commit callbacks, although the
    transaction around it commits (for the audit event): here, the cache of patient index keys
    would otherwise remember a key that no row holds (and SQLite may give it to another)."""
    person = patient()
    value = bundle(
        "transaction",
        put(person),
        post(observation_of(f"Patient/{person['id']}")),
        get("Patient/nobody-at-all"),  # read last, and fails: everything above is undone
    )
    with pytest.raises(EntryFailed), rt.transaction() as db:
        _run(rt, db, value)
    assert person["id"] not in rt.record.patient_keys._known
    with rt.transaction(readonly=True) as db:
        assert (
            db.execute(
                text("SELECT count(*) FROM record_patient WHERE patient_id = :p"),
                {"p": person["id"]},
            ).scalar_one()
            == 0
        )


def test_if_match_guards_deletions_too(rt: Runtime, db: Connection) -> None:
    person = patient()
    _repo(rt, db).update("Patient", person["id"], person)
    stale = {"request": {"method": "DELETE", "url": f"Patient/{person['id']}", "ifMatch": 'W/"2"'}}
    with pytest.raises(EntryFailed) as excinfo:
        _run(rt, db, bundle("transaction", stale))
    assert isinstance(excinfo.value.cause, VersionMismatch)
    stale["request"]["ifMatch"] = 'W/"1"'
    assert _run(rt, db, bundle("transaction", stale)).entries[0].version == 2
