"""The summary area's public functions: the PDF summary of chosen sections (built, and saved
into the person's documents as ``SYNTH_PML`` / ``DOCPAT08``) and the International Patient
Summary document Bundle. Everything is read through the Repository given, as its actor may see
it; nothing commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from carnet.documents import service as documents_service
from carnet.jobs.service import JobQueue
from carnet.record.service import Repository
from carnet.summary.errors import NoSectionChosen, UnknownSection
from carnet.summary.ips import DEFINITION as IPS_DEFINITION
from carnet.summary.ips import build_ips
from carnet.summary.pdf import PARIS, TITLE, render_pdf
from carnet.summary.reading import read_sections
from carnet.summary.schemas import SavedSummary, Section, SummaryContent

__all__ = [
    "IPS_DEFINITION",
    "build_pdf",
    "international_summary",
    "parse_sections",
    "save_pdf",
    "summary_content",
]

CATEGORY = "SYNTH_PML"
TYPE_CODE = "DOCPAT08"
FORMAT_CODE = "urn:ihe:iti:xds-sd:pdf:2008"


def parse_sections(values: Iterable[str]) -> tuple[Section, ...]:
    """The sections named (``Section`` values), each once, in the summary's order.

    Raises NoSectionChosen (none) or UnknownSection (a name that is not a section).
    """
    names = set(values)
    if not names:
        raise NoSectionChosen
    known = {s.value for s in Section}
    if names - known:
        raise UnknownSection
    return tuple(s for s in Section if s.value in names)


def summary_content(
    repo: Repository, *, patient_id: str, sections: Iterable[Section], now: datetime
) -> SummaryContent:
    """What the PDF shows, read from the record (``NotFound``: no such Patient for the actor)."""
    chosen = tuple(sections)
    if not chosen:
        raise NoSectionChosen
    who, contents = read_sections(repo, patient_id=patient_id, sections=chosen)
    return SummaryContent(identity=who, generated_at=now, sections=contents)


def build_pdf(
    repo: Repository,
    *,
    patient_id: str,
    sections: Iterable[Section],
    now: datetime,
    compress: bool = True,
) -> bytes:
    """The PDF summary of ``sections`` (``compress=False``: readable page streams, for tests)."""
    content = summary_content(repo, patient_id=patient_id, sections=sections, now=now)
    return render_pdf(content, compress=compress)


def save_pdf(
    repo: Repository,
    *,
    db: Connection,
    patient_id: str,
    sections: Iterable[Section],
    now: datetime,
    jobs: JobQueue | None = None,
) -> SavedSummary:
    """Build the PDF summary and add it to the person's documents (category ``SYNTH_PML``,
    type ``DOCPAT08``), with the person's default visibility."""
    pdf = build_pdf(repo, patient_id=patient_id, sections=sections, now=now)
    today = now.astimezone(PARIS).date()
    view = documents_service.add_document(
        repo,
        db=db,
        patient_id=patient_id,
        content=pdf,
        filename=f"synthese-profil-medical-{today.isoformat()}.pdf",
        title=TITLE,
        category=CATEGORY,
        document_date=today,
        type_code=TYPE_CODE,
        format_code=FORMAT_CODE,
        jobs=jobs,
    )
    return SavedSummary(document_id=view.id, title=TITLE, size=len(pdf))


def international_summary(
    repo: Repository, *, patient_id: str, base_url: str, now: datetime
) -> dict[str, Any]:
    """The International Patient Summary of ``patient_id``: a FHIR document Bundle whose
    references resolve inside it (``NotFound``: no such Patient for the actor)."""
    return build_ips(repo, patient_id=patient_id, base_url=base_url, now=now)
