"""One-page French clinical letters rendered as PDF with ReportLab, byte-for-byte reproducible."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Final

from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

_WIDTH: Final[float] = A4[0]
_HEIGHT: Final[float] = A4[1]
_MARGIN: Final = 56.0
_TEXT_WIDTH: Final = _WIDTH - 2 * _MARGIN
_BODY_FONT: Final = "Helvetica"
_BOLD_FONT: Final = "Helvetica-Bold"


@dataclass(frozen=True)
class Letter:
    """What a letter says; every field is plain French text."""

    title: str
    organization: tuple[str, ...]  # name, then address and phone lines
    author: tuple[str, ...]  # name, then role lines
    place_and_date: str  # "Toulouse, le 12 mars 2025"
    patient: tuple[str, ...]  # identity lines
    paragraphs: tuple[str, ...]
    table: tuple[tuple[str, ...], ...] = ()  # first row is the header
    signature: str = ""


def _header(pdf: canvas.Canvas, letter: Letter) -> float:
    y = _HEIGHT - _MARGIN
    pdf.setFont(_BOLD_FONT, 12)
    pdf.drawString(_MARGIN, y, letter.organization[0])
    pdf.setFont(_BODY_FONT, 9)
    for line in letter.organization[1:]:
        y -= 12
        pdf.drawString(_MARGIN, y, line)
    y -= 22
    pdf.setFont(_BOLD_FONT, 10)
    pdf.drawString(_MARGIN, y, letter.author[0])
    pdf.setFont(_BODY_FONT, 9)
    for line in letter.author[1:]:
        y -= 12
        pdf.drawString(_MARGIN, y, line)
    pdf.drawRightString(_WIDTH - _MARGIN, y, letter.place_and_date)
    return y - 26


def _patient_box(pdf: canvas.Canvas, letter: Letter, y: float) -> float:
    height = 14 * len(letter.patient) + 10
    pdf.setStrokeGray(0.6)
    pdf.rect(_MARGIN, y - height, _TEXT_WIDTH, height, stroke=1, fill=0)
    pdf.setFont(_BODY_FONT, 9.5)
    line_y = y - 16
    for line in letter.patient:
        pdf.drawString(_MARGIN + 8, line_y, line)
        line_y -= 14
    return y - height - 30


def _paragraphs(pdf: canvas.Canvas, letter: Letter, y: float) -> float:
    pdf.setFont(_BOLD_FONT, 14)
    pdf.drawCentredString(_WIDTH / 2, y, letter.title)
    y -= 28
    pdf.setFont(_BODY_FONT, 10.5)
    for paragraph in letter.paragraphs:
        for line in simpleSplit(paragraph, _BODY_FONT, 10.5, _TEXT_WIDTH):
            pdf.drawString(_MARGIN, y, line)
            y -= 14
        y -= 6
    return y


def _table(pdf: canvas.Canvas, letter: Letter, y: float) -> float:
    if not letter.table:
        return y
    columns = len(letter.table[0])
    widths = [_TEXT_WIDTH * 0.42] + [_TEXT_WIDTH * 0.58 / (columns - 1)] * (columns - 1)
    for row_number, row in enumerate(letter.table):
        pdf.setFont(_BOLD_FONT if row_number == 0 else _BODY_FONT, 9.5)
        x = _MARGIN
        for cell, width in zip(row, widths, strict=True):
            pdf.drawString(x, y, cell)
            x += width
        if row_number == 0:
            pdf.line(_MARGIN, y - 4, _WIDTH - _MARGIN, y - 4)
        y -= 16
    return y - 10


def render_letter(letter: Letter) -> bytes:
    """``letter`` as a one-page PDF (A4). The same letter always gives the same bytes: the
    canvas is invariant (fixed creation date and document id) and uses the base-14 fonts."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    pdf.setTitle(letter.title)
    pdf.setAuthor(letter.organization[0])
    pdf.setCreator("Carnet - données de démonstration")
    y = _header(pdf, letter)
    y = _patient_box(pdf, letter, y)
    y = _paragraphs(pdf, letter, y)
    y = _table(pdf, letter, y)
    if letter.signature:
        pdf.setFont(_BODY_FONT, 10.5)
        pdf.drawRightString(_WIDTH - _MARGIN, max(y - 20, 120), letter.signature)
    pdf.setFont(_BODY_FONT, 7)
    pdf.setFillGray(0.45)
    pdf.drawCentredString(
        _WIDTH / 2, 30, "Document de démonstration : personnes et données entièrement fictives."
    )
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
