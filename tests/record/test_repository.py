"""The record repository: versioned, encrypted, indexed, audited, and refusing like absence."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from sqlalchemy import Connection, text
from tests.factories import observation, patient, patient_context, system_context

from carnet.core.errors import Gone
from carnet.record.errors import (
    InvalidResource,
    MismatchedResource,
    ResourceDeleted,
    ResourceNotFound,
    UnknownResourceType,
    VersionMismatch,
    WriteRefused,
)
from carnet.record.hashes import param_id, value_hash
from carnet.record.service import Repository
from carnet.runtime import Runtime


def _repo(rt: Runtime, db: Connection, ctx: Any = None) -> Repository:
    return rt.record.repository(db=db, ctx=ctx or system_context())


def _audit(db: Connection, chain: str) -> list[tuple[str, str]]:
    rows = db.execute(
        text("SELECT tag, outcome FROM audit_event WHERE chain_id = :c ORDER BY seq"), {"c": chain}
    )
    return [(r.tag, r.outcome) for r in rows]


def _body(stored: Any) -> dict[str, Any]:
    return orjson.loads(stored.body)


def test_create_read_round_trip(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    person = patient()
    created = repo.update("Patient", person["id"], person).resource
    obs = repo.create(observation(person["id"]))
    assert obs.version == 1
    assert obs.patient_id == person["id"]
    read = repo.read("Observation", obs.id)
    body = _body(read)
    assert body["meta"]["versionId"] == "1"
    assert body["id"] == obs.id
    assert body["valueQuantity"]["value"] == 71.5
    assert read.etag == 'W/"1"'
    assert _body(repo.read("Patient", person["id"]))["name"] == person["name"]
    assert created.version == 1
    assert _audit(db, person["id"])[-1] == ("record:resource:read", "success")


def test_versions_history_and_if_match(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    person = patient()
    repo.update("Patient", person["id"], person)
    first = repo.create(observation(person["id"], value=70.0))
    changed = {**observation(person["id"], value=72.0), "id": first.id}
    second = repo.update("Observation", first.id, changed, if_match=1)
    assert second.resource.version == 2
    assert not second.created
    with pytest.raises(VersionMismatch):
        repo.update("Observation", first.id, changed, if_match=1)
    assert _body(repo.vread("Observation", first.id, 1))["valueQuantity"]["value"] == 70.0
    history = repo.history("Observation", first.id)
    assert [(h.version, h.method) for h in history] == [(2, "PUT"), (1, "POST")]
    with pytest.raises(ResourceNotFound):
        repo.vread("Observation", first.id, 3)


def test_delete_keeps_history_and_allows_resurrection(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    person = patient()
    repo.update("Patient", person["id"], person)
    obs = repo.create(observation(person["id"]))
    assert repo.delete("Observation", obs.id).version == 2
    with pytest.raises(ResourceDeleted):
        repo.read("Observation", obs.id)
    with pytest.raises(ResourceDeleted):
        repo.vread("Observation", obs.id, 2)
    assert _body(repo.vread("Observation", obs.id, 1))["status"] == "final"
    assert [h.method for h in repo.history("Observation", obs.id)] == ["DELETE", "POST"]
    assert repo.delete("Observation", obs.id).version == 2  # idempotent
    assert repo.delete("Observation", "no-such-id").version is None
    again = repo.update("Observation", obs.id, {**observation(person["id"]), "id": obs.id})
    assert again.resource.version == 3


def test_patient_sees_own_compartment_and_nothing_else(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    alice, bob = patient(), patient(family="Moreau", nir="185057511300142")
    repo.update("Patient", alice["id"], alice)
    repo.update("Patient", bob["id"], bob)
    alices_obs = repo.create(observation(alice["id"]))
    bobs_obs = repo.create(observation(bob["id"]))
    as_alice = _repo(rt, db, patient_context(alice["id"]))
    assert as_alice.read("Observation", alices_obs.id).id == alices_obs.id
    with pytest.raises(ResourceNotFound) as refused:
        as_alice.read("Observation", bobs_obs.id)
    with pytest.raises(ResourceNotFound) as absent:
        as_alice.read("Observation", "does-not-exist")
    assert str(refused.value) == str(absent.value)
    assert refused.value.issues == absent.value.issues
    # The refusal is in Bob's chain: he will see that someone tried.
    assert _audit(db, bob["id"])[-1] == ("record:resource:read", "refused")
    with pytest.raises(ResourceNotFound):
        as_alice.history("Observation", bobs_obs.id)
    with pytest.raises(WriteRefused):
        as_alice.update("Observation", bobs_obs.id, {**observation(bob["id"]), "id": bobs_obs.id})
    with pytest.raises(WriteRefused):
        as_alice.create(observation(bob["id"]))  # never into someone else's space
    assert _audit(db, bob["id"])[-1] == ("record:resource:create", "refused")
    assert as_alice.create(observation(alice["id"])).patient_id == alice["id"]  # her own space


def test_scopes_limit_a_system_client(rt: Runtime, db: Connection) -> None:
    person = patient()
    _repo(rt, db).update("Patient", person["id"], person)
    observer = _repo(rt, db, system_context("system/Observation.cruds"))
    observer.create(observation(person["id"]))
    with pytest.raises(ResourceNotFound):
        observer.read("Patient", person["id"])
    reader = _repo(rt, db, system_context("system/*.rs"))
    with pytest.raises(WriteRefused):
        reader.create(observation(person["id"]))


def test_invalid_resource_names_the_element_and_stores_nothing(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    before = db.execute(text("SELECT count(*) FROM record_resource")).scalar_one()
    bad = observation("p") | {"status": "not-a-status", "foo": 1}
    with pytest.raises(InvalidResource) as raised:
        repo.create(bad)
    expressions = {issue.expression for issue in raised.value.issues}
    assert any(e and "status" in e for e in expressions)
    assert any(e and "foo" in e for e in expressions) or any(
        "foo" in issue.diagnostics for issue in raised.value.issues
    )
    two_values = observation("p") | {"valueString": "heavy"}
    with pytest.raises(InvalidResource):
        repo.create(two_values)
    missing_code = {k: v for k, v in observation("p").items() if k != "code"}
    with pytest.raises(InvalidResource) as missing:
        repo.create(missing_code)
    assert any("code" in (i.expression or i.diagnostics) for i in missing.value.issues)
    assert db.execute(text("SELECT count(*) FROM record_resource")).scalar_one() == before
    with pytest.raises(UnknownResourceType):
        repo.read("Spaceship", "x")


def test_url_and_body_must_agree(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    person = patient()
    with pytest.raises(MismatchedResource):
        repo.update("Patient", "another-id", person)
    with pytest.raises(MismatchedResource):
        repo.update("Observation", person["id"], person)


def test_bodies_and_identifying_values_are_not_in_clear(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    person = patient(family="Zylberstein", given="Prudence", nir="284067511300126")
    repo.update("Patient", person["id"], person)
    repo.create(observation(person["id"]))
    dump = " ".join(
        repr(row)
        for table in (
            "record_resource",
            "record_index_token",
            "record_index_string",
            "record_index_date",
            "record_index_blind",
            "record_index_reference",
        )
        for row in db.execute(text(f"SELECT * FROM {table}"))
    ).lower()
    for secret in ("zylberstein", "prudence", "284067511300126", "1984-06-17", "example.org"):
        assert secret not in dump
    blind = (
        db.execute(
            text(
                "SELECT b.param_id FROM record_index_blind b JOIN record_patient p "
                "ON p.key = b.patient_key WHERE p.patient_id = :p"
            ),
            {"p": person["id"]},
        )
        .scalars()
        .all()
    )
    wanted = {param_id("Patient", code) for code in ("family", "birthdate", "identifier")}
    assert wanted <= set(blind)


def test_index_rows_follow_the_current_version(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    person = patient()
    repo.update("Patient", person["id"], person)
    obs = repo.create(observation(person["id"], code="29463-7"))

    def codes() -> set[int]:
        return set(
            db.execute(
                text(
                    "SELECT t.code_hash FROM record_index_token t JOIN record_resource r "
                    "ON r.key = t.resource_key WHERE r.id = :id AND t.param_id = :param"
                ),
                {"id": obs.id, "param": param_id("Observation", "code")},
            ).scalars()
        )

    assert value_hash("29463-7") in codes()
    repo.update("Observation", obs.id, {**observation(person["id"], code="8302-2"), "id": obs.id})
    assert codes() == {value_hash("8302-2")}
    repo.delete("Observation", obs.id)
    assert codes() == set()


def test_compartment_follows_the_subject(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    a, b = patient(), patient()
    repo.update("Patient", a["id"], a)
    repo.update("Patient", b["id"], b)
    obs = repo.create(observation(a["id"]))
    moved = repo.update("Observation", obs.id, {**observation(b["id"]), "id": obs.id})
    assert moved.resource.patient_id == b["id"]
    assert (
        _body(repo.vread("Observation", obs.id, 1))["subject"]["reference"] == f"Patient/{a['id']}"
    )


def test_binary_content_lives_encrypted_in_the_blob_store(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    person = patient()
    repo.update("Patient", person["id"], person)
    pdf = b"%PDF-1.4\n% synthetic letter\n" + bytes(range(256)) * 4
    binary = repo.create(
        {
            "resourceType": "Binary",
            "contentType": "application/pdf",
            "securityContext": {"reference": f"Patient/{person['id']}"},
            "data": base64.b64encode(pdf).decode(),
        }
    )
    assert binary.patient_id == person["id"]
    assert base64.b64decode(_body(repo.read("Binary", binary.id))["data"]) == pdf
    row = db.execute(
        text("SELECT body, blob_id FROM record_resource WHERE id = :i"), {"i": binary.id}
    ).one()
    assert row.blob_id is not None
    assert len(row.body) < 400  # the content is not in the row
    sealed = rt.storage.blobs.get(row.blob_id)
    assert sealed is not None
    assert b"synthetic letter" not in sealed


def test_crypto_shredding_makes_the_record_gone(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    person = patient()
    repo.update("Patient", person["id"], person)
    obs = repo.create(observation(person["id"]))
    rt.storage.destroy_data_key(db, owner_id=person["id"])
    for resource_type, resource_id in (("Patient", person["id"]), ("Observation", obs.id)):
        with pytest.raises(Gone):
            repo.read(resource_type, resource_id)
    with pytest.raises(Gone):
        repo.history("Observation", obs.id)
    with pytest.raises(Gone):
        repo.create(observation(person["id"]))  # nothing new can be written there either
    assert _audit(db, person["id"])[-1] == ("record:resource:create", "gone")


def test_every_call_is_audited_and_the_chains_verify(rt: Runtime, db: Connection) -> None:
    repo = _repo(rt, db)
    person = patient()
    repo.update("Patient", person["id"], person)
    obs = repo.create(observation(person["id"]))
    repo.read("Observation", obs.id)
    repo.history("Observation", obs.id)
    repo.delete("Observation", obs.id)
    tags = [tag for tag, _ in _audit(db, person["id"])]
    assert tags == [
        "record:resource:update",
        "record:resource:create",
        "record:resource:read",
        "record:resource:history",
        "record:resource:delete",
    ]
    assert rt.audit.verify(db).ok
