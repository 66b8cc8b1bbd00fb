"""The summary area's errors: what a person may have asked wrongly."""

from __future__ import annotations

from carnet.core.errors import InvalidInput


class NoSectionChosen(InvalidInput):
    """A summary was asked with no section in it."""

    def __init__(self) -> None:
        super().__init__("Choisissez au moins une rubrique à inclure dans la synthèse.")


class UnknownSection(InvalidInput):
    """A section name that is not one of the summary's sections."""

    def __init__(self) -> None:
        super().__init__("Cette rubrique n’existe pas : choisissez parmi celles proposées.")
