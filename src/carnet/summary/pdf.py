"""The summary as a PDF (ReportLab): an identity header, the date it was made, then one block per
chosen section, with "Rien de déclaré." or "Non concerné." when a section has nothing.

The standard Helvetica fonts are used (no font file to ship, small output); they cover the
Windows-1252 characters, so anything outside is written as its closest plain letter, or ``?``.
"""

from __future__ import annotations

import io
import unicodedata
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from carnet.summary.schemas import SectionContent, SummaryContent
from carnet.summary.sources import ITEM_LIMIT

TITLE = "Synthèse du profil médical"
PARIS = ZoneInfo("Europe/Paris")
EMPTY = {"empty": "Rien de déclaré.", "unconcerned": "Non concerné."}
_STYLES = getSampleStyleSheet()
_BODY = ParagraphStyle("body", parent=_STYLES["BodyText"], fontSize=10, leading=13)
_ITEM = ParagraphStyle("item", parent=_BODY, leftIndent=5 * mm, bulletIndent=1 * mm)
_NOTE = ParagraphStyle("note", parent=_BODY, textColor=colors.HexColor("#555555"))
_H1 = ParagraphStyle("h1", parent=_STYLES["Title"], fontSize=18, alignment=0)
_H2 = ParagraphStyle("h2", parent=_STYLES["Heading2"], fontSize=13, spaceBefore=8)


def plain(text: str) -> str:
    """``text`` in the characters the standard fonts can draw."""
    kept = []
    for char in text:
        try:
            char.encode("cp1252")
        except UnicodeEncodeError:
            plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
            kept.append(plain or "?")
        else:
            kept.append(char)
    return "".join(kept)


def printable(text: str) -> str:
    """``text`` drawable and escaped for a Paragraph (which reads a little markup)."""
    return escape(plain(text))


def _identity(content: SummaryContent) -> Table:
    who = content.identity
    rows = [
        ("Nom", who.name or "—"),
        ("Date de naissance", who.birth_date or "—"),
        ("Sexe", who.gender or "—"),
    ]
    if who.ins:
        rows.append(("INS", who.ins))
    table = Table(
        [[Paragraph(printable(k), _BODY), Paragraph(printable(v), _BODY)] for k, v in rows],
        colWidths=(45 * mm, 120 * mm),
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _section(block: SectionContent) -> list[Flowable]:
    flowables: list[Flowable] = [Paragraph(printable(block.title), _H2)]
    if block.state != "items":
        flowables.append(Paragraph(printable(EMPTY[block.state]), _NOTE))
        return flowables
    # The bullet is part of the text, hanging: ReportLab's own bullets cost a third more.
    flowables.extend(Paragraph(printable(line), _ITEM, bulletText="•") for line in block.lines)
    if block.truncated:
        note = f"Seuls les {ITEM_LIMIT} éléments les plus récents sont listés."
        flowables.append(Paragraph(printable(note), _NOTE))
    return flowables


def render_pdf(content: SummaryContent, *, compress: bool = True) -> bytes:
    """The PDF of ``content`` (``compress=False`` leaves the page streams readable, for
    tests)."""
    out = io.BytesIO()
    made = content.generated_at.astimezone(PARIS)
    footer = plain(f"{TITLE} — {content.identity.name}")

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(20 * mm, 10 * mm, f"{footer} — page {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=TITLE,
        author="Carnet",
        creator="Carnet",
        lang="fr-FR",
        pageCompression=1 if compress else 0,
        invariant=0 if compress else 1,
    )
    story: list[Flowable] = [
        Paragraph(printable(TITLE), _H1),
        _identity(content),
        Spacer(1, 3 * mm),
        Paragraph(
            printable(
                f"Document généré le {made:%d/%m/%Y} à {made:%H:%M} à partir des informations "
                "de l’espace santé. Il ne reprend que les rubriques choisies."
            ),
            _NOTE,
        ),
    ]
    for block in content.sections:
        story.extend(_section(block))
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return out.getvalue()
