"""The guided form's answers as a PDF: « Mes directives anticipées », A4, with the person's
name, birth date and the date, their answers section by section, and a signature line.

ReportLab's page layout (platypus) wraps long free texts over as many pages as they need. The
text is set in Helvetica, whose WinAnsi encoding covers French entirely; a character outside it
is printed as « ? » rather than as a blank box.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from typing import Any, Final
from xml.sax.saxutils import escape

from babel.dates import format_date
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table

from carnet.wishes.schemas import Act, Choice, DirectivesAnswers, Place, Sedation, Situation

_BODY: Final = ParagraphStyle("body", fontName="Helvetica", fontSize=10.5, leading=14)
_SMALL: Final = ParagraphStyle("small", parent=_BODY, fontSize=9, leading=12)
_TITLE: Final = ParagraphStyle(
    "title", parent=_BODY, fontName="Helvetica-Bold", fontSize=18, leading=22, spaceAfter=4 * mm
)
_HEADING: Final = ParagraphStyle(
    "heading",
    parent=_BODY,
    fontName="Helvetica-Bold",
    fontSize=12.5,
    leading=16,
    spaceBefore=5 * mm,
    spaceAfter=2 * mm,
)

SITUATIONS: Final = {
    Situation.GOOD_HEALTH: "Je pense être en bonne santé.",
    Situation.SERIOUS_ILLNESS: (
        "J’ai une maladie grave, ou je pense être proche de la fin de ma vie."
    ),
}
LIFE_SUPPORT: Final = {
    Choice.ACCEPT: "J’accepte d’être maintenu(e) artificiellement en vie, même si je ne peux plus "
    "communiquer ni être conscient(e) de ce qui m’entoure.",
    Choice.REFUSE: "Je refuse d’être maintenu(e) artificiellement en vie si je suis dans un état "
    "dont il est certain que je ne sortirai pas, sans pouvoir communiquer ni être "
    "conscient(e) de ce qui m’entoure.",
    Choice.UNDECIDED: "Je ne me prononce pas sur le maintien artificiel de ma vie.",
}
SEDATION: Final = {
    Sedation.WANTED: "Si l’on arrête ou ne commence pas les traitements qui me maintiennent en "
    "vie, je veux recevoir une sédation profonde et continue jusqu’à mon décès.",
    Sedation.NOT_WANTED: "Je ne veux pas de sédation profonde et continue jusqu’à mon décès.",
    Sedation.UNDECIDED: "Je ne me prononce pas sur la sédation profonde et continue.",
}
ACTS: Final = {
    Act.RESUSCITATION: "Réanimation cardiaque et respiratoire",
    Act.VENTILATION: "Respiration artificielle (intubation, trachéotomie)",
    Act.DIALYSIS: "Dialyse (rein artificiel)",
    Act.NUTRITION: "Alimentation et hydratation artificielles",
    Act.TRANSFUSION: "Transfusion sanguine",
    Act.SURGERY: "Intervention chirurgicale",
}
CHOICES: Final = {
    Choice.ACCEPT: "Je l’accepte",
    Choice.REFUSE: "Je le refuse",
    Choice.UNDECIDED: "Je ne me prononce pas",
}
PLACES: Final = {
    Place.HOME: "Je souhaite finir ma vie chez moi.",
    Place.HOSPITAL: "Je souhaite finir ma vie à l’hôpital.",
    Place.PALLIATIVE_UNIT: "Je souhaite finir ma vie dans une unité de soins palliatifs.",
    Place.NURSING_HOME: "Je souhaite finir ma vie en établissement d’hébergement (EHPAD).",
    Place.NO_PREFERENCE: "Je n’exprime pas de préférence sur le lieu de ma fin de vie.",
}
_PREAMBLE: Final = (
    "Ces directives expriment mes volontés sur ma fin de vie, pour le cas où je ne serais plus "
    "en état de les exprimer moi-même (article L. 1111-11 du code de la santé publique). Elles "
    "s’imposent au médecin, sauf en cas d’urgence vitale le temps d’évaluer la situation, ou si "
    "elles paraissent manifestement inappropriées ou non conformes à ma situation médicale. Je "
    "peux les modifier ou les annuler à tout moment."
)


@dataclass(frozen=True, slots=True)
class Author:
    """Who writes the directives, as their Patient resource names them."""

    given_names: str
    family_name: str
    birth_date: date | None

    def __repr__(self) -> str:
        return "Author(<hidden>)"


def printable(text: str) -> str:
    """``text`` as Helvetica can print it: NFC, WinAnsi (cp1252), « ? » for anything else."""
    normal = unicodedata.normalize("NFC", text)
    return normal.encode("cp1252", errors="replace").decode("cp1252")


def _para(text: str, style: ParagraphStyle = _BODY) -> Paragraph:
    # Escaped (the person's text is not markup), line breaks kept.
    return Paragraph(escape(printable(text)).replace("\n", "<br/>"), style)


def _french(day: date) -> str:
    return format_date(day, format="d MMMM y", locale="fr_FR")


def _section(title: str, *texts: str) -> list[Flowable]:
    body: list[Flowable] = [_para(text) for text in texts if text]
    return [KeepTogether([_para(title, _HEADING), *body[:1]]), *body[1:]]


def _acts_table(answers: DirectivesAnswers) -> Table:
    rows = [
        [_para(ACTS[act]), _para(CHOICES[answers.acts.get(act, Choice.UNDECIDED)])] for act in Act
    ]
    table = Table(rows, colWidths=[95 * mm, 70 * mm])
    table.setStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )
    return table


def _story(author: Author, answers: DirectivesAnswers, today: date) -> list[Flowable]:
    name = f"{author.given_names} {author.family_name.upper()}".strip()
    born = f", né(e) le {_french(author.birth_date)}" if author.birth_date else ""
    story: list[Flowable] = [
        _para("Mes directives anticipées", _TITLE),
        _para(f"Rédigées par {name}{born}, le {_french(today)}."),
        Spacer(1, 3 * mm),
        _para(_PREAMBLE, _SMALL),
    ]
    story += _section("1. Ma situation", SITUATIONS[answers.situation], answers.context)
    story += _section(
        "2. Maintien artificiel en vie",
        LIFE_SUPPORT[answers.life_support],
        answers.life_support_details,
    )
    story += _section("3. Sédation profonde et continue", SEDATION[answers.sedation])
    story += [_para("4. Actes et traitements", _HEADING), _acts_table(answers)]
    if answers.acts_details:
        story += [Spacer(1, 2 * mm), _para(answers.acts_details)]
    story += _section("5. Lieu de ma fin de vie", PLACES[answers.place], answers.place_details)
    if answers.free_text:
        story += _section("6. Autres volontés", answers.free_text)
    story += [Spacer(1, 10 * mm), KeepTogether(_signature(name, today))]
    return story


def _signature(name: str, today: date) -> list[Flowable]:
    box = Table([[""]], colWidths=[80 * mm], rowHeights=[25 * mm])
    box.setStyle([("BOX", (0, 0), (-1, -1), 0.8, colors.black)])
    return [
        _para(f"Fait le {_french(today)}, par {name}."),
        Spacer(1, 4 * mm),
        _para("Signature :"),
        Spacer(1, 2 * mm),
        box,
    ]


def _footer(canvas: Any, document: Any) -> None:
    canvas.saveState()
    canvas.setFont("Helvetica", 8)
    canvas.drawString(20 * mm, 12 * mm, "Directives anticipées — à conserver et à faire connaître")
    canvas.drawRightString(A4[0] - 20 * mm, 12 * mm, f"Page {document.page}")
    canvas.restoreState()


def render_directives(author: Author, answers: DirectivesAnswers, *, today: date) -> bytes:
    """The directives as a PDF document."""
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=22 * mm,
        title="Directives anticipées",
        lang="fr-FR",
    )
    document.build(_story(author, answers, today), onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()
