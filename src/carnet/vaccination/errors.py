"""Why a vaccination is refused, or not found.

``InvalidVaccination`` carries a ``reason`` (a stable key), the ``field`` it concerns and a
French message safe to show; nothing is stored when one is raised.
"""

from __future__ import annotations

from typing import Final, Literal

from carnet.core.errors import Forbidden, InvalidInput, NotFound

Reason = Literal[
    "unknown-vaccine",
    "unknown-dose-type",
    "future-date",
    "before-birth",
    "too-long",
    "validation-refused",
]

MESSAGES: Final[dict[Reason, str]] = {
    "unknown-vaccine": "Ce vaccin ne figure pas dans la liste : choisissez-le dans la liste.",
    "unknown-dose-type": (
        "Ce type d’injection n’existe pas : choisissez primo-vaccination, rappel ou autre."
    ),
    "future-date": (
        "La date de vaccination ne peut pas être dans le futur : indiquez la date de l’injection."
    ),
    "before-birth": "La date de vaccination ne peut pas être antérieure à la date de naissance.",
    "too-long": "Ce texte est trop long.",
    "validation-refused": (
        "Seul un professionnel de santé peut valider une vaccination dans le carnet."
    ),
}


class InvalidVaccination(InvalidInput):
    """A vaccination that cannot be recorded as sent."""

    def __init__(self, reason: Reason, *, field: str) -> None:
        super().__init__(MESSAGES[reason])
        self.reason: Reason = reason
        self.field = field
        self.problems: tuple[tuple[Reason, str], ...] = ((reason, field),)
        """Every problem found, this one first (a form shows them all)."""


class ValidationRefused(Forbidden):
    """Someone other than a health professional tried to mark a vaccination as validated."""

    def __init__(self) -> None:
        super().__init__(MESSAGES["validation-refused"])


class VaccinationLocked(Forbidden):
    """A vaccination validated by a professional: the patient's side may not change it."""

    def __init__(self) -> None:
        super().__init__(
            "Cette vaccination a été validée par un professionnel de santé : elle ne peut pas "
            "être modifiée ni supprimée depuis votre espace."
        )


class VaccinationNotFound(NotFound):
    """No such vaccination in this space (or none this person may see)."""

    def __init__(self) -> None:
        super().__init__("Cette vaccination est introuvable.")
