"""The proof of a caregiving delegation (« justificatif d'accès »): one A4 page saying who helps
whom since when, filed in the helped person's documents when the caregiver accepts.

Pure: ``render_proof`` gives the PDF's bytes (``letters_pdf``, our own writer; standard fonts,
nothing embedded, the same input gives the same bytes). The page holds names, birth dates and
dates of the delegation, nothing about health; it lives in the person's record, sealed with
their key like any document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from io import BytesIO
from typing import Final

from reportlab.lib.pagesizes import A4

from carnet.enrollment.letters_pdf import PageContent, PdfWriter, wrap

_MM: Final = 72 / 25.4
_WIDTH: Final[float] = A4[0]
_HEIGHT: Final[float] = A4[1]
_LEFT: Final = 20 * _MM
_TEXT_WIDTH: Final = _WIDTH - 2 * _LEFT
_SIZE: Final = 10.5
_LEADING: Final = 15.0
TITLE: Final = "Justificatif d’accès d’un proche aidant"


@dataclass(frozen=True, slots=True)
class ProofInput:
    """What the proof states (names as the registry holds them)."""

    person_name: str
    person_birth: date
    caregiver_name: str
    caregiver_birth: date
    invited_on: date
    accepted_on: date
    reference: str
    """The delegation's id: lets support find it again, identifies nobody."""


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _paragraphs(proof: ProofInput) -> list[tuple[str, str]]:
    return [
        ("bold", "La personne aidée"),
        ("regular", f"{proof.person_name}, née ou né le {_day(proof.person_birth)}"),
        ("bold", "Son proche aidant"),
        ("regular", f"{proof.caregiver_name}, née ou né le {_day(proof.caregiver_birth)}"),
        ("bold", "La délégation"),
        (
            "regular",
            (
                f"Proposée par la personne aidée le {_day(proof.invited_on)}, acceptée par le "
                f"proche aidant le {_day(proof.accepted_on)}."
            ),
        ),
        (
            "regular",
            (
                "Le proche aidant peut agir dans l’espace santé de la personne aidée, dans les "
                "limites prévues pour les proches aidants. Il ne peut ni gérer les autres "
                "proches aidants, ni modifier les coordonnées ou l’identifiant de connexion, ni "
                "fermer l’espace."
            ),
        ),
        (
            "regular",
            (
                "Chacun des deux peut mettre fin à cette délégation à tout moment depuis son "
                "espace, rubrique « Mes proches aidants »."
            ),
        ),
        ("regular", f"Référence : {proof.reference}"),
    ]


def render_proof(proof: ProofInput) -> bytes:
    """The proof as a one-page PDF."""
    page = PageContent()
    y = _HEIGHT - 25 * _MM
    page.text(_LEFT, y, "Carnet, votre espace santé", font="bold", size=12)
    y -= 2 * _LEADING
    page.text(_LEFT, y, TITLE, font="bold", size=15)
    y -= 2 * _LEADING
    for font, text in _paragraphs(proof):
        if font == "bold":
            y -= _LEADING / 2
        for line in wrap(text, "bold" if font == "bold" else "regular", _SIZE, _TEXT_WIDTH):
            page.text(_LEFT, y, line, font="bold" if font == "bold" else "regular", size=_SIZE)
            y -= _LEADING
    out = BytesIO()
    writer = PdfWriter(out, width=_WIDTH, height=_HEIGHT, title=TITLE)
    # The writer gives every page a form (the letters' QR code); this page draws none.
    blank = writer.add_form(b"", size=1)
    writer.add_page(page, form=blank)
    writer.close()
    return out.getvalue()
