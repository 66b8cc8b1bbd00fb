"""A stored document's words reach the full-text index: its file (PDF, RTF, plain text, CDA,
inline or in a Binary) read by type through the repository, then ``index_text``; the
``record:index-document`` job does it after commit and shrugs off a document deleted since."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from reportlab.pdfgen import canvas
from sqlalchemy import Connection
from tests.conftest import TESTDATA
from tests.factories import patient, patient_context, system_context

from carnet.interop.document_text import (
    file_text,
    index_document,
    index_document_job,
    pdf_text,
    rtf_text,
)
from carnet.record.service import Repository
from carnet.runtime import Runtime


def make_pdf(*lines: str) -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out)
    for number, line in enumerate(lines):
        page.drawString(72, 720 - 20 * number, line)
    page.save()
    return out.getvalue()


def _space(rt: Runtime, db: Connection) -> tuple[str, Repository]:
    person = patient()
    rt.record.repository(db=db, ctx=system_context()).update("Patient", person["id"], person)
    return person["id"], rt.record.repository(db=db, ctx=patient_context(person["id"]))


def _stored_document(repo: Repository, patient_id: str, data: bytes, content_type: str) -> str:
    binary = repo.create(
        {
            "resourceType": "Binary",
            "contentType": content_type,
            "securityContext": {"reference": f"Patient/{patient_id}"},
            "data": base64.b64encode(data).decode(),
        }
    )
    attachment: dict[str, Any] = {"contentType": content_type, "url": f"Binary/{binary.id}"}
    document = repo.create(
        {
            "resourceType": "DocumentReference",
            "status": "current",
            "subject": {"reference": f"Patient/{patient_id}"},
            "description": "Document",
            "content": [{"attachment": attachment}],
        }
    )
    return document.id


def test_a_pdf_is_found_by_a_word_of_its_text(rt: Runtime, db: Connection) -> None:
    patient_id, repo = _space(rt, db)
    doc = _stored_document(
        repo,
        patient_id,
        make_pdf("Echographie abdominale", "Stéatose hépatique"),
        "application/pdf",
    )
    assert repo.search_text("steatose") == []  # not yet indexed
    assert index_document(repo, document_id=doc) > 0
    assert [s.id for s in repo.search_text("stéatose hépat")] == [doc]


def test_rtf_plain_text_and_inline_content(rt: Runtime, db: Connection) -> None:
    patient_id, repo = _space(rt, db)
    rtf = rb"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\f0 Ordonnance : parac\'e9tamol\par}"
    rtf_doc = _stored_document(repo, patient_id, rtf, "application/rtf")
    text_doc = _stored_document(repo, patient_id, "Kinésithérapie".encode(), "text/plain")
    inline = repo.create(
        {
            "resourceType": "DocumentReference",
            "status": "current",
            "subject": {"reference": f"Patient/{patient_id}"},
            "content": [
                {
                    "attachment": {
                        "contentType": "text/plain",
                        "data": base64.b64encode(b"Orthoptie").decode(),
                    }
                }
            ],
        }
    )
    for doc in (rtf_doc, text_doc, inline.id):
        index_document(repo, document_id=doc)
    assert [s.id for s in repo.search_text("paracetamol")] == [rtf_doc]
    assert [s.id for s in repo.search_text("kinesitherapie")] == [text_doc]
    assert [s.id for s in repo.search_text("orthoptie")] == [inline.id]


def test_a_cda_document_is_indexed_by_its_narrative(rt: Runtime, db: Connection) -> None:
    path = TESTDATA / "fr-cisis-cda" / "ExemplesCDA" / "VAC_2023.01.xml"
    if not path.exists():
        pytest.skip(f"{path} is absent (set CARNET_TESTDATA)")
    patient_id, repo = _space(rt, db)
    doc = _stored_document(repo, patient_id, path.read_bytes(), "text/xml")
    index_document(repo, document_id=doc)
    assert [s.id for s in repo.search_text("antituberculeux deltoide")] == [doc]


def test_the_job_indexes_and_ignores_a_deleted_document(rt: Runtime, db: Connection) -> None:
    patient_id, repo = _space(rt, db)
    doc = _stored_document(repo, patient_id, b"Scintigraphie osseuse", "text/plain")
    handle = index_document_job(rt.record, rt.carnet_context())
    handle(db, {"patient": patient_id, "document": doc})
    assert [s.id for s in repo.search_text("scintigraphie")] == [doc]
    repo.delete("DocumentReference", doc)
    handle(db, {"patient": patient_id, "document": doc})  # no error, nothing to index
    assert repo.search_text("scintigraphie") == []


def test_readers_are_bounded_and_forgiving() -> None:
    assert pdf_text(b"%PDF-1.4 not really a pdf") == ""
    assert file_text(b"\x89PNG\r\n", "image/png") == ""
    assert file_text(b"<ClinicalDocument", "text/xml") == ""  # broken XML: no text
    hostile = b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>'
    assert file_text(hostile, "application/xml") == ""
    assert rtf_text(rb"{\rtf1{\*\generator Word;}{\pict 0a0b}Bonjour\u233?}") == "Bonjouré"
    assert file_text("Caf\xe9".encode("cp1252"), "text/plain") == "Café"


def test_pdf_example_documents_of_the_ci_sis(rt: Runtime) -> None:
    # The CI-SIS "level 1" documents carry a PDF: their text, when the PDF has one, is read.
    path = TESTDATA / "fr-cisis-cda" / "ExemplesCDA" / "TLM-CR_2022.01.xml"
    if not path.exists():
        pytest.skip(f"{path} is absent (set CARNET_TESTDATA)")
    assert "téléconsultation" in file_text(Path(path).read_bytes(), "text/xml")
