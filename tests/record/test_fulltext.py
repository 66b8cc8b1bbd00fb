"""The per-person full-text index: words found accent-insensitively and by prefix, structured
data indexed at write time, documents' content through ``index_text``; another person's words
never found; the table holds no word in clear and the same word differs between two people."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import Connection, text
from tests.factories import patient, patient_context, system_context

from carnet.access.schemas import AccessContext
from carnet.core.actor import Actor, ActorKind
from carnet.core.errors import Gone
from carnet.record.errors import ResourceNotFound
from carnet.record.fulltext_words import index_terms, query_terms, words
from carnet.record.service import Repository
from carnet.runtime import Runtime

LABELS = "urn:oid:1.2.250.1.213.1.1.4.13"


def _space(rt: Runtime, db: Connection) -> tuple[str, Repository]:
    person = patient()
    rt.record.repository(db=db, ctx=system_context()).update("Patient", person["id"], person)
    return person["id"], rt.record.repository(db=db, ctx=patient_context(person["id"]))


def _document(patient_id: str, title: str, *labels: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "status": "current",
        "subject": {"reference": f"Patient/{patient_id}"},
        "description": title,
        "content": [{"attachment": {"contentType": "application/pdf", "title": title}}],
    }
    if labels:
        resource["meta"] = {"security": [{"system": LABELS, "code": code} for code in labels]}
    return resource


def _condition(patient_id: str, label: str, note: str = "") -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "subject": {"reference": f"Patient/{patient_id}"},
        "code": {"text": label, "coding": [{"system": "http://snomed.info/sct", "code": "1"}]},
    }
    if note:
        resource["note"] = [{"text": note}]
    return resource


def _ids(found: list[Any]) -> list[str]:
    return [stored.id for stored in found]


def test_words_are_folded_stop_words_dropped_prefixes_added() -> None:
    assert words("L'Asthme de l'enfant : DIABÈTE à surveiller") == [
        "asthme", "enfant", "diabete", "surveiller",
    ]  # fmt: skip
    assert index_terms("Diabète") == {"dia", "diab", "diabe", "diabet", "diabete"}
    assert query_terms("le le diabète Diabete") == ["diabete"]


def test_a_document_is_found_by_a_word_of_its_content(rt: Runtime, db: Connection) -> None:
    patient_id, repo = _space(rt, db)
    doc = repo.create(_document(patient_id, "Compte rendu"))
    other = repo.create(_document(patient_id, "Ordonnance"))
    assert repo.index_text("DocumentReference", doc.id, "Échographie cardiaque normale.") > 0
    repo.index_text("DocumentReference", other.id, "Amoxicilline 1 g matin et soir")
    assert _ids(repo.search_text("echographie")) == [doc.id]
    assert _ids(repo.search_text("ÉCHOGRAPHIE Cardiaque")) == [doc.id]
    assert _ids(repo.search_text("échog")) == [doc.id]  # a prefix
    assert _ids(repo.search_text("cardiaque amoxicilline")) == []  # every word must match
    assert _ids(repo.search_text("amox")) == [other.id]
    assert repo.search_text("ec") == []  # shorter than a prefix: whole words only
    assert repo.search_text("le la les") == []


def test_reindexing_replaces_the_content_words(rt: Runtime, db: Connection) -> None:
    patient_id, repo = _space(rt, db)
    doc = repo.create(_document(patient_id, "Bilan"))
    repo.index_text("DocumentReference", doc.id, "glycémie")
    repo.index_text("DocumentReference", doc.id, "cholestérol")
    assert repo.search_text("glycemie") == []
    assert _ids(repo.search_text("cholesterol")) == [doc.id]
    assert _ids(repo.search_text("bilan")) == [doc.id]  # the title, indexed at write time


def test_structured_data_is_indexed_when_written(rt: Runtime, db: Connection) -> None:
    patient_id, repo = _space(rt, db)
    condition = repo.create(_condition(patient_id, "Asthme allergique", note="Crises au printemps"))
    doc = repo.create(_document(patient_id, "Compte rendu asthme"))
    assert _ids(repo.search_text("asthme")) == [doc.id, condition.id]  # documents first
    assert _ids(repo.search_text("printemps")) == [condition.id]
    changed = _condition(patient_id, "Rhinite") | {"id": condition.id}
    repo.update("Condition", condition.id, changed)
    assert _ids(repo.search_text("asthme")) == [doc.id]
    assert _ids(repo.search_text("rhinite")) == [condition.id]
    repo.delete("Condition", condition.id)
    assert repo.search_text("rhinite") == []


def test_another_persons_words_are_never_found(rt: Runtime, db: Connection) -> None:
    alice, alice_repo = _space(rt, db)
    _bob, bob_repo = _space(rt, db)
    alice_repo.create(_condition(alice, "Hypothyroïdie"))
    assert bob_repo.search_text("hypothyroidie") == []
    assert len(alice_repo.search_text("hypothyroidie")) == 1
    # Nor through index_text: Bob cannot index (or learn of) Alice's resources.
    doc = alice_repo.create(_document(alice, "Scanner"))
    with pytest.raises(ResourceNotFound):
        bob_repo.index_text("DocumentReference", doc.id, "hypothyroidie")
    # An actor outside any space finds nothing.
    assert rt.record.repository(db=db, ctx=system_context()).search_text("scanner") == []


def test_held_back_documents_are_not_returned(rt: Runtime, db: Connection) -> None:
    patient_id, repo = _space(rt, db)
    carnet = rt.record.repository(db=db, ctx=system_context())
    held = carnet.create(_document(patient_id, "Résultat génétique", "INVISIBLE_PATIENT"))
    carnet.index_text("DocumentReference", held.id, "mutation")
    assert repo.search_text("genetique") == []
    assert repo.search_text("mutation") == []


def test_the_table_holds_no_word_in_clear(rt: Runtime, db: Connection) -> None:
    alice, alice_repo = _space(rt, db)
    bob, bob_repo = _space(rt, db)
    sentence = "Polyarthrite rhumatoïde traitée par méthotrexate"
    alice_repo.create(_condition(alice, sentence))
    bob_repo.create(_condition(bob, sentence))
    rows = db.execute(
        text("SELECT patient_id, hash FROM record_text_token WHERE patient_id IN (:a, :b)"),
        {"a": alice, "b": bob},
    ).all()
    assert rows
    tokens = {bytes(row.hash) for row in rows}
    for term in index_terms(sentence) | {w.lower() for w in sentence.split()}:
        plain = term.encode()
        assert not any(plain in token for token in tokens)
        assert hashlib.sha256(plain).digest()[:16] not in tokens
        assert hashlib.sha256(plain).digest() not in tokens
    by_patient: dict[str, set[bytes]] = {alice: set(), bob: set()}
    for row in rows:
        by_patient[row.patient_id].add(bytes(row.hash))
    assert len(by_patient[alice]) == len(index_terms(sentence))
    assert by_patient[alice].isdisjoint(by_patient[bob])  # same words, different tokens


def test_shredding_the_data_key_kills_the_index(rt: Runtime, db: Connection) -> None:
    patient_id, repo = _space(rt, db)
    repo.create(_condition(patient_id, "Épilepsie"))
    assert len(repo.search_text("epilepsie")) == 1
    rt.record.storage.destroy_data_key(db, owner_id=patient_id)
    assert repo.search_text("epilepsie") == []


def test_one_audit_event_per_search_and_index_audited_as_update(
    rt: Runtime, db: Connection
) -> None:
    patient_id, repo = _space(rt, db)
    doc = repo.create(_document(patient_id, "Radiographie du genou"))
    repo.index_text("DocumentReference", doc.id, "arthrose")
    before = _events(db, patient_id)
    assert len(repo.search_text("genou")) == 1
    after = _events(db, patient_id)
    assert after[len(before) :] == [("record:resource:search", "success", "_text")]
    update = [e for e in after if e[2] == f"DocumentReference/{doc.id}"]
    assert ("record:resource:update", "success", f"DocumentReference/{doc.id}") in update


def _events(db: Connection, chain: str) -> list[tuple[str, str, str]]:
    rows = db.execute(
        text("SELECT tag, outcome, entity FROM audit_event WHERE chain_id = :c ORDER BY seq"),
        {"c": chain},
    ).all()
    return [(row.tag, row.outcome, row.entity) for row in rows]


def test_a_representative_does_not_find_what_is_hidden_from_them(
    rt: Runtime, db: Connection
) -> None:
    child, child_repo = _space(rt, db)
    parent = rt.record.repository(
        db=db, ctx=AccessContext(actor=Actor(ActorKind.REPRESENTATIVE, "parent"), patient_id=child)
    )
    shown = child_repo.create(_document(child, "Consultation ORL"))
    child_repo.create(
        _document(child, "Consultation confidentielle", "INVISIBLE_REPRESENTANTS_LEGAUX")
    )
    assert len(child_repo.search_text("consultation")) == 2
    assert _ids(parent.search_text("consultation")) == [shown.id]


def test_indexing_after_shredding_is_gone(rt: Runtime, db: Connection) -> None:
    patient_id, repo = _space(rt, db)
    doc = rt.record.repository(db=db, ctx=system_context()).create(_document(patient_id, "CR"))
    rt.record.storage.destroy_data_key(db, owner_id=patient_id)
    with pytest.raises(Gone):
        rt.record.repository(db=db, ctx=system_context()).index_text(
            "DocumentReference", doc.id, "mot"
        )
    assert repo.search_text("cr mot") == []


def test_resources_created_in_a_transaction_bundle_are_indexed_too(
    rt: Runtime, db: Connection
) -> None:
    repo = rt.record.repository(db=db, ctx=system_context())
    person = patient(nir="279035121518989")
    repo.update("Patient", person["id"], person)
    condition = {
        "resourceType": "Condition",
        "code": {"text": "Hypertension artérielle"},
        "subject": {"reference": f"Patient/{person['id']}"},
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": condition, "request": {"method": "POST", "url": "Condition"}}],
    }
    repo.transaction(rt.record.prepare_bundle(bundle, max_entries=10))
    own = rt.record.repository(db=db, ctx=patient_context(person["id"]))
    found = own.search_text("arterielle")
    assert [r.resource_type for r in found] == ["Condition"]
