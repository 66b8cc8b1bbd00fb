"""A CDA R2 document as a safe HTML fragment, for the patient's document viewer.

The fragment is an ``<article>``: a header (title, date, authors, custodian, the patient's name,
birth date and sex, never an identifier) and the body: the sections of a structured body with
their narrative (``narrative``), or for a non-structured body its plain text, or a note that the
content is an attached file (PDF, image: the viewer offers the bytes themselves).

No script, no style, no event attribute, no URL: the output is built from fixed tags only, and
every value from the document is escaped text.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from carnet.interop.cda.header import Embedded, Header, embedded, read_header
from carnet.interop.cda.narrative import narrative_html
from carnet.interop.cda.parse import MAX_BYTES, Element, parse_cda

_MAX_LEVEL = 6
_MAX_TEXT_CHARS = 2_000_000


@dataclass(frozen=True, slots=True)
class Labels:
    """The renderer's fixed words (French by default; the web layer may pass translations)."""

    date: str = "Date du document"
    author: str = "Auteur"
    custodian: str = "Établissement responsable"
    patient: str = "Patient"
    birth: str = "Date de naissance"
    sex: str = "Sexe"
    untitled: str = "Document sans titre"
    section: str = "Section sans titre"
    attached: str = "Le contenu de ce document est un fichier joint ({media_type}) : "
    attached_hint: str = "téléchargez-le pour le consulter."
    empty: str = "Ce document ne contient pas de texte lisible."


def cda_to_html(data: bytes, *, labels: Labels | None = None, max_bytes: int = MAX_BYTES) -> str:
    """Render a CDA document (raises ``errors.CdaError`` subclasses for unsafe or invalid
    input)."""
    words = labels or Labels()
    doc = parse_cda(data, max_bytes=max_bytes)
    out = ['<article class="carnet-cda">']
    _header(read_header(doc), words, out)
    content = embedded(doc)
    if content is not None:
        _non_xml(content, words, out)
    else:
        body = doc.path("component", "structuredBody")
        sections = _sections(body) if body is not None else []
        for section in sections:
            _section(section, 3, words, out)
        if not sections:
            out.append(f"<p>{escape(words.empty)}</p>")
    out.append("</article>")
    return "".join(out)


def _header(header: Header, words: Labels, out: list[str]) -> None:
    out.append(f"<header><h2>{escape(header.title or words.untitled)}</h2><dl>")
    facts = [(words.date, header.date)]
    facts += [(words.author, author) for author in header.authors]
    facts += [
        (words.custodian, header.custodian),
        (words.patient, header.patient_name),
        (words.birth, header.patient_birth),
        (words.sex, header.patient_gender),
    ]
    for label, value in facts:
        if value:
            out.append(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>")
    out.append("</dl></header>")


def _sections(container: Element) -> list[Element]:
    """The sections directly below a structuredBody or a section (through ``component``)."""
    found = []
    for component in container.all("component"):
        section = component.child("section")
        if section is not None:
            found.append(section)
    return found


def _section(section: Element, level: int, words: Labels, out: list[str]) -> None:
    heading = min(level, _MAX_LEVEL)
    title = section.child("title")
    title_text = " ".join(title.text().split()) if title is not None else ""
    out.append(f'<section class="carnet-cda-section"><h{heading}>')
    out.append(f"{escape(title_text or words.section)}</h{heading}>")
    text = section.child("text")
    if text is not None:
        out.append(f'<div class="carnet-cda-text">{narrative_html(text)}</div>')
    for child in _sections(section):
        _section(child, level + 1, words, out)
    out.append("</section>")


def _non_xml(content: Embedded, words: Labels, out: list[str]) -> None:
    if content.media_type.startswith("text/plain"):
        text = content.data.decode("utf-8", errors="replace")[:_MAX_TEXT_CHARS]
        out.append(f'<pre class="carnet-cda-plain">{escape(text)}</pre>')
        return
    note = words.attached.format(media_type=content.media_type or "?") + words.attached_hint
    out.append(f'<p class="fr-text--sm">{escape(note)}</p>')
