"""Visibility labels (``meta.security``) hold documents back from the patient's side on every
path: read, vread, history, search (pages and totals), ``_include``, ``$everything``, type and
system history, and writes; lifting the label makes every version readable."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection
from tests.factories import patient, patient_context, system_context

from carnet.access.schemas import AccessContext
from carnet.core.actor import Actor, ActorKind
from carnet.record.errors import AlreadyShownToPatient, ResourceNotFound, WriteRefused
from carnet.record.service import Repository
from carnet.runtime import Runtime

LABELS = "urn:oid:1.2.250.1.213.1.1.4.13"


def document(patient_id: str, title: str, *labels: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "status": "current",
        "subject": {"reference": f"Patient/{patient_id}"},
        "description": title,
        "content": [{"attachment": {"contentType": "text/plain", "title": title}}],
    }
    if labels:
        resource["meta"] = {"security": [{"system": LABELS, "code": code} for code in labels]}
    return resource


def representative(patient_id: str) -> AccessContext:
    return AccessContext(actor=Actor(ActorKind.REPRESENTATIVE, "parent"), patient_id=patient_id)


@pytest.fixture
def space(rt: Runtime, db: Connection) -> dict[str, str]:
    repo = rt.record.repository(db=db, ctx=system_context())
    person = patient(nir="284067511300126")
    repo.update("Patient", person["id"], person)
    ids = {"patient": person["id"]}
    for name, labels in {
        "plain": (),
        "masked": ("MASQUE_PS",),
        "held": ("INVISIBLE_PATIENT",),
        "secret": ("INVISIBLE_REPRESENTANTS_LEGAUX",),
    }.items():
        ids[name] = repo.create(document(person["id"], name, *labels)).id
    return ids


def _ids(repo: Repository, *params: tuple[str, str]) -> set[str]:
    result = repo.search("DocumentReference", list(params))
    return {m.id for m in result.matches}


def test_the_holder_never_reaches_a_document_held_back_from_them(
    rt: Runtime, db: Connection, space: dict[str, str]
) -> None:
    repo = rt.record.repository(db=db, ctx=patient_context(space["patient"]))
    assert _ids(repo) == {space["plain"], space["masked"], space["secret"]}
    total = repo.search("DocumentReference", [("_count", "0"), ("_total", "accurate")]).total
    assert total == 3
    for path in (
        lambda: repo.read("DocumentReference", space["held"]),
        lambda: repo.vread("DocumentReference", space["held"], 1),
        lambda: repo.history("DocumentReference", space["held"]),
    ):
        with pytest.raises(ResourceNotFound):
            path()
    everything = repo.everything(space["patient"], count=100)
    assert space["held"] not in {entry.resource.id for entry in everything.entries}
    with_patient = repo.search("Patient", [("_revinclude", "DocumentReference:subject")])
    assert space["held"] not in {r.id for r in with_patient.included}
    history = repo.history_type("DocumentReference", count=100)
    assert space["held"] not in {e.id for e in history.entries}


def test_a_representative_does_not_see_the_minor_s_confidential_documents(
    rt: Runtime, db: Connection, space: dict[str, str]
) -> None:
    repo = rt.record.repository(db=db, ctx=representative(space["patient"]))
    assert _ids(repo) == {space["plain"], space["masked"]}
    with pytest.raises(ResourceNotFound):
        repo.read("DocumentReference", space["secret"])


def test_nobody_on_the_patient_s_side_writes_what_they_could_not_read(
    rt: Runtime, db: Connection, space: dict[str, str]
) -> None:
    repo = rt.record.repository(db=db, ctx=patient_context(space["patient"]))
    with pytest.raises(WriteRefused):
        repo.create(document(space["patient"], "hidden", "INVISIBLE_PATIENT"))
    with pytest.raises((WriteRefused, ResourceNotFound)):
        repo.update(
            "DocumentReference",
            space["held"],
            {**document(space["patient"], "x"), "id": space["held"]},
        )


def test_lifting_the_label_releases_every_version(
    rt: Runtime, db: Connection, space: dict[str, str]
) -> None:
    author = rt.record.repository(db=db, ctx=system_context())
    released = {**document(space["patient"], "held"), "id": space["held"]}
    author.update("DocumentReference", space["held"], released)
    repo = rt.record.repository(db=db, ctx=patient_context(space["patient"]))
    assert repo.read("DocumentReference", space["held"]).version == 2
    assert repo.vread("DocumentReference", space["held"], 1).version == 1
    assert space["held"] in _ids(repo)


def test_what_the_patient_was_shown_cannot_be_hidden_from_them_again(
    rt: Runtime, db: Connection, space: dict[str, str]
) -> None:
    author = rt.record.repository(db=db, ctx=system_context())
    hidden_again = {
        **document(space["patient"], "plain", "INVISIBLE_PATIENT"),
        "id": space["plain"],
    }
    with pytest.raises(AlreadyShownToPatient):
        author.update("DocumentReference", space["plain"], hidden_again)
    # Still held back, it may be updated with its label (the author corrects it before release).
    still_held = {**document(space["patient"], "held v2", "INVISIBLE_PATIENT"), "id": space["held"]}
    assert author.update("DocumentReference", space["held"], still_held).resource.version == 2
