"""The proof of opposition (« attestation d'opposition »): one A4 page saying who opposed, when,
through which channel, under which receipt reference, and what it means.

Pure functions, no database, written with our own PDF writer (``letters_pdf``), like the
letters. The page holds no health data and never the whole NIR: only its first five characters
(sex, year and month of birth, which the page's reader knows anyway), the rest masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from typing import Final, Literal
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4

from carnet.enrollment.letters import french_date
from carnet.enrollment.letters_pdf import PageContent, PdfWriter, text_width, wrap

_MM: Final = 72 / 25.4
_WIDTH: Final[float] = A4[0]
_HEIGHT: Final[float] = A4[1]
_LEFT: Final = 20 * _MM
_TEXT_WIDTH: Final = _WIDTH - 2 * _LEFT
_BODY: Final = 10.5
_LEADING: Final = 14.0
_PARIS: Final = ZoneInfo("Europe/Paris")
_SENDER: Final = (
    "Carnet, votre espace santé",
    "Service des ouvertures d’espaces",
    "pour le compte de l’Assurance Maladie",
)
_CHANNELS: Final = {
    "online": "en ligne, avec votre code personnel",
    "phone": "par téléphone, auprès d’un conseiller",
}


def mask_nir(nir: str) -> str:
    """``nir`` with only its first five characters shown: « 1 85 05 ** *** *** ** »."""
    return f"{nir[0]} {nir[1:3]} {nir[3:5]} ** *** *** **"


@dataclass(frozen=True, slots=True)
class ProofInput:
    """What the proof states. ``change_url`` is the page where one asks for a space later."""

    given_names: str
    family_name: str
    masked_nir: str
    opposed_at: datetime
    channel: Literal["online", "phone"]
    reference: str
    dmp_merge_refused: bool
    issued_on: date
    change_url: str
    opposed_by: str = ""
    """For a child: the legal representative (holder) who opposed for them."""

    def __repr__(self) -> str:
        return "ProofInput(<hidden>)"


def render_proof(proof: ProofInput) -> bytes:
    """``proof`` as a one-page A4 PDF."""
    buffer = BytesIO()
    writer = PdfWriter(buffer, width=_WIDTH, height=_HEIGHT, title="Attestation d'opposition")
    blank = writer.add_form(b"", size=1)  # the writer's pages take a form; this one draws none
    writer.add_page(_draw(proof), form=blank)
    writer.close()
    return buffer.getvalue()


def _draw(proof: ProofInput) -> PageContent:
    page = PageContent()
    y = _HEIGHT - 20 * _MM
    page.text(_LEFT, y, _SENDER[0], font="bold", size=12)
    for line in _SENDER[1:]:
        y -= 12
        page.text(_LEFT, y, line, font="regular", size=9)
    dated = f"Le {french_date(proof.issued_on)}"
    page.text(_WIDTH - _LEFT - text_width(dated, "regular", 10), y, dated, font="regular", size=10)
    y -= 22 * _MM
    title = "Attestation d’opposition à l’ouverture d’un espace santé"
    page.text(_LEFT, y, title, font="bold", size=14)
    y = _facts(page, y - 2 * _LEADING, proof)
    y = _paragraphs(page, y - _LEADING, _meaning(proof))
    page.text(_WIDTH - _LEFT - 50 * _MM, y - _LEADING, "Le service Carnet", font="bold", size=_BODY)
    footer = "Ce document ne contient aucune donnée de santé. Conservez-le."
    page.text(_LEFT, 12 * _MM, footer, font="regular", size=8)
    return page


def _facts(page: PageContent, y: float, proof: ProofInput) -> float:
    moment = proof.opposed_at.astimezone(_PARIS)
    facts: tuple[tuple[str, str], ...] = (
        ("Personne concernée", f"{proof.given_names} {proof.family_name.upper()}".strip()),
        ("Numéro de sécurité sociale", proof.masked_nir),
        ("Opposition enregistrée le", f"{french_date(moment.date())} à {moment:%H:%M}"),
        ("Canal", _CHANNELS[proof.channel]),
        ("Référence", proof.reference),
    )
    if proof.opposed_by:
        facts = (*facts[:2], ("Opposition faite par", proof.opposed_by), *facts[2:])
    top = y + _LEADING - 4
    for label, value in facts:
        page.text(_LEFT + 5 * _MM, y, f"{label} :", font="regular", size=_BODY)
        page.text(_LEFT + 62 * _MM, y, value, font="bold", size=_BODY)
        y -= _LEADING + 2
    page.frame(_LEFT, y + 4, _TEXT_WIDTH, top - y - 4, line=0.8)
    return y - _LEADING


def _meaning(proof: ProofInput) -> tuple[str, ...]:
    merge = (
        "Votre opposition vaut aussi refus du versement de votre dossier médical partagé "
        "(DMP) existant, si vous en avez un : il ne sera pas fusionné dans un espace santé."
        if proof.dmp_merge_refused
        else "Votre dossier médical partagé (DMP) existant, si vous en avez un, reste tel quel."
    )
    if proof.opposed_by:
        return (
            (
                "L’opposition à l’ouverture de l’espace santé de l’enfant nommé ci-dessus, faite "
                "par son représentant légal, est enregistrée. Aucun espace ne sera ouvert à son "
                "nom, et son dossier médical partagé (DMP) existant ne sera pas fusionné."
            ),
            (
                "Vous pouvez changer d’avis à tout moment : activez son espace depuis la page "
                f"Famille de votre compte, demandez-le sur {proof.change_url} ou par téléphone "
                "auprès de nos conseillers."
            ),
        )
    return (
        (
            "Votre opposition à l’ouverture de votre espace santé est enregistrée. Aucun espace "
            "ne sera ouvert à votre nom, et le code personnel reçu avec votre courrier ou votre "
            "courriel ne fonctionne plus."
        ),
        merge,
        (
            "Vous pouvez changer d’avis à tout moment : demandez l’ouverture de votre espace sur "
            f"{proof.change_url} avec votre numéro de sécurité sociale, le numéro de série de "
            "votre carte Vitale et votre date de naissance, ou par téléphone auprès de nos "
            "conseillers. Un nouveau code vous sera alors envoyé pour l’activer."
        ),
    )


def _paragraphs(page: PageContent, y: float, paragraphs: tuple[str, ...]) -> float:
    for paragraph in paragraphs:
        for line in wrap(paragraph, "regular", _BODY, _TEXT_WIDTH):
            page.text(_LEFT, y, line, font="regular", size=_BODY)
            y -= _LEADING
        y -= 6
    return y
