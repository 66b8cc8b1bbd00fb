"""Saving the PDF summary into the person's documents (category SYNTH_PML, type DOCPAT08)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import orjson
from tests.space import make_holder
from tests.summary import records
from tests.summary.pdf_text import pdf_text
from tests.summary.records import holder_context, space

from carnet.documents import service as documents_service
from carnet.runtime import Runtime
from carnet.summary.schemas import Section
from carnet.summary.service import build_pdf, save_pdf

NOW = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)  # already the 27th in Paris


def test_the_summary_is_saved_as_a_medical_profile_document(rt: Runtime) -> None:
    holder = make_holder(rt)
    pid = holder.patient_id
    with rt.transaction() as db:
        repo = rt.record.repository(db=db, ctx=holder_context(pid))
        repo.create(records.allergy(pid))
        sections = [Section.ALLERGIES]
        saved = save_pdf(repo, db=db, patient_id=pid, sections=sections, now=NOW, jobs=rt.jobs)
    with space(rt, pid) as repo:
        body = orjson.loads(repo.read("DocumentReference", saved.document_id).body)
        content = documents_service.read_content(
            repo, patient_id=pid, document_id=saved.document_id
        )
    assert [c["code"] for c in body["type"]["coding"]] == ["DOCPAT08"]
    categories = [c["code"] for cat in body.get("category", []) for c in cat["coding"]]
    assert "SYNTH_PML" in categories
    assert saved.title == "Synthèse du profil médical"
    assert content.content_type.startswith("application/pdf")
    assert content.data.startswith(b"%PDF-")
    assert len(content.data) == saved.size
    assert content.filename.startswith("document-2026-11-27")


def test_administrative_documents_are_listed_by_title(rt: Runtime) -> None:
    holder = make_holder(rt)
    pid = holder.patient_id
    with rt.transaction() as db:
        repo = rt.record.repository(db=db, ctx=holder_context(pid))
        pdf = build_pdf(repo, patient_id=pid, sections=[Section.BLOOD_GROUP], now=NOW)
        documents_service.add_document(
            repo,
            db=db,
            patient_id=pid,
            content=pdf,
            filename="attestation.pdf",
            title="Attestation de droits",
            category="DOC_ADM",
            document_date=date(2025, 3, 4),
        )
        text = pdf_text(
            build_pdf(
                repo,
                patient_id=pid,
                sections=[Section.ADMINISTRATIVE_DOCUMENTS],
                now=NOW,
                compress=False,
            )
        )
    assert "Attestation de droits — 04/03/2025" in text
